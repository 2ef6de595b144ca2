//! The online probe of the webhook: [`PrometheusProbe`] runs the `kedalint-probe` prober on the
//! Prometheus triggers of a reviewed ScaledObject, behind the guard rails of [`crate::online`]
//! and a TTL cache.
//!
//! - Only addresses that passed [`host_allowed`] are given to it; the URL actually contacted
//!   (after `prometheus.addressMap`) must pass too.
//! - Names are resolved here, every address is checked with [`ip_allowed`], and the HTTP client
//!   connects only to the addresses checked (a [`kedalint_probe::Resolver`] that answers nothing
//!   else), so DNS cannot send an allowed name to the metadata server or to loopback.
//! - Results are cached per (URL, query, headers, parameters, namespace) for
//!   `webhook.cacheTTL` (60s by default), at most [`DEFAULT_CACHE_CAPACITY`] entries, oldest
//!   evicted first. Reviews asking for a key being probed wait for that probe (single flight).
//! - A probe runs in its own task, bounded by 90% of `webhook.deadline`: a review that stops
//!   waiting (its deadline passed) leaves it running, and its result serves the next review.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use kedalint_probe::{ProbeConfig, ProbeInput, Resolver, dns};
use kedalint_rules::Settings;
use kedalint_rules::facts::{Facts, LiveTarget, ServerOutcome, ServerProbe};
use kedalint_rules::source::from_json;
use serde_json::Value;
use tokio::sync::watch;

use crate::online::{self, DEFAULT_DEADLINE, Probe, ProbeFuture, ProbeOutcome};

/// How long probe results are reused when `webhook.cacheTTL` is not set.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);

/// Cached probe results at most; the oldest is evicted first.
pub const DEFAULT_CACHE_CAPACITY: usize = 1024;

/// Largest Prometheus answer read (the pod's memory limit is 128 MiB).
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Requests in flight at most per probe run.
const PROBE_CONCURRENCY: usize = 4;

/// The per-request timeout when `prometheus.timeout` is not set.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// A future resolving a host name.
pub type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

/// Resolves `(host, port)` to addresses: `tokio::net::lookup_host` unless replaced (tests).
pub type Lookup = Arc<dyn Fn(String, u16) -> LookupFuture + Send + Sync>;

/// What identifies a probe result: what is sent to which URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    url: String,
    query: String,
    headers: Vec<(String, String)>,
    params: Vec<(String, String)>,
    namespace: Option<String>,
}

impl Key {
    fn of(input: &ProbeInput) -> Self {
        Self {
            url: input.url.clone(),
            query: input.query.clone(),
            headers: input.custom_headers.clone(),
            params: input.query_parameters.clone(),
            namespace: input.namespace.clone(),
        }
    }
}

/// A finished probe of one key.
#[derive(Debug)]
struct Probed {
    server: ServerProbe,
    probed_at: String,
}

type Shared = Arc<Probed>;

enum Slot {
    Ready {
        result: Shared,
        at: Instant,
    },
    Pending {
        id: u64,
        rx: watch::Receiver<Option<Shared>>,
        at: Instant,
    },
}

impl Slot {
    fn at(&self) -> Instant {
        match self {
            Self::Ready { at, .. } | Self::Pending { at, .. } => *at,
        }
    }
}

struct Cache {
    slots: Mutex<HashMap<Key, Slot>>,
    capacity: usize,
    next_id: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Cache {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for one entry: drops expired results, then the oldest entries.
    fn make_room(slots: &mut HashMap<Key, Slot>, capacity: usize, ttl: Duration, now: Instant) {
        if slots.len() < capacity {
            return;
        }
        slots.retain(|_, s| match s {
            Slot::Ready { at, .. } => now.duration_since(*at) < ttl,
            Slot::Pending { .. } => true,
        });
        while slots.len() >= capacity.max(1) {
            let Some(oldest) = slots
                .iter()
                .min_by_key(|(_, s)| (matches!(s, Slot::Pending { .. }), s.at()))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            slots.remove(&oldest);
        }
    }
}

/// What a lookup in the cache gives.
enum Found {
    Ready(Shared),
    Wait(watch::Receiver<Option<Shared>>),
}

/// The webhook's online probe: `kedalint-probe` behind the allow-list, checked DNS, a deadline
/// and a TTL cache. Inert while `webhook.online` is false.
pub struct PrometheusProbe {
    cache: Arc<Cache>,
    lookup: Lookup,
}

impl std::fmt::Debug for PrometheusProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusProbe")
            .field("capacity", &self.cache.capacity)
            .finish_non_exhaustive()
    }
}

impl Default for PrometheusProbe {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusProbe {
    /// A probe with the system resolver and a cache of [`DEFAULT_CACHE_CAPACITY`] entries.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CACHE_CAPACITY)
    }

    /// A probe whose cache holds at most `capacity` results.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            cache: Arc::new(Cache {
                slots: Mutex::new(HashMap::new()),
                capacity: capacity.max(1),
                next_id: AtomicU64::new(0),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
            lookup: Arc::new(|host, port| {
                Box::pin(async move {
                    tokio::net::lookup_host((host.as_str(), port))
                        .await
                        .map(Iterator::collect)
                })
            }),
        }
    }

    /// Replaces the resolver (tests point names at chosen addresses).
    #[must_use]
    pub fn with_lookup(mut self, lookup: Lookup) -> Self {
        self.lookup = lookup;
        self
    }

    /// Results in the cache now (finished or in flight).
    #[must_use]
    pub fn cached(&self) -> usize {
        self.cache.slots().len()
    }

    /// Finds `input`'s result or starts the probe that will give it.
    fn find(&self, input: &ProbeInput, settings: &Settings) -> Found {
        let ttl = settings.webhook.cache_ttl.unwrap_or(DEFAULT_CACHE_TTL);
        let key = Key::of(input);
        let now = Instant::now();
        let mut slots = self.cache.slots();
        match slots.get(&key) {
            Some(Slot::Ready { result, at }) if now.duration_since(*at) < ttl => {
                self.cache.hits.fetch_add(1, Ordering::Relaxed);
                return Found::Ready(result.clone());
            }
            // A probe task that ended without a result (it panicked) leaves a closed channel:
            // start another rather than wait on it.
            Some(Slot::Pending { rx, .. }) if rx.has_changed().is_ok() => {
                self.cache.hits.fetch_add(1, Ordering::Relaxed);
                return Found::Wait(rx.clone());
            }
            _ => {}
        }
        self.cache.misses.fetch_add(1, Ordering::Relaxed);
        slots.remove(&key);
        Cache::make_room(&mut slots, self.cache.capacity, ttl, now);
        let id = self.cache.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = watch::channel(None);
        slots.insert(
            key.clone(),
            Slot::Pending {
                id,
                rx: rx.clone(),
                at: now,
            },
        );
        drop(slots);
        let cache = self.cache.clone();
        let lookup = self.lookup.clone();
        let input = input.clone();
        let allowed = settings.webhook.allowed_hosts.clone();
        let deadline = probe_deadline(settings);
        let request_timeout = settings
            .probe_timeout
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT)
            .min(deadline);
        tokio::spawn(async move {
            let probed_at = kedalint_probe::rfc3339(SystemTime::now());
            let server = probe_one(&input, &allowed, &lookup, deadline, request_timeout).await;
            let result = Arc::new(Probed { server, probed_at });
            // The slot first, then the waiters: a review answered with this result and followed
            // by another must find the result (or, with a zero TTL, nothing), not a probe still
            // "in flight".
            {
                let mut slots = cache.slots();
                if matches!(slots.get(&key), Some(Slot::Pending { id: mine, .. }) if *mine == id) {
                    if ttl.is_zero() {
                        slots.remove(&key);
                    } else {
                        slots.insert(
                            key,
                            Slot::Ready {
                                result: result.clone(),
                                at: Instant::now(),
                            },
                        );
                    }
                }
            }
            let _ = tx.send(Some(result));
        });
        Found::Wait(rx)
    }

    async fn run(&self, object: &Value, addresses: &[String], settings: &Settings) -> ProbeOutcome {
        let root = from_json(object);
        let allowed: BTreeSet<String> = addresses
            .iter()
            .map(|a| kedalint_probe::inputs::normalise(a))
            .collect();
        let inputs: Vec<ProbeInput> = kedalint_probe::inputs_of_nodes([&root], settings)
            .into_iter()
            .filter(|i| allowed.contains(&i.address))
            .collect();
        let mut facts = Facts::default();
        let mut oldest: Option<String> = None;
        let pending: Vec<(ProbeInput, Found)> = inputs
            .into_iter()
            .map(|i| {
                let l = self.find(&i, settings);
                (i, l)
            })
            .collect();
        let mut considered = Vec::new();
        let mut lost = Vec::new();
        for (input, found) in pending {
            let result = match found {
                Found::Ready(r) => Some(r),
                Found::Wait(mut rx) => rx
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|r| r.clone()),
            };
            let Some(result) = result else {
                lost.push(format!(
                    "online: `{}` was not checked: its probe ended without a result",
                    input.address
                ));
                continue;
            };
            if oldest.as_ref().is_none_or(|o| result.probed_at < *o) {
                oldest = Some(result.probed_at.clone());
            }
            merge(&mut facts, &input.address, &result.server);
            considered.push(input);
        }
        facts.probed_at = oldest;
        // One review is one object: the message alone says it, once per distinct message.
        let mut warnings: Vec<String> = Vec::new();
        for n in kedalint_probe::notes(&considered, &facts) {
            let w = format!("online: {}", n.message);
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        warnings.append(&mut lost);
        ProbeOutcome {
            warnings,
            facts: Some(facts),
        }
    }
}

impl Probe for PrometheusProbe {
    fn probe<'a>(
        &'a self,
        object: &'a Value,
        addresses: &'a [String],
        settings: &'a Settings,
    ) -> ProbeFuture<'a> {
        Box::pin(self.run(object, addresses, settings))
    }

    fn cache_counts(&self) -> (u64, u64) {
        (
            self.cache.hits.load(Ordering::Relaxed),
            self.cache.misses.load(Ordering::Relaxed),
        )
    }
}

/// The budget of one probe run: 90% of the review's, so a run cut short still hands what it
/// learned to the review before the review's own deadline.
fn probe_deadline(settings: &Settings) -> Duration {
    settings.webhook.deadline.unwrap_or(DEFAULT_DEADLINE) * 9 / 10
}

/// Probes one input: checks the URL contacted, resolves and checks its host, then runs the
/// prober connecting only to the checked addresses.
async fn probe_one(
    input: &ProbeInput,
    allowed: &[String],
    lookup: &Lookup,
    deadline: Duration,
    request_timeout: Duration,
) -> ServerProbe {
    let started = Instant::now();
    let refused = |reason: String| ServerProbe {
        probed_url: input.url.clone(),
        outcome: ServerOutcome::NotProbed { reason },
        targets: Vec::new(),
        job_intervals: BTreeMap::new(),
        queries: BTreeMap::new(),
        metric_types: BTreeMap::new(),
    };
    // `addressMap` may send an allowed address elsewhere: what is contacted must be allowed too.
    if input.url != input.address
        && let Err(r) = online::host_allowed(&input.url, allowed)
    {
        return refused(format!("its mapped address: {r}"));
    }
    let Ok(url) = kedalint_rules::parse_server_address(&input.url) else {
        return refused("its address is not an http(s) URL".to_owned());
    };
    let host = url.host.to_owned();
    let port = url
        .port
        .unwrap_or(if url.scheme == "https" { 443 } else { 80 });
    let mut resolver = PinnedResolver::default();
    if let Ok(ip) = host.parse::<IpAddr>() {
        // Literals are not resolved; the check is the same.
        if let Err(r) = online::ip_allowed(ip, &host, allowed) {
            return refused(r.to_string());
        }
    } else {
        match tokio::time::timeout(deadline, lookup(host.clone(), port)).await {
            Err(_) => {
                return refused(format!(
                    "resolving {host} took longer than {}ms",
                    deadline.as_millis()
                ));
            }
            Ok(Err(e)) => {
                resolver
                    .failed
                    .insert(host.to_ascii_lowercase(), e.to_string());
            }
            Ok(Ok(addrs)) => {
                if let Err(r) = check_resolved(&host, &addrs, allowed) {
                    return refused(format!("{r} (resolved)"));
                }
                resolver.pinned.insert(host.to_ascii_lowercase(), addrs);
            }
        }
    }
    let config = ProbeConfig {
        request_timeout,
        deadline: deadline.saturating_sub(started.elapsed()),
        concurrency: PROBE_CONCURRENCY,
        max_body: MAX_ANSWER_BYTES,
        allowed_hosts: None,
        progress: None,
        resolver: Some(Resolver(Arc::new(resolver))),
    };
    let mut facts = kedalint_probe::probe(std::slice::from_ref(input), &config).await;
    let mut server = facts
        .servers
        .remove(&input.address)
        .unwrap_or_else(|| refused("the probe returned nothing".to_owned()));
    compact_targets(&mut server.targets);
    server
}

/// Every address a name resolved to must be allowed: one bad address refuses the name (a name
/// that also points at the metadata server is not to be trusted with the others).
fn check_resolved(
    host: &str,
    addrs: &[SocketAddr],
    allowed: &[String],
) -> Result<(), online::Refusal> {
    addrs
        .iter()
        .try_for_each(|a| online::ip_allowed(a.ip(), host, allowed))
}

/// Keeps what the rules read of live targets (the `job` label and the interval), once per
/// distinct pair: a large Prometheus has thousands of targets, and the cache holds many results.
fn compact_targets(targets: &mut Vec<LiveTarget>) {
    let mut seen = BTreeSet::new();
    targets.retain_mut(|t| {
        let job = t.labels.remove("job");
        let keep = seen.insert((job.clone(), t.scrape_interval));
        t.labels.clear();
        if let Some(job) = job {
            t.labels.insert("job".to_owned(), job);
        }
        keep
    });
}

/// Adds one key's result to the review's facts: queries of one server are merged.
fn merge(facts: &mut Facts, address: &str, server: &ServerProbe) {
    match facts.servers.get_mut(address) {
        None => {
            facts.servers.insert(address.to_owned(), server.clone());
        }
        Some(existing) => {
            let usable = |s: &ServerProbe| matches!(s.outcome, ServerOutcome::Prometheus { .. });
            if !usable(existing) && usable(server) {
                existing.outcome = server.outcome.clone();
                existing.targets = server.targets.clone();
                existing.job_intervals = server.job_intervals.clone();
            }
            for (q, p) in &server.queries {
                existing
                    .queries
                    .entry(q.clone())
                    .or_insert_with(|| p.clone());
            }
            for (m, t) in &server.metric_types {
                existing
                    .metric_types
                    .entry(m.clone())
                    .or_insert_with(|| t.clone());
            }
        }
    }
}

/// Answers only with the addresses checked before the probe; any other name fails.
#[derive(Default)]
struct PinnedResolver {
    pinned: HashMap<String, Vec<SocketAddr>>,
    failed: HashMap<String, String>,
}

impl dns::Resolve for PinnedResolver {
    fn resolve(&self, name: dns::Name) -> dns::Resolving {
        let name = name.as_str().to_ascii_lowercase();
        let answer: Result<dns::Addrs, Box<dyn std::error::Error + Send + Sync>> =
            match self.pinned.get(&name) {
                Some(addrs) => Ok(Box::new(addrs.clone().into_iter())),
                None => Err(self
                    .failed
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| format!("{name} was not resolved by the webhook"))
                    .into()),
            };
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(job: Option<&str>, instance: &str, secs: u64) -> LiveTarget {
        let mut labels = BTreeMap::new();
        if let Some(j) = job {
            labels.insert("job".to_owned(), j.to_owned());
        }
        labels.insert("instance".to_owned(), instance.to_owned());
        LiveTarget {
            labels,
            scrape_interval: Duration::from_secs(secs),
        }
    }

    fn input(url: &str) -> ProbeInput {
        ProbeInput::new(url, "up")
    }

    #[tokio::test]
    async fn a_probe_that_ended_without_a_result_is_started_again() {
        // Loopback not listed: refused before any connection.
        let i = input("http://127.0.0.1:1");
        let probe = PrometheusProbe::new();
        let (tx, rx) = watch::channel(None);
        drop(tx);
        probe.cache.slots().insert(
            Key::of(&i),
            Slot::Pending {
                id: u64::MAX,
                rx,
                at: Instant::now(),
            },
        );
        let Found::Wait(mut rx) = probe.find(&i, &Settings::default()) else {
            panic!("a closed probe is not a result");
        };
        assert_eq!(probe.cache_counts(), (0, 1));
        let result = rx.wait_for(Option::is_some).await.unwrap().clone().unwrap();
        assert!(
            matches!(&result.server.outcome, ServerOutcome::NotProbed { reason } if reason.contains("loopback")),
            "{:?}",
            result.server.outcome
        );
    }

    #[test]
    fn a_name_resolving_to_metadata_or_loopback_is_refused() {
        use crate::online::RefusalReason;
        let allowed = vec!["prometheus.monitoring.svc".to_owned()];
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let host = "prometheus.monitoring.svc";
        assert!(check_resolved(host, &[addr("10.0.0.5:9090")], &allowed).is_ok());
        for (addrs, reason) in [
            (
                vec![addr("10.0.0.5:9090"), addr("169.254.169.254:80")],
                RefusalReason::LinkLocal,
            ),
            (vec![addr("[fd00:ec2::254]:80")], RefusalReason::LinkLocal),
            (vec![addr("127.0.0.1:9090")], RefusalReason::Loopback),
            (
                vec![addr("[::ffff:127.0.0.1]:9090")],
                RefusalReason::Loopback,
            ),
        ] {
            assert_eq!(
                check_resolved(host, &addrs, &allowed).unwrap_err().reason,
                reason,
                "{addrs:?}"
            );
        }
    }

    #[test]
    fn compacted_targets_keep_one_per_job_and_interval() {
        let mut t = vec![
            target(Some("api"), "a:1", 15),
            target(Some("api"), "a:2", 15),
            target(Some("api"), "a:3", 30),
            target(None, "b:1", 15),
            target(None, "b:2", 15),
        ];
        compact_targets(&mut t);
        assert_eq!(t.len(), 3, "{t:?}");
        assert!(t.iter().all(|t| !t.labels.contains_key("instance")));
        assert_eq!(t[2].labels.get("job"), None);
    }

    #[test]
    fn a_full_cache_evicts_finished_results_oldest_first() {
        let now = Instant::now();
        let key = |n: usize| Key {
            url: format!("http://p{n}"),
            query: "up".to_owned(),
            headers: Vec::new(),
            params: Vec::new(),
            namespace: None,
        };
        let ready = |at| Slot::Ready {
            result: Arc::new(Probed {
                server: ServerProbe {
                    probed_url: String::new(),
                    outcome: ServerOutcome::NotProbed {
                        reason: String::new(),
                    },
                    targets: Vec::new(),
                    job_intervals: BTreeMap::new(),
                    queries: BTreeMap::new(),
                    metric_types: BTreeMap::new(),
                },
                probed_at: String::new(),
            }),
            at,
        };
        let (_tx, rx) = watch::channel(None);
        let mut slots = HashMap::new();
        slots.insert(
            key(0),
            Slot::Pending {
                id: 0,
                rx,
                at: now - Duration::from_secs(9),
            },
        );
        slots.insert(key(1), ready(now - Duration::from_secs(5)));
        slots.insert(key(2), ready(now - Duration::from_secs(1)));
        Cache::make_room(&mut slots, 3, Duration::from_secs(60), now);
        assert_eq!(slots.len(), 2);
        assert!(slots.contains_key(&key(0)), "in-flight probes are kept");
        assert!(!slots.contains_key(&key(1)), "the oldest result goes");
        // Expired results go before any other.
        slots.insert(key(3), ready(now));
        Cache::make_room(&mut slots, 3, Duration::from_millis(500), now);
        assert_eq!(slots.len(), 2);
        assert!(!slots.contains_key(&key(2)), "an expired result goes first");
        assert!(slots.contains_key(&key(0)) && slots.contains_key(&key(3)));
    }
}
