//! The webhook's metrics in the Prometheus text exposition format (0.0.4).
//!
//! A handful of counters and one histogram do not justify a metrics crate: this is atomics plus a
//! small map, written out by hand, and a test parses the output back.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::conn::{PHASES, SHED_REASONS, Shed};

/// Upper bounds of the review latency histogram, in seconds. The API server's default webhook
/// timeout is 10s and ours is configured at 5s; the interesting range is well below.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Request results counted in `kedalint_webhook_requests_total`.
pub const RESULTS: &[&str] = &["allowed", "denied", "error", "overloaded"];

/// Every metric of one server.
#[derive(Debug)]
pub struct Metrics {
    requests: [AtomicU64; 4],
    latency_buckets: Vec<AtomicU64>,
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    /// Keyed by the static rule code and severity: counting a finding allocates nothing.
    findings: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// Online probe results reused (from the cache, or a probe already in flight).
    pub probe_cache_hits: AtomicU64,
    /// Online probes started.
    pub probe_cache_misses: AtomicU64,
    config_reloads: [AtomicU64; 2],
    cert_reloads: [AtomicU64; 2],
    shed: [AtomicU64; SHED_REASONS.len()],
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Default::default(),
            latency_buckets: LATENCY_BUCKETS.iter().map(|_| AtomicU64::new(0)).collect(),
            latency_count: AtomicU64::new(0),
            latency_sum_micros: AtomicU64::new(0),
            findings: Mutex::new(BTreeMap::new()),
            probe_cache_hits: AtomicU64::new(0),
            probe_cache_misses: AtomicU64::new(0),
            config_reloads: Default::default(),
            cert_reloads: Default::default(),
            shed: Default::default(),
        }
    }
}

/// What a reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// The new content is in use.
    Success,
    /// The new content was rejected; the previous one stays.
    Failure,
}

impl Metrics {
    /// Counts one request by result (one of [`RESULTS`]).
    pub fn request(&self, result: &str) {
        if let Some(i) = RESULTS.iter().position(|r| *r == result) {
            self.requests[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records how long a review took.
    pub fn observe_latency(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts one finding.
    pub fn finding(&self, code: &'static str, severity: &'static str) {
        self.findings([(code, severity)]);
    }

    /// Counts the findings of one review, as (rule code, severity), taking the lock once.
    pub fn findings(&self, found: impl IntoIterator<Item = (&'static str, &'static str)>) {
        let mut map = self
            .findings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in found {
            *map.entry(key).or_default() += 1;
        }
    }

    /// Counts a configuration reload.
    pub fn config_reload(&self, r: Reload) {
        self.config_reloads[r as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a certificate reload.
    pub fn cert_reload(&self, r: Reload) {
        self.cert_reloads[r as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection or request cut short.
    pub fn shed(&self, why: Shed) {
        self.shed[why as usize - 1].fetch_add(1, Ordering::Relaxed);
    }

    /// How many connections or requests were cut short for `why`.
    #[must_use]
    pub fn shed_count(&self, why: Shed) -> u64 {
        self.shed[why as usize - 1].load(Ordering::Relaxed)
    }

    /// The exposition text, with the open connections by phase (in the order of [`PHASES`]).
    #[must_use]
    pub fn render_with_connections(&self, open: &[u64; 6]) -> String {
        let mut out = self.render();
        out.push_str("# HELP kedalint_webhook_connections Open admission connections, by phase.\n");
        out.push_str("# TYPE kedalint_webhook_connections gauge\n");
        for (phase, n) in PHASES.iter().zip(open) {
            let _ = writeln!(out, "kedalint_webhook_connections{{phase=\"{phase}\"}} {n}");
        }
        out
    }

    /// The exposition text.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str(
            "# HELP kedalint_webhook_requests_total AdmissionReview requests by result.\n",
        );
        out.push_str("# TYPE kedalint_webhook_requests_total counter\n");
        for (result, n) in RESULTS.iter().zip(&self.requests) {
            let _ = writeln!(
                out,
                "kedalint_webhook_requests_total{{result=\"{result}\"}} {}",
                get(n)
            );
        }
        out.push_str(
            "# HELP kedalint_webhook_request_duration_seconds Time to answer an AdmissionReview.\n",
        );
        out.push_str("# TYPE kedalint_webhook_request_duration_seconds histogram\n");
        for (bound, n) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "kedalint_webhook_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(n)
            );
        }
        let count = get(&self.latency_count);
        let _ = writeln!(
            out,
            "kedalint_webhook_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        #[allow(clippy::cast_precision_loss)]
        let sum = get(&self.latency_sum_micros) as f64 / 1e6;
        let _ = writeln!(out, "kedalint_webhook_request_duration_seconds_sum {sum}");
        let _ = writeln!(
            out,
            "kedalint_webhook_request_duration_seconds_count {count}"
        );
        out.push_str("# HELP kedalint_webhook_findings_total Findings reported, by rule code and severity.\n");
        out.push_str("# TYPE kedalint_webhook_findings_total counter\n");
        {
            let map = self
                .findings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for ((code, severity), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "kedalint_webhook_findings_total{{code=\"{}\",severity=\"{}\"}} {n}",
                    escape(code),
                    escape(severity)
                );
            }
        }
        for (name, help, value) in [
            (
                "kedalint_webhook_probe_cache_hits_total",
                "Online probe results served from the cache.",
                &self.probe_cache_hits,
            ),
            (
                "kedalint_webhook_probe_cache_misses_total",
                "Online probe results not in the cache.",
                &self.probe_cache_misses,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                get(value)
            );
        }
        for (name, help, pair) in [
            (
                "kedalint_webhook_config_reloads_total",
                "Configuration file changes seen, by result.",
                &self.config_reloads,
            ),
            (
                "kedalint_webhook_certificate_reloads_total",
                "Certificate file changes seen, by result.",
                &self.cert_reloads,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name}{{result=\"success\"}} {}", get(&pair[0]));
            let _ = writeln!(out, "{name}{{result=\"failure\"}} {}", get(&pair[1]));
        }
        out.push_str(
            "# HELP kedalint_webhook_connections_shed_total Connections and requests cut short \
             by a limit, by reason.\n",
        );
        out.push_str("# TYPE kedalint_webhook_connections_shed_total counter\n");
        for (reason, n) in SHED_REASONS.iter().zip(&self.shed) {
            let _ = writeln!(
                out,
                "kedalint_webhook_connections_shed_total{{reason=\"{reason}\"}} {}",
                get(n)
            );
        }
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample line is `name{labels} value` with a parsable value and a declared TYPE.
    #[test]
    fn the_exposition_parses_back() {
        let m = Metrics::default();
        m.request("denied");
        m.request("allowed");
        m.request("allowed");
        m.observe_latency(Duration::from_millis(3));
        m.finding("KL101", "error");
        m.config_reload(Reload::Failure);
        m.shed(Shed::PeerLimit);
        let text = m.render_with_connections(&[0, 3, 0, 0, 0, 0]);
        let mut typed = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.push(rest.split(' ').next().unwrap().to_owned());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').unwrap();
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value in {line}"));
            let name = series.split('{').next().unwrap();
            assert!(
                typed.iter().any(|t| name.starts_with(t.as_str())),
                "{name} has no TYPE"
            );
        }
        assert!(text.contains("kedalint_webhook_requests_total{result=\"allowed\"} 2\n"));
        assert!(text.contains("kedalint_webhook_requests_total{result=\"denied\"} 1\n"));
        assert!(
            text.contains("kedalint_webhook_request_duration_seconds_bucket{le=\"0.005\"} 1\n")
        );
        assert!(
            text.contains("kedalint_webhook_request_duration_seconds_bucket{le=\"0.0025\"} 0\n")
        );
        assert!(
            text.contains("kedalint_webhook_findings_total{code=\"KL101\",severity=\"error\"} 1\n")
        );
        assert!(text.contains("kedalint_webhook_probe_cache_hits_total 0\n"));
        assert!(text.contains("kedalint_webhook_config_reloads_total{result=\"failure\"} 1\n"));
        assert!(
            text.contains("kedalint_webhook_connections_shed_total{reason=\"peer_limit\"} 1\n")
        );
        assert!(text.contains("kedalint_webhook_connections{phase=\"idle\"} 3\n"));
    }
}
