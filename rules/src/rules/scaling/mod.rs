//! KL3xx: scaling behaviour, from the arithmetic the HPA and KEDA really do.

use crate::checker::Checker;
use crate::model::{ScaledObject, Trigger};
use crate::rules::query_context::QueryContext;

/// Runs the KL3xx rules that look at the whole ScaledObject (bounds, names, formulas, fallback).
pub(crate) fn check_scaled_object(
    _cx: &mut Checker<'_>,
    _so: &ScaledObject<'_>,
    _queries: &[(Trigger<'_>, Option<QueryContext<'_>>)],
) {
}
