use crate::checker::{Checker, Loc};
use crate::model::{KEDA_GROUP, ScaledObject};
use crate::registry::declare_rule;
use crate::source::{FieldPath, Node, ScalarType};

declare_rule! {
    /// ## What it does
    /// Reports a field KEDA's CRD requires that is absent, null or empty: `spec`,
    /// `spec.scaleTargetRef` and its `name`, `spec.triggers` (at least one), each trigger's
    /// `type` and `metadata`, `fallback.failureThreshold` and `fallback.replicas` when `fallback`
    /// is given, `authenticationRef.name`, and each HPA scaling policy's `type`, `value` and
    /// `periodSeconds`. The message quotes what the API server answers.
    ///
    /// Fields of the wrong type are KL004's; unknown fields are KL005's.
    ///
    /// ## Why is this bad?
    /// The API server validates ScaledObjects against KEDA's CRD (`required`, and from KEDA 2.20
    /// `minLength: 1` on `scaleTargetRef.name` and trigger `type`, `minItems: 1` on `triggers`)
    /// and rejects the whole object: `kubectl apply` fails, or a GitOps sync stays out of date
    /// far from the file. Before 2.20 an empty `triggers` list passes the API server and KEDA
    /// stops at "no triggers defined in the ScaledObject/ScaledJob"; an empty target name has
    /// nothing to scale.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   scaleTargetRef:
    ///     kind: Deployment
    ///   triggers:
    ///     - metadata:
    ///         serverAddress: http://prometheus.monitoring.svc:9090
    ///         query: sum(rate(http_requests_total[5m]))
    ///         threshold: "100"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   scaleTargetRef:
    ///     kind: Deployment
    ///     name: api
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         serverAddress: http://prometheus.monitoring.svc:9090
    ///         query: sum(rate(http_requests_total[5m]))
    ///         threshold: "100"
    /// ```
    pub(crate) struct MissingRequiredField => "KL007", "missing-required-field", Error;
}

/// The API server's answer for a required field that is absent (or null, which it prunes).
fn required_value(path: &FieldPath) -> String {
    format!("the API server rejects the object: `{path}: Required value`")
}

/// What happens to an empty string or list the CRD bounds from KEDA 2.20 on.
fn too_short(cx: &Checker<'_>, path: &FieldPath, bound: &str, before: &str) -> String {
    let version = cx.settings.keda_version;
    if version.at_least(2, 20) {
        format!(
            "the API server rejects the object: `{path} in body should {bound}` (KEDA {version}'s CRD)"
        )
    } else {
        format!(
            "{before} (assuming KEDA {version}; from 2.20 the API server rejects it: `{path} in body should {bound}`)"
        )
    }
}

/// Whether a field is absent or null: the API server prunes nulls, then finds it missing.
fn absent(node: Option<&Node>) -> bool {
    node.is_none_or(|n| n.scalar_type() == Some(ScalarType::Null))
}

/// Whether a field is given but is an empty (or whitespace-free empty) string.
fn empty_string(node: Option<&Node>) -> bool {
    node.is_some_and(|n| n.scalar_type() == Some(ScalarType::Str) && n.as_str() == Some(""))
}

/// Where to point for a field missing from the mapping `node`: its first key (a whole
/// multi-line mapping would underline too much), else the mapping.
fn first_key(path: &FieldPath, node: &Node) -> Loc {
    match node.as_map().and_then(<[crate::source::Entry]>::first) {
        Some(e) => Loc::key(path.clone(), e),
        None => Loc::node(path.clone(), node),
    }
}

/// Reports `key` missing from the mapping `parent` (at `parent_path`), pointing at `at`.
fn require(
    cx: &mut Checker<'_>,
    parent: &Node,
    parent_path: &FieldPath,
    key: &str,
    at: Loc,
) -> bool {
    if !absent(parent.get(key)) {
        return false;
    }
    let path = parent_path.key(key);
    let message = format!("`{key}` is required here: {}", required_value(&path));
    let parent = if parent_path.segments().is_empty() {
        "the object".to_owned()
    } else {
        format!("`{parent_path}`")
    };
    cx.report(
        &MissingRequiredField::INFO,
        Loc {
            path,
            span: at.span,
        },
        message,
    )
    .help(format!("add `{key}` to {parent}"));
    true
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    // A KEDA v1 object is KL003's: its schema is not this CRD's.
    if so.object.group() != KEDA_GROUP {
        return;
    }
    // A ScaledJob's spec-level requirements (`jobTargetRef`, `triggers`, their `minItems`) are
    // checked against its own CRD table (`scaled_job_spec`); its triggers share this schema.
    let job = so.is_job();
    let root = so.object.root;
    let spec_path = so.spec_path();
    let Some(spec) = so.object.spec() else {
        if job {
            return;
        }
        if !so.object.fragment {
            let at = Loc::node(so.object.base_path(), root);
            require(cx, root, &so.object.base_path(), "spec", at);
        }
        return;
    };
    if spec.as_map().is_none() {
        return; // KL004's
    }
    let spec_loc = || match root.get_entry("spec") {
        Some(e) => Loc::key(spec_path.clone(), e),
        None => Loc::node(spec_path.clone(), spec),
    };
    if !so.object.fragment && !job {
        for key in ["scaleTargetRef", "triggers"] {
            require(cx, spec, &spec_path, key, spec_loc());
        }
    }
    if let Some(target) = spec.get_entry("scaleTargetRef")
        && target.value.as_map().is_some()
    {
        let path = spec_path.key("scaleTargetRef");
        if !require(
            cx,
            &target.value,
            &path,
            "name",
            Loc::key(path.clone(), target),
        ) && let Some(name) = target.value.get_entry("name")
            && empty_string(Some(&name.value))
        {
            let name_path = path.key("name");
            let message = format!(
                "`scaleTargetRef.name` is empty: {}",
                too_short(
                    cx,
                    &name_path,
                    "be at least 1 chars long",
                    "KEDA has no target to scale and the ScaledObject never becomes Ready"
                )
            );
            cx.report(
                &MissingRequiredField::INFO,
                Loc::value(name_path, name),
                message,
            )
            .help("name the Deployment, StatefulSet or custom resource to scale");
        }
    }
    if !job
        && let Some(triggers) = spec.get_entry("triggers")
        && triggers.value.as_seq().is_some_and(<[Node]>::is_empty)
    {
        let path = spec_path.key("triggers");
        let message = format!(
            "`triggers` is empty: {}",
            too_short(
                cx,
                &path,
                "have at least 1 items",
                "KEDA stops at \"no triggers defined in the ScaledObject/ScaledJob\" and never scales"
            )
        );
        cx.report(
            &MissingRequiredField::INFO,
            Loc::value(path, triggers),
            message,
        )
        .help("add at least one trigger");
    }
    for trigger in so.triggers() {
        if trigger.node.as_map().is_none() {
            continue; // KL004's
        }
        let at = || first_key(&trigger.path, trigger.node);
        for key in ["type", "metadata"] {
            require(cx, trigger.node, &trigger.path, key, at());
        }
        if let Some(t) = trigger.node.get_entry("type")
            && empty_string(Some(&t.value))
        {
            let path = trigger.path.key("type");
            let message = format!(
                "the trigger's `type` is empty: {}",
                too_short(
                    cx,
                    &path,
                    "be at least 1 chars long",
                    "KEDA finds no scaler for it and the ScaledObject never becomes Ready"
                )
            );
            cx.report(&MissingRequiredField::INFO, Loc::value(path, t), message)
                .help("set the scaler type, e.g. `type: prometheus`");
        }
        if let Some(auth) = trigger.node.get_entry("authenticationRef")
            && auth.value.as_map().is_some()
        {
            let path = trigger.path.key("authenticationRef");
            require(cx, &auth.value, &path, "name", Loc::key(path.clone(), auth));
        }
    }
    if job {
        return; // a ScaledJob has no `fallback` or HPA behavior: KL005 says so
    }
    if let Some(fb) = spec.get_entry("fallback")
        && fb.value.as_map().is_some()
    {
        let path = spec_path.key("fallback");
        for key in ["failureThreshold", "replicas"] {
            require(cx, &fb.value, &path, key, Loc::key(path.clone(), fb));
        }
    }
    for (_, _, path, policy) in so.hpa_policies() {
        if policy.as_map().is_none() {
            continue;
        }
        for key in ["type", "value", "periodSeconds"] {
            require(cx, policy, &path, key, first_key(&path, policy));
        }
    }
}
