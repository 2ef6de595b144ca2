//! What the replay needs from a ScaledObject, read with KEDA's defaults (`SOT`, `WT`, `PS` in
//! notes/replay-semantics.md): replica bounds, loop periods, fallback, the HPA `behavior` as written,
//! `scalingModifiers`, and each trigger as KEDA's Prometheus scaler parses its metadata.

use serde::Serialize;

use crate::keda::{is_json_number, parse_go_bool};
use crate::model::{ScaledObject, Trigger};
use crate::rules::scaling::int_of;
use crate::source::{Node, ScalarType};

use super::NotReplayable;
use super::formula::Formula;

/// KEDA's default `pollingInterval` (s).
pub(crate) const DEFAULT_POLLING_INTERVAL: u32 = 30;
/// KEDA's default `cooldownPeriod` (s).
pub(crate) const DEFAULT_COOLDOWN_PERIOD: u32 = 300;
/// KEDA's default `maxReplicaCount`.
pub(crate) const DEFAULT_MAX_REPLICAS: i64 = 100;

/// How the HPA divides an External metric by its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MetricType {
    /// `AverageValue` (KEDA's default): desired = ceil(metric / target), whatever the replica count.
    AverageValue,
    /// `Value`: desired = ceil(metric / target × ready pods).
    Value,
}

/// One trigger of the object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerSpec {
    /// Position in `spec.triggers`.
    pub index: usize,
    /// `name`, used by a `scalingModifiers` formula.
    pub name: Option<String>,
    /// `type` (`prometheus`, `cpu`, …).
    pub trigger_type: String,
    /// The External metric name KEDA generates: `s<index>-<type>`.
    pub metric_name: String,
    /// `metadata.query` (prometheus triggers).
    pub query: Option<String>,
    /// `metadata.threshold`.
    pub threshold: Option<f64>,
    /// `metadata.activationThreshold` (default 0).
    pub activation_threshold: f64,
    /// `metricType` (default `AverageValue`).
    pub metric_type: MetricType,
    /// A prometheus trigger with a query and a threshold KEDA accepts: the replay reads it.
    pub replayable: bool,
    /// Why `replayable` is false, in words.
    pub not_replayable_reason: Option<String>,
    /// `metadata.ignoreNullValues` (default true): an empty answer or ±Inf reads as 0 instead of an error.
    pub ignore_null_values: bool,
    /// `useCachedMetrics`: the HPA gets the last poll's read instead of a fresh one.
    pub use_cached_metrics: bool,
}

/// What `fallback.behavior` makes KEDA emit once a metric is past `failureThreshold` (`FB` `doFallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FallbackBehavior {
    /// `static` (default): `fallback.replicas`.
    Static,
    /// `currentReplicas`: the current replica count.
    CurrentReplicas,
    /// `currentReplicasIfHigher`: max(current, `fallback.replicas`).
    CurrentReplicasIfHigher,
    /// `currentReplicasIfLower`: min(current, `fallback.replicas`).
    CurrentReplicasIfLower,
}

/// `spec.fallback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FallbackSpec {
    /// `failureThreshold`: fallback starts after this many consecutive failures.
    pub failure_threshold: i64,
    /// `replicas`.
    pub replicas: i64,
    /// `behavior`.
    pub behavior: FallbackBehavior,
}

/// A scaling policy's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyKind {
    /// `Pods`: a number of pods per period.
    Pods,
    /// `Percent`: a percentage of the replicas at the start of the period.
    Percent,
}

/// One of `behavior.scaleUp/scaleDown.policies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScalingPolicy {
    /// `type`.
    pub kind: PolicyKind,
    /// `value`.
    pub value: i64,
    /// `periodSeconds`.
    pub period_seconds: i64,
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SelectPolicy {
    /// The policy allowing the largest change (default).
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// `behavior.scaleUp` or `behavior.scaleDown` as written: `None` fields get the API server's
/// defaults at replay time (`apis/autoscaling/v2/defaults.go`, field by field).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_seconds: Option<i64>,
    /// `selectPolicy`.
    pub select_policy: Option<SelectPolicy>,
    /// `policies`.
    pub policies: Option<Vec<ScalingPolicy>>,
    /// `tolerance` (a quantity; used only when the Kubernetes version has HPAConfigurableTolerance on).
    pub tolerance: Option<f64>,
}

/// `advanced.horizontalPodAutoscalerConfig.behavior`, copied verbatim into KEDA's HPA.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HpaBehavior {
    /// `scaleUp`, when written.
    pub scale_up: Option<ScalingRules>,
    /// `scaleDown`, when written.
    pub scale_down: Option<ScalingRules>,
}

/// `advanced.scalingModifiers` with a formula the replay evaluates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingModifiersSpec {
    /// `formula`, as written.
    pub formula: String,
    /// `target`: the composite metric's target.
    pub target: f64,
    /// `activationTarget` (default 0).
    pub activation_target: f64,
    /// `metricType` (default `AverageValue`).
    pub metric_type: MetricType,
    #[serde(skip)]
    pub(crate) compiled: Formula,
    /// `target` parses as a Go integer: KEDA's `HasValidFallback` requires it for fallback to apply.
    #[serde(skip)]
    pub(crate) integer_target: bool,
}

/// What the replay needs from a ScaledObject, with KEDA's defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplaySpec {
    /// Every trigger, in order; non-prometheus ones are kept with `replayable: false`.
    pub triggers: Vec<TriggerSpec>,
    /// `minReplicaCount` (default 0).
    pub min_replicas: i64,
    /// `maxReplicaCount` (default 100).
    pub max_replicas: i64,
    /// `idleReplicaCount`.
    pub idle_replicas: Option<i64>,
    /// `pollingInterval` in seconds (default 30).
    pub polling_interval: u32,
    /// `cooldownPeriod` in seconds (default 300).
    pub cooldown_period: u32,
    /// `initialCooldownPeriod` in seconds (default 0).
    pub initial_cooldown_period: u32,
    /// `fallback`.
    pub fallback: Option<FallbackSpec>,
    /// `advanced.horizontalPodAutoscalerConfig.behavior`; `None` when unset (the HPA's legacy path).
    pub behavior: Option<HpaBehavior>,
    /// `advanced.scalingModifiers`, when it sets a formula.
    pub scaling_modifiers: Option<ScalingModifiersSpec>,
}

impl ReplaySpec {
    /// The HPA's `minReplicas`: `minReplicaCount` when above 0, else 1 (`SOT` `GetHPAMinReplicas`).
    #[must_use]
    pub fn hpa_min_replicas(&self) -> i64 {
        self.min_replicas.max(1)
    }

    /// The replayable triggers.
    pub fn replayable_triggers(&self) -> impl Iterator<Item = &TriggerSpec> {
        self.triggers.iter().filter(|t| t.replayable)
    }

    /// Reads a ScaledObject view. Err when the object cannot be replayed at all, with the reason in
    /// words ("no prometheus trigger", "metadata KEDA rejects: threshold \"one\"", "scalingModifiers
    /// formula uses count(), which the replay does not evaluate").
    ///
    /// # Errors
    /// [`NotReplayable`] with the reason.
    pub fn from_scaled_object(so: &ScaledObject<'_>) -> Result<Self, NotReplayable> {
        let spec_int = |key: &str| -> Result<Option<i64>, NotReplayable> {
            match so.spec_field(key) {
                None => Ok(None),
                Some(e) if e.value.scalar_type() == Some(ScalarType::Null) => Ok(None),
                Some(e) => int_of(&e.value)
                    .map(Some)
                    .ok_or_else(|| NotReplayable::new(format!("spec.{key} is not an integer"))),
            }
        };
        let seconds = |key: &str, default: u32| -> Result<u32, NotReplayable> {
            match spec_int(key)? {
                None => Ok(default),
                Some(v) => u32::try_from(v).map_err(|_| {
                    NotReplayable::new(format!("spec.{key} {v} is not a number of seconds"))
                }),
            }
        };
        let min_replicas = spec_int("minReplicaCount")?.unwrap_or(0);
        let max_replicas = spec_int("maxReplicaCount")?.unwrap_or(DEFAULT_MAX_REPLICAS);
        let idle_replicas = spec_int("idleReplicaCount")?;
        if min_replicas < 0 || max_replicas < 1 || min_replicas > max_replicas {
            return Err(NotReplayable::new(format!(
                "replica bounds KEDA rejects: minReplicaCount {min_replicas}, maxReplicaCount {max_replicas}"
            )));
        }
        if let Some(idle) = idle_replicas
            && (idle < 0 || idle >= min_replicas)
        {
            return Err(NotReplayable::new(format!(
                "idleReplicaCount {idle} must be below minReplicaCount {min_replicas} (KEDA rejects it)"
            )));
        }
        let polling_interval = seconds("pollingInterval", DEFAULT_POLLING_INTERVAL)?;
        if polling_interval == 0 {
            return Err(NotReplayable::new(
                "spec.pollingInterval 0 is not a polling period",
            ));
        }
        let triggers: Vec<TriggerSpec> = so.triggers().iter().map(trigger_spec).collect();
        if !triggers.iter().any(|t| t.trigger_type == "prometheus") {
            return Err(NotReplayable::new("no prometheus trigger"));
        }
        if let Some(bad) = triggers
            .iter()
            .filter(|t| t.trigger_type == "prometheus")
            .find_map(|t| t.not_replayable_reason.as_ref())
        {
            // KEDA fails to build the whole scaler cache when one trigger's metadata is rejected.
            return Err(NotReplayable::new(bad.clone()));
        }
        let advanced = so.spec_field("advanced").map(|e| &e.value);
        let behavior = advanced
            .and_then(|a| a.get("horizontalPodAutoscalerConfig"))
            .and_then(|h| h.get("behavior"))
            .filter(|b| b.scalar_type() != Some(ScalarType::Null))
            .map(read_behavior)
            .transpose()?;
        let scaling_modifiers = advanced
            .and_then(|a| a.get("scalingModifiers"))
            .map(|m| read_modifiers(m, &triggers))
            .transpose()?
            .flatten();
        Ok(Self {
            min_replicas,
            max_replicas,
            idle_replicas,
            polling_interval,
            cooldown_period: seconds("cooldownPeriod", DEFAULT_COOLDOWN_PERIOD)?,
            initial_cooldown_period: seconds("initialCooldownPeriod", 0)?,
            fallback: so.fallback().map(|e| read_fallback(&e.value)).transpose()?,
            behavior,
            scaling_modifiers,
            triggers,
        })
    }
}

/// A boolean scalar, as the API server reads it.
fn bool_of(node: &Node) -> Option<bool> {
    match node.scalar_type()? {
        ScalarType::Bool => Some(matches!(
            node.as_str()?,
            "true" | "True" | "TRUE" | "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
        )),
        _ => None,
    }
}

/// A Kubernetes quantity as a float (`0.05`, `50m`, `1`): enough for tolerances.
fn quantity_of(node: &Node) -> Option<f64> {
    let text = node.as_str()?.trim();
    match text.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok().map(|v| v / 1000.0),
        None => text.parse::<f64>().ok(),
    }
    .filter(|v| v.is_finite())
}

fn trigger_spec(trigger: &Trigger<'_>) -> TriggerSpec {
    let trigger_type = trigger.trigger_type().unwrap_or("").to_owned();
    let metric_type = match trigger.metric_type() {
        Some("Value") => MetricType::Value,
        _ => MetricType::AverageValue,
    };
    let mut spec = TriggerSpec {
        index: trigger.index,
        name: trigger.name().map(str::to_owned),
        metric_name: format!("s{}-{}", trigger.index, trigger_type),
        trigger_type,
        query: trigger.meta("query").map(str::to_owned),
        threshold: None,
        activation_threshold: 0.0,
        metric_type,
        replayable: false,
        not_replayable_reason: None,
        ignore_null_values: true,
        use_cached_metrics: trigger.node.get("useCachedMetrics").and_then(bool_of) == Some(true),
    };
    if !trigger.is_prometheus() {
        spec.not_replayable_reason = Some(format!(
            "trigger {} is of type {:?}: the replay reads only prometheus triggers",
            trigger.index, spec.trigger_type
        ));
        return spec;
    }
    match prometheus_metadata(trigger) {
        Ok(meta) => {
            spec.threshold = Some(meta.threshold);
            spec.activation_threshold = meta.activation_threshold;
            spec.ignore_null_values = meta.ignore_null_values;
            spec.replayable = true;
        }
        Err(reason) => spec.not_replayable_reason = Some(reason),
    }
    if let Some(other) = trigger
        .metric_type()
        .filter(|t| !matches!(*t, "Value" | "AverageValue"))
    {
        spec.replayable = false;
        spec.not_replayable_reason = Some(format!(
            "trigger {} has metricType {other:?}, which KEDA rejects for an External metric",
            trigger.index
        ));
    }
    spec
}

struct PrometheusMeta {
    threshold: f64,
    activation_threshold: f64,
    ignore_null_values: bool,
}

/// KEDA 2.18's typed-config read of the metadata the replay uses (`PS` `parsePrometheusMetadata`).
fn prometheus_metadata(trigger: &Trigger<'_>) -> Result<PrometheusMeta, String> {
    let rejects = |key: &str, text: &str| format!("metadata KEDA rejects: {key} {text:?}");
    if trigger.meta("query").is_none() {
        return Err(format!(
            "trigger {} has no query (KEDA rejects it)",
            trigger.index
        ));
    }
    let number = |key: &str| -> Result<Option<f64>, String> {
        match trigger.meta(key) {
            None => Ok(None),
            Some(text) if is_json_number(text) => Ok(text.parse().ok()),
            Some(text) => Err(rejects(key, text)),
        }
    };
    let Some(threshold) = number("threshold")? else {
        return Err(format!(
            "trigger {} has no threshold (KEDA rejects it)",
            trigger.index
        ));
    };
    if threshold < 0.001 {
        // GetMetricTargetMili gives a target of 0m (or less), and the API server only accepts a
        // positive HPA target: KEDA cannot create the HPA.
        return Err(format!(
            "threshold {threshold} is below 0.001: the HPA target would be 0m, which the API server rejects"
        ));
    }
    let ignore_null_values = match trigger.meta("ignoreNullValues") {
        None => true,
        Some(text) => parse_go_bool(text).ok_or_else(|| rejects("ignoreNullValues", text))?,
    };
    Ok(PrometheusMeta {
        threshold,
        activation_threshold: number("activationThreshold")?.unwrap_or(0.0),
        ignore_null_values,
    })
}

fn read_fallback(node: &Node) -> Result<FallbackSpec, NotReplayable> {
    let field = |key: &str| -> Result<i64, NotReplayable> {
        node.get(key).and_then(int_of).ok_or_else(|| {
            NotReplayable::new(format!(
                "fallback.{key} is missing or not an integer (KEDA rejects it)"
            ))
        })
    };
    let behavior = match node.get("behavior").and_then(Node::as_str) {
        None | Some("static") => FallbackBehavior::Static,
        Some("currentReplicas") => FallbackBehavior::CurrentReplicas,
        Some("currentReplicasIfHigher") => FallbackBehavior::CurrentReplicasIfHigher,
        Some("currentReplicasIfLower") => FallbackBehavior::CurrentReplicasIfLower,
        Some(other) => {
            return Err(NotReplayable::new(format!(
                "fallback.behavior {other:?} is not one the replay models"
            )));
        }
    };
    let spec = FallbackSpec {
        failure_threshold: field("failureThreshold")?,
        replicas: field("replicas")?,
        behavior,
    };
    if spec.failure_threshold < 0 || spec.replicas < 0 {
        return Err(NotReplayable::new(
            "fallback.failureThreshold and fallback.replicas must not be negative (KEDA rejects it)",
        ));
    }
    Ok(spec)
}

fn read_behavior(node: &Node) -> Result<HpaBehavior, NotReplayable> {
    let rules =
        |key: &str| -> Result<Option<ScalingRules>, NotReplayable> {
            let Some(r) = node
                .get(key)
                .filter(|r| r.scalar_type() != Some(ScalarType::Null))
            else {
                return Ok(None);
            };
            let bad = |what: &str| {
                NotReplayable::new(format!("behavior.{key}.{what} (the API server rejects it)"))
            };
            let stabilization_window_seconds =
                match r.get("stabilizationWindowSeconds") {
                    None => None,
                    Some(n) => Some(int_of(n).filter(|v| (0..=3600).contains(v)).ok_or_else(
                        || bad("stabilizationWindowSeconds is not an integer from 0 to 3600"),
                    )?),
                };
            let select_policy = match r.get("selectPolicy").and_then(Node::as_str) {
                None => None,
                Some("Max") => Some(SelectPolicy::Max),
                Some("Min") => Some(SelectPolicy::Min),
                Some("Disabled") => Some(SelectPolicy::Disabled),
                Some(other) => {
                    return Err(bad(&format!(
                        "selectPolicy {other:?} is not Max, Min or Disabled"
                    )));
                }
            };
            let policies = match r.get("policies") {
            None => None,
            Some(list) => Some(
                list.as_seq()
                    .ok_or_else(|| bad("policies is not a list"))?
                    .iter()
                    .map(|p| {
                        let kind = match p.get("type").and_then(Node::as_str) {
                            Some("Pods") => PolicyKind::Pods,
                            Some("Percent") => PolicyKind::Percent,
                            _ => return Err(bad("policies[].type is not Pods or Percent")),
                        };
                        let value = p.get("value").and_then(int_of).filter(|v| *v > 0);
                        let period = p
                            .get("periodSeconds")
                            .and_then(int_of)
                            .filter(|v| (1..=1800).contains(v));
                        match (value, period) {
                            (Some(value), Some(period_seconds)) => Ok(ScalingPolicy {
                                kind,
                                value,
                                period_seconds,
                            }),
                            _ => Err(bad(
                                "policies[] needs a value above 0 and periodSeconds from 1 to 1800",
                            )),
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
            let tolerance = match r.get("tolerance") {
                None => None,
                Some(n) => Some(
                    quantity_of(n)
                        .filter(|v| *v >= 0.0)
                        .ok_or_else(|| bad("tolerance is not a quantity of at least 0"))?,
                ),
            };
            Ok(Some(ScalingRules {
                stabilization_window_seconds,
                select_policy,
                policies,
                tolerance,
            }))
        };
    Ok(HpaBehavior {
        scale_up: rules("scaleUp")?,
        scale_down: rules("scaleDown")?,
    })
}

/// `scalingModifiers`: `None` when it sets no formula (KEDA ignores it then).
fn read_modifiers(
    node: &Node,
    triggers: &[TriggerSpec],
) -> Result<Option<ScalingModifiersSpec>, NotReplayable> {
    let text = |key: &str| node.get(key).and_then(Node::as_str).map(str::trim);
    let Some(formula) = text("formula").filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let integer_target = text("target").is_some_and(|t| t.parse::<i64>().is_ok_and(|v| v > 0));
    let target = text("target")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t > 0.0)
        .ok_or_else(|| {
            NotReplayable::new("scalingModifiers.target is not a positive number (KEDA rejects it)")
        })?;
    let activation_target = match text("activationTarget").filter(|t| !t.is_empty()) {
        None => 0.0,
        Some(t) => t.parse::<f64>().map_err(|_| {
            NotReplayable::new(format!(
                "scalingModifiers.activationTarget {t:?} is not a number"
            ))
        })?,
    };
    let metric_type = match text("metricType") {
        None | Some("" | "AverageValue") => MetricType::AverageValue,
        Some("Value") => MetricType::Value,
        Some(other) => {
            return Err(NotReplayable::new(format!(
                "scalingModifiers.metricType {other:?} is not AverageValue or Value (KEDA rejects it)"
            )));
        }
    };
    // The formula sees the named non-resource triggers (KEDA's `validateScalingModifiersFormula`).
    let names: Vec<&str> = triggers
        .iter()
        .filter(|t| !matches!(t.trigger_type.as_str(), "cpu" | "memory"))
        .filter_map(|t| t.name.as_deref())
        .collect();
    let compiled = Formula::compile(formula, &names)
        .map_err(|why| NotReplayable::new(format!("scalingModifiers formula {formula:?} {why}")))?;
    for name in compiled.names() {
        let Some(t) = triggers.iter().find(|t| t.name.as_deref() == Some(name)) else {
            continue;
        };
        if !t.replayable {
            return Err(NotReplayable::new(format!(
                "scalingModifiers formula uses trigger {name:?}, which the replay cannot read ({})",
                t.not_replayable_reason
                    .as_deref()
                    .unwrap_or("not a prometheus trigger")
            )));
        }
    }
    Ok(Some(ScalingModifiersSpec {
        formula: formula.to_owned(),
        target,
        activation_target,
        metric_type,
        compiled,
        integer_target,
    }))
}
