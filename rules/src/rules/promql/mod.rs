//! KL2xx: the PromQL query, read the way Prometheus will execute it and KEDA will decode it.

use crate::checker::Checker;
use crate::model::ScaledObject;
use crate::rules::query_context::QueryContext;

/// Runs the KL2xx rules on one prometheus trigger's query.
pub(crate) fn check_query(
    _cx: &mut Checker<'_>,
    _so: &ScaledObject<'_>,
    _query: &QueryContext<'_>,
) {
}
