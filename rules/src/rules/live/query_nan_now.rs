use crate::checker::{Checker, Loc};
use crate::facts::{QueryOutcome, format_sample};
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: runs the trigger's query the way KEDA does and reports a result of NaN,
    /// `+Inf` or `-Inf` (a `histogram_quantile` of zero rates, a division by zero).
    ///
    /// ## Why is this bad?
    /// KEDA 2.18 passes NaN through, which reaches the HPA as a huge negative number, so the
    /// trigger is never active; KEDA 2.20 and later, and ±Inf in every version, read it as 0 (or
    /// fail the poll with `ignoreNullValues: "false"`). Either way the metric does not say "no
    /// load" on purpose.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum(rate(request_duration_seconds_bucket[2m])) by (le))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: (histogram_quantile(0.95, sum(rate(request_duration_seconds_bucket[2m])) by (le)) >= 0) or vector(0)
    /// ```
    pub(crate) struct QueryNanNow => "KL406", "query-nan-now", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, q: &QueryContext<'_>, live: &Live<'_>) {
    let Some(probe) = live.query else {
        return;
    };
    let QueryOutcome::One(v) = probe.outcome else {
        return;
    };
    if v.is_finite() {
        return;
    }
    let effect = if v.is_nan() && !cx.settings.keda_version.at_least(2, 20) {
        format!(
            "KEDA {} passes NaN through as a huge negative metric, so the trigger is never active",
            cx.settings.keda_version
        )
    } else {
        "KEDA reads it as 0 (or fails the poll with ignoreNullValues false)".to_owned()
    };
    cx.report(
        &QueryNanNow::INFO,
        Loc {
            path: live.query_path.clone(),
            span: q.span(cx, None),
        },
        format!(
            "the query returns {} right now on {}: {effect}",
            format_sample(v),
            live.probed
        ),
    )
    .help(
        "guard the query so that no traffic reads as a number, e.g. `(<query>) >= 0 or vector(0)`",
    );
}
