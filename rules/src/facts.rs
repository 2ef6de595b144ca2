//! Facts gathered by online checks (a live Prometheus, the cluster), read by the KL4xx rules and
//! by scrape-interval resolution. Pure data: the gathering lives in the `kedalint-probe` crate,
//! under a time budget, so the rules stay offline-testable and the webhook stays bounded.

use std::collections::BTreeMap;
use std::time::Duration;

/// Everything online checks learned, keyed by what the manifests say.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// When the probes ran (RFC 3339, UTC), for messages.
    pub probed_at: Option<String>,
    /// Per `serverAddress` as written in the trigger (trimmed, trailing `/` removed).
    pub servers: BTreeMap<String, ServerProbe>,
    /// Services read from the cluster (`--cluster`), keyed by `(namespace, name)`.
    pub services: Option<BTreeMap<(String, String), ServiceFacts>>,
}

impl Facts {
    /// The probe of a trigger's `serverAddress`, if it was probed.
    #[must_use]
    pub fn server(&self, address: &str) -> Option<&ServerProbe> {
        self.servers.get(address.trim().trim_end_matches('/'))
    }
}

/// What one Prometheus server answered.
#[derive(Debug, Clone)]
pub struct ServerProbe {
    /// The URL actually requested (after `prometheus.addressMap`).
    pub probed_url: String,
    /// Reachability.
    pub outcome: ServerOutcome,
    /// Active targets with their scrape intervals (`/api/v1/targets`).
    pub targets: Vec<LiveTarget>,
    /// Resolved per-job intervals (`/api/v1/status/config`).
    pub job_intervals: BTreeMap<String, Duration>,
    /// Per query text (trimmed) as the trigger sends it.
    pub queries: BTreeMap<String, QueryProbe>,
}

/// Whether a server could be used.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq)]
pub struct LiveTarget {
    /// Its labels after relabelling (`job`, `instance`, …).
    pub labels: BTreeMap<String, String>,
    /// Its scrape interval.
    pub scrape_interval: Duration,
}

/// What running a trigger's query the way KEDA does returned.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryProbe {
    /// The result.
    pub outcome: QueryOutcome,
    /// How long the query took.
    pub elapsed: Duration,
    /// The timeout KEDA uses for this trigger (its `timeout`, else 3 s).
    pub keda_timeout: Duration,
    /// Selectors (as written) that match no series over the lookback window.
    pub absent_selectors: Vec<String>,
    /// Largest finite `le` bound per bucket metric read by `histogram_quantile`.
    pub largest_le: BTreeMap<String, f64>,
}

/// The shape of a query result, as KEDA would decode it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryOutcome {
    /// An empty vector.
    Empty,
    /// One series with this value (NaN and ±Inf kept).
    One(f64),
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Its ports (`port`, not `targetPort`).
    pub ports: Vec<u16>,
    /// Number of ready endpoint addresses.
    pub ready_endpoints: usize,
}
