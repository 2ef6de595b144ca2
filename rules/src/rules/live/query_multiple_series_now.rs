use crate::checker::{Checker, Loc};
use crate::facts::QueryOutcome;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: runs the trigger's query the way KEDA does and reports a result with more
    /// than one series.
    ///
    /// ## Why is this bad?
    /// KEDA fails on every poll with `prometheus query … returned multiple elements`: the
    /// ScaledObject reports `KEDAScalerFailed` and does not scale on this trigger.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: rate(http_requests_total{service="checkout"}[2m])
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{service="checkout"}[2m]))
    /// ```
    pub(crate) struct QueryMultipleSeriesNow => "KL405", "query-multiple-series-now", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, q: &QueryContext<'_>, live: &Live<'_>) {
    let Some(probe) = live.query else {
        return;
    };
    let QueryOutcome::Many(n) = probe.outcome else {
        return;
    };
    cx.report(
        &QueryMultipleSeriesNow::INFO,
        Loc {
            path: live.query_path.clone(),
            span: q.span(cx, None),
        },
        format!(
            "the query returns {n} series right now on {}: KEDA fails with `returned multiple elements`",
            live.probed
        ),
    )
    .help("reduce the result to one series, e.g. wrap it in `sum(...)` or aggregate `by` a label pinned to one value");
}
