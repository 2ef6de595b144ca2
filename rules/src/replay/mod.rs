//! Replay: what KEDA and the Kubernetes HPA would have decided for a ScaledObject over a recorded
//! Prometheus history, tick by tick. Pure and deterministic: the caller fetches the history
//! (`query_range`, one step per tick) and renders the result.
//!
//! The model follows notes/replay-semantics.md and is written down, with the KEDA and Kubernetes
//! source of each step, in docs/replay.md ("The model"). It is open loop on the load: the history is
//! what it was, and the replicas are those the controllers would have requested for it.
//!
//! ```
//! use kedalint_rules::replay::{ReplayOptions, Sample, TriggerHistory, replay};
//! use kedalint_rules::model::{ScaledObject, objects_of};
//! use kedalint_rules::source::from_json;
//!
//! let so = from_json(&serde_json::json!({
//!     "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
//!     "spec": {"minReplicaCount": 1, "triggers": [{"type": "prometheus",
//!         "metadata": {"serverAddress": "http://prometheus:9090", "query": "sum(queue)", "threshold": "10"}}]}
//! }));
//! let object = objects_of(&so, 0)[0];
//! let spec = kedalint_rules::replay::ReplaySpec::from_scaled_object(&ScaledObject { object }).unwrap();
//! let history = [TriggerHistory { trigger: 0, samples: vec![Sample::Value(35.0); 4] }];
//! let options = ReplayOptions { ticks: 4, ..ReplayOptions::default() };
//! let run = replay(&spec, &history, &options);
//! // AverageValue: ceil(35000m / 10000m) = 4 replicas, reached from 1 within the 4-per-sync ceiling.
//! assert_eq!(run.timeline.last().unwrap().replicas, 4);
//! ```

mod engine;
mod formula;
mod hpa;
mod read;
mod spec;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Serialize, Serializer};

use crate::KedaVersion;

pub use engine::replay;
pub use spec::{
    FallbackBehavior, FallbackSpec, HpaBehavior, MetricType, PolicyKind, ReplaySpec,
    ScalingModifiersSpec, ScalingPolicy, ScalingRules, SelectPolicy, TriggerSpec,
};

/// What one step of a `query_range` held for one trigger (a step = what an instant query at that
/// second returns).
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// No series had a point at this instant: Prometheus would answer `result: []`.
    Empty,
    /// Exactly one series: its value (NaN and ±Inf kept as they are).
    Value(f64),
    /// Two or more series had a point (count).
    Multiple(usize),
    /// The query could not be answered for this tick; the text is the cause.
    Error(String),
}

/// The history of one Prometheus trigger: `samples[i]` is tick i.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerHistory {
    /// Index in `spec.triggers`.
    pub trigger: usize,
    /// One sample per tick; missing ticks read as [`Sample::Error`].
    pub samples: Vec<Sample>,
}

/// Why an object cannot be replayed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReplayable {
    /// The reason, in words.
    pub reason: String,
}

impl NotReplayable {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for NotReplayable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for NotReplayable {}

/// A Kubernetes minor release: it decides the HPA's overflow guards and whether per-HPA
/// tolerances apply (notes/replay-semantics.md §2, §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubernetesVersion {
    /// Major version (1).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl KubernetesVersion {
    /// The newest release the model's facts cover.
    pub const NEWEST: Self = Self {
        major: 1,
        minor: 35,
    };

    /// Parses `1.34` or `v1.34.2`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let v = KedaVersion::parse(text)?;
        Some(Self {
            major: v.major,
            minor: v.minor,
        })
    }

    /// True when this version is at least `1.minor`.
    #[must_use]
    pub fn at_least(self, minor: u32) -> bool {
        self >= Self { major: 1, minor }
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// How to run a replay. The defaults are the controllers' defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Unix seconds of tick 0.
    pub start: i64,
    /// Tick spacing in seconds: the HPA sync period (default 15).
    pub step_seconds: u32,
    /// Number of ticks.
    pub ticks: usize,
    /// The KEDA version whose reading of the metrics is modelled.
    pub keda_version: KedaVersion,
    /// Spec replicas at tick 0 (default: `minReplicaCount`).
    pub start_replicas: Option<i64>,
    /// The Kubernetes version of the HPA controller (default 1.35).
    pub kubernetes_version: KubernetesVersion,
    /// The HPA sync period when it is a multiple of the tick spacing (default: one sync per tick).
    pub hpa_sync_seconds: Option<u32>,
    /// Where KEDA's polling grid starts, in seconds after `start` (default 0: KEDA polls at tick 0,
    /// then every `pollingInterval`, at the first tick at or after each poll instant).
    pub keda_poll_offset_seconds: u32,
    /// Seconds from a pod's creation to Ready (default 0: ready at once).
    pub readiness_delay_seconds: u32,
    /// When the ScaledObject was created, in unix seconds (default: long before the window, so
    /// `initialCooldownPeriod` is over). `lastActiveTime` is unset at the start either way.
    pub created_at: Option<i64>,
    /// `--horizontal-pod-autoscaler-tolerance` (default 0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` in seconds (default 300).
    pub downscale_stabilization_seconds: u32,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            start: 0,
            step_seconds: 15,
            ticks: 0,
            keda_version: KedaVersion::NEWEST,
            start_replicas: None,
            kubernetes_version: KubernetesVersion::NEWEST,
            hpa_sync_seconds: None,
            keda_poll_offset_seconds: 0,
            readiness_delay_seconds: 0,
            created_at: None,
            tolerance: 0.1,
            downscale_stabilization_seconds: 300,
        }
    }
}

/// The replay of one object (DESIGN.md's replay JSON: `triggers`, `summary`, `timeline`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    /// Per replayable trigger, in `spec.triggers` order, what Prometheus returned over the window.
    /// The tick arrays (`raw`, `reported`, `errors`) follow this order.
    pub triggers: Vec<TriggerReads>,
    /// Totals over the window.
    pub summary: Summary,
    /// One entry per tick.
    pub timeline: Vec<Tick>,
    /// Assumptions and limits, in words (open loop, phases, readiness, versions).
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// What one trigger read over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerReads {
    /// Position in `spec.triggers`.
    pub index: usize,
    /// `name`.
    pub name: Option<String>,
    /// The External metric name (`s0-prometheus`).
    pub metric: String,
    /// The query.
    pub query: Option<String>,
    /// Counts per kind of answer.
    pub reads: Reads,
}

/// Counts of the answers one trigger got, one per tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Reads {
    /// One series with a number (±Inf included).
    pub value: usize,
    /// No series.
    pub empty: usize,
    /// One series with NaN.
    pub nan: usize,
    /// Two or more series, or no answer for the tick.
    pub error: usize,
}

/// Totals over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Ticks replayed.
    pub ticks: usize,
    /// Ticks where some replayable trigger was reported to the HPA as 0.
    pub reads_zero: usize,
    /// Ticks where KEDA counted the object active.
    pub active_ticks: usize,
    /// Lowest replica count after a tick (the start count when there are no ticks).
    pub min_replicas: i64,
    /// Highest replica count after a tick (the start count when there are no ticks).
    pub max_replicas: i64,
    /// Ticks where the replica count changed.
    pub scale_events: usize,
}

/// One tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    /// RFC 3339 UTC.
    pub t: String,
    /// Per entry of [`Replay::triggers`] (the replayable triggers, in order): what Prometheus
    /// returned (None: empty or not one value). NaN and ±Inf are serialized as the strings "NaN",
    /// "+Inf", "-Inf".
    #[serde(serialize_with = "floats")]
    pub raw: Vec<Option<f64>>,
    /// Per entry of [`Replay::triggers`]: what KEDA hands the HPA (None: an error).
    #[serde(serialize_with = "floats")]
    pub reported: Vec<Option<f64>>,
    /// Per entry of [`Replay::triggers`]: KEDA's error text, if any.
    pub errors: Vec<Option<String>>,
    /// KEDA counted the object active at its last poll.
    pub active: bool,
    /// Some trigger was past its fallback `failureThreshold`.
    pub fallback: bool,
    /// What was asked for at this tick: at an HPA sync, the metrics' proposal (max over metrics)
    /// before stabilization and rate limits; when KEDA scaled, KEDA's target; else the replicas.
    pub desired: i64,
    /// Spec replicas after the tick.
    pub replicas: i64,
    /// Why `replicas` is what it is, in one sentence.
    pub reason: String,
    /// KEDA polled at this tick.
    pub keda_poll: bool,
    /// The HPA synced at this tick.
    pub hpa_sync: bool,
}

fn floats<S: Serializer>(values: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(values.len()))?;
    for v in values {
        match v {
            Some(x) if x.is_nan() => seq.serialize_element("NaN")?,
            Some(x) if *x == f64::INFINITY => seq.serialize_element("+Inf")?,
            Some(x) if *x == f64::NEG_INFINITY => seq.serialize_element("-Inf")?,
            other => seq.serialize_element(other)?,
        }
    }
    seq.end()
}

/// RFC 3339 UTC to the second.
fn rfc3339(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => format!("@{unix}"),
    }
}

/// `HH:MM:SS` of a unix time, for reasons.
fn clock(unix: i64) -> String {
    rfc3339(unix)
        .get(11..19)
        .map_or_else(|| unix.to_string(), str::to_owned)
}
