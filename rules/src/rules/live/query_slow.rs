use crate::checker::{Checker, Loc};
use crate::facts::QueryOutcome;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;

use super::{Live, seconds};

declare_rule! {
    /// ## What it does
    /// Online mode: reports a query that took more than half of KEDA's timeout for this trigger
    /// (its `timeout`, else KEDA's default of 3 s) to answer.
    ///
    /// ## Why is this bad?
    /// KEDA runs the query on every poll and on every HPA read. A query that already takes half
    /// the budget on a quiet check will time out under load (`context deadline exceeded`), and
    /// each timeout is a scaler error: no scaling, or `fallback`.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.99, sum(rate(request_duration_seconds_bucket[1h])) by (le, pod))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: max(service:request_duration_seconds:p99_5m)
    ///   timeout: "5000"
    /// ```
    pub(crate) struct QuerySlow => "KL408", "query-slow", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, q: &QueryContext<'_>, live: &Live<'_>) {
    let Some(probe) = live.query else {
        return;
    };
    let half = probe.keda_timeout / 2;
    if probe.elapsed <= half {
        return;
    }
    let took = match &probe.outcome {
        QueryOutcome::Failed(_) => format!("did not answer within {}", seconds(probe.elapsed)),
        _ => format!("took {}", seconds(probe.elapsed)),
    };
    cx.report(
        &QuerySlow::INFO,
        Loc {
            path: live.query_path.clone(),
            span: q.span(cx, None),
        },
        format!(
            "the query {took} on {}, more than half of KEDA's {} timeout for this trigger",
            live.probed,
            seconds(probe.keda_timeout)
        ),
    )
    .help("make the query cheaper (a recording rule, a shorter range, fewer series) or raise the trigger's `timeout`");
}
