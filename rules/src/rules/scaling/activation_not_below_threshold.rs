use crate::checker::Checker;
use crate::model::{ScaledObject, Trigger};
use crate::registry::declare_rule;
use crate::rules::scaling::{MetricType, ceil_count, meta_loc, meta_number, metric_type};

declare_rule! {
    /// ## What it does
    /// Reports an `activationThreshold` greater than or equal to the trigger's `threshold`.
    ///
    /// ## Why is this bad?
    /// KEDA treats a trigger as active only while `value > activationThreshold` (strictly).
    /// While every trigger is inactive and `minReplicaCount` is 0, KEDA scales the workload to
    /// zero after `cooldownPeriod` and does not wake it up. With the activation at or above the
    /// threshold, a load at which the HPA already wants one or more replicas
    /// (`value ≥ threshold`) still counts as "no load": the workload sits at zero under load
    /// that should have woken it, and is scaled in to zero while it is busy. The activation
    /// threshold is meant to be the small "there is anything at all" level below the target.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   threshold: "20"
    ///   activationThreshold: "20"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   threshold: "20"
    ///   activationThreshold: "2"
    /// ```
    pub(crate) struct ActivationNotBelowThreshold => "KL304", "activation-not-below-threshold", Warning, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>, trigger: &Trigger<'_>) {
    let (Some(t), Some(act)) = (
        meta_number(trigger, "threshold"),
        meta_number(trigger, "activationThreshold"),
    ) else {
        return;
    };
    if act.value < t.value || t.value <= 0.0 {
        return;
    }
    let wants = match metric_type(trigger) {
        MetricType::AverageValue => format!(
            " the HPA already asks for ceil({} / {}) = {} replica(s) at that value,",
            act.text,
            t.text,
            ceil_count(act.value / t.value).max(1)
        ),
        _ => String::new(),
    };
    let ignored = if !so.activation_matters() {
        " (minReplicaCount ≥ 1 makes KEDA ignore activation today, see KL305, but it takes effect as soon as minReplicaCount is 0)"
    } else {
        ""
    };
    cx.report(
        &ActivationNotBelowThreshold::INFO,
        meta_loc(trigger, "activationThreshold", act.entry),
        format!(
            "activationThreshold {} is not below threshold {}: KEDA counts the trigger as active only while the value is > {} (strictly), so a value of {} still reads as no load;{wants} yet with minReplicaCount 0 the workload stays at (or is scaled in to) zero{ignored}",
            act.text, t.text, act.text, act.text
        ),
    )
    .help(format!(
        "set activationThreshold well below threshold {} (the level that means \"there is any load at all\", often 0)",
        t.text
    ));
}
