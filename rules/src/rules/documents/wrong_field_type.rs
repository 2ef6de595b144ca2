use crate::checker::{Checker, Loc};
use crate::finding::{Edit, Fix};
use crate::model::ScaledObject;
use crate::registry::declare_rule;
use crate::source::{Entry, FieldPath, Node, ScalarStyle, ScalarType};

declare_rule! {
    /// ## What it does
    /// Reports ScaledObject fields whose type does not match KEDA's CRD schema: integer fields
    /// (`pollingInterval`, `cooldownPeriod`, `initialCooldownPeriod`, `minReplicaCount`,
    /// `maxReplicaCount`, `idleReplicaCount`, `fallback.failureThreshold`, `fallback.replicas`,
    /// HPA behavior numbers) written as strings such as `"15s"`, and trigger `metadata` values
    /// that are not strings (unquoted `threshold: 5` or `ignoreNullValues: false`).
    ///
    /// ## Why is this bad?
    /// The CRD declares trigger metadata as `additionalProperties: {type: string}` and the counts
    /// as integers, so the API server rejects the object at `kubectl apply` (or a GitOps sync
    /// fails later, far from the file). Durations are not accepted in integer fields: they are
    /// plain seconds.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   pollingInterval: "15s"
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         threshold: 5
    ///         ignoreNullValues: false
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   pollingInterval: 15
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         threshold: "5"
    ///         ignoreNullValues: "false"
    /// ```
    pub(crate) struct WrongFieldType => "KL004", "wrong-field-type", Error;
}

const SPEC_INTEGERS: &[&str] = &[
    "pollingInterval",
    "cooldownPeriod",
    "initialCooldownPeriod",
    "minReplicaCount",
    "maxReplicaCount",
    "idleReplicaCount",
];

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    let spec_path = so.spec_path();
    let Some(spec) = so.object.spec() else { return };
    if spec.as_map().is_none() {
        cx.report(
            &WrongFieldType::INFO,
            Loc::node(spec_path, spec),
            format!("`spec` must be a mapping, found {}", spec.kind_name()),
        );
        return;
    }
    for key in SPEC_INTEGERS {
        if let Some(e) = spec.get_entry(key) {
            integer(cx, spec_path.key(key), e, "seconds or a count");
        }
    }
    if let Some(fb) = spec.get_entry("fallback") {
        expect_map(cx, spec_path.key("fallback"), &fb.value);
        for key in ["failureThreshold", "replicas"] {
            if let Some(e) = fb.value.get_entry(key) {
                integer(cx, spec_path.key("fallback").key(key), e, "a count");
            }
        }
    }
    if let Some(adv) = spec.get_entry("advanced") {
        let adv_path = spec_path.key("advanced");
        expect_map(cx, adv_path.clone(), &adv.value);
        if let Some(e) = adv.value.get_entry("restoreToOriginalReplicaCount") {
            boolean(cx, adv_path.key("restoreToOriginalReplicaCount"), e);
        }
        let hpa_path = adv_path
            .key("horizontalPodAutoscalerConfig")
            .key("behavior");
        if let Some(behavior) = adv
            .value
            .get("horizontalPodAutoscalerConfig")
            .and_then(|h| h.get("behavior"))
        {
            for dir in ["scaleUp", "scaleDown"] {
                let Some(rules) = behavior.get(dir) else {
                    continue;
                };
                let p = hpa_path.key(dir);
                if let Some(e) = rules.get_entry("stabilizationWindowSeconds") {
                    integer(cx, p.key("stabilizationWindowSeconds"), e, "seconds");
                }
                for (i, policy) in rules
                    .get("policies")
                    .and_then(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    for key in ["value", "periodSeconds"] {
                        if let Some(e) = policy.get_entry(key) {
                            integer(cx, p.key("policies").index(i).key(key), e, "a count");
                        }
                    }
                }
            }
        }
    }
    check_triggers(cx, so);
}

/// The checks of `spec.triggers`, which a ScaledJob shares.
pub(crate) fn check_triggers(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    let spec_path = so.spec_path();
    let Some(spec) = so.object.spec() else { return };
    match spec.get_entry("triggers") {
        Some(e) if e.value.as_seq().is_none() => {
            cx.report(
                &WrongFieldType::INFO,
                Loc::value(spec_path.key("triggers"), e),
                format!("`triggers` must be a list, found {}", e.value.kind_name()),
            );
        }
        _ => {}
    }
    for trigger in so.triggers() {
        if trigger.node.as_map().is_none() {
            cx.report(
                &WrongFieldType::INFO,
                Loc::node(trigger.path.clone(), trigger.node),
                format!(
                    "a trigger must be a mapping, found {}",
                    trigger.node.kind_name()
                ),
            );
            continue;
        }
        if let Some(e) = trigger.node.get_entry("useCachedMetrics") {
            boolean(cx, trigger.path.key("useCachedMetrics"), e);
        }
        let Some(meta) = trigger.node.get_entry("metadata") else {
            continue;
        };
        let Some(entries) = meta.value.as_map() else {
            cx.report(
                &WrongFieldType::INFO,
                Loc::value(trigger.metadata_path(), meta),
                format!(
                    "trigger `metadata` must be a mapping of strings, found {}",
                    meta.value.kind_name()
                ),
            );
            continue;
        };
        for e in entries {
            let Some(key) = e.key_str() else { continue };
            metadata_string(cx, trigger.metadata_path().key(key), key, e);
        }
    }
}

pub(crate) fn expect_map(cx: &mut Checker<'_>, path: FieldPath, node: &Node) {
    if node.as_map().is_none() {
        let name = path.to_string();
        cx.report(
            &WrongFieldType::INFO,
            Loc::node(path, node),
            format!("`{name}` must be a mapping, found {}", node.kind_name()),
        );
    }
}

pub(crate) fn integer(cx: &mut Checker<'_>, path: FieldPath, e: &Entry, what: &str) {
    if e.value.scalar_type() == Some(ScalarType::Int) {
        return;
    }
    let key = e.key_str().unwrap_or("");
    let found = describe(&e.value);
    let help = match e.value.as_str().and_then(crate::duration::parse_duration) {
        Some(d) if e.value.scalar_type() == Some(ScalarType::Str) => {
            format!(
                "write the number of seconds without quotes or unit: `{key}: {}`",
                d.as_secs()
            )
        }
        _ => match e
            .value
            .as_str()
            .map(str::trim)
            .and_then(|s| s.parse::<i64>().ok())
        {
            Some(n) => format!("write it without quotes: `{key}: {n}`"),
            None => format!("`{key}` takes an integer ({what})"),
        },
    };
    cx.report(
        &WrongFieldType::INFO,
        Loc::value(path, e),
        format!(
            "`{key}` must be an integer ({what}), found {found}; the API server rejects the object"
        ),
    )
    .help(help);
}

pub(crate) fn boolean(cx: &mut Checker<'_>, path: FieldPath, e: &Entry) {
    if e.value.scalar_type() == Some(ScalarType::Bool) {
        return;
    }
    let key = e.key_str().unwrap_or("");
    cx.report(
        &WrongFieldType::INFO,
        Loc::value(path, e),
        format!("`{key}` must be a boolean, found {}", describe(&e.value)),
    )
    .help(format!(
        "write `{key}: true` or `{key}: false` without quotes"
    ));
}

fn metadata_string(cx: &mut Checker<'_>, path: FieldPath, key: &str, e: &Entry) {
    let ty = e.value.scalar_type();
    if ty == Some(ScalarType::Str) {
        return;
    }
    let found = describe(&e.value);
    let fix = quote_fix(cx, &e.value);
    let help = match e.value.style() {
        Some(ScalarStyle::Plain) => {
            format!("quote it: `{key}: \"{}\"`", e.value.as_str().unwrap_or(""))
        }
        _ => format!("`{key}` must be a single string"),
    };
    cx.report(
        &WrongFieldType::INFO,
        Loc::value(path, e),
        format!(
            "trigger metadata values must be strings, but `{key}` is {found}; the CRD rejects it"
        ),
    )
    .help(help)
    .fix(fix);
}

/// Wraps a plain scalar in double quotes, keeping its exact text.
fn quote_fix(cx: &Checker<'_>, node: &Node) -> Option<Fix> {
    if node.style() != Some(ScalarStyle::Plain) {
        return None;
    }
    let span = node.span.clone()?;
    let text = cx.source()?.get(span.clone())?;
    if text.is_empty() || text.contains(['"', '\\', '\n']) {
        return None;
    }
    Some(Fix {
        title: "quote the value".to_owned(),
        edits: vec![Edit {
            span,
            replacement: format!("\"{text}\""),
        }],
        changes_behaviour: false,
    })
}

pub(crate) fn describe(node: &Node) -> String {
    match (node.scalar_type(), node.as_str()) {
        (Some(ScalarType::Str), Some(s)) => format!("the string {s:?}"),
        (Some(ScalarType::Null), _) => "null (an empty value)".to_owned(),
        (Some(_), Some(s)) => format!("{} `{s}`", node.kind_name()),
        _ => node.kind_name().to_owned(),
    }
}
