//! Scrape intervals: where the interval behind a query's series comes from, in the order
//! RULES.md gives (live Prometheus, monitoring objects in the same input, the object's annotation,
//! configuration and flags, else Prometheus's default of 1m). Every answer says where it came from.

use std::fmt;
use std::time::Duration;

use crate::duration::{format_duration, parse_duration};
use crate::facts::ServerProbe;
use crate::model::{Object, ScaledObject};
use crate::settings::Settings;
use crate::source::{LoadLimits, Node, load_stream};

/// Prometheus's own default `scrape_interval`.
pub const PROMETHEUS_DEFAULT: Duration = Duration::from_secs(60);
/// The Prometheus Operator's default when neither the endpoint nor the Prometheus CR sets one.
pub const OPERATOR_DEFAULT: Duration = Duration::from_secs(30);
/// The annotation that states a ScaledObject's scrape interval.
pub const SCRAPE_INTERVAL_ANNOTATION: &str = "kedalint.io/scrape-interval";

/// A scrape interval and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeInterval {
    /// The interval.
    pub interval: Duration,
    /// Where it came from, for messages ("ServiceMonitor api, endpoints[0].interval").
    pub origin: String,
    /// True when nothing stated it and the Prometheus default is assumed.
    pub assumed: bool,
}

impl fmt::Display for ScrapeInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", format_duration(self.interval), self.origin)
    }
}

/// What kind of object stated an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// `monitoring.coreos.com` ServiceMonitor.
    ServiceMonitor,
    /// `monitoring.coreos.com` PodMonitor.
    PodMonitor,
    /// `monitoring.coreos.com` Prometheus (spec.scrapeInterval).
    PrometheusResource,
    /// A `prometheus.yml` (raw, or inside a ConfigMap), or chart values that carry its `global`.
    PrometheusConfig,
}

/// One object of the input that states scrape intervals.
#[derive(Debug, Clone)]
pub struct ScrapeSource {
    /// Kind.
    pub kind: SourceKind,
    /// How to name it in a message.
    pub label: String,
    /// Object name (ServiceMonitor/PodMonitor), used to match a query's `job`.
    pub name: Option<String>,
    /// Selector labels (ServiceMonitor/PodMonitor `selector.matchLabels`).
    pub match_labels: Vec<(String, String)>,
    /// Interval of the endpoints, the largest when several differ (the conservative choice for
    /// window rules); `None` when no endpoint sets one (the operator default then applies).
    pub endpoint_interval: Option<(Duration, String)>,
    /// Per-job intervals of a Prometheus configuration (resolved against its global).
    pub jobs: Vec<(String, Duration)>,
    /// The global or resource-wide interval.
    pub global: Option<Duration>,
}

/// Reads the scrape intervals an object states, if it is a monitoring object.
#[must_use]
pub fn source_of(object: &Object<'_>) -> Option<ScrapeSource> {
    let kind = object.kind();
    let name = object.name().map(str::to_owned);
    let ns_name = || match (object.namespace(), object.name()) {
        (Some(ns), Some(n)) => format!("{ns}/{n}"),
        (None, Some(n)) => n.to_owned(),
        _ => "(unnamed)".to_owned(),
    };
    if object.group() == "monitoring.coreos.com" {
        let spec = object.spec()?;
        match kind {
            "ServiceMonitor" | "PodMonitor" => {
                let list = if kind == "ServiceMonitor" {
                    "endpoints"
                } else {
                    "podMetricsEndpoints"
                };
                let mut endpoint: Option<(Duration, String)> = None;
                for (i, e) in spec
                    .get(list)
                    .and_then(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    if let Some(d) = e
                        .get("interval")
                        .and_then(Node::as_str)
                        .and_then(parse_duration)
                        && endpoint.as_ref().is_none_or(|(best, _)| d > *best)
                    {
                        endpoint = Some((d, format!("{list}[{i}].interval")));
                    }
                }
                let match_labels = spec
                    .get("selector")
                    .and_then(|s| s.get("matchLabels"))
                    .and_then(Node::as_map)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|e| Some((e.key_str()?.to_owned(), e.value.as_str()?.to_owned())))
                    .collect();
                return Some(ScrapeSource {
                    kind: if kind == "ServiceMonitor" {
                        SourceKind::ServiceMonitor
                    } else {
                        SourceKind::PodMonitor
                    },
                    label: format!("{kind} {}", ns_name()),
                    name,
                    match_labels,
                    endpoint_interval: endpoint,
                    jobs: Vec::new(),
                    global: None,
                });
            }
            "Prometheus" => {
                let global = spec
                    .get("scrapeInterval")
                    .and_then(Node::as_str)
                    .and_then(parse_duration);
                return Some(ScrapeSource {
                    kind: SourceKind::PrometheusResource,
                    label: format!("Prometheus {}", ns_name()),
                    name,
                    match_labels: Vec::new(),
                    endpoint_interval: None,
                    jobs: Vec::new(),
                    global: Some(global.unwrap_or(OPERATOR_DEFAULT)),
                });
            }
            _ => return None,
        }
    }
    if kind == "ConfigMap" {
        let data = object.root.get("data")?;
        for e in data.as_map()? {
            let key = e.key_str().unwrap_or("");
            if key.ends_with("prometheus.yml") || key.ends_with("prometheus.yaml") {
                let text = e.value.as_str()?;
                let docs = load_stream(text, LoadLimits::default());
                let root = docs.first()?.root.as_ref()?;
                return config_source(root, format!("{key} in ConfigMap {}", ns_name()));
            }
        }
        return None;
    }
    if object.root.get("kind").is_none() && object.root.get("apiVersion").is_none() {
        let root = object.root;
        if root.get("scrape_configs").is_some()
            || root
                .get("global")
                .is_some_and(|g| g.get("scrape_interval").is_some())
        {
            return config_source(root, "prometheus.yml".to_owned());
        }
        // Chart values: prometheus-community/prometheus and kube-prometheus-stack.
        for (path, label) in [
            (
                &["server", "global", "scrape_interval"][..],
                "server.global.scrape_interval in chart values",
            ),
            (
                &["prometheus", "server", "global", "scrape_interval"][..],
                "prometheus.server.global.scrape_interval in chart values",
            ),
            (
                &["prometheus", "prometheusSpec", "scrapeInterval"][..],
                "prometheus.prometheusSpec.scrapeInterval in chart values",
            ),
        ] {
            let mut node = Some(root);
            for k in path {
                node = node.and_then(|n| n.get(k));
            }
            if let Some(v) = node.and_then(Node::as_str) {
                let global = parse_duration(v)
                    .or_else(|| v.trim().is_empty().then_some(OPERATOR_DEFAULT))?;
                return Some(ScrapeSource {
                    kind: SourceKind::PrometheusConfig,
                    label: label.to_owned(),
                    name: None,
                    match_labels: Vec::new(),
                    endpoint_interval: None,
                    jobs: Vec::new(),
                    global: Some(global),
                });
            }
        }
    }
    None
}

/// The global and per-job scrape intervals of a `prometheus.yml` (a job without its own
/// `scrape_interval` inherits the global one, which defaults to 1m). Also reads the resolved
/// configuration a live server returns from `/api/v1/status/config`.
#[must_use]
pub fn prometheus_config_intervals(root: &Node) -> (Duration, Vec<(String, Duration)>) {
    let global = root
        .get("global")
        .and_then(|g| g.get("scrape_interval"))
        .and_then(Node::as_str)
        .and_then(parse_duration)
        .unwrap_or(PROMETHEUS_DEFAULT);
    let jobs = root
        .get("scrape_configs")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|j| {
            let name = j.get("job_name")?.as_str()?.to_owned();
            let d = j
                .get("scrape_interval")
                .and_then(Node::as_str)
                .and_then(parse_duration)
                .unwrap_or(global);
            Some((name, d))
        })
        .collect();
    (global, jobs)
}

fn config_source(root: &Node, label: String) -> Option<ScrapeSource> {
    let (global, jobs) = prometheus_config_intervals(root);
    Some(ScrapeSource {
        kind: SourceKind::PrometheusConfig,
        label,
        name: None,
        match_labels: Vec::new(),
        endpoint_interval: None,
        jobs,
        global: Some(global),
    })
}

/// The interval a live server reports for the query's job: its active targets of that job, else
/// its resolved configuration; without a job matcher, the interval all its targets share.
fn live_interval(server: &ServerProbe, hint: &SeriesHint<'_>) -> Option<(Duration, String)> {
    for job in &hint.jobs {
        let intervals: Vec<Duration> = server
            .targets
            .iter()
            .filter(|t| t.labels.get("job").map(String::as_str) == Some(*job))
            .map(|t| t.scrape_interval)
            .collect();
        if let Some(max) = intervals.iter().max() {
            return Some((*max, format!("targets of job `{job}`")));
        }
        if let Some(d) = server.job_intervals.get(*job) {
            return Some((*d, format!("job `{job}` in the configuration")));
        }
    }
    if hint.jobs.is_empty() {
        let first = server.targets.first()?.scrape_interval;
        if server.targets.iter().all(|t| t.scrape_interval == first) {
            return Some((first, "every active target".to_owned()));
        }
    }
    None
}

/// What a query tells about the series it reads, for matching.
#[derive(Debug, Clone, Default)]
pub struct SeriesHint<'a> {
    /// Values of `job="…"` equality matchers.
    pub jobs: Vec<&'a str>,
    /// Metric names.
    pub metrics: Vec<&'a str>,
}

/// Resolves the scrape interval for a trigger's series.
#[must_use]
pub fn resolve(
    live: Option<&ServerProbe>,
    sources: &[ScrapeSource],
    so: &ScaledObject<'_>,
    hint: &SeriesHint<'_>,
    settings: &Settings,
) -> ScrapeInterval {
    let found = |interval: Duration, origin: String| ScrapeInterval {
        interval,
        origin,
        assumed: false,
    };
    // What the live Prometheus says for the series' job.
    if let Some(server) = live
        && let Some((d, why)) = live_interval(server, hint)
    {
        return found(d, format!("{why} on {}, live", server.probed_url));
    }
    // Monitoring objects and Prometheus configurations in the same input.
    for job in &hint.jobs {
        for s in sources
            .iter()
            .filter(|s| s.kind == SourceKind::PrometheusConfig)
        {
            if let Some((_, d)) = s.jobs.iter().find(|(name, _)| name == job) {
                return found(*d, format!("job `{job}` in {}", s.label));
            }
        }
    }
    let operator_default = || {
        sources
            .iter()
            .find(|s| s.kind == SourceKind::PrometheusResource)
            .and_then(|s| Some((s.global?, format!("{}, spec.scrapeInterval", s.label))))
            .unwrap_or((OPERATOR_DEFAULT, "Prometheus Operator default".to_owned()))
    };
    let monitor_interval = |s: &ScrapeSource| match &s.endpoint_interval {
        Some((d, at)) => (*d, format!("{}, {at}", s.label)),
        None => {
            let (d, why) = operator_default();
            (d, format!("{} sets no interval: {why}", s.label))
        }
    };
    let target = so
        .object
        .spec()
        .and_then(|s| s.get("scaleTargetRef"))
        .and_then(|t| t.get("name"))
        .and_then(Node::as_str);
    let monitors: Vec<&ScrapeSource> = sources
        .iter()
        .filter(|s| matches!(s.kind, SourceKind::ServiceMonitor | SourceKind::PodMonitor))
        .collect();
    for s in &monitors {
        let by_job = hint
            .jobs
            .iter()
            .any(|j| s.name.as_deref() == Some(*j) || s.match_labels.iter().any(|(_, v)| v == j));
        let by_target = hint.jobs.is_empty()
            && target.is_some_and(|t| {
                s.name.as_deref() == Some(t) || s.match_labels.iter().any(|(_, v)| v == t)
            });
        if by_job || by_target {
            let (d, origin) = monitor_interval(s);
            return found(d, origin);
        }
    }
    if hint.jobs.is_empty() && monitors.len() == 1 {
        let (d, origin) = monitor_interval(monitors[0]);
        return found(d, origin);
    }
    let configs: Vec<&ScrapeSource> = sources
        .iter()
        .filter(|s| s.kind == SourceKind::PrometheusConfig)
        .collect();
    if configs.len() == 1
        && let Some(g) = configs[0].global
    {
        return found(g, format!("global scrape_interval of {}", configs[0].label));
    }
    // The object's own annotation.
    if let Some(d) = so
        .object
        .annotation(SCRAPE_INTERVAL_ANNOTATION)
        .and_then(Node::as_str)
        .and_then(parse_duration)
    {
        return found(d, format!("annotation {SCRAPE_INTERVAL_ANNOTATION}"));
    }
    // Configuration and flags.
    for (i, o) in settings.scrape_intervals.iter().enumerate() {
        let job_match = o.job.as_deref().is_some_and(|j| hint.jobs.contains(&j));
        let metric_match = o
            .metric
            .as_ref()
            .is_some_and(|re| hint.metrics.iter().any(|m| re.is_match(m)));
        if job_match || metric_match {
            return found(
                o.interval,
                format!("scrapeIntervals[{i}] in the configuration"),
            );
        }
    }
    if let Some(d) = settings.scrape_interval {
        return found(d, settings.scrape_interval_origin.clone());
    }
    ScrapeInterval {
        interval: PROMETHEUS_DEFAULT,
        origin: "Prometheus default".to_owned(),
        assumed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::objects_of;

    fn sources(yaml: &str) -> Vec<ScrapeSource> {
        load_stream(yaml, LoadLimits::default())
            .iter()
            .filter_map(|d| d.root.as_ref())
            .flat_map(|r| objects_of(r, 0))
            .filter_map(|o| source_of(&o))
            .collect()
    }

    fn so_yaml(annotation: &str) -> String {
        format!(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n{annotation}spec:\n  scaleTargetRef:\n    name: api\n"
        )
    }

    fn resolve_with(src: &str, so: &str, jobs: &[&str], settings: &Settings) -> ScrapeInterval {
        let docs = load_stream(so, LoadLimits::default());
        let root = docs[0].root.as_ref().unwrap();
        let obj = objects_of(root, 0)[0];
        resolve(
            None,
            &sources(src),
            &ScaledObject { object: obj },
            &SeriesHint {
                jobs: jobs.to_vec(),
                metrics: vec!["x_total"],
            },
            settings,
        )
    }

    #[test]
    fn a_matching_service_monitor_gives_its_endpoint_interval() {
        let sm = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: api\nspec:\n  selector:\n    matchLabels:\n      app: api\n  endpoints:\n    - port: http\n      interval: 15s\n";
        let r = resolve_with(sm, &so_yaml(""), &[], &Settings::default());
        assert_eq!(r.interval, Duration::from_secs(15));
        assert_eq!(r.origin, "ServiceMonitor api, endpoints[0].interval");
    }

    #[test]
    fn a_service_monitor_without_interval_inherits_the_operator_default() {
        let sm = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: node-app\nspec:\n  endpoints:\n  - port: web\n";
        let r = resolve_with(sm, &so_yaml(""), &[], &Settings::default());
        assert_eq!(r.interval, Duration::from_secs(30));
        assert!(
            r.origin.contains("Prometheus Operator default"),
            "{}",
            r.origin
        );
    }

    #[test]
    fn a_prometheus_config_job_matches_the_query_job_label() {
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: prometheus-server\n  namespace: default\ndata:\n  prometheus.yml: |\n    global:\n      scrape_interval: 1m\n    scrape_configs:\n    - job_name: fast\n      scrape_interval: 15s\n    - job_name: slow\n";
        assert_eq!(
            resolve_with(cm, &so_yaml(""), &["fast"], &Settings::default()).interval,
            Duration::from_secs(15)
        );
        let slow = resolve_with(cm, &so_yaml(""), &["slow"], &Settings::default());
        assert_eq!(slow.interval, Duration::from_secs(60));
        assert_eq!(
            slow.origin,
            "job `slow` in prometheus.yml in ConfigMap default/prometheus-server"
        );
        assert_eq!(
            resolve_with(cm, &so_yaml(""), &[], &Settings::default()).interval,
            Duration::from_secs(60)
        );
    }

    #[test]
    fn the_annotation_then_configuration_then_the_default_apply() {
        let annotated = so_yaml("  annotations:\n    kedalint.io/scrape-interval: 20s\n");
        assert_eq!(
            resolve_with("", &annotated, &[], &Settings::default()).interval,
            Duration::from_secs(20)
        );
        let settings = Settings {
            scrape_interval: Some(Duration::from_secs(10)),
            scrape_interval_origin: "--scrape-interval".into(),
            ..Settings::default()
        };
        let r = resolve_with("", &so_yaml(""), &[], &settings);
        assert_eq!(
            (r.interval, r.origin.as_str()),
            (Duration::from_secs(10), "--scrape-interval")
        );
        let d = resolve_with("", &so_yaml(""), &[], &Settings::default());
        assert!(d.assumed);
        assert_eq!(d.to_string(), "1m (Prometheus default)");
    }

    #[test]
    fn a_live_target_of_the_job_wins_over_everything_else() {
        use crate::facts::{LiveTarget, ServerOutcome};
        let target = |job: &str, secs: u64| LiveTarget {
            labels: [("job".to_owned(), job.to_owned())].into_iter().collect(),
            scrape_interval: Duration::from_secs(secs),
        };
        let server = ServerProbe {
            probed_url: "http://127.0.0.1:9090".to_owned(),
            outcome: ServerOutcome::Prometheus { version: None },
            targets: vec![target("api", 1), target("api", 2), target("other", 60)],
            job_intervals: Default::default(),
            queries: Default::default(),
            metric_types: Default::default(),
        };
        let docs = load_stream(
            &so_yaml("  annotations:\n    kedalint.io/scrape-interval: 20s\n"),
            LoadLimits::default(),
        );
        let obj = objects_of(docs[0].root.as_ref().unwrap(), 0)[0];
        let so = ScaledObject { object: obj };
        let r = resolve(
            Some(&server),
            &[],
            &so,
            &SeriesHint {
                jobs: vec!["api"],
                metrics: vec![],
            },
            &Settings::default(),
        );
        assert_eq!(r.interval, Duration::from_secs(2));
        assert_eq!(
            r.origin,
            "targets of job `api` on http://127.0.0.1:9090, live"
        );
        // Without a job matcher and with differing intervals, the live server does not decide.
        let r = resolve(
            Some(&server),
            &[],
            &so,
            &SeriesHint::default(),
            &Settings::default(),
        );
        assert_eq!(r.interval, Duration::from_secs(20));
    }
}
