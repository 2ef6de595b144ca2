//! Recorded histories for the replay tests, written as OpenMetrics text for
//! `promtool tsdb create-blocks-from openmetrics`: fixed instants in the recent past, so a replay
//! over them is the same on every run.
//!
//! Scrapes land a quarter second off the whole second (`…:07.25`), as real scrapes do: a tick
//! (whole seconds, as KEDA sends `time=`) never meets a scrape exactly, so Prometheus 2.x's
//! closed range windows behave as on a live server.

use std::fmt::Write as _;

/// 2026-11-12T10:00:00Z: the start of every replay window in the tests.
pub const T0: i64 = 1_794_477_600;

/// RFC 3339 of `T0 + minutes`.
#[must_use]
pub fn at(minutes: i64) -> String {
    let t = T0 + minutes * 60;
    let (h, m) = (t % 86_400 / 3600, t % 3600 / 60);
    format!("2026-11-12T{h:02}:{m:02}:00Z")
}

/// Data starts this long before `T0`, so every window the queries use is full at the first
/// tick.
const LEAD: i64 = 20 * 60;
/// And ends this long after `T0` (the chunking test replays 3h10m at a 1 s step).
const TAIL: i64 = 200 * 60;

/// The seed scenario's load tests, as (start, end) seconds after `T0`: 120 s, 180 s and 60 s,
/// idle in between.
pub const LOAD_TESTS: [(i64, i64); 3] = [(300, 420), (1200, 1380), (2400, 2460)];

/// Requests per second per pod during a load test.
pub const RPS: f64 = 10.0;

/// Cumulative share of requests at or under each bucket bound: the 0.95 quantile interpolates
/// in (1, 2] at (0.95 − 0.5) / (1.0 − 0.5) = 0.9 of the way, so p95 = 1.9 s exactly, whatever
/// the request rate.
pub const LATENCY_BUCKETS: [(&str, f64); 7] = [
    ("0.1", 0.05),
    ("0.25", 0.15),
    ("0.5", 0.3),
    ("1", 0.5),
    ("2", 1.0),
    ("5", 1.0),
    ("+Inf", 1.0),
];

/// Seconds of load before `s` (seconds after `T0`).
#[must_use]
pub fn load_seconds_before(s: f64) -> f64 {
    LOAD_TESTS
        .iter()
        .map(|&(a, b)| (s.min(b as f64) - a as f64).max(0.0))
        .sum()
}

/// Writes one series sampled every `every` seconds, `offset` seconds past each step.
fn series(om: &mut String, name_labels: &str, every: i64, offset: f64, value: &dyn Fn(f64) -> f64) {
    let mut s = -LEAD;
    while s <= TAIL {
        let t = s as f64 + offset;
        let _ = writeln!(om, "{name_labels} {} {:.3}", value(t), T0 as f64 + t);
        s += every;
    }
}

/// Everything the replay tests query, one OpenMetrics text:
/// - `inference_latency_seconds_bucket{pod=a|b|c, le}`: three pods scraped every 1m, the three
///   load tests of [`LOAD_TESTS`] at p95 = 1.9 s, flat counters in between (so a wider window
///   reads NaN when idle: 0 observations);
/// - `queue_ready{queue="jobs"|"mail"}`: gauges scraped every 15 s; `jobs` is 0, then 95 from
///   10:05 to 10:10, 40 to 10:15, 0 after; `mail` is always 3;
/// - `idle_latency_seconds_bucket{le}`: a histogram with no traffic at all (its quantile is NaN
///   at every instant), scraped every 15 s.
#[must_use]
pub fn openmetrics() -> String {
    let mut om = String::new();
    om.push_str("# TYPE inference_latency_seconds histogram\n");
    for pod in ["a", "b", "c"] {
        for (le, share) in LATENCY_BUCKETS {
            series(
                &mut om,
                &format!("inference_latency_seconds_bucket{{pod=\"{pod}\",le=\"{le}\"}}"),
                60,
                7.25,
                &|t| (RPS * load_seconds_before(t) * share).round(),
            );
        }
    }
    om.push_str("# TYPE queue_ready gauge\n");
    series(&mut om, "queue_ready{queue=\"jobs\"}", 15, 5.25, &|t| {
        jobs_queue(t)
    });
    series(&mut om, "queue_ready{queue=\"mail\"}", 15, 5.25, &|_| 3.0);
    om.push_str("# TYPE idle_latency_seconds histogram\n");
    for le in ["0.5", "1", "+Inf"] {
        series(
            &mut om,
            &format!("idle_latency_seconds_bucket{{le=\"{le}\"}}"),
            15,
            5.25,
            &|_| 42.0,
        );
    }
    om.push_str("# EOF\n");
    om
}

/// The `jobs` queue at `t` seconds after `T0`.
#[must_use]
pub fn jobs_queue(t: f64) -> f64 {
    if (300.0..600.0).contains(&t) {
        95.0
    } else if (600.0..900.0).contains(&t) {
        40.0
    } else {
        0.0
    }
}
