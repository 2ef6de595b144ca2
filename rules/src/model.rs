//! Lenient typed views over source trees: a ScaledObject or ScaledJob, its triggers, Prometheus
//! trigger metadata, TriggerAuthentications, and the monitoring objects that state scrape intervals.
//!
//! Views never fail: a field of the wrong shape reads as absent here and is reported by a rule.

use std::collections::BTreeSet;

use crate::finding::ObjectRef;
use crate::source::{Entry, FieldPath, Node, ScalarType};

/// API group of KEDA v2 objects.
pub const KEDA_GROUP: &str = "keda.sh";
/// API group of KEDA v1 objects (rejected by KEDA v2).
pub const KEDA_V1_GROUP: &str = "keda.k8s.io";

/// A Kubernetes object in a document.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    /// The document root.
    pub root: &'a Node,
    /// 0-based document index in its file.
    pub document: usize,
    /// Position of this object in a `kind: List` (`items[i]`), when it came from one.
    pub list_index: Option<usize>,
    /// True for a trigger snippet (a list of triggers, one trigger, or a bare `spec`) wrapped
    /// into a ScaledObject to be linted: fields it lacks were not written, not left at defaults.
    pub fragment: bool,
}

impl<'a> Object<'a> {
    /// The path of the object's root within its document.
    #[must_use]
    pub fn base_path(&self) -> FieldPath {
        match self.list_index {
            Some(i) => FieldPath::root().key("items").index(i),
            None => FieldPath::root(),
        }
    }

    /// `apiVersion`.
    #[must_use]
    pub fn api_version(&self) -> &'a str {
        self.root
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    /// The API group (`keda.sh` for `keda.sh/v1alpha1`).
    #[must_use]
    pub fn group(&self) -> &'a str {
        self.api_version().rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// `kind`.
    #[must_use]
    pub fn kind(&self) -> &'a str {
        self.root.get("kind").and_then(Node::as_str).unwrap_or("")
    }

    /// `metadata.name`.
    #[must_use]
    pub fn name(&self) -> Option<&'a str> {
        self.root.get("metadata")?.get("name")?.as_str()
    }

    /// `metadata.namespace`.
    #[must_use]
    pub fn namespace(&self) -> Option<&'a str> {
        self.root.get("metadata")?.get("namespace")?.as_str()
    }

    /// An annotation's value.
    #[must_use]
    pub fn annotation(&self, key: &str) -> Option<&'a Node> {
        self.root.get("metadata")?.get("annotations")?.get(key)
    }

    /// `spec`.
    #[must_use]
    pub fn spec(&self) -> Option<&'a Node> {
        self.root.get("spec")
    }

    /// The reference used in findings.
    #[must_use]
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version().to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().map(str::to_owned),
            name: self.name().map(str::to_owned),
        }
    }

    /// True for a `keda.sh` or `keda.k8s.io` ScaledObject.
    #[must_use]
    pub fn is_scaled_object(&self) -> bool {
        self.kind() == "ScaledObject" && matches!(self.group(), KEDA_GROUP | KEDA_V1_GROUP)
    }

    /// True for a `keda.sh` ScaledJob (KEDA v1 had none: it scaled jobs through a ScaledObject).
    #[must_use]
    pub fn is_scaled_job(&self) -> bool {
        self.kind() == "ScaledJob" && self.group() == KEDA_GROUP
    }

    /// Which scalable object this is, when it is one.
    #[must_use]
    pub fn scale_kind(&self) -> Option<ScaleKind> {
        if self.is_scaled_object() {
            Some(ScaleKind::ScaledObject)
        } else if self.is_scaled_job() {
            Some(ScaleKind::ScaledJob)
        } else {
            None
        }
    }

    /// True for a KEDA object of any kind (ScaledObject, ScaledJob, TriggerAuthentication, …).
    #[must_use]
    pub fn is_keda(&self) -> bool {
        matches!(self.group(), KEDA_GROUP | KEDA_V1_GROUP)
    }
}

/// Splits a document into objects: itself, or the items of a `kind: List` / `*List`.
#[must_use]
pub fn objects_of(root: &Node, document: usize) -> Vec<Object<'_>> {
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
    if kind.ends_with("List")
        && let Some(items) = root.get("items").and_then(Node::as_seq)
    {
        return items
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_map().is_some())
            .map(|(i, n)| Object {
                root: n,
                document,
                list_index: Some(i),
                fragment: false,
            })
            .collect();
    }
    if root.as_map().is_some() {
        vec![Object {
            root,
            document,
            list_index: None,
            fragment: false,
        }]
    } else {
        Vec::new()
    }
}

/// Wraps a trigger snippet into a ScaledObject tree: a list of triggers, a single trigger
/// (`type` + `metadata`), or a bare spec with `triggers`, none of them carrying `kind`. The
/// snippet's nodes keep their spans; the wrapper has none.
#[must_use]
pub fn wrap_fragment(root: &Node) -> Option<Node> {
    use crate::source::{NodeKind, ScalarStyle};
    let is_trigger =
        |n: &Node| n.get("type").and_then(Node::as_str).is_some() && n.get("metadata").is_some();
    let bare = root.get("kind").is_none() && root.get("apiVersion").is_none();
    let spec = match &root.kind {
        NodeKind::Seq(items) if !items.is_empty() && items.iter().all(is_trigger) => {
            map(vec![("triggers", root.clone())])
        }
        NodeKind::Map(_) if bare && is_trigger(root) => map(vec![(
            "triggers",
            Node {
                span: None,
                kind: NodeKind::Seq(vec![root.clone()]),
            },
        )]),
        NodeKind::Map(_)
            if bare
                && root
                    .get("triggers")
                    .and_then(Node::as_seq)
                    .is_some_and(|t| t.iter().any(is_trigger)) =>
        {
            root.clone()
        }
        _ => return None,
    };
    let scalar = |v: &str| Node {
        span: None,
        kind: NodeKind::Scalar {
            value: v.to_owned(),
            style: ScalarStyle::JsonString,
        },
    };
    return Some(map(vec![
        ("apiVersion", scalar("keda.sh/v1alpha1")),
        ("kind", scalar("ScaledObject")),
        ("spec", spec),
    ]));

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node {
            span: None,
            kind: NodeKind::Map(
                entries
                    .into_iter()
                    .map(|(k, value)| Entry {
                        key: Node {
                            span: None,
                            kind: NodeKind::Scalar {
                                value: k.to_owned(),
                                style: ScalarStyle::JsonString,
                            },
                        },
                        value,
                    })
                    .collect(),
            ),
        }
    }
}

/// The two kinds of KEDA object that carry triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleKind {
    /// A ScaledObject: KEDA feeds the triggers' metrics to an HPA that scales a workload.
    ScaledObject,
    /// A ScaledJob: KEDA reads the triggers itself and creates Jobs.
    ScaledJob,
}

impl ScaleKind {
    /// The kind as written in `kind:`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScaledObject => "ScaledObject",
            Self::ScaledJob => "ScaledJob",
        }
    }
}

/// A view of a ScaledObject, or of a ScaledJob for what both share: `spec.triggers`, the
/// polling interval and the replica counts. The trigger rules (KL1xx, KL2xx, KL4xx) read both
/// kinds through it; [`ScaledJob`] adds what only a ScaledJob has.
#[derive(Debug, Clone, Copy)]
pub struct ScaledObject<'a> {
    /// The object.
    pub object: Object<'a>,
}

impl<'a> ScaledObject<'a> {
    /// True when the object is a ScaledJob.
    #[must_use]
    pub fn is_job(&self) -> bool {
        self.object.kind() == "ScaledJob"
    }

    /// The ScaledJob view, when the object is one.
    #[must_use]
    pub fn as_job(&self) -> Option<ScaledJob<'a>> {
        self.is_job().then_some(ScaledJob { scaled: *self })
    }

    /// The path of `spec`.
    #[must_use]
    pub fn spec_path(&self) -> FieldPath {
        self.object.base_path().key("spec")
    }

    /// A `spec` field.
    #[must_use]
    pub fn spec_field(&self, key: &str) -> Option<&'a Entry> {
        self.object.spec()?.get_entry(key)
    }

    /// The triggers, in order.
    #[must_use]
    pub fn triggers(&self) -> Vec<Trigger<'a>> {
        let base = self.spec_path().key("triggers");
        self.object
            .spec()
            .and_then(|s| s.get("triggers"))
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(index, node)| Trigger {
                index,
                node,
                path: base.index(index),
            })
            .collect()
    }

    /// An integer field of `spec` (e.g. `minReplicaCount`), when it is one.
    #[must_use]
    pub fn spec_int(&self, key: &str) -> Option<i64> {
        let node = &self.spec_field(key)?.value;
        match node.scalar_type()? {
            crate::source::ScalarType::Int => parse_yaml_int(node.as_str()?),
            _ => None,
        }
    }

    /// `spec.minReplicaCount`, with KEDA's default of 0.
    #[must_use]
    pub fn min_replicas(&self) -> i64 {
        self.spec_int("minReplicaCount").unwrap_or(0)
    }

    /// Whether KEDA's activation can change the replica count: with `minReplicaCount` 0 (the
    /// default) an inactive object is scaled to zero, and with `idleReplicaCount` set it is scaled
    /// to that count, both after `cooldownPeriod` (`scale_scaledobjects.go`: `scaleToZeroOrIdle`
    /// when inactive, `scaleFromZeroOrIdle` back to the minimum when active). Only
    /// `minReplicaCount` ≥ 1 without `idleReplicaCount` keeps the scaler always active.
    #[must_use]
    pub fn activation_matters(&self) -> bool {
        self.min_replicas() < 1 || self.spec_field("idleReplicaCount").is_some()
    }

    /// `spec.scaleTargetRef.name`, when it is a string.
    #[must_use]
    pub fn target_name(&self) -> Option<&'a str> {
        self.object
            .spec()?
            .get("scaleTargetRef")?
            .get("name")?
            .as_str()
    }

    /// The HPA scaling policies under `advanced.horizontalPodAutoscalerConfig.behavior`, with
    /// their direction (`scaleUp`, `scaleDown`), index and field path.
    #[must_use]
    pub fn hpa_policies(&self) -> Vec<(&'static str, usize, FieldPath, &'a Node)> {
        let path = self
            .spec_path()
            .key("advanced")
            .key("horizontalPodAutoscalerConfig")
            .key("behavior");
        let behavior = self
            .object
            .spec()
            .and_then(|s| s.get("advanced"))
            .and_then(|a| a.get("horizontalPodAutoscalerConfig"))
            .and_then(|h| h.get("behavior"));
        let mut out = Vec::new();
        for direction in ["scaleUp", "scaleDown"] {
            let policies = behavior
                .and_then(|b| b.get(direction))
                .and_then(|r| r.get("policies"))
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for (i, policy) in policies.iter().enumerate() {
                out.push((
                    direction,
                    i,
                    path.key(direction).key("policies").index(i),
                    policy,
                ));
            }
        }
        out
    }

    /// `spec.fallback`.
    #[must_use]
    pub fn fallback(&self) -> Option<&'a Entry> {
        self.spec_field("fallback")
    }
}

/// KEDA's job scaling strategies (`spec.scalingStrategy.strategy`), read from
/// `pkg/scaling/executor/scale_jobs.go`: each turns the metric into a number of Jobs to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStrategy {
    /// `default` (also unset, or a value KEDA does not know): `maxScale − running Jobs`.
    Default,
    /// `custom`: `maxScale − customScalingQueueLengthDeduction − running × customScalingRunningJobPercentage`.
    Custom,
    /// `accurate`: `maxScale − pending Jobs`, capped at `maxReplicaCount − running Jobs`.
    Accurate,
    /// `eager`: `min(maxReplicaCount − running − pending, maxScale)`.
    Eager,
}

impl JobStrategy {
    /// The name KEDA reads.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Custom => "custom",
            Self::Accurate => "accurate",
            Self::Eager => "eager",
        }
    }
}

/// A view of a ScaledJob: what only a ScaledJob has on top of the shared [`ScaledObject`] view.
#[derive(Debug, Clone, Copy)]
pub struct ScaledJob<'a> {
    /// The shared view (triggers, counts, polling interval).
    pub scaled: ScaledObject<'a>,
}

impl<'a> ScaledJob<'a> {
    /// `spec.scalingStrategy`, when it is a mapping.
    #[must_use]
    pub fn scaling_strategy(&self) -> Option<&'a Node> {
        self.scaled
            .object
            .spec()?
            .get("scalingStrategy")
            .filter(|n| n.as_map().is_some())
    }

    /// A field of `spec.scalingStrategy`.
    #[must_use]
    pub fn strategy_field(&self, key: &str) -> Option<&'a Entry> {
        self.scaling_strategy()?.get_entry(key)
    }

    /// The strategy KEDA selects: `custom` only when `customScalingRunningJobPercentage` parses
    /// as a float (else KEDA falls back to `default`, as it does for an unknown name).
    #[must_use]
    pub fn strategy(&self) -> JobStrategy {
        match self
            .strategy_field("strategy")
            .and_then(|e| e.value.as_str())
        {
            Some("custom") if self.custom_percentage().is_some() => JobStrategy::Custom,
            Some("accurate") => JobStrategy::Accurate,
            Some("eager") => JobStrategy::Eager,
            _ => JobStrategy::Default,
        }
    }

    /// `customScalingRunningJobPercentage` as KEDA's `strconv.ParseFloat` reads it.
    #[must_use]
    pub fn custom_percentage(&self) -> Option<f64> {
        let text = self
            .strategy_field("customScalingRunningJobPercentage")?
            .value
            .as_str()?;
        crate::keda::parse_go_float(text)
    }

    /// `spec.maxReplicaCount` as written (an integer), or `None` when unset or not an integer.
    #[must_use]
    pub fn max_replicas_written(&self) -> Option<i64> {
        self.scaled.spec_int("maxReplicaCount")
    }
}

/// Parses a YAML integer as go-yaml does (`0x1f`, `0o17`, `1_000`).
#[must_use]
pub fn parse_yaml_int(text: &str) -> Option<i64> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let value = if let Some(h) = clean.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = clean.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else {
        clean.parse().ok()?
    };
    Some(if neg { -value } else { value })
}

/// One trigger of a ScaledObject.
#[derive(Debug, Clone)]
pub struct Trigger<'a> {
    /// Position in `spec.triggers`.
    pub index: usize,
    /// The trigger's node.
    pub node: &'a Node,
    /// `spec.triggers[i]`.
    pub path: FieldPath,
}

impl<'a> Trigger<'a> {
    /// `type`.
    #[must_use]
    pub fn trigger_type(&self) -> Option<&'a str> {
        self.node.get("type")?.as_str()
    }

    /// True for a `prometheus` trigger.
    #[must_use]
    pub fn is_prometheus(&self) -> bool {
        self.trigger_type() == Some("prometheus")
    }

    /// `name`.
    #[must_use]
    pub fn name(&self) -> Option<&'a str> {
        self.node.get("name")?.as_str()
    }

    /// `metadata`, when it is a mapping.
    #[must_use]
    pub fn metadata(&self) -> Option<&'a Node> {
        self.node.get("metadata").filter(|m| m.as_map().is_some())
    }

    /// The path of `metadata`.
    #[must_use]
    pub fn metadata_path(&self) -> FieldPath {
        self.path.key("metadata")
    }

    /// A metadata entry (the last one when a key repeats).
    #[must_use]
    pub fn meta_entry(&self, key: &str) -> Option<&'a Entry> {
        self.metadata()?.get_entry(key)
    }

    /// A metadata value as text, trimmed, empty counting as absent (KEDA's `TrimSpace` rule).
    #[must_use]
    pub fn meta(&self, key: &str) -> Option<&'a str> {
        let v = self.meta_entry(key)?.value.as_str()?.trim();
        (!v.is_empty()).then_some(v)
    }

    /// The metadata `keys` written as YAML strings, with their entry and trimmed, non-empty text.
    /// Values of other types are left to KL004, which reports every non-string metadata value.
    #[must_use]
    pub fn string_meta(&self, keys: &[&'static str]) -> Vec<(&'static str, &'a Entry, &'a str)> {
        keys.iter()
            .filter_map(|&key| {
                let e = self.meta_entry(key)?;
                if e.value.scalar_type() != Some(ScalarType::Str) {
                    return None;
                }
                Some((key, e, self.meta(key)?))
            })
            .collect()
    }

    /// `metricType` (trigger level).
    #[must_use]
    pub fn metric_type(&self) -> Option<&'a str> {
        self.node.get("metricType")?.as_str()
    }

    /// `authenticationRef` as `(kind, name)`; kind defaults to `TriggerAuthentication`.
    #[must_use]
    pub fn authentication_ref(&self) -> Option<(&'a str, &'a str)> {
        let r = self.node.get("authenticationRef")?;
        let name = r.get("name")?.as_str()?;
        let kind = r
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or("TriggerAuthentication");
        Some((kind, name))
    }
}

/// What a TriggerAuthentication or ClusterTriggerAuthentication provides.
#[derive(Debug, Clone, Default)]
pub struct TriggerAuth {
    /// `TriggerAuthentication` or `ClusterTriggerAuthentication`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace (TriggerAuthentication only).
    pub namespace: Option<String>,
    /// Every `parameter` it fills (secretTargetRef, env, configMapTargetRef, vault, …).
    pub parameters: BTreeSet<String>,
    /// `spec.podIdentity.provider`, when set and not `none`.
    pub pod_identity: Option<String>,
}

impl TriggerAuth {
    /// Reads a TriggerAuthentication or ClusterTriggerAuthentication object.
    #[must_use]
    pub fn from_object(object: &Object<'_>) -> Option<Self> {
        if !(object.group() == KEDA_GROUP
            && matches!(
                object.kind(),
                "TriggerAuthentication" | "ClusterTriggerAuthentication"
            ))
        {
            return None;
        }
        let mut auth = Self {
            kind: object.kind().to_owned(),
            name: object.name()?.to_owned(),
            namespace: object.namespace().map(str::to_owned),
            ..Self::default()
        };
        let Some(spec) = object.spec() else {
            return Some(auth);
        };
        let mut collect = |list: Option<&Node>| {
            for item in list.and_then(Node::as_seq).unwrap_or_default() {
                if let Some(p) = item.get("parameter").and_then(Node::as_str) {
                    auth.parameters.insert(p.to_owned());
                }
            }
        };
        for key in [
            "secretTargetRef",
            "env",
            "configMapTargetRef",
            "boundServiceAccountToken",
        ] {
            collect(spec.get(key));
        }
        for provider in [
            "hashiCorpVault",
            "azureKeyVault",
            "awsSecretManager",
            "gcpSecretManager",
        ] {
            collect(spec.get(provider).and_then(|p| p.get("secrets")));
        }
        auth.pod_identity = spec
            .get("podIdentity")
            .and_then(|p| p.get("provider"))
            .and_then(Node::as_str)
            .filter(|p| !p.is_empty() && *p != "none")
            .map(str::to_owned);
        Some(auth)
    }
}
