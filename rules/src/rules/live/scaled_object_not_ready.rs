use crate::checker::Checker;
use crate::registry::declare_rule;

use super::state::{ObjectLive, quote};

declare_rule! {
    /// ## What it does
    /// Cluster mode: reports a ScaledObject whose `Ready` condition KEDA has set to `False`,
    /// with KEDA's reason and message.
    ///
    /// ## Why is this bad?
    /// KEDA does not scale an object that is not Ready: it has no HPA, or an HPA fed by a
    /// scaler that fails on every poll (`TriggerError`), or a spec KEDA refused (replica bounds,
    /// a trigger it cannot build). The reason and message are the first thing to read; nothing
    /// else in the chain works until they are fixed.
    ///
    /// ## Example
    /// ```yaml
    /// status:
    ///   conditions:
    ///     - type: Ready
    ///       status: "False"
    ///       reason: ScaledObjectCheckFailed
    ///       message: MinReplicaCount=5 must be less than MaxReplicaCount=3
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   minReplicaCount: 1
    ///   maxReplicaCount: 3
    /// ```
    pub(crate) struct ScaledObjectNotReady => "KL412", "scaled-object-not-ready", Error, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &ObjectLive<'_>) {
    let Some((index, ready)) = live.state.condition("Ready") else {
        return;
    };
    if !ready.is_false() {
        return;
    }
    let why = match (&ready.reason, &ready.message) {
        (Some(r), Some(m)) => format!("{r}: \"{}\"", quote(m)),
        (Some(r), None) => r.clone(),
        (None, Some(m)) => format!("\"{}\"", quote(m)),
        (None, None) => "no reason given".to_owned(),
    };
    cx.report(
        &ScaledObjectNotReady::INFO,
        live.condition_loc(index),
        format!("KEDA reports the ScaledObject not Ready ({}): {why}", live.read),
    )
    .help(format!(
        "fix what KEDA's message names; confirm with `kubectl describe scaledobject -n {} {}` and `{}`",
        live.namespace,
        live.name,
        live.events_command()
    ));
}
