//! Online checks for kedalint: probes the Prometheus servers that triggers name (and, in cluster
//! mode, reads the Services they point at) under a time budget, and returns the
//! [`Facts`] the KL4xx rules read. The rules stay pure; all I/O is here.
//!
//! Bounded by design: GET only, no redirects followed, no proxies, a timeout per request, an
//! overall deadline after which whatever was learned is returned, at most
//! [`ProbeConfig::concurrency`] requests in flight, and answers capped in size. Credentials are
//! never read: only what the trigger's metadata says (`customHeaders`) is sent.

#[cfg(feature = "cluster")]
pub mod cluster;
#[cfg(feature = "cluster")]
pub mod cluster_status;
mod http;
pub mod inputs;
mod prometheus;
pub mod range;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kedalint_rules::facts::{Facts, QueryOutcome, ServerOutcome, ServerProbe};
use kedalint_rules::{Note, parse_server_address};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use inputs::{
    ProbeInput, TriggerUse, inputs_of_files, inputs_of_nodes, inputs_of_object, mapped_url,
};
/// reqwest's resolver types, to implement [`Resolver`] without depending on reqwest directly.
pub use reqwest::dns;

/// Errors of the probe crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
    /// The kubeconfig could not be read or used.
    #[cfg(feature = "cluster")]
    #[error("cannot use the kubeconfig")]
    Kubeconfig(#[source] kube::Error),
    /// The Kubernetes API answered with an error.
    #[cfg(feature = "cluster")]
    #[error("cannot read {what} from the cluster")]
    Kube {
        /// What was being read.
        what: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
}

/// `Result` with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Limits of one probe run.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Timeout of each request (the trigger's own query may wait up to KEDA's timeout for it).
    pub request_timeout: Duration,
    /// The whole run ends by then, with whatever was learned.
    pub deadline: Duration,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Largest answer read, in bytes.
    pub max_body: usize,
    /// Hosts (`host` or `host:port`) that may be contacted; `None` allows every host.
    pub allowed_hosts: Option<Vec<String>>,
    /// Counts answered requests, for a progress indicator.
    pub progress: Option<Arc<AtomicUsize>>,
    /// Resolves host names instead of the system resolver (the webhook answers only with
    /// addresses it has checked); `None` uses the system resolver.
    pub resolver: Option<Resolver>,
}

/// A DNS resolver for the probe's HTTP client. Addresses written as IP literals are not resolved.
#[derive(Clone)]
pub struct Resolver(pub Arc<dyn dns::Resolve>);

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(2),
            deadline: Duration::from_secs(10),
            concurrency: 8,
            max_body: 4 << 20,
            allowed_hosts: None,
            progress: None,
            resolver: None,
        }
    }
}

/// Installs the ring crypto provider for rustls (idempotent): reqwest and kube are built without
/// one of their own.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Probes every server and query of `inputs` within `config.deadline`. Never fails: what could
/// not be learned is absent from the facts, or recorded as [`ServerOutcome::NotProbed`];
/// [`notes`] says what.
pub async fn probe(inputs: &[ProbeInput], config: &ProbeConfig) -> Facts {
    let mut facts = Facts {
        probed_at: Some(rfc3339(SystemTime::now())),
        ..Facts::default()
    };
    let mut by_server: BTreeMap<String, Vec<ProbeInput>> = BTreeMap::new();
    for i in inputs {
        by_server
            .entry(i.address.clone())
            .or_default()
            .push(i.clone());
    }
    let client = match http::Client::new(
        config.request_timeout,
        config.max_body,
        config.resolver.clone(),
    ) {
        Ok(c) => c,
        Err(e) => {
            for (address, group) in by_server {
                facts.servers.insert(
                    address,
                    not_probed(&group[0].url, format!("the HTTP client failed: {e}")),
                );
            }
            return facts;
        }
    };
    let mut runnable = Vec::new();
    for (address, group) in by_server {
        match refuse(&group[0].url, config) {
            Some(reason) => {
                facts
                    .servers
                    .insert(address, not_probed(&group[0].url, reason));
            }
            None => runnable.push(group),
        }
    }
    let shared = prometheus::Shared {
        client,
        permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
        facts: Arc::new(Mutex::new(facts)),
        config: Arc::new(config.clone()),
    };
    let mut tasks = JoinSet::new();
    let addresses: Vec<(String, String)> = runnable
        .iter()
        .map(|g| (g[0].address.clone(), g[0].url.clone()))
        .collect();
    for group in runnable {
        tasks.spawn(prometheus::probe_server(shared.clone(), group));
    }
    let finished = tokio::time::timeout(config.deadline, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    tasks.abort_all();
    let mut facts =
        std::mem::take(&mut *shared.facts.lock().unwrap_or_else(PoisonError::into_inner));
    if !finished {
        for (address, url) in addresses {
            facts.servers.entry(address).or_insert_with(|| {
                not_probed(
                    &url,
                    format!(
                        "the overall deadline of {} passed first",
                        seconds(config.deadline)
                    ),
                )
            });
        }
    }
    facts
}

fn not_probed(url: &str, reason: String) -> ServerProbe {
    ServerProbe {
        probed_url: prometheus::redact(url),
        outcome: ServerOutcome::NotProbed { reason },
        targets: Vec::new(),
        job_intervals: BTreeMap::new(),
        queries: BTreeMap::new(),
        metric_types: BTreeMap::new(),
    }
}

/// Why a URL is not probed at all: not a usable http(s) URL, or its host is not allowed.
fn refuse(url: &str, config: &ProbeConfig) -> Option<String> {
    let parsed = match parse_server_address(url) {
        Ok(p) => p,
        Err(e) => return Some(format!("the address {} (KL107)", e.message)),
    };
    let allowed = config.allowed_hosts.as_ref()?;
    let host_port = parsed.port.map_or_else(
        || parsed.host.to_owned(),
        |p| format!("{}:{p}", parsed.host),
    );
    if allowed
        .iter()
        .any(|a| a.eq_ignore_ascii_case(parsed.host) || a.eq_ignore_ascii_case(&host_port))
    {
        None
    } else {
        Some(format!(
            "its host `{host_port}` is not in the allowed hosts"
        ))
    }
}

/// What a run could not check, for the output: servers not probed and servers that need
/// credentials kedalint does not read (one note per server), queries that did not run or failed
/// (one note per trigger that sends them, naming its object and `query` field).
#[must_use]
pub fn notes(inputs: &[ProbeInput], facts: &Facts) -> Vec<Note> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for i in inputs {
        let server_note = |message: String| Note::new(message).server(i.address.clone());
        let Some(server) = facts.server(&i.address) else {
            if seen.insert(i.address.clone()) {
                out.push(server_note(format!("`{}` was not probed", i.address)));
            }
            continue;
        };
        match &server.outcome {
            ServerOutcome::NotProbed { reason } if seen.insert(i.address.clone()) => {
                out.push(server_note(format!(
                    "`{}` was not probed: {reason}",
                    i.address
                )));
            }
            ServerOutcome::AuthRequired { status }
                if i.brings_credentials && seen.insert(i.address.clone()) =>
            {
                out.push(server_note(format!(
                        "`{}` requires credentials (HTTP {status}); kedalint does not read them, so its queries were not checked",
                        i.address
                    )));
            }
            ServerOutcome::Prometheus { .. } => {
                let Some(message) = query_note(i, server.queries.get(&i.query).map(|p| &p.outcome))
                else {
                    continue;
                };
                if i.uses.is_empty() {
                    out.push(server_note(message.clone()));
                }
                for u in &i.uses {
                    out.push(server_note(message.clone()).at(u.object.clone(), u.path.clone()));
                }
            }
            _ => {}
        }
    }
    out
}

/// Why a query on a server that answers like Prometheus was not checked, if it was not.
fn query_note(i: &ProbeInput, outcome: Option<&QueryOutcome>) -> Option<String> {
    let q = short(&i.query);
    Some(match outcome {
        None => format!(
            "the query `{q}` on `{}` was not checked: the deadline passed first",
            i.address
        ),
        Some(QueryOutcome::Failed(why)) => format!(
            "the query `{q}` on `{}` could not be checked: {why}",
            i.address
        ),
        Some(QueryOutcome::Error { status, message }) => format!(
            "`{}` rejected the query `{q}` (HTTP {status}): {message}",
            i.address
        ),
        Some(QueryOutcome::NotVector(kind)) => format!(
            "the query `{q}` on `{}` returns a {kind}, which KEDA cannot read",
            i.address
        ),
        Some(_) => return None,
    })
}

fn short(q: &str) -> String {
    let one_line = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(79).collect::<String>())
    } else {
        one_line
    }
}

/// RFC 3339 in UTC to the second, as KEDA sends `time=`.
#[must_use]
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days.cast_signed() + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A duration for messages: `2s`, `1.5s`, `300ms`.
pub(crate) fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let s = format!("{:.2}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_is_utc_to_the_second() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_709_210_096)),
            "2024-02-29T12:34:56Z"
        );
    }

    /// A server that accepts connections and never answers.
    fn silent_server() -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming().flatten() {
                held.push(s);
            }
        });
        addr
    }

    fn input(url: &str) -> ProbeInput {
        ProbeInput::new(url, "up")
    }

    #[tokio::test]
    async fn the_overall_deadline_ends_the_run_and_says_what_was_not_probed() {
        let url = format!("http://{}", silent_server());
        let config = ProbeConfig {
            request_timeout: Duration::from_secs(30),
            deadline: Duration::from_millis(300),
            ..ProbeConfig::default()
        };
        let start = std::time::Instant::now();
        let facts = probe(&[input(&url)], &config).await;
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(matches!(
            &facts.server(&url).unwrap().outcome,
            ServerOutcome::NotProbed { reason } if reason.contains("deadline of 300ms")
        ));
        let notes = notes(&[input(&url)], &facts);
        assert!(notes[0].message.contains("was not probed"), "{notes:?}");
        assert_eq!(notes[0].server.as_deref(), Some(url.as_str()));
    }

    #[tokio::test]
    async fn a_silent_server_times_out_per_request() {
        let url = format!("http://{}", silent_server());
        let config = ProbeConfig {
            request_timeout: Duration::from_millis(200),
            ..ProbeConfig::default()
        };
        let facts = probe(&[input(&url)], &config).await;
        assert!(matches!(
            facts.server(&url).unwrap().outcome,
            ServerOutcome::Unreachable {
                reason: kedalint_rules::facts::Unreachable::Timeout,
                ..
            }
        ));
    }

    /// Answers every name with `addr`, counting the names asked.
    struct FixedResolver(std::net::SocketAddr, Arc<Mutex<Vec<String>>>);

    impl dns::Resolve for FixedResolver {
        fn resolve(&self, name: dns::Name) -> dns::Resolving {
            self.1
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(name.as_str().to_owned());
            let addr = self.0;
            Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as dns::Addrs) })
        }
    }

    #[tokio::test]
    async fn a_configured_resolver_replaces_the_system_one() {
        // `prom.invalid` cannot resolve through the system; the resolver sends it to a silent
        // server, so the probe times out instead of failing DNS.
        let silent = silent_server();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let config = ProbeConfig {
            request_timeout: Duration::from_millis(200),
            resolver: Some(Resolver(Arc::new(FixedResolver(silent, asked.clone())))),
            ..ProbeConfig::default()
        };
        let url = format!("http://prom.invalid:{}", silent.port());
        let facts = probe(&[input(&url)], &config).await;
        assert!(
            matches!(
                facts.server(&url).unwrap().outcome,
                ServerOutcome::Unreachable {
                    reason: kedalint_rules::facts::Unreachable::Timeout,
                    ..
                }
            ),
            "{:?}",
            facts.server(&url)
        );
        assert_eq!(
            asked.lock().unwrap().first().map(String::as_str),
            Some("prom.invalid")
        );
    }

    #[test]
    fn hosts_outside_the_allowed_list_are_not_probed() {
        let config = ProbeConfig {
            allowed_hosts: Some(vec!["127.0.0.1:9090".to_owned()]),
            ..ProbeConfig::default()
        };
        assert_eq!(refuse("http://127.0.0.1:9090", &config), None);
        assert!(refuse("http://10.0.0.1:9090", &config).is_some());
        assert!(refuse("prometheus:9090", &ProbeConfig::default()).is_some());
    }
}
