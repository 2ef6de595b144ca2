use crate::checker::Checker;
use crate::registry::declare_rule;
use crate::source::FieldPath;

use super::state::{ObjectLive, quote};

declare_rule! {
    /// ## What it does
    /// Cluster mode: reports an HPA that cannot scale: its `AbleToScale` condition is `False`,
    /// or `ScalingActive` is `False` for a reason other than a workload at zero replicas
    /// (`ScalingDisabled`, which is how KEDA's scale to zero looks).
    ///
    /// ## Why is this bad?
    /// `ScalingActive: False` with `FailedGetExternalMetric` means the HPA got no metric from
    /// KEDA and holds the replica count; `AbleToScale: False` means it cannot read or update
    /// the workload's scale subresource. Either way the threshold never matters.
    ///
    /// ## Example
    /// ```yaml
    /// # kubectl get hpa keda-hpa-api -o yaml
    /// status:
    ///   conditions:
    ///     - type: ScalingActive
    ///       status: "False"
    ///       reason: FailedGetExternalMetric
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// status:
    ///   conditions:
    ///     - type: ScalingActive
    ///       status: "True"
    ///       reason: ValidMetricFound
    /// ```
    pub(crate) struct HpaCannotScale => "KL416", "hpa-cannot-scale", Error, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &ObjectLive<'_>) {
    let Some(hpa) = &live.state.hpa else {
        return;
    };
    let blocked: Vec<String> = ["AbleToScale", "ScalingActive"]
        .iter()
        .filter_map(|kind| hpa.condition(kind))
        .filter(|c| c.is_false() && c.reason.as_deref() != Some("ScalingDisabled"))
        .map(|c| {
            format!(
                "{} is False ({}{})",
                c.kind,
                c.reason.as_deref().unwrap_or("no reason"),
                c.message
                    .as_deref()
                    .map(|m| format!(": \"{}\"", quote(m)))
                    .unwrap_or_default()
            )
        })
        .collect();
    if blocked.is_empty() {
        return;
    }
    cx.report(
        &HpaCannotScale::INFO,
        live.loc(FieldPath::root().key("spec").key("scaleTargetRef")),
        format!(
            "the HPA `{}` cannot scale ({}): {}",
            hpa.name,
            live.read,
            blocked.join("; ")
        ),
    )
    .help(format!(
        "confirm with `{}`; a failed external metric read means the scaler fails (see KL413, KL419)",
        live.describe_hpa_command(&hpa.name)
    ));
}
