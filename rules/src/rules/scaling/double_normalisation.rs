use crate::checker::Checker;
use crate::model::{ScaledObject, Trigger};
use crate::promql::TopOperation;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{
    MetricType, analysis, meta_number, metric_type, metric_type_origin, num, query_loc,
    uses_formula,
};

declare_rule! {
    /// ## What it does
    /// Reports a query that already divides by a replica or pod count
    /// (`/ count(kube_pod_info{…})`, `/ count(up{…})`, `/ kube_deployment_status_replicas{…}`)
    /// under `metricType: AverageValue` (KEDA's default).
    ///
    /// ## Why is this bad?
    /// With `AverageValue` the HPA computes `desired = ceil(metric / threshold)`: it already
    /// treats the metric as a total to share among the pods. A per-pod average `total / N` is
    /// divided once more, so the workload scales out only when `total / N² > threshold`. With
    /// 4 pods and a threshold of 100, the total must pass 1600 before a fifth pod is added; the
    /// trigger looks dead in production.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       query: sum(rate(http_requests_total{app="web"}[5m])) / count(kube_pod_info{pod=~"web-.*"})
    ///       threshold: "20"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       query: sum(rate(http_requests_total{app="web"}[5m]))
    ///       threshold: "20"
    /// ```
    pub(crate) struct DoubleNormalisation => "KL302", "double-normalisation", Warning, ScaledObjects;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    so: &ScaledObject<'_>,
    trigger: &Trigger<'_>,
    query: Option<&QueryContext<'_>>,
) {
    let (Some(a), Some(q)) = (analysis(query), query) else {
        return;
    };
    if a.top_operation != TopOperation::DivisionByReplicaCount
        || metric_type(trigger) != MetricType::AverageValue
        || uses_formula(so)
    {
        return;
    }
    let example = match meta_number(trigger, "threshold").filter(|t| t.value > 0.0) {
        Some(t) => format!(
            "with 4 pods (illustrative) the total must exceed 4² × {} = {} before a fifth pod is added",
            t.text,
            num(16.0 * t.value)
        ),
        None => "with 4 pods the total must exceed 16 × threshold before a fifth pod is added"
            .to_owned(),
    };
    cx.report(
        &DoubleNormalisation::INFO,
        query_loc(trigger, q),
        format!(
            "the query divides by a replica count and {} makes the HPA divide by the replica count again: desired = ceil(total / N / threshold), so it scales out only when total / N² > threshold; {example}",
            metric_type_origin(trigger)
        ),
    )
    .help("drop the division and keep AverageValue (the HPA divides the total by the pods itself), or keep the per-pod average and set `metricType: Value`");
}
