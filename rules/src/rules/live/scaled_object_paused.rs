use crate::checker::Checker;
use crate::keda::parse_go_bool;
use crate::registry::declare_rule;
use crate::source::FieldPath;

use super::state::ObjectLive;

/// KEDA's annotations that pause a ScaledObject.
const PAUSED: &str = "autoscaling.keda.sh/paused";
const PAUSED_REPLICAS: &str = "autoscaling.keda.sh/paused-replicas";

declare_rule! {
    /// ## What it does
    /// Cluster mode: reports a paused ScaledObject: the annotation `autoscaling.keda.sh/paused`
    /// (any value but a false one), `autoscaling.keda.sh/paused-replicas`, or KEDA's `Paused`
    /// condition set to `True`.
    ///
    /// ## Why is this bad?
    /// A paused object does not scale at all, whatever its metric reads: KEDA stops polling and
    /// removes the HPA (or holds the workload at `paused-replicas`). An annotation left behind
    /// after an incident or a migration explains "it never scales" before any metric does.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     autoscaling.keda.sh/paused: "true"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   annotations: {}
    /// ```
    pub(crate) struct ScaledObjectPaused => "KL417", "scaled-object-paused", Warning, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &ObjectLive<'_>) {
    let object = &live.so.object;
    let annotation = |key: &str| object.annotation(key).map(|n| n.as_str().unwrap_or(""));
    let annotations = FieldPath::root().key("metadata").key("annotations");
    // KEDA reads a value that is not a Go boolean as true (`getBoolAnnotation`).
    let (loc, what) = if let Some(v) = annotation(PAUSED_REPLICAS) {
        (
            live.loc(annotations.key(PAUSED_REPLICAS)),
            format!("the annotation `{PAUSED_REPLICAS}: \"{v}\"` holds it at {v} replicas"),
        )
    } else if let Some(v) = annotation(PAUSED).filter(|v| parse_go_bool(v) != Some(false)) {
        (
            live.loc(annotations.key(PAUSED)),
            format!("the annotation `{PAUSED}: \"{v}\"` pauses it"),
        )
    } else if let Some((i, c)) = live.state.condition("Paused").filter(|(_, c)| c.is_true()) {
        (
            live.condition_loc(i),
            format!(
                "KEDA's Paused condition is True{}",
                c.message
                    .as_deref()
                    .map(|m| format!(" (\"{m}\")"))
                    .unwrap_or_default()
            ),
        )
    } else {
        return;
    };
    cx.report(
        &ScaledObjectPaused::INFO,
        loc,
        format!(
            "the ScaledObject is paused ({}): {what}; KEDA does not scale it, whatever the metric reads",
            live.read
        ),
    )
    .help(format!(
        "remove the annotation when the pause is over: `kubectl annotate scaledobject -n {} {} {PAUSED}- {PAUSED_REPLICAS}-`",
        live.namespace, live.name
    ));
}
