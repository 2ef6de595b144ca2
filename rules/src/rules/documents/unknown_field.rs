use crate::checker::{Checker, Loc};
use crate::finding::{Edit, Fix};
use crate::keda::{PROMETHEUS_KEYS, closest};
use crate::model::ScaledObject;
use crate::registry::declare_rule;
use crate::source::{Entry, FieldPath, Node, ScalarStyle};

declare_rule! {
    /// ## What it does
    /// Reports keys KEDA does not know in `spec`, a trigger, the `metadata` of a prometheus
    /// trigger, `fallback`, `advanced` and `scaleTargetRef`. It suggests the closest known key
    /// for a typo, the right place for a misplaced key (`metricType` inside `metadata`), and for
    /// removed keys the KEDA version that removed them (`metricName` in 2.12, `cortexOrgID` in 2.15).
    ///
    /// ## Why is this bad?
    /// KEDA ignores unknown metadata keys silently, so a typo means the default: an
    /// `ignoreNullValue: "false"` leaves `ignoreNullValues` at `true`, an `activationthreshold`
    /// leaves activation at 0. Unknown `spec` fields are dropped by the API server.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       serverAddress: http://prometheus.monitoring.svc:9090
    ///       query: sum(rate(http_requests_total[5m]))
    ///       threshold: "100"
    ///       ignoreNullValue: "false"
    ///       metricType: Value
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metricType: Value
    ///     metadata:
    ///       serverAddress: http://prometheus.monitoring.svc:9090
    ///       query: sum(rate(http_requests_total[5m]))
    ///       threshold: "100"
    ///       ignoreNullValues: "false"
    /// ```
    pub(crate) struct UnknownField => "KL005", "unknown-field", Warning;
}

const SPEC_KEYS: &[&str] = &[
    "scaleTargetRef",
    "pollingInterval",
    "cooldownPeriod",
    "initialCooldownPeriod",
    "idleReplicaCount",
    "minReplicaCount",
    "maxReplicaCount",
    "advanced",
    "triggers",
    "fallback",
];
const TRIGGER_KEYS: &[&str] = &[
    "type",
    "name",
    "metadata",
    "authenticationRef",
    "metricType",
    "useCachedMetrics",
];
const FALLBACK_KEYS: &[&str] = &["failureThreshold", "replicas", "behavior"];
const ADVANCED_KEYS: &[&str] = &[
    "restoreToOriginalReplicaCount",
    "horizontalPodAutoscalerConfig",
    "scalingModifiers",
];
const TARGET_KEYS: &[&str] = &["name", "kind", "apiVersion", "envSourceContainerName"];
const HPA_CONFIG_KEYS: &[&str] = &["name", "behavior"];
const MODIFIER_KEYS: &[&str] = &["formula", "target", "activationTarget", "metricType"];
const AUTH_REF_KEYS: &[&str] = &["name", "kind"];
const BEHAVIOR_KEYS: &[&str] = &["scaleUp", "scaleDown"];
/// `HPAScalingRules` (`tolerance` is Kubernetes 1.33+ and in KEDA 2.20's CRD).
const SCALING_RULES_KEYS: &[&str] = &[
    "stabilizationWindowSeconds",
    "selectPolicy",
    "policies",
    "tolerance",
];
const POLICY_KEYS: &[&str] = &["type", "value", "periodSeconds"];
/// Parameters KEDA reads only from a TriggerAuthentication, never from metadata.
const AUTH_PARAMS: &[&str] = &[
    "bearerToken",
    "token",
    "username",
    "password",
    "cert",
    "key",
    "ca",
    "customAuthHeader",
    "customAuthValue",
    "oauthTokenURI",
    "scopes",
    "clientID",
    "clientSecret",
    "endpointParams",
    "apiKey",
    "method",
    "keyParamName",
];

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    let Some(spec) = so.object.spec() else { return };
    let spec_path = so.spec_path();
    keys(cx, spec, &spec_path, SPEC_KEYS, |key| match key {
        "metricType" => {
            Some("`metricType` belongs on each trigger (`spec.triggers[].metricType`)".to_owned())
        }
        "behavior" | "horizontalPodAutoscalerConfig" => Some(format!(
            "`{key}` belongs under `spec.advanced` (`advanced.horizontalPodAutoscalerConfig`)"
        )),
        "scalingModifiers" | "restoreToOriginalReplicaCount" => {
            Some(format!("`{key}` belongs under `spec.advanced`"))
        }
        _ => None,
    });
    if let Some(t) = spec.get("scaleTargetRef") {
        // deploymentName and containerName are KL003's (KEDA v1 fields).
        keys(
            cx,
            t,
            &spec_path.key("scaleTargetRef"),
            &[TARGET_KEYS, &["deploymentName", "containerName"]].concat(),
            |_| None,
        );
    }
    if let Some(f) = spec.get("fallback") {
        keys(cx, f, &spec_path.key("fallback"), FALLBACK_KEYS, |_| None);
    }
    if let Some(a) = spec.get("advanced") {
        let p = spec_path.key("advanced");
        keys(cx, a, &p, ADVANCED_KEYS, |key| {
            (key == "behavior").then(|| {
                "`behavior` belongs under `advanced.horizontalPodAutoscalerConfig`".to_owned()
            })
        });
        if let Some(h) = a.get("horizontalPodAutoscalerConfig") {
            let h_path = p.key("horizontalPodAutoscalerConfig");
            keys(cx, h, &h_path, HPA_CONFIG_KEYS, |_| None);
            if let Some(b) = h.get("behavior") {
                behavior_keys(cx, b, &h_path.key("behavior"));
            }
        }
        if let Some(m) = a.get("scalingModifiers") {
            keys(cx, m, &p.key("scalingModifiers"), MODIFIER_KEYS, |_| None);
        }
    }
    check_triggers(cx, so);
}

/// The checks of `spec.triggers`, which a ScaledJob shares.
pub(crate) fn check_triggers(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    let version = cx.settings.keda_version;
    for trigger in so.triggers() {
        let prometheus = trigger.is_prometheus();
        keys(cx, trigger.node, &trigger.path, TRIGGER_KEYS, |key| {
            if prometheus && PROMETHEUS_KEYS.contains(&key) {
                Some(format!("`{key}` belongs inside the trigger's `metadata`"))
            } else if key == "authModes" {
                Some("`authModes` belongs inside the trigger's `metadata`".to_owned())
            } else {
                None
            }
        });
        if let Some(a) = trigger.node.get("authenticationRef") {
            keys(
                cx,
                a,
                &trigger.path.key("authenticationRef"),
                AUTH_REF_KEYS,
                |_| None,
            );
        }
        if !prometheus {
            continue;
        }
        let Some(meta) = trigger.metadata() else {
            continue;
        };
        let mut known: Vec<&str> = PROMETHEUS_KEYS.to_vec();
        if !version.at_least(2, 17) {
            known.retain(|k| *k != "timeout");
        }
        keys(
            cx,
            meta,
            &trigger.metadata_path(),
            &known,
            |key| match key {
                "metricName" if version.at_least(2, 12) => Some(format!(
                    "`metricName` was removed in KEDA 2.12 (assuming KEDA {version}) and is ignored: the metric is named `s{}-prometheus` after the trigger's position",
                    trigger.index
                )),
                "metricName" => None,
                "cortexOrgID" if version.at_least(2, 15) => Some(format!(
                    "`cortexOrgID` was removed in KEDA 2.15 (assuming KEDA {version}) and is ignored; send the tenant as `customHeaders: \"X-Scope-OrgID=<tenant>\"`"
                )),
                "cortexOrgID" => None,
                "timeout" => Some(format!(
                    "per-trigger `timeout` exists from KEDA 2.17; KEDA {version} ignores it"
                )),
                "metricType" | "useCachedMetrics" | "authenticationRef" | "name" => Some(format!(
                    "`{key}` belongs on the trigger itself (`{}.{key}`), not inside `metadata`",
                    trigger.path
                )),
                k if AUTH_PARAMS.contains(&k) => Some(format!(
                    "`{k}` is read only from a TriggerAuthentication (authenticationRef), never from metadata; here it is ignored"
                )),
                k if k.ends_with("FromEnv") => Some(format!(
                    "`{k}` is not supported by the prometheus scaler: it reads `{}` from metadata only",
                    k.trim_end_matches("FromEnv")
                )),
                _ => None,
            },
        );
    }
}

/// The keys of an HPA `behavior`, its scaling rules and their policies.
fn behavior_keys(cx: &mut Checker<'_>, behavior: &Node, path: &FieldPath) {
    keys(cx, behavior, path, BEHAVIOR_KEYS, |_| None);
    for dir in BEHAVIOR_KEYS {
        let Some(rules) = behavior.get(dir) else {
            continue;
        };
        let r_path = path.key(dir);
        keys(cx, rules, &r_path, SCALING_RULES_KEYS, |_| None);
        for (i, policy) in rules
            .get("policies")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            keys(
                cx,
                policy,
                &r_path.key("policies").index(i),
                POLICY_KEYS,
                |_| None,
            );
        }
    }
}

/// Reports every key of `node` outside `known`; `special` explains keys it knows about.
pub(crate) fn keys(
    cx: &mut Checker<'_>,
    node: &Node,
    path: &FieldPath,
    known: &[&str],
    special: impl Fn(&str) -> Option<String>,
) {
    let Some(entries) = node.as_map() else { return };
    let where_ = if path.segments().is_empty() {
        "the document".to_owned()
    } else {
        format!("`{path}`")
    };
    for e in entries {
        let Some(key) = e.key_str() else { continue };
        if known.contains(&key) {
            continue;
        }
        let explained = special(key);
        let fix = if key == "metricName" && explained.is_some() {
            remove_line_fix(cx, node, e)
        } else {
            None
        };
        let removed_but_known = explained.is_none() && matches!(key, "metricName" | "cortexOrgID");
        if removed_but_known {
            continue;
        }
        let (message, help) = match (explained, closest(key, known)) {
            (Some(why), _) => (format!("`{key}` is not a field of {where_}: {why}"), None),
            (None, Some(near)) => (
                format!(
                    "unknown key `{key}` in {where_}; KEDA ignores it silently, so `{near}` keeps its default"
                ),
                Some(format!("did you mean `{near}`?")),
            ),
            (None, None) => (
                format!("unknown key `{key}` in {where_}; KEDA ignores it"),
                Some(format!("known keys: {}", known.join(", "))),
            ),
        };
        let mut reported = cx.report(&UnknownField::INFO, Loc::key(path.key(key), e), message);
        if let Some(h) = help {
            reported = reported.help(h);
        }
        reported.fix(fix);
    }
}

/// Deletes the whole line of a `key: value` entry, line break included, when the entry is a
/// single line of a block mapping with other keys (a lone key would leave the mapping null):
/// the key starts its line after spaces only, the value is a one-line scalar, and only spaces or
/// a comment follow it.
fn remove_line_fix(cx: &Checker<'_>, map: &Node, e: &Entry) -> Option<Fix> {
    let src = cx.source()?;
    if map.as_map()?.len() < 2 {
        return None;
    }
    let (key, value) = (e.key.span.clone()?, e.value.span.clone()?);
    let one_line = matches!(
        e.value.style(),
        Some(ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
    );
    if !one_line || value.start < key.end || src.get(key.start..value.end)?.contains('\n') {
        return None;
    }
    let start = src[..key.start].rfind('\n').map_or(0, |i| i + 1);
    let end = src[value.end..]
        .find('\n')
        .map_or(src.len(), |i| value.end + i + 1);
    let rest = src[value.end..end].trim();
    if !src[start..key.start].bytes().all(|b| b == b' ')
        || !(rest.is_empty() || rest.starts_with('#'))
    {
        return None;
    }
    Some(Fix {
        title: format!("remove `{}`", e.key_str().unwrap_or("the key")),
        edits: vec![Edit {
            span: start..end,
            replacement: String::new(),
        }],
        changes_behaviour: false,
    })
}
