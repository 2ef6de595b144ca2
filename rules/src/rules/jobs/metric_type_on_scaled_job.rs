use crate::checker::{Checker, Loc};
use crate::model::Trigger;
use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a ScaledJob trigger whose `metricType` is anything but `AverageValue` (KEDA's
    /// default, which may be written or left out).
    ///
    /// ## Why is this bad?
    /// A ScaledJob has no HPA to hand the metric type to. KEDA builds the trigger's metric spec
    /// with it all the same, and then reads only its AverageValue target as the amount of work
    /// per Job (`getTargetAverageValue` in `pkg/scaling/scaledjob/metrics.go`). With
    /// `metricType: Value` the target lands in `Value`, the AverageValue target is missing and
    /// read as 0, `maxScale` stays 0, and the trigger never creates a Job (only
    /// `minReplicaCount` Jobs run). `Utilization` is refused when the scaler is built, so the
    /// ScaledJob is not Ready.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   triggers:
    ///     - type: prometheus
    ///       metricType: Value
    ///       metadata:
    ///         query: sum(queue_messages_ready{queue="renders"})
    ///         threshold: "5"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         query: sum(queue_messages_ready{queue="renders"})
    ///         threshold: "5"
    /// ```
    pub(crate) struct MetricTypeOnScaledJob => "KL321", "metric-type-on-scaled-job", Error, ScaledJobs;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    let Some(entry) = trigger.node.get_entry("metricType") else {
        return;
    };
    let value = entry.value.as_str().unwrap_or("");
    if value == "AverageValue" {
        return;
    }
    let effect = if value == "Utilization" {
        "KEDA refuses to build the scaler (\"'Utilization' metric type is unsupported for external metrics\"), so the ScaledJob is not Ready and creates no Job".to_owned()
    } else {
        format!(
            "KEDA puts the threshold in the metric's `{value}` target, but a ScaledJob reads only the AverageValue target as the work per Job; it reads 0, so maxScale stays 0 and this trigger never creates a Job"
        )
    };
    cx.report(
        &MetricTypeOnScaledJob::INFO,
        Loc::value(trigger.path.key("metricType"), entry),
        format!("metricType `{value}` on a ScaledJob trigger: {effect}"),
    )
    .help("remove `metricType` from ScaledJob triggers (the threshold is always the work one Job handles)");
}
