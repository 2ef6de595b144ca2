//! Facts gathered by online checks (a live Prometheus, the cluster), read by the KL4xx rules and
//! by scrape-interval resolution. Pure data: the gathering lives in the `kedalint-probe` crate,
//! under a time budget, so the rules stay offline-testable and the webhook stays bounded.
//!
//! Facts serialise to JSON (rule fixtures hold a `facts.json`; a webhook may cache them):
//! durations are seconds as a number (`1.5`), services are keyed `"namespace/name"`, and every
//! collection may be left out.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything online checks learned, keyed by what the manifests say.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    /// When the probes ran (RFC 3339, UTC), for messages.
    pub probed_at: Option<String>,
    /// Per `serverAddress` as written in the trigger (trimmed, trailing `/` removed).
    pub servers: BTreeMap<String, ServerProbe>,
    /// Services read from the cluster (`--cluster`), keyed by `(namespace, name)`. Every Service
    /// an in-cluster `serverAddress` names was looked up: a missing key means it does not exist,
    /// unless its lookup failed (`service_errors`).
    #[serde(with = "service_keys")]
    pub services: Option<BTreeMap<(String, String), ServiceFacts>>,
    /// Services whose lookup failed (forbidden, API error), with why: nothing is said about them.
    #[serde(with = "ns_map")]
    pub service_errors: BTreeMap<(String, String), String>,
    /// What KEDA and the HPA report about each ScaledObject read from the cluster (`--cluster`),
    /// keyed by `(namespace, name)`. A missing key means nothing was read for it; parts that
    /// could not be read are left empty (the run's notes say why).
    #[serde(with = "ns_map")]
    pub scaled_objects: BTreeMap<(String, String), ObjectState>,
}

impl Facts {
    /// The probe of a trigger's `serverAddress`, if it was probed.
    #[must_use]
    pub fn server(&self, address: &str) -> Option<&ServerProbe> {
        self.servers.get(address.trim().trim_end_matches('/'))
    }

    /// What the cluster reports about a ScaledObject, if it was read.
    #[must_use]
    pub fn object_state(&self, namespace: &str, name: &str) -> Option<&ObjectState> {
        self.scaled_objects
            .get(&(namespace.to_owned(), name.to_owned()))
    }
}

/// What one Prometheus server answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerProbe {
    /// The URL actually requested (after `prometheus.addressMap`).
    pub probed_url: String,
    /// Reachability.
    pub outcome: ServerOutcome,
    /// Active targets with their scrape intervals (`/api/v1/targets`).
    #[serde(default)]
    pub targets: Vec<LiveTarget>,
    /// Resolved per-job intervals (`/api/v1/status/config`).
    #[serde(default, with = "secs_map")]
    pub job_intervals: BTreeMap<String, Duration>,
    /// Per query text (trimmed) as the trigger sends it.
    #[serde(default)]
    pub queries: BTreeMap<String, QueryProbe>,
    /// Metric types from `/api/v1/metadata`, by metric family name as Prometheus reports it
    /// (`counter`, `gauge`, `histogram`, `summary`, `unknown`, …), for the counter-like names
    /// the queries read.
    #[serde(default)]
    pub metric_types: BTreeMap<String, String>,
}

impl ServerProbe {
    /// The type Prometheus's metadata gives the series `name`: its own family's type, or, for a
    /// `_count`/`_sum`/`_bucket` series, the type of the histogram or summary it belongs to, or,
    /// for a `_total` series, the type of the counter family without the suffix (OpenMetrics
    /// names the family without `_total`).
    #[must_use]
    pub fn metric_type(&self, name: &str) -> Option<&str> {
        if let Some(t) = self.metric_types.get(name) {
            return Some(t);
        }
        let (base, fits): (&str, &[&str]) = if let Some(b) = name.strip_suffix("_total") {
            (b, &["counter"])
        } else if let Some(b) = ["_count", "_sum", "_bucket"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
        {
            (b, &["histogram", "summary", "gaugehistogram"])
        } else {
            return None;
        };
        self.metric_types
            .get(base)
            .map(String::as_str)
            .filter(|t| fits.contains(t))
    }
}

/// The family names whose metadata says what type `name` is (see [`ServerProbe::metric_type`]).
#[must_use]
pub fn metadata_families(name: &str) -> Vec<&str> {
    let base = ["_total", "_count", "_sum", "_bucket"]
        .iter()
        .find_map(|s| name.strip_suffix(s));
    std::iter::once(name).chain(base).collect()
}

/// Whether a server could be used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerOutcome {
    /// It answers like the Prometheus HTTP API.
    Prometheus {
        /// `/api/v1/status/buildinfo` version, when given.
        version: Option<String>,
    },
    /// It could not be reached.
    Unreachable {
        /// Why.
        reason: Unreachable,
        /// Detail (the error text, without credentials).
        detail: String,
    },
    /// Reachable, but not the Prometheus API (404, HTML, JSON without `status`).
    NotPrometheus {
        /// HTTP status.
        status: u16,
        /// What it answered instead.
        detail: String,
    },
    /// 401 or 403.
    AuthRequired {
        /// HTTP status.
        status: u16,
    },
    /// Not probed (not allowed, deadline); said in the output.
    NotProbed {
        /// Why.
        reason: String,
    },
}

/// Why a server could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unreachable {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port.
    ConnectionRefused,
    /// The TLS handshake failed.
    Tls,
    /// No answer in time.
    Timeout,
    /// Anything else.
    Other,
}

impl Unreachable {
    /// Words for a message.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Dns => "the host name does not resolve",
            Self::ConnectionRefused => "the connection was refused",
            Self::Tls => "the TLS handshake failed",
            Self::Timeout => "it did not answer in time",
            Self::Other => "the request failed",
        }
    }
}

/// An active scrape target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveTarget {
    /// Its labels after relabelling (`job`, `instance`, …).
    pub labels: BTreeMap<String, String>,
    /// Its scrape interval.
    #[serde(with = "secs")]
    pub scrape_interval: Duration,
}

/// What running a trigger's query the way KEDA does returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryProbe {
    /// The result.
    pub outcome: QueryOutcome,
    /// How long the query took.
    #[serde(with = "secs")]
    pub elapsed: Duration,
    /// The timeout KEDA uses for this trigger (its `timeout`, else 3 s).
    #[serde(with = "secs", default = "keda_default_timeout")]
    pub keda_timeout: Duration,
    /// Selectors (as written) that match no series over the lookback window.
    #[serde(default)]
    pub absent_selectors: Vec<String>,
    /// For an absent selector whose metric name alone has series: the label names those series
    /// carry (to point at `model=` where the exporter writes `model_name=`).
    #[serde(default)]
    pub metric_labels: BTreeMap<String, Vec<String>>,
    /// Largest finite `le` bound per bucket metric read by `histogram_quantile`.
    #[serde(default)]
    pub largest_le: BTreeMap<String, f64>,
    /// For an empty result: the same query with every range selector four times as long, and
    /// what it returned (the manual query a person tries next).
    #[serde(default)]
    pub widened: Option<WidenedQuery>,
}

/// A query re-run with wider ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidenedQuery {
    /// The query text sent.
    pub query: String,
    /// What it returned.
    pub outcome: QueryOutcome,
}

/// KEDA's default HTTP timeout (`KEDA_HTTP_DEFAULT_TIMEOUT`, 3000 ms).
pub const KEDA_DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

fn keda_default_timeout() -> Duration {
    KEDA_DEFAULT_TIMEOUT
}

/// The shape of a query result, as KEDA would decode it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryOutcome {
    /// An empty vector.
    Empty,
    /// One series with this value (NaN and ±Inf kept; in JSON a number or `"NaN"`, `"+Inf"`,
    /// `"-Inf"`).
    One(#[serde(with = "prom_float")] f64),
    /// More than one series.
    Many(usize),
    /// A result type KEDA cannot use (`matrix`, `scalar`, `string`).
    NotVector(String),
    /// The server answered with an error status (bad query, 4xx/5xx).
    Error {
        /// HTTP status.
        status: u16,
        /// The message.
        message: String,
    },
    /// The request failed or timed out.
    Failed(String),
}

/// A Service read from the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceFacts {
    /// Its ports (`port`, not `targetPort`).
    pub ports: Vec<u16>,
    /// Number of ready endpoint addresses.
    pub ready_endpoints: usize,
    /// `spec.externalName` of an `ExternalName` Service, which has no endpoints by design.
    pub external_name: Option<String>,
}

/// What KEDA and the HPA report about one ScaledObject right now (`--cluster`): its `status` as
/// KEDA writes it, the HPA it names, recent Events on both, and the external metric values the
/// HPA reads. Field names follow KEDA's and Kubernetes' API types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectState {
    /// `status.conditions` (`Ready`, `Active`, `Fallback`, `Paused`).
    pub conditions: Vec<Condition>,
    /// `status.externalMetricNames` (`s0-prometheus`, …).
    pub external_metric_names: Vec<String>,
    /// `status.health`, per external metric name.
    pub health: BTreeMap<String, MetricHealth>,
    /// `status.hpaName`.
    pub hpa_name: Option<String>,
    /// `status.pausedReplicaCount`.
    pub paused_replica_count: Option<i64>,
    /// The HPA the object names, when it was read and exists.
    pub hpa: Option<HpaState>,
    /// Recent Events on the ScaledObject and its HPA, newest first; `None` when they could not
    /// be read.
    pub events: Option<Vec<ObjectEvent>>,
    /// What `external.metrics.k8s.io/v1beta1` answers per metric name, with KEDA's selector
    /// `scaledobject.keda.sh/name=<name>` (what the HPA reads). Metrics that could not be read
    /// are absent.
    pub external_metrics: BTreeMap<String, MetricReading>,
}

impl ObjectState {
    /// A condition by type (`Ready`, `Fallback`, …).
    #[must_use]
    pub fn condition(&self, kind: &str) -> Option<(usize, &Condition)> {
        self.conditions
            .iter()
            .enumerate()
            .find(|(_, c)| c.kind == kind)
    }
}

/// A status condition (KEDA's `Condition`, the HPA's `HorizontalPodAutoscalerCondition`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Condition {
    /// `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `status`: `True`, `False` or `Unknown`.
    pub status: String,
    /// `reason`.
    pub reason: Option<String>,
    /// `message`.
    pub message: Option<String>,
}

impl Condition {
    /// `status: "True"`.
    #[must_use]
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }

    /// `status: "False"`.
    #[must_use]
    pub fn is_false(&self) -> bool {
        self.status == "False"
    }
}

/// KEDA's `HealthStatus` of one metric.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricHealth {
    /// `numberOfFailures`: consecutive failed reads.
    pub number_of_failures: Option<i64>,
    /// `status`: `Happy` or `Failing`.
    pub status: Option<String>,
}

/// The `autoscaling/v2` HorizontalPodAutoscaler a ScaledObject names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HpaState {
    /// `metadata.name`.
    pub name: String,
    /// `spec.minReplicas`.
    pub min_replicas: Option<i64>,
    /// `spec.maxReplicas`.
    pub max_replicas: i64,
    /// `status.currentReplicas`.
    pub current_replicas: Option<i64>,
    /// `status.desiredReplicas`.
    pub desired_replicas: i64,
    /// Its External metrics: spec target and the last value read (`status.currentMetrics`).
    pub metrics: Vec<HpaMetric>,
    /// `status.conditions` (`AbleToScale`, `ScalingActive`, `ScalingLimited`).
    pub conditions: Vec<Condition>,
}

impl HpaState {
    /// A condition by type.
    #[must_use]
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// The External metric of this name.
    #[must_use]
    pub fn metric(&self, name: &str) -> Option<&HpaMetric> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

/// One External metric of an HPA. Quantities are kept as the API writes them (`350m`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HpaMetric {
    /// `spec.metrics[i].external.metric.name`.
    pub name: String,
    /// Position in `spec.metrics`.
    pub index: usize,
    /// `target.type`: `Value` or `AverageValue`.
    pub target_type: String,
    /// `target.value` or `target.averageValue`, whichever the type uses.
    pub target: Option<String>,
    /// `status.currentMetrics[].external.current.value`.
    pub current_value: Option<String>,
    /// `status.currentMetrics[].external.current.averageValue`.
    pub current_average_value: Option<String>,
}

/// An Event on the ScaledObject or its HPA.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectEvent {
    /// The kind of the object it is about (`ScaledObject`, `HorizontalPodAutoscaler`).
    pub kind: String,
    /// That object's name.
    pub name: String,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `reason` (`KEDAScalerFailed`, `FailedGetExternalMetric`, …).
    pub reason: String,
    /// The message.
    pub message: String,
    /// How many times it was seen.
    pub count: Option<i64>,
    /// When it was last seen (RFC 3339).
    pub last_seen: Option<String>,
}

/// What `external.metrics.k8s.io` answered for one metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricReading {
    /// The values (`items[].value`; KEDA serves one), as quantities.
    Values(Vec<String>),
    /// An error status and its message (KEDA's metrics server hides the scaler's error behind
    /// `error when getting metric values metric:… encountered error`).
    Error {
        /// HTTP status.
        status: u16,
        /// The message.
        message: String,
    },
}

/// KEDA's label on the external metrics it serves for a ScaledObject
/// (`ScaledObjectOwnerAnnotation`); the HPA selects with it.
pub const KEDA_SELECTOR_LABEL: &str = "scaledobject.keda.sh/name";

/// The path `kubectl get --raw` reads an external metric at with KEDA's selector: what the HPA
/// requests.
#[must_use]
pub fn external_metric_path(namespace: &str, metric: &str, scaled_object: &str) -> String {
    format!(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}?labelSelector={}",
        query_escape(&format!("{KEDA_SELECTOR_LABEL}={scaled_object}"))
    )
}

/// Percent-encodes a URL query value as Go's `url.QueryEscape` does (KEDA builds its query URL
/// with it): unreserved characters kept, space as `+`, everything else `%XX`.
#[must_use]
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A Kubernetes quantity (`350m`, `1`, `2k`, `1Mi`, `1e3`) as a number; `None` when it is not
/// one.
#[must_use]
pub fn parse_quantity(text: &str) -> Option<f64> {
    let t = text.trim();
    let (number, factor) = [
        ("Ki", 1024_f64),
        ("Mi", 1024_f64.powi(2)),
        ("Gi", 1024_f64.powi(3)),
        ("Ti", 1024_f64.powi(4)),
        ("Pi", 1024_f64.powi(5)),
        ("Ei", 1024_f64.powi(6)),
        ("n", -1e9),
        ("u", -1e6),
        ("m", -1e3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ]
    .iter()
    .find_map(|(suffix, f)| t.strip_suffix(suffix).map(|n| (n, *f)))
    .unwrap_or((t, 1.0));
    if number.is_empty()
        || !number
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'e' | b'E'))
    {
        return None;
    }
    // A negative factor divides: `350m` is 350 / 1000, which rounds to the same f64 as 0.35.
    number.parse::<f64>().ok().map(|v| {
        if factor < 0.0 {
            v / -factor
        } else {
            v * factor
        }
    })
}

/// A value for messages, as the HPA shows quantities but readable: `0`, `1.87`, `0.35`.
#[must_use]
pub fn format_value(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// Durations as seconds (a JSON number).
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

/// A map of durations as seconds.
mod secs_map {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        m: &BTreeMap<String, Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|(k, v)| (k, v.as_secs_f64())))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Duration>, D::Error> {
        BTreeMap::<String, f64>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| {
                Duration::try_from_secs_f64(v)
                    .map(|d| (k, d))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

/// Prometheus sample values: NaN and ±Inf as the strings Prometheus writes.
mod prom_float {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_str(&super::format_sample(*v))
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Sample {
            Number(f64),
            Text(String),
        }
        match Sample::deserialize(d)? {
            Sample::Number(v) => Ok(v),
            Sample::Text(t) => super::parse_sample(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("not a sample value: {t:?}"))),
        }
    }
}

/// Parses a sample value as Prometheus writes it (`"1.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
#[must_use]
pub fn parse_sample(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// Writes a sample value as Prometheus does (`NaN`, `+Inf`, `-Inf`, else the number).
#[must_use]
pub fn format_sample(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        v.to_string()
    }
}

/// `(namespace, name)` keys as `"namespace/name"` strings.
fn split_key<E: serde::de::Error>(k: &str) -> Result<(String, String), E> {
    k.split_once('/')
        .map(|(ns, n)| (ns.to_owned(), n.to_owned()))
        .ok_or_else(|| E::custom(format!("expected \"namespace/name\", got {k:?}")))
}

mod service_keys {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::ServiceFacts;

    type Map = BTreeMap<(String, String), ServiceFacts>;

    #[allow(clippy::ref_option)] // serde's `with` hands over `&Option<T>`.
    pub(super) fn serialize<S: Serializer>(m: &Option<Map>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            None => s.serialize_none(),
            Some(m) => s.collect_map(m.iter().map(|((ns, n), v)| (format!("{ns}/{n}"), v))),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Map>, D::Error> {
        let Some(raw) = Option::<BTreeMap<String, ServiceFacts>>::deserialize(d)? else {
            return Ok(None);
        };
        raw.into_iter()
            .map(|(k, v)| Ok((super::split_key(&k)?, v)))
            .collect::<Result<Map, D::Error>>()
            .map(Some)
    }
}

/// Maps keyed by `(namespace, name)`, written with `"namespace/name"` keys.
mod ns_map {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Map<V> = BTreeMap<(String, String), V>;

    pub(super) fn serialize<S: Serializer, V: Serialize>(
        m: &Map<V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|((ns, n), v)| (format!("{ns}/{n}"), v)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
        d: D,
    ) -> Result<Map<V>, D::Error> {
        BTreeMap::<String, V>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| Ok((super::split_key(&k)?, v)))
            .collect()
    }
}

/// How long the probe looks back for series of a selector (KL407).
pub const ABSENCE_LOOKBACK: Duration = Duration::from_secs(600);

/// The Service an in-cluster `serverAddress` names (`http://<svc>.<ns>.svc[.cluster.local][:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InClusterService {
    /// Namespace.
    pub namespace: String,
    /// Service name.
    pub name: String,
    /// The port the address uses (its scheme's default when not written).
    pub port: u16,
}

/// Reads the Service an in-cluster address names; `None` for any other address.
#[must_use]
pub fn in_cluster_service(address: &str) -> Option<InClusterService> {
    let url = crate::parse_server_address(address.trim()).ok()?;
    let host = url.host.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let rest = host
        .strip_suffix(".svc.cluster.local")
        .or_else(|| host.strip_suffix(".svc"))?;
    let (name, namespace) = rest.split_once('.')?;
    if name.is_empty() || namespace.is_empty() || namespace.contains('.') {
        return None;
    }
    let port = url
        .port
        .unwrap_or(if url.scheme == "https" { 443 } else { 80 });
    Some(InClusterService {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_raw_path_carries_keda_s_selector_escaped() {
        assert_eq!(
            external_metric_path("shop", "s0-prometheus", "api"),
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/s0-prometheus?labelSelector=scaledobject.keda.sh%2Fname%3Dapi"
        );
    }

    #[test]
    fn quantities_read_as_kubernetes_writes_them() {
        assert_eq!(parse_quantity("350m"), Some(0.35));
        assert_eq!(parse_quantity("1"), Some(1.0));
        assert_eq!(parse_quantity("1870m"), Some(1.87));
        assert_eq!(parse_quantity("2k"), Some(2000.0));
        assert_eq!(parse_quantity("1Ki"), Some(1024.0));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(
            parse_quantity("-9223372036854775808m").map(f64::is_sign_negative),
            Some(true)
        );
        assert_eq!(parse_quantity("m"), None);
        assert_eq!(parse_quantity("ten"), None);
        assert_eq!(format_value(1.87), "1.87");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(0.35), "0.35");
    }

    #[test]
    fn in_cluster_addresses_name_a_service_and_port() {
        let s = in_cluster_service("http://prometheus-server.monitoring.svc:80").unwrap();
        assert_eq!(
            (s.namespace.as_str(), s.name.as_str(), s.port),
            ("monitoring", "prometheus-server", 80)
        );
        let s = in_cluster_service("https://prom.obs.svc.cluster.local/").unwrap();
        assert_eq!((s.name.as_str(), s.port), ("prom", 443));
        assert_eq!(in_cluster_service("http://127.0.0.1:9090"), None);
        assert_eq!(in_cluster_service("http://prometheus.example.com"), None);
    }

    #[test]
    fn facts_read_from_json_with_seconds_and_namespaced_service_keys() {
        let f: Facts = serde_json::from_str(
            r#"{"probed_at":"2025-01-01T00:00:00Z","servers":{"http://p:9090":{"probed_url":"http://127.0.0.1:9090",
            "outcome":{"prometheus":{"version":"2.42.0"}},"job_intervals":{"api":1.5},
            "queries":{"up":{"outcome":{"one":"NaN"},"elapsed":0.25}}}},
            "services":{"monitoring/prom":{"ports":[80],"ready_endpoints":0}}}"#,
        )
        .unwrap();
        let s = f.server("http://p:9090/").unwrap();
        assert_eq!(s.job_intervals["api"], Duration::from_millis(1500));
        let q = &s.queries["up"];
        assert!(matches!(q.outcome, QueryOutcome::One(v) if v.is_nan()));
        assert_eq!(q.keda_timeout, KEDA_DEFAULT_TIMEOUT);
        let services = f.services.as_ref().unwrap();
        assert_eq!(
            services[&("monitoring".to_owned(), "prom".to_owned())].ports,
            vec![80]
        );
        let back: Facts = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back.services, f.services);
    }
}
