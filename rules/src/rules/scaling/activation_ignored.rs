use crate::checker::{Checker, Loc};
use crate::model::{ScaledObject, Trigger};
use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports an activation setting (`activationThreshold`, or another scaler's `activation…`
    /// key) on a ScaledObject whose `minReplicaCount` is 1 or more and which has no
    /// `idleReplicaCount`.
    ///
    /// ## Why is this bad?
    /// Activation decides only between the resting count and the minimum: zero when
    /// `minReplicaCount` is 0, or `idleReplicaCount` when that is set (KEDA's scale executor
    /// scales an inactive object to it after `cooldownPeriod`, and back to `minReplicaCount`
    /// once a trigger is active). KEDA's documentation: "If the minimum replicas is >= 1, the
    /// scaler is always active and the activation value will be ignored." With
    /// `minReplicaCount` ≥ 1 and no `idleReplicaCount`, the setting suggests a behaviour that
    /// does not exist; a reader may believe the workload sleeps below that level.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   minReplicaCount: 2
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         threshold: "100"
    ///         activationThreshold: "10"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   minReplicaCount: 2
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         threshold: "100"
    /// ```
    pub(crate) struct ActivationIgnored => "KL305", "activation-ignored", Info, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>, trigger: &Trigger<'_>) {
    if so.activation_matters() {
        return;
    }
    let min = so.min_replicas();
    let Some(meta) = trigger.metadata() else {
        return;
    };
    for entry in meta.as_map().unwrap_or_default() {
        let Some(key) = entry.key_str().filter(|k| k.starts_with("activation")) else {
            continue;
        };
        if entry.value.as_str().is_none_or(|v| v.trim().is_empty()) {
            continue;
        }
        cx.report(
            &ActivationIgnored::INFO,
            Loc::key(trigger.metadata_path().key(key), entry),
            format!(
                "`{key}` is ignored: minReplicaCount is {min} and idleReplicaCount is not set, so KEDA keeps the scaler always active and never scales below {min}"
            ),
        )
        .help(format!(
            "remove `{key}`, or set minReplicaCount: 0 (or idleReplicaCount: 0) if the workload should sleep until the value exceeds it"
        ));
    }
}
