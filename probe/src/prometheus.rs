//! Probing one Prometheus server the way KEDA talks to it: reachability, build information,
//! scrape intervals, and each trigger's query with its selectors and histogram buckets.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use kedalint_rules::duration::parse_duration;
use kedalint_rules::facts::{
    ABSENCE_LOOKBACK, Facts, LiveTarget, QueryOutcome, QueryProbe, ServerOutcome, ServerProbe,
    WidenedQuery, metadata_families, parse_sample,
};
use kedalint_rules::promql::format_duration;
use kedalint_rules::source::{LoadLimits, load_stream};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::http::{Answer, Client, query_escape};
use crate::{ProbeConfig, ProbeInput, rfc3339};

/// What every task of a run shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) facts: Arc<Mutex<Facts>>,
    pub(crate) config: Arc<ProbeConfig>,
}

impl Shared {
    fn facts(&self) -> std::sync::MutexGuard<'_, Facts> {
        self.facts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One GET under the concurrency bound, counted for the progress indicator.
    async fn get(
        &self,
        url: &str,
        headers: &[(String, String)],
        timeout: Duration,
    ) -> Result<Answer, crate::http::Failure> {
        let _permit = self.permits.acquire().await;
        let r = self.client.get(url, headers, timeout).await;
        if let Some(p) = &self.config.progress {
            p.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }
}

/// The query string KEDA builds, at "now": `query`, `time`, then `namespace` unescaped, then the
/// `queryParameters`.
fn query_url(base: &str, path: &str, query: &str, input: &ProbeInput) -> String {
    api_url(
        base,
        path,
        query,
        &[("time", rfc3339(SystemTime::now()))],
        input,
    )
}

/// The query string KEDA builds, with the given time parameters in place of its `time` (an
/// instant in the past, or a range's `start`, `end` and `step`).
pub(crate) fn api_url(
    base: &str,
    path: &str,
    query: &str,
    times: &[(&str, String)],
    input: &ProbeInput,
) -> String {
    let mut url = format!("{base}{path}?query={}", query_escape(query));
    for (k, v) in times {
        url.push_str(&format!("&{k}={}", query_escape(v)));
    }
    if let Some(ns) = &input.namespace {
        url.push_str(&format!("&namespace={ns}"));
    }
    for (k, v) in &input.query_parameters {
        url.push_str(&format!("&{}={}", query_escape(k), query_escape(v)));
    }
    url
}

/// A short description of a body that is not the API's JSON.
fn describe_body(a: &Answer) -> String {
    let text = String::from_utf8_lossy(&a.body);
    let trimmed = text.trim_start();
    if a.content_type.contains("html") || trimmed.starts_with('<') {
        "an HTML page".to_owned()
    } else if serde_json::from_str::<Value>(trimmed).is_ok() {
        "JSON without `status`".to_owned()
    } else if trimmed.is_empty() {
        "an empty body".to_owned()
    } else {
        let first: String = trimmed
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(60)
            .collect();
        format!("`{first}`")
    }
}

/// Probes one server and every query of it, writing into the shared facts as results come.
pub(crate) async fn probe_server(shared: Shared, inputs: Vec<ProbeInput>) {
    let first = &inputs[0];
    let base = first.url.clone();
    let mut server = ServerProbe {
        probed_url: redact(&base),
        outcome: ServerOutcome::NotProbed {
            reason: "the probe did not finish".to_owned(),
        },
        targets: Vec::new(),
        job_intervals: BTreeMap::new(),
        queries: BTreeMap::new(),
        metric_types: BTreeMap::new(),
    };
    let timeout = shared.config.request_timeout;
    // What KEDA requests, with a query every Prometheus answers.
    let check = shared
        .get(
            &query_url(&base, "/api/v1/query", "vector(1)", first),
            &first.custom_headers,
            timeout,
        )
        .await;
    server.outcome = match check {
        Err(f) => ServerOutcome::Unreachable {
            reason: f.reason,
            detail: f.detail,
        },
        Ok(a) if a.status == 401 || a.status == 403 => {
            ServerOutcome::AuthRequired { status: a.status }
        }
        Ok(a) if (300..400).contains(&a.status) => ServerOutcome::NotProbed {
            reason: format!(
                "it answers with a redirect (HTTP {}) to {}, which kedalint does not follow",
                a.status,
                a.location
                    .as_deref()
                    .map_or("another location".to_owned(), redact)
            ),
        },
        Ok(a) => match a.json() {
            Some(v) if v.get("status").and_then(Value::as_str).is_some() => {
                ServerOutcome::Prometheus { version: None }
            }
            _ => ServerOutcome::NotPrometheus {
                status: a.status,
                detail: describe_body(&a),
            },
        },
    };
    let usable = matches!(server.outcome, ServerOutcome::Prometheus { .. });
    shared.facts().servers.insert(first.address.clone(), server);
    if !usable {
        return;
    }
    let mut tasks = JoinSet::new();
    {
        let shared = shared.clone();
        let (base, address, headers) = (
            base.clone(),
            first.address.clone(),
            first.custom_headers.clone(),
        );
        tasks.spawn(async move { server_details(shared, base, address, headers).await });
    }
    for input in inputs {
        let shared = shared.clone();
        tasks.spawn(async move { probe_query(shared, input).await });
    }
    while tasks.join_next().await.is_some() {}
}

/// Strips `user:password@` from a URL for messages.
pub(crate) fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// Build information, active targets and resolved job intervals.
async fn server_details(
    shared: Shared,
    base: String,
    address: String,
    headers: Vec<(String, String)>,
) {
    let timeout = shared.config.request_timeout;
    let data = |a: Result<Answer, crate::http::Failure>| {
        a.ok()
            .filter(|a| a.status == 200)
            .and_then(|a| a.json())
            .and_then(|mut v| v.get_mut("data").map(Value::take))
    };
    let (build_url, targets_url, config_url) = (
        format!("{base}/api/v1/status/buildinfo"),
        format!("{base}/api/v1/targets?state=active"),
        format!("{base}/api/v1/status/config"),
    );
    let (build, targets, config) = tokio::join!(
        shared.get(&build_url, &headers, timeout),
        shared.get(&targets_url, &headers, timeout),
        shared.get(&config_url, &headers, timeout),
    );
    let version = data(build).and_then(|d| d.get("version")?.as_str().map(str::to_owned));
    let targets: Vec<LiveTarget> = data(targets)
        .and_then(|d| d.get("activeTargets")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            let scrape_interval = parse_duration(t.get("scrapeInterval")?.as_str()?)?;
            let labels = t
                .get("labels")?
                .as_object()?
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect();
            Some(LiveTarget {
                labels,
                scrape_interval,
            })
        })
        .collect();
    let job_intervals = data(config)
        .and_then(|d| d.get("yaml")?.as_str().map(str::to_owned))
        .map(|yaml| job_intervals(&yaml))
        .unwrap_or_default();
    let mut facts = shared.facts();
    if let Some(s) = facts.servers.get_mut(&address) {
        s.outcome = ServerOutcome::Prometheus { version };
        s.targets = targets;
        s.job_intervals = job_intervals;
    }
}

/// Per-job scrape intervals of a resolved configuration (`/api/v1/status/config`).
fn job_intervals(yaml: &str) -> BTreeMap<String, Duration> {
    let docs = load_stream(yaml, LoadLimits::default());
    let Some(root) = docs.first().and_then(|d| d.root.as_ref()) else {
        return BTreeMap::new();
    };
    kedalint_rules::scrape::prometheus_config_intervals(root)
        .1
        .into_iter()
        .collect()
}

/// The API's error text of an answer that is not 2xx (`bad_data: …`), or what the body is.
pub(crate) fn api_error(a: &Answer, json: Option<&Value>) -> String {
    json.and_then(|v| {
        let kind = v
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("error");
        Some(format!("{kind}: {}", v.get("error")?.as_str()?))
    })
    .unwrap_or_else(|| describe_body(a))
}

/// The shape of a query answer as KEDA decodes it.
fn outcome(a: &Answer) -> QueryOutcome {
    let json = a.json();
    if !(200..300).contains(&a.status) {
        return QueryOutcome::Error {
            status: a.status,
            message: api_error(a, json.as_ref()),
        };
    }
    let Some(data) = json.as_ref().and_then(|v| v.get("data")) else {
        return QueryOutcome::Failed(format!("the answer has no `data`: {}", describe_body(a)));
    };
    let kind = data.get("resultType").and_then(Value::as_str).unwrap_or("");
    if kind != "vector" {
        return QueryOutcome::NotVector(kind.to_owned());
    }
    let result = data
        .get("result")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    match result {
        [] => QueryOutcome::Empty,
        [one] => one
            .get("value")
            .and_then(|v| v.get(1))
            .and_then(Value::as_str)
            .and_then(parse_sample)
            .map_or_else(
                || QueryOutcome::Failed("the series has no value".to_owned()),
                QueryOutcome::One,
            ),
        many => QueryOutcome::Many(many.len()),
    }
}

/// Runs one trigger's query as KEDA does, then checks its selectors and histogram buckets.
async fn probe_query(shared: Shared, input: ProbeInput) {
    let config = &shared.config;
    // KEDA waits up to its own timeout; wait as long (at least the probe timeout) so that a slow
    // query is measured rather than cut short, within the overall deadline.
    let timeout = input
        .keda_timeout
        .max(config.request_timeout)
        .min(config.deadline);
    let answer = shared
        .get(
            &query_url(&input.url, "/api/v1/query", &input.query, &input),
            &input.custom_headers,
            timeout,
        )
        .await;
    let (result, elapsed) = match &answer {
        Ok(a) => (outcome(a), a.elapsed),
        Err(f) => (
            QueryOutcome::Failed(format!("{}: {}", f.reason.describe(), f.detail)),
            f.elapsed,
        ),
    };
    let failed = matches!(result, QueryOutcome::Failed(_));
    let result_empty = result == QueryOutcome::Empty;
    shared.update(&input, |q| {
        *q = Some(QueryProbe {
            outcome: result,
            elapsed,
            keda_timeout: input.keda_timeout,
            absent_selectors: Vec::new(),
            metric_labels: BTreeMap::new(),
            largest_le: BTreeMap::new(),
            widened: None,
        });
    });
    if failed {
        return;
    }
    if result_empty && let Some(wide) = &input.widened {
        let answer = shared
            .get(
                &query_url(&input.url, "/api/v1/query", wide, &input),
                &input.custom_headers,
                timeout,
            )
            .await;
        let outcome = match &answer {
            Ok(a) => outcome(a),
            Err(f) => QueryOutcome::Failed(format!("{}: {}", f.reason.describe(), f.detail)),
        };
        shared.update(&input, |q| {
            if let Some(q) = q {
                q.widened = Some(WidenedQuery {
                    query: wide.clone(),
                    outcome,
                });
            }
        });
    }
    let window = format_duration(ABSENCE_LOOKBACK);
    let now = SystemTime::now();
    let start = rfc3339(now - ABSENCE_LOOKBACK);
    let end = rfc3339(now);
    let timeout = config.request_timeout;
    for (selector, metric) in &input.selectors {
        let check = format!("count(last_over_time({selector}[{window}]))");
        let Ok(a) = shared
            .get(
                &query_url(&input.url, "/api/v1/query", &check, &input),
                &input.custom_headers,
                timeout,
            )
            .await
        else {
            continue;
        };
        if outcome(&a) != QueryOutcome::Empty {
            continue;
        }
        // Does the metric exist without the label matchers? Then say which labels it has.
        let mut labels = None;
        if let Some(m) = metric.as_ref().filter(|m| *m != selector) {
            let url = format!(
                "{}/api/v1/labels?match[]={}&start={}&end={}",
                input.url,
                query_escape(m),
                query_escape(&start),
                query_escape(&end)
            );
            if let Ok(a) = shared.get(&url, &input.custom_headers, timeout).await {
                let names: Vec<String> = string_list(&a)
                    .into_iter()
                    .filter(|n| n != "__name__")
                    .collect();
                if !names.is_empty() {
                    labels = Some((m.clone(), names));
                }
            }
        }
        shared.update(&input, |q| {
            if let Some(q) = q {
                q.absent_selectors.push(selector.clone());
                if let Some((m, names)) = labels {
                    q.metric_labels.insert(m, names);
                }
            }
        });
    }
    metric_types(&shared, &input).await;
    for metric in &input.bucket_metrics {
        let url = format!(
            "{}/api/v1/label/le/values?match[]={}&start={}&end={}",
            input.url,
            query_escape(metric),
            query_escape(&start),
            query_escape(&end)
        );
        let Ok(a) = shared.get(&url, &input.custom_headers, timeout).await else {
            continue;
        };
        let largest = string_list(&a)
            .iter()
            .filter_map(|v| parse_sample(v))
            .filter(|v| v.is_finite())
            .max_by(f64::total_cmp);
        if let Some(le) = largest {
            shared.update(&input, |q| {
                if let Some(q) = q {
                    q.largest_le.insert(metric.clone(), le);
                }
            });
        }
    }
}

/// Reads the types of the counter-like metrics a query uses as levels from
/// `/api/v1/metadata?metric=…` (each family once per server).
async fn metric_types(shared: &Shared, input: &ProbeInput) {
    for name in &input.counter_metrics {
        for family in metadata_families(name) {
            let known = shared
                .facts()
                .servers
                .get(&input.address)
                .is_some_and(|s| s.metric_types.contains_key(family));
            if known {
                continue;
            }
            let url = format!(
                "{}/api/v1/metadata?metric={}",
                input.url,
                query_escape(family)
            );
            let Ok(a) = shared
                .get(&url, &input.custom_headers, shared.config.request_timeout)
                .await
            else {
                continue;
            };
            let Some(t) = metadata_type(&a, family) else {
                continue;
            };
            if let Some(s) = shared.facts().servers.get_mut(&input.address) {
                s.metric_types.insert(family.to_owned(), t);
            }
        }
    }
}

/// The type in a `/api/v1/metadata` answer for `family` (the first entry's, as Prometheus
/// lists one per distinct help text).
fn metadata_type(a: &Answer, family: &str) -> Option<String> {
    if a.status != 200 {
        return None;
    }
    let v = a.json()?;
    let entries = v.get("data")?.get(family)?.as_array()?;
    entries.first()?.get("type")?.as_str().map(str::to_owned)
}

/// `data` as a list of strings (`/api/v1/labels`, `/api/v1/label/…/values`).
fn string_list(a: &Answer) -> Vec<String> {
    if a.status != 200 {
        return Vec::new();
    }
    a.json()
        .and_then(|v| v.get("data")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

impl Shared {
    /// Updates the probe of one input's query in place.
    fn update(&self, input: &ProbeInput, f: impl FnOnce(&mut Option<QueryProbe>)) {
        let mut facts = self.facts();
        let Some(server) = facts.servers.get_mut(&input.address) else {
            return;
        };
        let mut slot = server.queries.remove(&input.query);
        f(&mut slot);
        if let Some(q) = slot {
            server.queries.insert(input.query.clone(), q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_intervals_come_from_the_resolved_configuration() {
        let yaml = "global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: demo\n  scrape_interval: 1s\n- job_name: other\n";
        let j = job_intervals(yaml);
        assert_eq!(j["demo"], Duration::from_secs(1));
        assert_eq!(j["other"], Duration::from_secs(15));
    }

    #[test]
    fn credentials_in_urls_are_not_repeated() {
        assert_eq!(redact("http://u:p@host:9090/x"), "http://host:9090/x");
        assert_eq!(redact("http://host:9090"), "http://host:9090");
    }
}
