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
        // Null is pruned by the API server, then missing: KL007's.
        Some(e)
            if e.value.as_seq().is_none() && e.value.scalar_type() != Some(ScalarType::Null) =>
        {
            cx.report(
                &WrongFieldType::INFO,
                Loc::value(spec_path.key("triggers"), e),
                format!("`triggers` must be a list, found {}", e.value.kind_name()),
            );
        }
        _ => {}
    }
    crd_shapes(cx, so, spec, &spec_path);
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

/// What the OpenAPI schema calls a node's type, as the API server names it in errors.
fn schema_type(node: &Node) -> &'static str {
    match (node.as_map(), node.as_seq(), node.scalar_type()) {
        (Some(_), _, _) => "object",
        (_, Some(_), _) => "array",
        (_, _, Some(t)) => t.schema_name(),
        _ => "null",
    }
}

/// The shape KEDA's CRD gives a field.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    String,
    Object,
    Array,
    /// `x-kubernetes-int-or-string` (HPA `tolerance`).
    IntOrString,
}

/// Reports `e` when its type is not `shape`, with the API server's own words. Null is left to
/// KL007 (the API server prunes it: a required field is then missing, an optional one absent).
fn shaped(cx: &mut Checker<'_>, path: FieldPath, e: &Entry, shape: Shape) {
    let found = schema_type(&e.value);
    let (ok, want) = match shape {
        Shape::String => (found == "string", "string"),
        Shape::Object => (found == "object", "object"),
        Shape::Array => (found == "array", "array"),
        Shape::IntOrString => (matches!(found, "string" | "integer"), "integer or string"),
    };
    if ok || found == "null" {
        return;
    }
    let key = e.key_str().unwrap_or("");
    let article = match shape {
        Shape::String => "a string",
        Shape::Object => "a mapping",
        Shape::Array => "a list",
        Shape::IntOrString => "an integer or a string",
    };
    let message = format!(
        "`{key}` must be {article}, found {}; the API server rejects the object: `{path} in body must be of type {want}: \"{found}\"`",
        describe(&e.value)
    );
    let help = match (shape, &e.value.as_map()) {
        (Shape::String, Some(entries)) => match entries.first().and_then(Entry::key_str) {
            Some(k) => format!("write the value on one line, `{key}: {k}`, not as a mapping"),
            None => format!("`{key}` takes a single string"),
        },
        (Shape::String, None) if e.value.scalar_type().is_some() => {
            format!("quote it: `{key}: \"{}\"`", e.value.as_str().unwrap_or(""))
        }
        (Shape::String, None) => format!("`{key}` takes a single string"),
        _ => format!("`{key}` takes {article}"),
    };
    cx.report(&WrongFieldType::INFO, Loc::value(path, e), message)
        .help(help);
}

/// Types of the fields of KEDA's ScaledObject CRD that hold strings, mappings and lists (the
/// integer and boolean fields are checked above).
fn crd_shapes(cx: &mut Checker<'_>, so: &ScaledObject<'_>, spec: &Node, spec_path: &FieldPath) {
    let fields = |cx: &mut Checker<'_>, node: &Node, path: &FieldPath, table: &[(&str, Shape)]| {
        for (key, shape) in table {
            if let Some(e) = node.get_entry(key) {
                shaped(cx, path.key(key), e, *shape);
            }
        }
    };
    fields(cx, spec, spec_path, &[("scaleTargetRef", Shape::Object)]);
    if let Some(t) = spec.get("scaleTargetRef") {
        let strings =
            ["name", "kind", "apiVersion", "envSourceContainerName"].map(|k| (k, Shape::String));
        fields(cx, t, &spec_path.key("scaleTargetRef"), &strings);
    }
    if let Some(fb) = spec.get("fallback") {
        fields(
            cx,
            fb,
            &spec_path.key("fallback"),
            &[("behavior", Shape::String)],
        );
    }
    let adv_path = spec_path.key("advanced");
    if let Some(adv) = spec.get("advanced") {
        fields(
            cx,
            adv,
            &adv_path,
            &[
                ("horizontalPodAutoscalerConfig", Shape::Object),
                ("scalingModifiers", Shape::Object),
            ],
        );
        if let Some(m) = adv.get("scalingModifiers") {
            let strings =
                ["formula", "target", "activationTarget", "metricType"].map(|k| (k, Shape::String));
            fields(cx, m, &adv_path.key("scalingModifiers"), &strings);
        }
        if let Some(h) = adv.get("horizontalPodAutoscalerConfig") {
            let h_path = adv_path.key("horizontalPodAutoscalerConfig");
            fields(
                cx,
                h,
                &h_path,
                &[("name", Shape::String), ("behavior", Shape::Object)],
            );
            if let Some(b) = h.get("behavior") {
                let b_path = h_path.key("behavior");
                for dir in ["scaleUp", "scaleDown"] {
                    fields(cx, b, &b_path, &[(dir, Shape::Object)]);
                    let Some(rules) = b.get(dir) else { continue };
                    let r_path = b_path.key(dir);
                    fields(
                        cx,
                        rules,
                        &r_path,
                        &[
                            ("selectPolicy", Shape::String),
                            ("policies", Shape::Array),
                            ("tolerance", Shape::IntOrString),
                        ],
                    );
                    for (i, policy) in rules
                        .get("policies")
                        .and_then(Node::as_seq)
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        fields(
                            cx,
                            policy,
                            &r_path.key("policies").index(i),
                            &[("type", Shape::String)],
                        );
                    }
                }
            }
        }
    }
    for trigger in so.triggers() {
        let strings = [
            ("type", Shape::String),
            ("name", Shape::String),
            ("metricType", Shape::String),
            ("authenticationRef", Shape::Object),
        ];
        fields(cx, trigger.node, &trigger.path, &strings);
        if let Some(a) = trigger.node.get("authenticationRef") {
            let strings = [("name", Shape::String), ("kind", Shape::String)];
            fields(cx, a, &trigger.path.key("authenticationRef"), &strings);
        }
    }
}
