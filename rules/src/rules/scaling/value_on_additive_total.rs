use crate::checker::Checker;
use crate::checker::Loc;
use crate::model::{ScaledObject, Trigger};
use crate::promql::TopOperation;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{
    MetricType, analysis, max_replicas, meta_number, metric_type, num, uses_formula,
};

declare_rule! {
    /// ## What it does
    /// Reports `metricType: Value` on a query whose outermost cross-series operation is a `sum`
    /// or `count`: a total over all pods, which does not fall when pods are added.
    ///
    /// ## Why is this bad?
    /// With `Value` the HPA computes `desired ≈ ceil(N × metric / threshold)` for the `N` ready
    /// pods: it expects the metric to fall as pods are added, as a per-pod level does. A total
    /// stays the same, so every sync multiplies the replica count: at a total of twice the
    /// threshold the HPA asks for 2, 4, 8, 16 … replicas until `maxReplicaCount`, and at a
    /// total below the threshold it halves them down to the minimum. `AverageValue`
    /// (`ceil(total / threshold)`) is the stable pairing for a total.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metricType: Value
    ///     metadata:
    ///       query: sum(rate(http_requests_total{app="web"}[5m]))
    ///       threshold: "100"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metricType: AverageValue
    ///     metadata:
    ///       query: sum(rate(http_requests_total{app="web"}[5m]))
    ///       threshold: "100"
    /// ```
    pub(crate) struct ValueOnAdditiveTotal => "KL303", "value-on-additive-total", Warning, ScaledObjects;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    so: &ScaledObject<'_>,
    trigger: &Trigger<'_>,
    query: Option<&QueryContext<'_>>,
) {
    let Some(a) = analysis(query) else { return };
    if !matches!(a.top_operation, TopOperation::Sum | TopOperation::Count)
        || metric_type(trigger) != MetricType::Value
        || uses_formula(so)
    {
        return;
    }
    let Some(entry) = trigger.node.get_entry("metricType") else {
        return;
    };
    let op = if a.top_operation == TopOperation::Sum {
        "sum"
    } else {
        "count"
    };
    let max = max_replicas(so);
    let example = match meta_number(trigger, "threshold").filter(|t| t.value > 0.0) {
        Some(t) => {
            let mut steps = vec![1_i64];
            while steps.len() < 6 && *steps.last().unwrap_or(&max) < max {
                let next = (steps.last().copied().unwrap_or(1) * 2).min(max);
                steps.push(next);
            }
            format!(
                "at a total of {} (illustrative: 2 × threshold {}) it asks for {} … replicas, doubling every sync up to maxReplicaCount {max}",
                num(2.0 * t.value),
                t.text,
                steps
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        None => format!(
            "any total above the threshold doubles the replicas every sync up to maxReplicaCount {max}"
        ),
    };
    cx.report(
        &ValueOnAdditiveTotal::INFO,
        Loc::value(trigger.path.key("metricType"), entry),
        format!(
            "metricType: Value with a top-level {op}(): the total does not fall when pods are added, but the HPA computes desired = ceil(N × total / threshold), so {example}"
        ),
    )
    .help("use `metricType: AverageValue` (desired = ceil(total / threshold)) for a total, or make the query a per-pod level (e.g. divide by the pod count) if Value is intended");
}
