use crate::checker::Checker;
use crate::model::{ScaledJob, Trigger};
use crate::promql::TopOperation;
use crate::registry::declare_rule;
use crate::rules::jobs::job_cap;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{
    analysis, ceil_count, describe, is_non_additive, meta_number, num, query_loc, with_unit,
};

declare_rule! {
    /// ## What it does
    /// Reports a ScaledJob trigger whose query measures a per-request level rather than an
    /// amount of waiting work: its outermost cross-series operation is a quantile
    /// (`histogram_quantile`, `quantile`), an `avg`/`min`/`max`/`stddev` aggregation, a ratio of
    /// two aggregations, or a division by a pod count.
    ///
    /// ## Why is this bad?
    /// A ScaledJob reads every trigger as a queue: KEDA computes
    /// `maxScale = min(value / threshold, maxReplicaCount)` and creates that many Jobs, less the
    /// ones already running (`pkg/scaling/scaledjob/metrics.go`, `scale_jobs.go`). A p95 latency
    /// of 0.7 s with a threshold of 0.35 asks for 2 Jobs on every poll whatever the backlog; a
    /// latency does not fall when a Job finishes an item, so Jobs keep being created while it
    /// stays high, and none while a long backlog is served fast.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         query: histogram_quantile(0.95, sum(rate(render_duration_seconds_bucket[5m])) by (le))
    ///         threshold: "0.35"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         query: sum(render_queue_pending_items)
    ///         threshold: "5"   # items one Job works through
    /// ```
    pub(crate) struct NonAdditiveMetricOnScaledJob => "KL320", "non-additive-metric-on-scaled-job", Warning, ScaledJobs;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    job: &ScaledJob<'_>,
    trigger: &Trigger<'_>,
    query: &QueryContext<'_>,
) {
    let Some(a) = analysis(Some(query)) else {
        return;
    };
    if !(is_non_additive(a.top_operation)
        || a.top_operation == TopOperation::DivisionByReplicaCount)
    {
        return;
    }
    let what = match a.top_operation {
        TopOperation::DivisionByReplicaCount => "a per-pod average".to_owned(),
        _ => describe(a),
    };
    let (cap, cap_text) = job_cap(job);
    let arithmetic = match meta_number(trigger, "threshold").filter(|t| t.value > 0.0) {
        Some(t) => {
            let m = 2.0 * t.value;
            format!(
                "at an illustrative {} (2 × threshold) it asks for ceil({} / {}) = {} Jobs on every poll, however much work waits, up to {cap_text}",
                with_unit(&num(m), a.unit),
                num(m),
                t.text,
                ceil_count(m / t.value).min(cap),
            )
        }
        None => format!("it asks for ceil(value / threshold) Jobs on every poll, up to {cap_text}"),
    };
    cx.report(
        &NonAdditiveMetricOnScaledJob::INFO,
        query_loc(trigger, query),
        format!(
            "a ScaledJob reads {what} as a count of waiting work items, which it is not: {arithmetic}; the value does not fall as Jobs finish work"
        ),
    )
    .help("scale Jobs on the amount of waiting work (a queue length or backlog, e.g. sum(queue_messages_ready)), with threshold = the items one Job handles");
}
