use crate::checker::Checker;
use crate::facts::ObjectEvent;
use crate::registry::declare_rule;
use crate::source::FieldPath;

use super::state::{ObjectLive, quote};

/// Warning reasons KEDA gives the error of a scaler on the ScaledObject.
const KEDA_REASONS: &[&str] = &["KEDAScalerFailed", "KEDAMetricSourceFailed"];
/// Warning reasons the HPA gives a failed external metric read.
const HPA_REASONS: &[&str] = &["FailedGetExternalMetric", "FailedComputeMetricsReplicas"];

declare_rule! {
    /// ## What it does
    /// Cluster mode: quotes the newest Warning Event that carries a scaler's error:
    /// `KEDAScalerFailed` on the ScaledObject (KEDA's own error text, such as `prometheus query
    /// api returned error` or `context deadline exceeded`), else the HPA's
    /// `FailedGetExternalMetric`.
    ///
    /// ## Why is this bad?
    /// The HPA and `kubectl get --raw` only ever show `error when getting metric values
    /// metric:s0-prometheus encountered error`: the metrics server hides the cause. KEDA writes
    /// the real error to the keda-operator log and to `KEDAScalerFailed` Events on the
    /// ScaledObject, which expire after an hour. Reading them is the shortest way to the cause.
    ///
    /// ## Example
    /// ```yaml
    /// # kubectl get events -n shop --field-selector involvedObject.name=inference-slo-scaler
    /// type: Warning
    /// reason: KEDAScalerFailed
    /// message: 'error executing prometheus query: ... context deadline exceeded'
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   timeout: "10000"   # or fix what the quoted error names
    /// ```
    pub(crate) struct ScalerErrorEvent => "KL419", "scaler-error-event", Error, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &ObjectLive<'_>) {
    let Some(events) = &live.state.events else {
        return;
    };
    // Events come newest first.
    let find = |reasons: &[&str]| -> Option<&ObjectEvent> {
        events
            .iter()
            .find(|e| e.event_type == "Warning" && reasons.contains(&e.reason.as_str()))
    };
    let (event, message) = if let Some(e) = find(KEDA_REASONS) {
        (
            e,
            format!("KEDA reports the scaler's error in a {} Event", e.reason),
        )
    } else if let Some(e) = find(HPA_REASONS) {
        (
            e,
            format!(
                "the HPA `{}` reports {}; its message hides the scaler's error (read the keda-operator log)",
                e.name, e.reason
            ),
        )
    } else {
        return;
    };
    let seen = match (event.count, &event.last_seen) {
        (Some(n), Some(t)) if n > 1 => format!(", {n} times, last at {t}"),
        (_, Some(t)) => format!(", at {t}"),
        _ => String::new(),
    };
    cx.report(
        &ScalerErrorEvent::INFO,
        live.loc(FieldPath::root().key("spec").key("triggers")),
        format!(
            "{message} ({}{seen}): \"{}\"",
            live.read,
            quote(&event.message)
        ),
    )
    .help(format!(
        "fix what the error names; confirm with `{}` and `kubectl logs -n keda deploy/keda-operator | grep {}`",
        live.events_command(),
        live.name
    ));
}
