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
    #[serde(with = "service_keys_plain")]
    pub service_errors: BTreeMap<(String, String), String>,
}

impl Facts {
    /// The probe of a trigger's `serverAddress`, if it was probed.
    #[must_use]
    pub fn server(&self, address: &str) -> Option<&ServerProbe> {
        self.servers.get(address.trim().trim_end_matches('/'))
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

mod service_keys_plain {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    type Map = BTreeMap<(String, String), String>;

    pub(super) fn serialize<S: Serializer>(m: &Map, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(m.iter().map(|((ns, n), v)| (format!("{ns}/{n}"), v)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        BTreeMap::<String, String>::deserialize(d)?
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
