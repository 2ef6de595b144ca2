use crate::checker::Checker;
use crate::finding::Severity;
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::rules::scaling::{meta_loc, meta_number, num};

declare_rule! {
    /// ## What it does
    /// Reports a `threshold` that is 0, negative, or below 0.001. A negative
    /// `activationThreshold` is reported by the same rule at **warning** severity (when the
    /// rule's level is not configured; a configured level applies to both).
    ///
    /// ## Why is this bad?
    /// KEDA accepts these numbers, then hands the HPA a target of `int64(threshold × 1000)`
    /// milli-units, truncated: `0.0004` becomes `0m`. The Kubernetes API rejects a target that
    /// is not positive (`must be positive`), the HPA is never created or updated, and the
    /// ScaledObject is not Ready: nothing scales. A negative `activationThreshold` makes every
    /// value of 0 or more "active", so the workload never scales to zero.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   threshold: "0.0004"
    ///   activationThreshold: "-1"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   threshold: "0.4"
    ///   activationThreshold: "0"
    /// ```
    pub(crate) struct ThresholdNotPositive => "KL307", "threshold-not-positive", Error, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    if !trigger.is_prometheus() {
        return;
    }
    if let Some(t) = meta_number(trigger, "threshold") {
        #[allow(clippy::cast_possible_truncation)]
        let milli = (t.value * 1000.0).trunc() as i64;
        if milli <= 0 {
            let why = if t.value <= 0.0 {
                format!("threshold {} is not positive", t.text)
            } else {
                format!(
                    "threshold {} is below 0.001: KEDA passes int64({} × 1000) = {milli} milli-units",
                    t.text, t.text
                )
            };
            cx.report(
                &ThresholdNotPositive::INFO,
                meta_loc(trigger, "threshold", t.entry),
                format!(
                    "{why}, so the HPA target is {milli}m and Kubernetes rejects it (\"must be positive\"): the HPA is not created or updated and the ScaledObject never becomes Ready"
                ),
            )
            .help(if t.value > 0.0 {
                format!(
                    "use a threshold of at least 0.001, or scale the query up (e.g. `* 1000`) and the threshold with it (\"{}\")",
                    num(t.value * 1000.0)
                )
            } else {
                "set the value per replica at which one more pod is needed; it must be at least 0.001".to_owned()
            });
        }
    }
    if let Some(act) = meta_number(trigger, "activationThreshold").filter(|a| a.value < 0.0) {
        let configured = cx
            .settings
            .rules
            .contains_key(ThresholdNotPositive::INFO.code);
        cx.report(
            &ThresholdNotPositive::INFO,
            meta_loc(trigger, "activationThreshold", act.entry),
            format!(
                "activationThreshold {} is negative: KEDA counts the trigger as active while value > {}, which every value of 0 or more is, so the workload never scales to zero",
                act.text, act.text
            ),
        )
        .help("use 0 (active on any positive value) or a small positive level");
        if !configured
            && let Some(f) = cx
                .findings
                .last_mut()
                .filter(|f| f.code == ThresholdNotPositive::INFO.code)
        {
            f.severity = Severity::Warning;
        }
    }
}
