use crate::checker::{Checker, Loc};
use crate::facts::QueryOutcome;
use crate::keda::parse_go_bool;
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: runs the trigger's query the way KEDA does (`GET /api/v1/query` at the
    /// current time) and reports an empty result.
    ///
    /// ## Why is this bad?
    /// With `ignoreNullValues` unset or true, KEDA reads an empty result as 0 with no error: the
    /// workload scales in as if there were no load, and `fallback` never engages. With
    /// `ignoreNullValues: "false"` every poll fails (`target may be lost, the result is empty`).
    /// Typical causes are a window shorter than two scrape intervals, a label or metric name
    /// that matches nothing (KL407 names the selector), or a workload at zero replicas that
    /// produces its own signal.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{service="checkout"}[30s]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{service="checkout"}[2m]))
    /// ```
    pub(crate) struct QueryEmptyNow => "KL404", "query-empty-now", Warning;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    trigger: &Trigger<'_>,
    q: &QueryContext<'_>,
    live: &Live<'_>,
) {
    let Some(probe) = live.query else {
        return;
    };
    if probe.outcome != QueryOutcome::Empty {
        return;
    }
    let strict = trigger
        .meta("ignoreNullValues")
        .and_then(parse_go_bool)
        .is_some_and(|b| !b);
    let effect = if strict {
        "with ignoreNullValues false every KEDA poll fails (`target may be lost, the result is empty`)"
    } else {
        "KEDA reads it as 0 and reports no error"
    };
    let absent = if probe.absent_selectors.is_empty() {
        String::new()
    } else {
        format!(
            "; no series match {}",
            probe
                .absent_selectors
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    // A range shorter than two scrape intervals is the most common cause: say which one.
    let short = super::short_range(q).map(|s| format!("; {s}"));
    let absent = absent + short.as_deref().unwrap_or("");
    cx.report(
        &QueryEmptyNow::INFO,
        Loc {
            path: live.query_path.clone(),
            span: q.span(cx, None),
        },
        format!("the query returns an empty vector right now on {}: {effect}{absent}", live.probed),
    )
    .help("check the selectors' labels and the window (at least 2 x the scrape interval) against the live data");
}
