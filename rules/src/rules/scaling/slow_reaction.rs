use std::time::Duration;

use crate::checker::{Checker, Loc};
use crate::duration::format_duration;
use crate::model::{ScaledObject, Trigger};
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{HPA_SYNC_PERIOD, analysis, child, int_of, polling_interval};

declare_rule! {
    /// ## What it does
    /// Off unless `reactionBudget` is configured. Estimates, for each prometheus trigger, the
    /// worst-case time from a load change to a scale-out decision and reports it when it
    /// exceeds the budget. The estimate is a sum, shown term by term:
    /// - the scrape interval S (a new sample can take that long to exist);
    /// - the query window, the largest range in the query (`rate(x[5m])` needs most of 5m to
    ///   reflect a step change);
    /// - `pollingInterval` (default 30 s) when the workload can be at zero replicas (KEDA's
    ///   loop must activate it), otherwise the HPA's 15 s sync period;
    /// - the scale-up stabilization window
    ///   (`behavior.scaleUp.stabilizationWindowSeconds`, default 0).
    ///
    /// Pod start-up time is not included: it is the same whatever the trigger.
    ///
    /// ## Why is this bad?
    /// A trigger that needs minutes to see a spike cannot protect an SLO measured in seconds.
    /// The term-by-term sum shows which setting dominates: usually the window, sometimes the
    /// scrape interval or a stabilization window copied from a scale-down example.
    ///
    /// ## Example
    /// ```yaml
    /// # .kedalint.yaml: reactionBudget: 90s
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       query: sum(rate(http_requests_total{app="web"}[10m]))
    ///       threshold: "100"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       query: sum(rate(http_requests_total{app="web"}[2m]))
    ///       threshold: "100"
    /// ```
    pub(crate) struct SlowReaction => "KL314", "slow-reaction", Info, ScaledObjects;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    so: &ScaledObject<'_>,
    trigger: &Trigger<'_>,
    query: &QueryContext<'_>,
) {
    let Some(budget) = cx.settings.reaction_budget else {
        return;
    };
    let mut terms: Vec<(String, Duration)> = Vec::new();
    terms.push((
        format!("scrape interval ({})", query.scrape.origin),
        query.scrape.interval,
    ));
    let largest_range = analysis(Some(query)).and_then(|a| a.ranges.iter().max_by_key(|r| r.range));
    let window = largest_range.map_or(Duration::ZERO, |r| r.range);
    let window_text = largest_range
        .and_then(|r| r.span.clone())
        .and_then(|s| query.query.get(s))
        .map_or_else(
            || "query window".to_owned(),
            |t| format!("query window `{t}`"),
        );
    terms.push((window_text, window));
    let can_be_zero = so.min_replicas() == 0 || so.spec_int("idleReplicaCount") == Some(0);
    let Some((polling, set)) = polling_interval(so) else {
        return;
    };
    if can_be_zero {
        let label = if set {
            "pollingInterval (at zero replicas)".to_owned()
        } else {
            "pollingInterval (default, at zero replicas)".to_owned()
        };
        terms.push((label, secs(polling)));
    } else {
        terms.push((
            "HPA sync period (above zero replicas)".to_owned(),
            secs(HPA_SYNC_PERIOD),
        ));
    }
    let stabilization = so
        .object
        .spec()
        .and_then(|s| child(s, &so.spec_path(), "advanced"))
        .and_then(|(a, p)| child(&a.value, &p, "horizontalPodAutoscalerConfig"))
        .and_then(|(h, p)| child(&h.value, &p, "behavior"))
        .and_then(|(b, p)| child(&b.value, &p, "scaleUp"))
        .and_then(|(u, p)| child(&u.value, &p, "stabilizationWindowSeconds"))
        .and_then(|(e, _)| int_of(&e.value));
    let label = if stabilization.is_some() {
        "scale-up stabilization"
    } else {
        "scale-up stabilization (default)"
    };
    terms.push((label.to_owned(), secs(stabilization.unwrap_or(0))));
    let total: Duration = terms.iter().map(|(_, d)| *d).sum();
    if total <= budget {
        return;
    }
    let (largest, _) = terms
        .iter()
        .max_by_key(|(_, d)| *d)
        .cloned()
        .unwrap_or_default();
    let sum = terms
        .iter()
        .map(|(l, d)| format!("{} {l}", format_duration(*d)))
        .collect::<Vec<_>>()
        .join(" + ");
    cx.report(
        &SlowReaction::INFO,
        Loc {
            path: trigger.metadata_path().key("query"),
            span: query.span(cx, largest_range.and_then(|r| r.span.clone())),
        },
        format!(
            "worst-case reaction to a load change ≈ {} > reactionBudget {}: {sum}; the largest term is the {}",
            format_duration(total),
            format_duration(budget),
            largest.split(" (").next().unwrap_or(&largest)
        ),
    )
    .help("shorten the largest term: a smaller query window (at least 4 × the scrape interval), a faster scrape for this job, a shorter pollingInterval or scale-up stabilization window");
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(u64::try_from(s).unwrap_or(0))
}
