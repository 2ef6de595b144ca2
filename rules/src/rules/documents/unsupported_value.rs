use crate::checker::{Checker, Loc};
use crate::keda::closest;
use crate::model::{KEDA_GROUP, ScaledObject};
use crate::registry::declare_rule;
use crate::source::{Entry, FieldPath, ScalarType};

declare_rule! {
    /// ## What it does
    /// Reports a string field whose value is outside the set KEDA's CRD (or the HPA API it
    /// writes) allows: `fallback.behavior` (`static`, `currentReplicas`,
    /// `currentReplicasIfHigher`, `currentReplicasIfLower`, and from KEDA 2.20
    /// `scalingModifiers`), a trigger's `authenticationRef.kind` (`TriggerAuthentication`,
    /// `ClusterTriggerAuthentication`), `advanced.scalingModifiers.metricType` (`AverageValue`,
    /// `Value`), and an HPA scaling policy's `type` (`Pods`, `Percent`). Values are compared
    /// exactly, as the API server does: `Static` is not `static`.
    ///
    /// A trigger's own `metricType` is KL310's; `selectPolicy` is KL311's; a value of the wrong
    /// type (a mapping where a string belongs) is KL004's.
    ///
    /// ## Why is this bad?
    /// The API server answers `Unsupported value` and rejects the whole object (for a policy
    /// `type`, it rejects the HPA KEDA writes, and the ScaledObject never scales). Where an
    /// older KEDA's CRD has no enum for the field, KEDA itself fails on the value at run time.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   fallback:
    ///     failureThreshold: 3
    ///     replicas: 6
    ///     behavior: currentReplicasIfHigh
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   fallback:
    ///     failureThreshold: 3
    ///     replicas: 6
    ///     behavior: currentReplicasIfHigher
    /// ```
    pub(crate) struct UnsupportedValue => "KL008", "unsupported-value", Error;
}

const FALLBACK_BEHAVIORS: &[&str] = &[
    "static",
    "currentReplicas",
    "currentReplicasIfHigher",
    "currentReplicasIfLower",
];
const AUTH_KINDS: &[&str] = &["TriggerAuthentication", "ClusterTriggerAuthentication"];
const METRIC_TYPES: &[&str] = &["AverageValue", "Value"];
const POLICY_TYPES: &[&str] = &["Pods", "Percent"];

/// Reports `e` when it is a string outside `allowed`; `effect` says who rejects it, and
/// `rejected_as` is the field path in the API server's answer (the HPA's own path for HPA fields).
fn one_of(
    cx: &mut Checker<'_>,
    path: FieldPath,
    e: &Entry,
    allowed: &[&str],
    effect: &str,
    rejected_as: Option<String>,
) {
    if e.value.scalar_type() != Some(ScalarType::Str) {
        return; // null is "absent", other types are KL004's
    }
    let Some(v) = e.value.as_str() else { return };
    if allowed.contains(&v) {
        return;
    }
    let supported = allowed
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let help = match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
        Some(a) => format!("write `{a}` (values are case-sensitive)"),
        None if v == "scalingModifiers" => {
            "fallback behavior `scalingModifiers` needs KEDA 2.20 or newer (set kedaVersion if the cluster runs it)".to_owned()
        }
        None => match closest(v, allowed) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("use one of {}", allowed.join(", ")),
        },
    };
    let rejected_as = rejected_as.unwrap_or_else(|| path.to_string());
    let message = format!(
        "`{path}` is {v:?}, which is not one of {supported}: {effect}: `{rejected_as}: Unsupported value: \"{v}\": supported values: {supported}`"
    );
    cx.report(&UnsupportedValue::INFO, Loc::value(path, e), message)
        .help(help);
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    // A KEDA v1 object is KL003's: its schema is not this CRD's.
    if so.object.group() != KEDA_GROUP {
        return;
    }
    let Some(spec) = so.object.spec() else { return };
    let spec_path = so.spec_path();
    let version = cx.settings.keda_version;
    let crd = format!("the API server rejects the object (KEDA {version}'s CRD)");
    if let Some(b) = spec.get("fallback").and_then(|f| f.get_entry("behavior")) {
        let mut allowed = FALLBACK_BEHAVIORS.to_vec();
        if version.at_least(2, 20) {
            allowed.push("scalingModifiers");
        }
        one_of(
            cx,
            spec_path.key("fallback").key("behavior"),
            b,
            &allowed,
            &crd,
            None,
        );
    }
    if let Some(m) = spec
        .get("advanced")
        .and_then(|a| a.get("scalingModifiers"))
        .and_then(|m| m.get_entry("metricType"))
    {
        let path = spec_path
            .key("advanced")
            .key("scalingModifiers")
            .key("metricType");
        one_of(cx, path, m, METRIC_TYPES, &crd, None);
    }
    let auth_effect = if version.at_least(2, 20) {
        crd.clone()
    } else {
        format!(
            "KEDA {version} cannot resolve the reference and the trigger fails (from 2.20 the API server rejects it)"
        )
    };
    for trigger in so.triggers() {
        if let Some(kind) = trigger
            .node
            .get("authenticationRef")
            .and_then(|a| a.get_entry("kind"))
        {
            let path = trigger.path.key("authenticationRef").key("kind");
            one_of(cx, path, kind, AUTH_KINDS, &auth_effect, None);
        }
    }
    for (direction, i, path, policy) in so.hpa_policies() {
        let Some(t) = policy.get_entry("type") else {
            continue;
        };
        one_of(
            cx,
            path.key("type"),
            t,
            POLICY_TYPES,
            "the API server rejects the HPA KEDA writes, and the ScaledObject never scales",
            Some(format!("spec.behavior.{direction}.policies[{i}].type")),
        );
    }
}
