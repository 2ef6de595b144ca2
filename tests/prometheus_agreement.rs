//! What kedalint predicts about a query's result agrees with what a real Prometheus returns.
//!
//! The test backfills a TSDB with `promtool tsdb create-blocks-from openmetrics` (series scraped
//! every 60s and every 15s, ending about a minute ago), starts the Debian `/usr/bin/prometheus`
//! on a free port and asks `/api/v1/query` at an instant between samples, as a live KEDA poll
//! would. For each query, kedalint's findings predict the answer: KL202 means an empty result,
//! no KL202 a non-empty one; KL204 more than one series, a clean vector query exactly one; KL205
//! empty; KL206 a matrix; KL207 a scalar; KL211 a NaN when there is no traffic.
//!
//! Without the binaries the test skips with a message; `KEDALINT_REQUIRE_PROMETHEUS=1` (set by
//! .ci/run) turns the skip into a failure.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kedalint_rules::{Settings, lint_text};
use kedalint_tests::live::Backfilled;
use serde_json::Value;

/// The Debian Prometheus serving the backfilled history (`kedalint_tests::live::Backfilled`: the
/// evaluation interval stays at its 1m default, the step of a subquery written without one).
struct Prometheus(Backfilled);

impl Prometheus {
    /// Backfills `openmetrics` and starts Prometheus on it; `None` (a visible skip, a failure in
    /// CI) without the binaries.
    fn start(openmetrics: &str) -> Option<Self> {
        Backfilled::start(openmetrics).map(Self)
    }

    /// An instant query at `time` (unix seconds).
    fn query(&self, query: &str, time: u64) -> Value {
        let path = format!("/api/v1/query?query={}&time={time}", urlencode(query));
        let (status, body) = http_get(&self.0.addr.to_string(), &path).expect("query prometheus");
        assert_eq!(status, 200, "{query}: HTTP {status}: {body}");
        let v: Value = serde_json::from_str(&body).expect("JSON answer");
        assert_eq!(v["status"], "success", "{query}: {body}");
        v["data"].clone()
    }
}

/// A minimal HTTP/1.1 GET over a TcpStream: status and body (chunked bodies decoded).
fn http_get(address: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// OpenMetrics text: a job `slow` scraped every 60s and a job `fast` every 15s, for the hour
/// before `end` (a multiple of 60s).
fn backfill(end: u64) -> String {
    let start = end - 3600;
    let mut om = String::new();
    let series =
        |om: &mut String, name: &str, labels: &str, step: u64, value: &dyn Fn(u64) -> f64| {
            let mut t = start;
            while t <= end {
                let _ = writeln!(om, "{name}{{{labels}}} {} {t}", value(t - start));
                t += step;
            }
        };
    om.push_str("# TYPE kl_requests counter\n");
    for (job, step) in [("slow", 60), ("fast", 15)] {
        for (pod, per_sec) in [("a", 10.0), ("b", 4.0)] {
            series(
                &mut om,
                "kl_requests_total",
                &format!("job=\"{job}\",pod=\"{pod}\""),
                step,
                &|dt| per_sec * dt as f64,
            );
        }
    }
    om.push_str("# TYPE kl_latency_seconds histogram\n");
    for pod in ["a", "b"] {
        for (le, share) in [("0.1", 0.5), ("0.5", 0.9), ("1.0", 0.99), ("+Inf", 1.0)] {
            series(
                &mut om,
                "kl_latency_seconds_bucket",
                &format!("job=\"slow\",pod=\"{pod}\",le=\"{le}\""),
                60,
                &|dt| share * 10.0 * dt as f64,
            );
        }
    }
    // A histogram with no traffic: every bucket rate is 0, so its quantile is NaN.
    om.push_str("# TYPE kl_frozen_seconds histogram\n");
    for le in ["0.1", "1.0", "+Inf"] {
        series(
            &mut om,
            "kl_frozen_seconds_bucket",
            &format!("job=\"slow\",le=\"{le}\""),
            60,
            &|_| 5.0,
        );
    }
    om.push_str("# TYPE kl_queue_length gauge\n");
    for (queue, v) in [("a", 7.0), ("b", 3.0)] {
        series(
            &mut om,
            "kl_queue_length",
            &format!("job=\"slow\",queue=\"{queue}\""),
            60,
            &|dt| v + (dt / 60 % 3) as f64,
        );
    }
    om.push_str("# EOF\n");
    om
}

/// A ScaledObject whose series are scraped every `scrape`.
fn scaled_object(query: &str, scrape: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n  namespace: default\n  annotations:\n    kedalint.io/scrape-interval: {scrape}\nspec:\n  scaleTargetRef:\n    name: app\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://prometheus:9090\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n        query: {}\n",
        serde_json::to_string(query).expect("json string")
    )
}

/// What Prometheus answered, reduced to what KEDA cares about.
#[derive(Debug, PartialEq)]
enum Answer {
    Matrix,
    Scalar,
    Vector { series: usize, nan: bool },
}

fn answer(data: &Value) -> Answer {
    match data["resultType"].as_str() {
        Some("matrix") => Answer::Matrix,
        Some("scalar" | "string") => Answer::Scalar,
        _ => {
            let result = data["result"].as_array().cloned().unwrap_or_default();
            let nan = result.iter().any(|s| s["value"][1] == "NaN");
            Answer::Vector {
                series: result.len(),
                nan,
            }
        }
    }
}

/// The answer kedalint's findings predict, and whether it agrees with Prometheus's.
fn agrees(codes: &[&str], got: &Answer) -> Result<(), String> {
    let has = |c: &str| codes.contains(&c);
    match got {
        Answer::Matrix if has("KL206") => Ok(()),
        Answer::Scalar if has("KL207") => Ok(()),
        Answer::Matrix | Answer::Scalar => {
            Err("a matrix or scalar answer without KL206/KL207".into())
        }
        Answer::Vector { .. } if has("KL206") || has("KL207") => {
            Err("KL206/KL207 predicted, but Prometheus answered a vector".into())
        }
        Answer::Vector { series: 0, .. } => {
            if has("KL202") || has("KL205") {
                Ok(())
            } else {
                Err("empty result that no KL202/KL205 predicted".into())
            }
        }
        Answer::Vector { series, nan } => {
            if has("KL202") || has("KL205") {
                return Err(format!("KL202/KL205 predicted empty, got {series} series"));
            }
            if (*series > 1) != has("KL204") {
                return Err(format!(
                    "{series} series, KL204 predicted: {}",
                    has("KL204")
                ));
            }
            if *nan && !has("KL211") {
                return Err("NaN that no KL211 predicted".into());
            }
            Ok(())
        }
    }
}

/// (query, scrape interval of its series, the KL2xx codes kedalint must report)
const CASES: &[(&str, &str, &[&str])] = &[
    // The seed: [1m] at a 1m scrape is empty; [5m] is one series.
    (
        "histogram_quantile(0.95, sum(rate(kl_latency_seconds_bucket{job=\"slow\"}[1m])) by (le))",
        "1m",
        &["KL202", "KL211"],
    ),
    (
        "histogram_quantile(0.95, sum(rate(kl_latency_seconds_bucket{job=\"slow\"}[5m])) by (le))",
        "1m",
        &["KL211"],
    ),
    (
        "sum(rate(kl_requests_total{job=\"slow\"}[1m]))",
        "1m",
        &["KL202"],
    ),
    (
        "sum(rate(kl_requests_total{job=\"slow\"}[90s]))",
        "1m",
        &["KL202"],
    ),
    (
        "sum(irate(kl_requests_total{job=\"slow\"}[1m]))",
        "1m",
        &["KL202", "KL209"],
    ),
    (
        "sum(increase(kl_requests_total{job=\"slow\"}[1m]))",
        "1m",
        &["KL202"],
    ),
    (
        "sum(rate(kl_requests_total{job=\"slow\"}[2m]))",
        "1m",
        &["KL203"],
    ),
    (
        "sum(rate(kl_requests_total{job=\"fast\"}[20s]))",
        "15s",
        &["KL202"],
    ),
    (
        "sum(rate(kl_requests_total{job=\"fast\"}[30s]))",
        "15s",
        &["KL203"],
    ),
    ("sum(rate(kl_requests_total{job=\"fast\"}[1m]))", "15s", &[]),
    ("sum(avg_over_time(kl_queue_length[30s]))", "1m", &["KL202"]),
    ("sum(avg_over_time(kl_queue_length[1m]))", "1m", &["KL203"]),
    // A raw selector inside a subquery still reads samples 60s apart, whatever the 10s step.
    (
        "max_over_time(sum(rate(kl_requests_total{job=\"slow\"}[30s]))[5m:10s])",
        "1m",
        &["KL202"],
    ),
    (
        "max_over_time(sum(rate(kl_requests_total{job=\"slow\"}[5m]))[5m:10s])",
        "1m",
        &[],
    ),
    // A subquery range read by rate() holds points one step apart.
    (
        "rate(sum(kl_requests_total{job=\"slow\"})[3m:2m])",
        "1m",
        &["KL202", "KL213"],
    ),
    // Result shapes.
    (
        "sum by (pod) (rate(kl_requests_total{job=\"slow\"}[5m]))",
        "1m",
        &["KL204"],
    ),
    (
        "sum by (pod) (rate(kl_requests_total{job=\"slow\", pod=\"a\"}[5m]))",
        "1m",
        &[],
    ),
    ("kl_queue_length", "1m", &["KL204"]),
    ("sum(kl_queue_length)", "1m", &[]),
    (
        "histogram_quantile(0.95, sum by (pod) (rate(kl_latency_seconds_bucket{job=\"slow\"}[5m])))",
        "1m",
        &["KL204", "KL205"],
    ),
    ("kl_queue_length{queue=\"a\"}[5m]", "1m", &["KL206"]),
    ("scalar(sum(kl_queue_length))", "1m", &["KL207"]),
    ("1 + 1", "1m", &["KL207"]),
    ("vector(1)", "1m", &[]),
    (
        "histogram_quantile(0.95, sum(rate(kl_frozen_seconds_bucket{job=\"slow\"}[5m])) by (le))",
        "1m",
        &["KL211"],
    ),
];

#[test]
fn kedalint_predictions_match_a_real_prometheus() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // Data ends on a minute boundary at least a minute ago. The evaluation instant falls between
    // samples (37s past a minute, 7s past a 15s sample), and is 97s past a 2m boundary, where a
    // [3m:2m] subquery holds a single point.
    let end = now / 120 * 120 - 120;
    let at = end - 600 + 97;
    let Some(server) = Prometheus::start(&backfill(end)) else {
        return;
    };
    let mut problems = Vec::new();
    for (query, scrape, expected) in CASES {
        let report = lint_text(
            "so.yaml",
            &scaled_object(query, scrape),
            &Settings::default(),
        );
        let mut codes: Vec<&str> = report
            .findings
            .iter()
            .map(|f| f.code)
            .filter(|c| c.starts_with("KL2"))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        if codes != *expected {
            problems.push(format!(
                "{query}: kedalint reports {codes:?}, the case expects {expected:?}"
            ));
        }
        let got = answer(&server.query(query, at));
        if let Err(why) = agrees(&codes, &got) {
            problems.push(format!(
                "{query} (scrape {scrape}): {why}; Prometheus: {got:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_short_window_is_empty_only_between_samples_the_way_the_message_says() {
    // "at many instants it holds only one sample": a 90s window at a 60s scrape is empty at some
    // instants and not at others, so the finding is about a real, intermittent failure.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let end = now / 120 * 120 - 120;
    let Some(server) = Prometheus::start(&backfill(end)) else {
        return;
    };
    let q = "sum(rate(kl_requests_total{job=\"slow\"}[90s]))";
    let empty_at = |t: u64| {
        answer(&server.query(q, t))
            == Answer::Vector {
                series: 0,
                nan: false,
            }
    };
    let base = end - 600;
    assert!(
        empty_at(base + 37),
        "90s window 37s past a sample should hold one sample"
    );
    assert!(
        !empty_at(base + 10),
        "90s window 10s past a sample should hold two samples"
    );
}

#[test]
fn a_disagreement_is_caught() {
    let empty = Answer::Vector {
        series: 0,
        nan: false,
    };
    let two = Answer::Vector {
        series: 2,
        nan: false,
    };
    assert!(agrees(&[], &empty).is_err());
    assert!(agrees(&["KL202"], &two).is_err());
    assert!(agrees(&[], &two).is_err());
    assert!(agrees(&["KL204"], &two).is_ok());
    assert!(agrees(&["KL206"], &Answer::Scalar).is_err());
}
