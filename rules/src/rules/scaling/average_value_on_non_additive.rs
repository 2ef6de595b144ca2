use crate::checker::Checker;
use crate::model::{ScaledObject, Trigger};
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{
    MetricType, analysis, ceil_count, describe, is_non_additive, max_replicas, meta_number,
    metric_type, metric_type_origin, num, query_loc, uses_formula, with_unit,
};

declare_rule! {
    /// ## What it does
    /// Reports a trigger whose `metricType` is `AverageValue` (KEDA's default when unset) while
    /// the query's outermost cross-series operation is not additive across replicas: a quantile
    /// (`histogram_quantile`, `quantile`), an `avg`, `min`, `max` or `stddev` aggregation, or a
    /// ratio of two aggregations. Functions over time (`*_over_time`, subqueries) and arithmetic
    /// with constants (`* 1000`) are looked through, so
    /// `quantile_over_time(0.95, sum(...)[15m:])` is still an additive total and is not reported.
    /// Triggers combined by `advanced.scalingModifiers.formula` are skipped: the HPA then sees
    /// only the composite metric.
    ///
    /// ## Why is this bad?
    /// For an External metric with an `AverageValue` target the HPA treats the metric as a total
    /// to be shared by the pods: `desired = ceil(metric / threshold)`, whatever the current
    /// replica count. A p95 latency of 0.7 s with a threshold of 0.35 always asks for
    /// `ceil(0.7 / 0.35) = 2` replicas, whether 2 or 10 are running, so a latency target can
    /// never add capacity beyond a handful of pods, and it scales in while latency is still
    /// twice the target. With `metricType: Value` the HPA asks for `ceil(N × 0.7 / 0.35)`: it
    /// keeps adding pods until the latency falls under the target.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       query: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))
    ///       threshold: "0.35"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metricType: Value
    ///     metadata:
    ///       query: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))
    ///       threshold: "0.35"
    /// ```
    pub(crate) struct AverageValueOnNonAdditive => "KL301", "average-value-on-non-additive", Warning, ScaledObjects;
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
    if metric_type(trigger) != MetricType::AverageValue || uses_formula(so) {
        return;
    }
    if !is_non_additive(a.top_operation) {
        return;
    }
    let what = describe(a);
    let arithmetic = match meta_number(trigger, "threshold").filter(|t| t.value > 0.0) {
        Some(t) => {
            let m = 2.0 * t.value;
            let desired = ceil_count(m / t.value);
            let max = max_replicas(so).max(desired + 1);
            format!(
                "at an illustrative {} (2 × threshold) the HPA asks for ceil({} / {}) = {desired} replicas, whether {desired} or {max} are running; with metricType: Value it asks for ceil(N × {} / {}) and keeps adding pods until the value falls under {}",
                with_unit(&num(m), a.unit),
                num(m),
                t.text,
                num(m),
                t.text,
                with_unit(t.text, a.unit),
            )
        }
        None => "the HPA asks for ceil(value / threshold) replicas whatever the current replica count; with metricType: Value it asks for ceil(N × value / threshold)".to_owned(),
    };
    cx.report(
        &AverageValueOnNonAdditive::INFO,
        query_loc(trigger, q),
        format!(
            "{} treats {what} as a total the pods share, which it is not: {arithmetic}",
            metric_type_origin(trigger)
        ),
    )
    .help("set `metricType: Value` on this trigger (a level every pod sees); keep AverageValue for totals such as sum(rate(...)) or a queue length");
}
