//! History for `kubectl kedalint replay`: one trigger's query over a past window with
//! `query_range`, sent as KEDA sends its instant query (same URL building, headers, namespace,
//! parameters, address map and client bounds as the online probe), chunked under Prometheus's
//! points limit, and each step read the way KEDA reads an instant answer.
//!
//! A range query evaluates the expression at start, start+step, …, end, each step exactly as an
//! instant query at that second would (replay-semantics §2.1), so step i is what KEDA would have
//! read at tick i on the same stored data.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kedalint_rules::facts::parse_sample;
use kedalint_rules::replay::Sample;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::http::{Answer, Client};
use crate::prometheus::{api_error, api_url, redact};
use crate::{ProbeConfig, ProbeInput, refuse, rfc3339, seconds};

/// Prometheus refuses a range query with more than 11,000 points per series
/// (`web/api/v1/api.go`): a chunk holds at most this many ticks.
pub const MAX_POINTS: usize = 11_000;

/// Most chunks one trigger's history may take; a longer window is refused before any request
/// (at a 15 s step, 100 chunks are 191 days).
pub const MAX_CHUNKS: usize = 100;

/// The ticks of a replay: `ticks` instants `step_seconds` apart from `start` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Unix seconds of tick 0.
    pub start: i64,
    /// Seconds between ticks.
    pub step_seconds: u32,
    /// Number of ticks.
    pub ticks: usize,
}

impl Window {
    /// Unix seconds of tick `i`.
    #[must_use]
    pub fn at(&self, i: usize) -> i64 {
        self.start + i64::from(self.step_seconds) * i64::try_from(i).unwrap_or(i64::MAX)
    }

    /// The tick ranges of each `query_range`, in order, each at most [`MAX_POINTS`] ticks.
    #[must_use]
    pub fn chunks(&self) -> Vec<Range<usize>> {
        (0..self.ticks)
            .step_by(MAX_POINTS)
            .map(|s| s..(s + MAX_POINTS).min(self.ticks))
            .collect()
    }
}

/// What one trigger's history holds.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// One sample per tick of the window.
    pub samples: Vec<Sample>,
    /// Whether Prometheus answered any request with a 2xx: when no trigger's history was
    /// answered, nothing was replayed.
    pub answered: bool,
    /// What went wrong or what the history stands for, one sentence each.
    pub notes: Vec<String>,
}

/// The result type of the query, from one instant query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Vector,
    RangeVector,
}

/// Fetches the history of every input over `window` (inputs run concurrently, at most
/// `config.concurrency` requests in flight; chunks of one input run in order). Each request
/// waits at most the longer of the trigger's KEDA timeout and `config.request_timeout`, and the
/// whole fetch ends by `config.deadline`: ticks not fetched by then are errors saying so.
/// `histories[i]` belongs to `inputs[i]`.
pub async fn fetch_histories(
    inputs: &[ProbeInput],
    window: Window,
    config: &ProbeConfig,
) -> Vec<History> {
    let client = match Client::new(
        config.request_timeout,
        config.max_body,
        config.resolver.clone(),
    ) {
        Ok(c) => c,
        Err(e) => {
            return inputs
                .iter()
                .map(|_| failed(window, format!("the HTTP client failed: {e}")))
                .collect();
        }
    };
    let until = Instant::now() + config.deadline;
    let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let config = Arc::new(config.clone());
    let mut tasks = JoinSet::new();
    for (i, input) in inputs.iter().enumerate() {
        let fetch = Fetch {
            client: client.clone(),
            permits: permits.clone(),
            config: config.clone(),
            input: input.clone(),
            window,
            until,
        };
        tasks.spawn(async move { (i, fetch.run().await) });
    }
    let mut out: Vec<Option<History>> = vec![None; inputs.len()];
    while let Some(done) = tasks.join_next().await {
        if let Ok((i, h)) = done {
            out[i] = Some(h);
        }
    }
    out.into_iter()
        .map(|h| h.unwrap_or_else(|| failed(window, "the fetch did not finish".to_owned())))
        .collect()
}

/// A history where every tick is the same error.
fn failed(window: Window, why: String) -> History {
    History {
        samples: vec![Sample::Error(why.clone()); window.ticks],
        answered: false,
        notes: vec![why],
    }
}

/// One input's fetch.
struct Fetch {
    client: Client,
    permits: Arc<Semaphore>,
    config: Arc<ProbeConfig>,
    input: ProbeInput,
    window: Window,
    until: Instant,
}

impl Fetch {
    async fn run(self) -> History {
        let where_ = redact(&self.input.url);
        if let Some(reason) = refuse(&self.input.url, &self.config) {
            return failed(self.window, format!("`{where_}` was not queried: {reason}"));
        }
        let end = self.window.at(self.window.ticks.saturating_sub(1));
        let check = api_url(
            &self.input.url,
            "/api/v1/query",
            &self.input.query,
            &[("time", rfc3339_at(end))],
            &self.input,
        );
        let shape = match self.get(&check).await {
            Err(why) => return failed(self.window, format!("`{where_}`: {why}")),
            Ok((a, json)) => match result_type(&json) {
                Some("vector") => Shape::Vector,
                Some("matrix") => Shape::RangeVector,
                Some(other) => {
                    let why = format!(
                        "the query returns a {other}, which KEDA cannot read: every poll is an error"
                    );
                    return History {
                        samples: vec![Sample::Error(why.clone()); self.window.ticks],
                        answered: true,
                        notes: vec![why],
                    };
                }
                None => {
                    return failed(
                        self.window,
                        format!(
                            "`{where_}` answered HTTP {} without a result type",
                            a.status
                        ),
                    );
                }
            },
        };
        let mut notes = Vec::new();
        // A range query cannot evaluate a range vector; `last_over_time` keeps one point per
        // series that has a sample in the window, which is how many series KEDA's decoder sees.
        let query = match shape {
            Shape::RangeVector => {
                notes.push(
                    "the query returns a range vector: KEDA decodes each series without a value, so one series reads as empty and several as an error".to_owned(),
                );
                format!("last_over_time({})", self.input.query)
            }
            Shape::Vector => self.input.query.clone(),
        };
        let mut samples = Vec::with_capacity(self.window.ticks);
        let mut any_ok = false;
        for chunk in self.window.chunks() {
            let (from, to) = (self.window.at(chunk.start), self.window.at(chunk.end - 1));
            let url = api_url(
                &self.input.url,
                "/api/v1/query_range",
                &query,
                &[
                    ("start", from.to_string()),
                    ("end", to.to_string()),
                    ("step", self.window.step_seconds.to_string()),
                ],
                &self.input,
            );
            match self.get(&url).await {
                Ok((_, json)) => match steps(&json, from, self.window.step_seconds, chunk.len()) {
                    Some(counted) => {
                        any_ok = true;
                        samples.extend(counted.into_iter().map(|(n, v)| match (shape, n) {
                            (_, 0) | (Shape::RangeVector, 1) => Sample::Empty,
                            (_, 1) => Sample::Value(v),
                            (_, n) => Sample::Multiple(n),
                        }));
                    }
                    None => {
                        let why = "the range answer is not a matrix".to_owned();
                        notes.push(chunk_note(from, to, &why));
                        samples.extend(chunk.map(|_| Sample::Error(why.clone())));
                    }
                },
                Err(why) => {
                    notes.push(chunk_note(from, to, &why));
                    samples.extend(chunk.map(|_| Sample::Error(why.clone())));
                }
            }
        }
        History {
            samples,
            answered: any_ok,
            notes,
        }
    }

    /// One GET within the deadline; a 2xx answer with its JSON, else why not.
    async fn get(&self, url: &str) -> Result<(Answer, Value), String> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "not fetched: the deadline of {} passed first",
                seconds(self.config.deadline)
            ));
        }
        let timeout = self
            .input
            .keda_timeout
            .max(self.config.request_timeout)
            .min(left);
        let answer = {
            let _permit = self.permits.acquire().await;
            self.client
                .get(url, &self.input.custom_headers, timeout)
                .await
        };
        if let Some(p) = &self.config.progress {
            p.fetch_add(1, Ordering::Relaxed);
        }
        let a = answer.map_err(|f| format!("{}: {}", f.reason.describe(), f.detail))?;
        let json = a.json();
        if !(200..300).contains(&a.status) {
            return Err(format!(
                "HTTP {}: {}",
                a.status,
                api_error(&a, json.as_ref())
            ));
        }
        match json {
            Some(j) => Ok((a, j)),
            None => Err(format!(
                "HTTP {} with a body that is not JSON: {}",
                a.status,
                api_error(&a, None)
            )),
        }
    }
}

fn chunk_note(from: i64, to: i64, why: &str) -> String {
    format!(
        "the history from {} to {} could not be fetched ({why}): those ticks are errors",
        rfc3339_at(from),
        rfc3339_at(to)
    )
}

fn result_type(json: &Value) -> Option<&str> {
    json.get("data")?.get("resultType")?.as_str()
}

/// Per step of a range answer: how many series had a point there, and the last one's value.
/// `None` when the answer is not a matrix.
fn steps(json: &Value, start: i64, step: u32, len: usize) -> Option<Vec<(usize, f64)>> {
    if result_type(json)? != "matrix" {
        return None;
    }
    let mut out = vec![(0usize, 0.0f64); len];
    for series in json.get("data")?.get("result")?.as_array()? {
        let Some(values) = series.get("values").and_then(Value::as_array) else {
            continue;
        };
        for point in values {
            let (Some(t), Some(v)) = (
                point.get(0).and_then(Value::as_f64),
                point.get(1).and_then(Value::as_str).and_then(parse_sample),
            ) else {
                continue;
            };
            #[allow(clippy::cast_possible_truncation)]
            let offset = ((t - start as f64) / f64::from(step)).round() as i64;
            if let Some(slot) = usize::try_from(offset).ok().and_then(|i| out.get_mut(i)) {
                slot.0 += 1;
                slot.1 = v;
            }
        }
    }
    Some(out)
}

/// RFC 3339 of a unix second, as the API and the output write instants.
#[must_use]
pub fn rfc3339_at(t: i64) -> String {
    let at = u64::try_from(t).map_or(UNIX_EPOCH, |s| UNIX_EPOCH + Duration::from_secs(s));
    rfc3339(at)
}

/// Unix seconds now.
#[must_use]
pub fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_window_over_the_points_limit_is_split_into_chunks_of_at_most_the_limit() {
        let w = Window {
            start: 0,
            step_seconds: 1,
            ticks: 2 * MAX_POINTS + 5,
        };
        assert_eq!(
            w.chunks(),
            vec![
                0..MAX_POINTS,
                MAX_POINTS..2 * MAX_POINTS,
                2 * MAX_POINTS..2 * MAX_POINTS + 5
            ]
        );
        let small = Window {
            start: 0,
            step_seconds: 15,
            ticks: 3,
        };
        assert_eq!(small.chunks(), vec![0..3]);
        assert_eq!(small.at(2), 30);
    }

    #[test]
    fn each_step_counts_the_series_with_a_point_there() {
        let answer = json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"a": "1"}, "values": [[100, "1.5"], [130, "NaN"]]},
            {"metric": {"a": "2"}, "values": [[130, "2"]]}
        ]}});
        let s = steps(&answer, 100, 15, 3).unwrap();
        assert_eq!(s[0], (1, 1.5));
        assert_eq!(s[1], (0, 0.0));
        assert_eq!(s[2].0, 2);
        let vector = json!({"data": {"resultType": "vector", "result": []}});
        assert_eq!(steps(&vector, 0, 15, 1), None);
    }
}
