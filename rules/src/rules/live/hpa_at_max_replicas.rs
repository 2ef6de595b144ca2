use crate::checker::Checker;
use crate::registry::declare_rule;
use crate::source::FieldPath;

use super::state::ObjectLive;

declare_rule! {
    /// ## What it does
    /// Cluster mode: reports an HPA held at its `maxReplicas`: its `ScalingLimited` condition is
    /// `True` with reason `TooManyReplicas`, or it wants at least `maxReplicas` replicas.
    ///
    /// ## Why is this bad?
    /// The metric asks for more replicas than `maxReplicaCount` allows: either the load really
    /// is higher than planned, or the metric is inflated (an `AverageValue` on a quantity that
    /// does not fall as pods are added, a threshold in the wrong unit). Latency keeps rising
    /// while the HPA reports itself satisfied.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   maxReplicaCount: 3
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   maxReplicaCount: 20
    /// ```
    pub(crate) struct HpaAtMaxReplicas => "KL415", "hpa-at-max-replicas", Warning, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &ObjectLive<'_>) {
    let Some(hpa) = &live.state.hpa else {
        return;
    };
    let limited = hpa
        .condition("ScalingLimited")
        .filter(|c| c.is_true() && c.reason.as_deref() == Some("TooManyReplicas"));
    if limited.is_none() && hpa.desired_replicas < hpa.max_replicas {
        return;
    }
    let current = hpa
        .current_replicas
        .map(|c| format!(", current {c}"))
        .unwrap_or_default();
    let why = limited
        .and_then(|c| c.message.as_deref())
        .map(|m| format!(" (ScalingLimited: \"{m}\")"))
        .unwrap_or_default();
    let path = if live.so.spec_field("maxReplicaCount").is_some() {
        FieldPath::root().key("spec").key("maxReplicaCount")
    } else {
        FieldPath::root().key("spec")
    };
    cx.report(
        &HpaAtMaxReplicas::INFO,
        live.loc(path),
        format!(
            "the HPA `{}` is held at maxReplicas {} ({}): it wants {}{current}{why}",
            hpa.name, hpa.max_replicas, live.read, hpa.desired_replicas
        ),
    )
    .help(format!(
        "raise `maxReplicaCount` if the load is real, else check the metric and threshold; confirm with `{}`",
        live.describe_hpa_command(&hpa.name)
    ));
}
