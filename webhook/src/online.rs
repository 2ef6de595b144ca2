//! The seam where online checks (the Prometheus prober) plug into the webhook, with its guard
//! rails: which hosts may be contacted, and a deadline that always holds.
//!
//! [`crate::prober::PrometheusProbe`] is the prober; what it goes through is here:
//! 1. [`host_allowed`] for every `serverAddress` before any connection (and [`ip_allowed`] for
//!    every address a name resolves to, so DNS cannot point a listed name at the metadata server);
//! 2. [`within_deadline`], so a review is answered within `webhook.deadline` (default 2s) even
//!    when Prometheus hangs: what did not finish becomes a warning, never a late answer.
//!
//! A prober implements [`Probe`] and is given to [`crate::Server::with_probe`]. Rules stay pure:
//! a probe gathers facts and the rules read them.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use kedalint_rules::Settings;
use kedalint_rules::facts::Facts;
use serde_json::Value;

/// The review budget when `webhook.deadline` is not set.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);

/// Why a host may not be contacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The host as written in the address.
    pub host: String,
    /// Why.
    pub reason: RefusalReason,
}

/// The reasons a host is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// The address does not parse as an http(s) URL.
    Malformed,
    /// Not in `webhook.allowedHosts`.
    NotListed,
    /// A link-local address (169.254.0.0/16, fe80::/10): cloud metadata services live there.
    /// Refused even when listed.
    LinkLocal,
    /// A cloud metadata service name. Refused even when listed.
    Metadata,
    /// Loopback or unspecified (the webhook's own pod). Refused unless listed exactly.
    Loopback,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            RefusalReason::Malformed => "is not an http(s) URL",
            RefusalReason::NotListed => "is not in webhook.allowedHosts",
            RefusalReason::LinkLocal => "is link-local (metadata services); never contacted",
            RefusalReason::Metadata => "is a cloud metadata service; never contacted",
            RefusalReason::Loopback => "is loopback; contacted only when listed in allowedHosts",
        };
        write!(f, "host {} {why}", self.host)
    }
}

impl std::error::Error for Refusal {}

/// Names of metadata services, refused whatever the allow-list says.
const METADATA_NAMES: &[&str] = &["metadata.google.internal", "metadata", "instance-data"];

/// Decides whether an online check may contact `server_address` (a trigger's URL).
///
/// `allowed_hosts` entries are `host` (any port) or `host:port` (`[v6]:port` for IPv6), compared
/// case-insensitively. Link-local addresses and metadata names are always refused; loopback only
/// when listed. Names are checked as written: the prober must also pass every resolved address
/// through [`ip_allowed`].
///
/// # Errors
/// A [`Refusal`] naming the host and the reason.
pub fn host_allowed(server_address: &str, allowed_hosts: &[String]) -> Result<(), Refusal> {
    let url = kedalint_rules::parse_server_address(server_address).map_err(|_| Refusal {
        host: server_address.to_owned(),
        reason: RefusalReason::Malformed,
    })?;
    let host = url.host.trim_end_matches('.').to_ascii_lowercase();
    let port = url
        .port
        .unwrap_or(if url.scheme == "https" { 443 } else { 80 });
    let refuse = |reason| {
        Err(Refusal {
            host: url.host.to_owned(),
            reason,
        })
    };
    if METADATA_NAMES.contains(&host.as_str()) {
        return refuse(RefusalReason::Metadata);
    }
    let listed = allowed_hosts
        .iter()
        .any(|entry| entry_matches(entry, &host, port));
    if let Ok(ip) = host.parse::<IpAddr>() {
        match ip_class(ip) {
            IpClass::LinkLocal => return refuse(RefusalReason::LinkLocal),
            IpClass::Loopback if !listed => return refuse(RefusalReason::Loopback),
            _ => {}
        }
    } else if (host == "localhost" || host.ends_with(".localhost")) && !listed {
        return refuse(RefusalReason::Loopback);
    }
    if listed {
        Ok(())
    } else {
        refuse(RefusalReason::NotListed)
    }
}

/// Decides whether a resolved address may be contacted for an allowed `host` (the prober calls it
/// after DNS): link-local never, loopback only when the host itself is a listed loopback.
///
/// # Errors
/// A [`Refusal`] naming the address.
pub fn ip_allowed(ip: IpAddr, host: &str, allowed_hosts: &[String]) -> Result<(), Refusal> {
    let refuse = |reason| {
        Err(Refusal {
            host: format!("{host} ({ip})"),
            reason,
        })
    };
    match ip_class(ip) {
        IpClass::LinkLocal => refuse(RefusalReason::LinkLocal),
        IpClass::Loopback if !(is_loopback_name(host) && is_listed_host(host, allowed_hosts)) => {
            refuse(RefusalReason::Loopback)
        }
        _ => Ok(()),
    }
}

/// `localhost` or a loopback address literal: a name an operator lists knowing it is local.
fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| matches!(ip_class(ip), IpClass::Loopback))
}

fn is_listed_host(host: &str, allowed_hosts: &[String]) -> bool {
    allowed_hosts
        .iter()
        .any(|e| host_part(e).eq_ignore_ascii_case(host.trim_end_matches('.')))
}

enum IpClass {
    LinkLocal,
    Loopback,
    Other,
}

fn ip_class(ip: IpAddr) -> IpClass {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    };
    match ip {
        IpAddr::V4(v4) if v4.is_link_local() => IpClass::LinkLocal,
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_unspecified() => IpClass::Loopback,
        IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80 => IpClass::LinkLocal,
        // fd00:ec2::254 is the IPv6 EC2 metadata service.
        IpAddr::V6(v6) if v6.segments()[..3] == [0xfd00, 0x0ec2, 0] => IpClass::LinkLocal,
        IpAddr::V6(v6) if v6.is_loopback() || v6.is_unspecified() => IpClass::Loopback,
        _ => IpClass::Other,
    }
}

/// The host part of an allow-list entry (`host`, `host:port`, `[v6]:port`, bare v6).
fn host_part(entry: &str) -> &str {
    let entry = entry.trim();
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    if entry.matches(':').count() > 1 {
        return entry; // a bare IPv6 address
    }
    entry.split(':').next().unwrap_or(entry)
}

fn entry_matches(entry: &str, host: &str, port: u16) -> bool {
    let entry = entry.trim();
    let entry_host = host_part(entry);
    if !entry_host.trim_end_matches('.').eq_ignore_ascii_case(host) {
        return false;
    }
    let after_host = if entry.starts_with('[') {
        entry.split_once(']').map_or("", |(_, rest)| rest)
    } else if entry.matches(':').count() > 1 {
        ""
    } else {
        &entry[entry_host.len()..]
    };
    match after_host.strip_prefix(':') {
        Some(p) => p.parse::<u16>().is_ok_and(|p| p == port),
        None => true,
    }
}

/// What an online check contributes to a review.
#[derive(Debug, Clone, Default)]
pub struct ProbeOutcome {
    /// Lines added to the response's warnings (what could not be checked, and why).
    pub warnings: Vec<String>,
    /// What was learned, for the KL4xx rules and live scrape intervals; `None` when nothing.
    pub facts: Option<Facts>,
}

/// A future returned by a [`Probe`].
pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = ProbeOutcome> + Send + 'a>>;

/// An online check run for each linted ScaledObject when `webhook.online` is true.
pub trait Probe: Send + Sync + 'static {
    /// Checks `object` (the ScaledObject as JSON). `addresses` are the trigger addresses that
    /// passed [`host_allowed`]; a probe must contact nothing else.
    fn probe<'a>(
        &'a self,
        object: &'a Value,
        addresses: &'a [String],
        settings: &'a Settings,
    ) -> ProbeFuture<'a>;

    /// Probe results served from a cache and probes started, for `/metrics`.
    fn cache_counts(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// The deadline passed before the future finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineExceeded(pub Duration);

/// Runs `future` for at most `deadline`; when it does not finish in time it is dropped (which
/// cancels any request it has in flight).
///
/// # Errors
/// [`DeadlineExceeded`] when the deadline passed first.
pub async fn within_deadline<F: Future>(
    deadline: Duration,
    future: F,
) -> Result<F::Output, DeadlineExceeded> {
    tokio::time::timeout(deadline, future)
        .await
        .map_err(|_| DeadlineExceeded(deadline))
}

/// Prometheus `serverAddress` values of the object's triggers.
#[must_use]
pub fn server_addresses(object: &Value) -> Vec<String> {
    object
        .pointer("/spec/triggers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("prometheus"))
        .filter_map(|t| t.pointer("/metadata/serverAddress").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// Runs the online step of one review: refuses hosts not allowed, runs the probe on the rest
/// within the deadline, and returns the warnings to add to the response and the facts learned.
pub async fn run_online(
    probe: Option<&dyn Probe>,
    object: &Value,
    settings: &Settings,
) -> ProbeOutcome {
    let mut out = ProbeOutcome::default();
    if !settings.webhook.online {
        return out;
    }
    let mut allowed = Vec::new();
    for address in server_addresses(object) {
        match host_allowed(&address, &settings.webhook.allowed_hosts) {
            Ok(()) => allowed.push(address),
            Err(refusal) => out.warnings.push(format!("not checked online: {refusal}")),
        }
    }
    let Some(probe) = probe else {
        return out;
    };
    if allowed.is_empty() {
        return out;
    }
    let deadline = settings.webhook.deadline.unwrap_or(DEFAULT_DEADLINE);
    match within_deadline(deadline, probe.probe(object, &allowed, settings)).await {
        Ok(outcome) => {
            out.warnings.extend(outcome.warnings);
            out.facts = outcome.facts;
        }
        Err(DeadlineExceeded(d)) => out.warnings.push(format!(
            "online checks of {} did not finish within {}ms; only offline rules applied",
            allowed.join(", "),
            d.as_millis()
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_listed_host_is_allowed_with_any_or_the_listed_port() {
        let allow = hosts(&["prometheus.monitoring.svc", "thanos.monitoring.svc:9090"]);
        assert_eq!(
            host_allowed("http://prometheus.monitoring.svc:9090", &allow),
            Ok(())
        );
        assert_eq!(
            host_allowed("http://Prometheus.Monitoring.svc", &allow),
            Ok(())
        );
        assert_eq!(
            host_allowed("http://thanos.monitoring.svc:9090/api", &allow),
            Ok(())
        );
        let wrong_port = host_allowed("http://thanos.monitoring.svc:10902", &allow).unwrap_err();
        assert_eq!(wrong_port.reason, RefusalReason::NotListed);
    }

    #[test]
    fn an_unlisted_host_is_refused() {
        let r = host_allowed("http://evil.example.com", &hosts(&["prometheus"])).unwrap_err();
        assert_eq!(r.reason, RefusalReason::NotListed);
        assert_eq!(
            r.to_string(),
            "host evil.example.com is not in webhook.allowedHosts"
        );
    }

    #[test]
    fn link_local_and_metadata_are_refused_even_when_listed() {
        let allow = hosts(&["169.254.169.254", "metadata.google.internal", "[fe80::1]"]);
        for (address, reason) in [
            (
                "http://169.254.169.254/latest/meta-data",
                RefusalReason::LinkLocal,
            ),
            (
                "http://metadata.google.internal/computeMetadata/v1",
                RefusalReason::Metadata,
            ),
            ("http://METADATA.google.internal./", RefusalReason::Metadata),
            ("http://[fe80::1]:9090", RefusalReason::LinkLocal),
            ("http://[::ffff:169.254.169.254]", RefusalReason::LinkLocal),
        ] {
            assert_eq!(
                host_allowed(address, &allow).unwrap_err().reason,
                reason,
                "{address}"
            );
        }
    }

    #[test]
    fn loopback_is_refused_unless_listed() {
        for address in [
            "http://127.0.0.1:9090",
            "http://localhost:9090",
            "http://[::1]:9090",
            "http://0.0.0.0",
        ] {
            assert_eq!(
                host_allowed(address, &[]).unwrap_err().reason,
                RefusalReason::Loopback,
                "{address}"
            );
        }
        assert_eq!(
            host_allowed("http://127.0.0.1:9090", &hosts(&["127.0.0.1:9090"])),
            Ok(())
        );
        assert_eq!(
            host_allowed("http://localhost:9090", &hosts(&["localhost"])),
            Ok(())
        );
    }

    #[test]
    fn resolved_addresses_are_checked_too() {
        let allow = hosts(&["prometheus.monitoring.svc"]);
        assert!(
            ip_allowed(
                "10.0.0.5".parse().unwrap(),
                "prometheus.monitoring.svc",
                &allow
            )
            .is_ok()
        );
        let r = ip_allowed(
            "169.254.169.254".parse().unwrap(),
            "prometheus.monitoring.svc",
            &allow,
        );
        assert_eq!(r.unwrap_err().reason, RefusalReason::LinkLocal);
        let r = ip_allowed(
            "127.0.0.1".parse().unwrap(),
            "prometheus.monitoring.svc",
            &allow,
        );
        assert_eq!(r.unwrap_err().reason, RefusalReason::Loopback);
        let local = hosts(&["localhost:9090"]);
        assert!(ip_allowed("127.0.0.1".parse().unwrap(), "localhost", &local).is_ok());
    }

    #[test]
    fn malformed_addresses_are_refused() {
        assert_eq!(
            host_allowed("prometheus:9090", &hosts(&["prometheus"]))
                .unwrap_err()
                .reason,
            RefusalReason::Malformed
        );
    }

    #[tokio::test]
    async fn a_probe_that_never_finishes_is_cut_at_the_deadline() {
        let start = std::time::Instant::now();
        let r = within_deadline(Duration::from_millis(50), std::future::pending::<()>()).await;
        assert_eq!(r, Err(DeadlineExceeded(Duration::from_millis(50))));
        assert!(start.elapsed() < Duration::from_millis(500));
    }
}
