use crate::checker::{Checker, Loc};
use crate::facts::parse_quantity;
use crate::keda::is_json_number;
use crate::model::Trigger;
use crate::registry::declare_rule;

use super::state::ObjectLive;

declare_rule! {
    /// ## What it does
    /// Cluster mode: compares the HPA's target for a trigger's external metric with what KEDA
    /// builds from the trigger: `metricType` (default `AverageValue`) and the milli-quantity
    /// `int64(threshold * 1000)`. Reports an HPA whose target type or value differs.
    ///
    /// ## Why is this bad?
    /// KEDA owns the HPA and rewrites it from the ScaledObject on every reconcile. A target that
    /// differs means the HPA was edited by hand, another controller (a GitOps tool, a second
    /// ScaledObject) fights over it, or KEDA has not reconciled the latest change: the HPA
    /// scales on a threshold nobody reads in the manifest.
    ///
    /// ## Example
    /// ```yaml
    /// # ScaledObject: threshold "0.35", metricType Value; the HPA has
    /// target:
    ///   type: AverageValue
    ///   averageValue: 500m
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// target:
    ///   type: Value
    ///   value: 350m
    /// ```
    pub(crate) struct HpaTargetDiffersFromThreshold => "KL418", "hpa-target-differs-from-threshold", Warning, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &ObjectLive<'_>, trigger: &Trigger<'_>) {
    let Some(hpa) = &live.state.hpa else {
        return;
    };
    let metric = live.metric_of(trigger);
    let Some(target) = hpa.metric(&metric) else {
        return;
    };
    let Some(entry) = trigger.meta_entry("threshold") else {
        return;
    };
    let Some(threshold) = trigger
        .meta("threshold")
        .filter(|t| is_json_number(t))
        .and_then(|t| t.parse::<f64>().ok())
    else {
        return;
    };
    let expected_type = trigger.metric_type().unwrap_or("AverageValue");
    if !matches!(expected_type, "Value" | "AverageValue") {
        return;
    }
    // KEDA truncates: `int64(threshold * 1000)` milli-units (`GenerateMetricInMili`).
    #[allow(clippy::cast_possible_truncation)]
    let expected = (threshold * 1000.0) as i64;
    #[allow(clippy::cast_possible_truncation)]
    let actual = target
        .target
        .as_deref()
        .and_then(parse_quantity)
        .map(|v| (v * 1000.0).round() as i64);
    let same_type = target.target_type == expected_type;
    if same_type && actual == Some(expected) {
        return;
    }
    // As `resource.NewMilliQuantity(v, DecimalSI)` prints it: `350m`, `1`, `1500m`.
    let wanted = if expected % 1000 == 0 {
        (expected / 1000).to_string()
    } else {
        format!("{expected}m")
    };
    let has = target.target.as_deref().unwrap_or("no value");
    let loc = if same_type {
        Loc::value(trigger.metadata_path().key("threshold"), entry)
    } else {
        match trigger.node.get_entry("metricType") {
            Some(e) => Loc::value(trigger.path.key("metricType"), e),
            None => Loc::value(trigger.metadata_path().key("threshold"), entry),
        }
    };
    cx.report(
        &HpaTargetDiffersFromThreshold::INFO,
        loc,
        format!(
            "the HPA `{}` targets `{metric}` with {} {has} ({}), but KEDA builds {expected_type} {wanted} from this trigger: the HPA is stale or was edited by hand",
            hpa.name, target.target_type, live.read
        ),
    )
    .help(format!(
        "let KEDA own the HPA: find who edits it (`kubectl get hpa -n {} {} --show-managed-fields -o yaml`), then re-apply the ScaledObject",
        live.namespace, hpa.name
    ));
}
