//! Scrape intervals: where the interval behind a query's series comes from, in the order
//! RULES.md gives (live Prometheus, monitoring objects in the same input, the object's annotation,
//! configuration and flags, else Prometheus's default of 1m). Every answer says where it came from.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;
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
/// Google Cloud Managed Service for Prometheus: a PodMonitoring endpoint's default interval.
pub const GOOGLE_MANAGED_DEFAULT: Duration = Duration::from_secs(60);
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
    /// What a ServiceMonitor/PodMonitor (or a managed service's equivalent) selects, and how
    /// it names its targets' labels; `None` for configurations.
    pub selection: Option<Selection>,
}

/// Who runs a monitor resource: the job label and the default interval depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `monitoring.coreos.com/v1` (Prometheus Operator).
    PrometheusOperator,
    /// `azmonitoring.coreos.com/v1` (Azure Monitor managed Prometheus): the same schema and
    /// target labels as the Prometheus Operator's, another API group.
    AzureMonitor,
    /// `monitoring.googleapis.com/v1` PodMonitoring / ClusterPodMonitoring (Google Cloud
    /// Managed Service for Prometheus): `job` is the resource's name, endpoints default to 1m.
    GoogleManaged,
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// `matchLabels`.
    pub match_labels: Vec<(String, String)>,
    /// `matchExpressions`: key, operator (`In`, `NotIn`, `Exists`, `DoesNotExist`), values.
    pub match_expressions: Vec<(String, String, Vec<String>)>,
}

impl LabelSelector {
    /// Reads a selector node; `None` when it is absent.
    #[must_use]
    pub fn of(node: Option<&Node>) -> Option<Self> {
        let node = node?;
        let match_labels = node
            .get("matchLabels")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| Some((e.key_str()?.to_owned(), e.value.as_str()?.to_owned())))
            .collect();
        let match_expressions = node
            .get("matchExpressions")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|x| {
                let values = x
                    .get("values")
                    .and_then(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect();
                Some((
                    x.get("key")?.as_str()?.to_owned(),
                    x.get("operator")?.as_str()?.to_owned(),
                    values,
                ))
            })
            .collect();
        Some(Self {
            match_labels,
            match_expressions,
        })
    }

    /// Whether `labels` satisfy the selector, as Kubernetes evaluates it (an empty selector
    /// selects everything; an unknown operator selects nothing).
    #[must_use]
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|(k, op, values)| {
                let value = labels.get(k);
                match op.as_str() {
                    "In" => value.is_some_and(|v| values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

/// What a monitor resource selects and how its targets are labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Who runs it.
    pub flavor: Flavor,
    /// True for a ServiceMonitor (selects Services), false for pod monitors.
    pub services: bool,
    /// The monitor's namespace, when written.
    pub namespace: Option<String>,
    /// `namespaceSelector`: `None` for the monitor's own namespace, `Some(vec![])` for any
    /// namespace (`any: true`, or a ClusterPodMonitoring), else the listed names.
    pub namespaces: Option<Vec<String>>,
    /// `selector`.
    pub selector: LabelSelector,
    /// `jobLabel`: the label of the Service (or pod) whose value becomes `job`.
    pub job_label: Option<String>,
    /// Labels copied onto the targets: (label on the selected object, target label).
    /// ServiceMonitor `targetLabels` (Service labels), PodMonitor `podTargetLabels`,
    /// PodMonitoring `targetLabels.fromPod`.
    pub target_labels: Vec<(String, String)>,
    /// ServiceMonitor `podTargetLabels` (labels of the pods behind the Service).
    pub pod_target_labels: Vec<String>,
}

/// A Service, or the pods a workload runs (from its pod template), that a monitor can select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selectable {
    /// True for a Service, false for a workload's pods.
    pub service: bool,
    /// The Service's name, or the workload's.
    pub name: String,
    /// Its namespace, when written.
    pub namespace: Option<String>,
    /// The Service's labels, or the pod template's.
    pub labels: BTreeMap<String, String>,
    /// A Service's `spec.selector` (the pods behind it).
    pub pod_selector: BTreeMap<String, String>,
}

fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| Some((e.key_str()?.to_owned(), e.value.as_str()?.to_owned())))
        .collect()
}

/// Reads a Service, or a workload's pod template, that monitors may select.
#[must_use]
pub fn selectable_of(object: &Object<'_>) -> Option<Selectable> {
    let kind = object.kind();
    let name = object.name()?.to_owned();
    let namespace = object.namespace().map(str::to_owned);
    let root = object.root;
    if kind == "Service" && object.group().is_empty() {
        return Some(Selectable {
            service: true,
            name,
            namespace,
            labels: string_map(root.get("metadata").and_then(|m| m.get("labels"))),
            pod_selector: string_map(object.spec().and_then(|s| s.get("selector"))),
        });
    }
    let labels = match kind {
        "Pod" => root.get("metadata").and_then(|m| m.get("labels")),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => object
            .spec()
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("metadata"))
            .and_then(|m| m.get("labels")),
        _ => return None,
    };
    Some(Selectable {
        service: false,
        name,
        namespace,
        labels: string_map(labels),
        pod_selector: BTreeMap::new(),
    })
}

impl Selection {
    /// Whether the monitor selects `t` (a Service for a ServiceMonitor, pods otherwise). A
    /// namespace that is not written is not held against a match.
    #[must_use]
    pub fn selects(&self, t: &Selectable) -> bool {
        if t.service != self.services || !self.selector.matches(&t.labels) {
            return false;
        }
        match (&self.namespaces, &t.namespace) {
            (Some(names), Some(ns)) if !names.is_empty() => names.contains(ns),
            (None, Some(ns)) => self.namespace.as_ref().is_none_or(|own| own == ns),
            _ => true,
        }
    }
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
    let flavor = match object.group() {
        "monitoring.coreos.com" => Some(Flavor::PrometheusOperator),
        "azmonitoring.coreos.com" => Some(Flavor::AzureMonitor),
        "monitoring.googleapis.com" => Some(Flavor::GoogleManaged),
        _ => None,
    };
    if flavor == Some(Flavor::GoogleManaged) {
        return google_source(object, &ns_name());
    }
    if let Some(flavor) = flavor {
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
                let selector = LabelSelector::of(spec.get("selector")).unwrap_or_default();
                let match_labels = selector.match_labels.clone();
                let strings = |key: &str| -> Vec<String> {
                    spec.get(key)
                        .and_then(Node::as_seq)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                };
                let services = kind == "ServiceMonitor";
                let target_labels = strings(if services {
                    "targetLabels"
                } else {
                    "podTargetLabels"
                })
                .into_iter()
                .map(|l| (l.clone(), l))
                .collect();
                let selection = Selection {
                    flavor,
                    services,
                    namespace: object.namespace().map(str::to_owned),
                    namespaces: namespace_selector(spec.get("namespaceSelector")),
                    selector,
                    job_label: spec
                        .get("jobLabel")
                        .and_then(Node::as_str)
                        .map(str::to_owned),
                    target_labels,
                    pod_target_labels: if services {
                        strings("podTargetLabels")
                    } else {
                        Vec::new()
                    },
                };
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
                    selection: Some(selection),
                });
            }
            "Prometheus" if flavor == Flavor::PrometheusOperator => {
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
                    selection: None,
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
                    selection: None,
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
        selection: None,
    })
}

/// `namespaceSelector` of a Prometheus Operator monitor: `None` (the monitor's own namespace)
/// when absent or empty, `Some(vec![])` for `any: true`, else `matchNames`.
fn namespace_selector(node: Option<&Node>) -> Option<Vec<String>> {
    let node = node?;
    if node.get("any").and_then(Node::as_str) == Some("true") {
        return Some(Vec::new());
    }
    let names: Vec<String> = node
        .get("matchNames")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    (!names.is_empty()).then_some(names)
}

/// Google Cloud Managed Service for Prometheus: a PodMonitoring selects pods of its own
/// namespace, a ClusterPodMonitoring pods of every namespace; `job` is the resource's name;
/// an endpoint without `interval` is scraped every minute (the CRD's default);
/// `targetLabels.fromPod` copies pod labels (`from`, renamed `to`).
fn google_source(object: &Object<'_>, label: &str) -> Option<ScrapeSource> {
    let kind = object.kind();
    if !matches!(kind, "PodMonitoring" | "ClusterPodMonitoring") {
        return None;
    }
    let spec = object.spec()?;
    let mut endpoint: Option<(Duration, String)> = None;
    for (i, e) in spec
        .get("endpoints")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let (d, at) = match e
            .get("interval")
            .and_then(Node::as_str)
            .and_then(parse_duration)
        {
            Some(d) => (d, format!("endpoints[{i}].interval")),
            None => (
                GOOGLE_MANAGED_DEFAULT,
                format!("endpoints[{i}] sets no interval: the CRD's default 1m"),
            ),
        };
        if endpoint.as_ref().is_none_or(|(best, _)| d > *best) {
            endpoint = Some((d, at));
        }
    }
    let selector = LabelSelector::of(spec.get("selector")).unwrap_or_default();
    let target_labels = spec
        .get("targetLabels")
        .and_then(|t| t.get("fromPod"))
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let from = m.get("from")?.as_str()?.to_owned();
            let to = m
                .get("to")
                .and_then(Node::as_str)
                .map_or_else(|| from.clone(), str::to_owned);
            Some((from, to))
        })
        .collect();
    Some(ScrapeSource {
        kind: SourceKind::PodMonitor,
        label: format!("{kind} {label}"),
        name: object.name().map(str::to_owned),
        match_labels: selector.match_labels.clone(),
        endpoint_interval: endpoint,
        jobs: Vec::new(),
        global: None,
        selection: Some(Selection {
            flavor: Flavor::GoogleManaged,
            services: false,
            namespace: object.namespace().map(str::to_owned),
            namespaces: (kind == "ClusterPodMonitoring").then(Vec::new),
            selector,
            job_label: None,
            target_labels,
            pod_target_labels: Vec::new(),
        }),
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
    /// Every other equality matcher `label="value"` (`service`, `namespace`, target labels).
    pub labels: Vec<(&'a str, &'a str)>,
}

/// The `job` values a monitor gives the targets of `t`, which it selects.
fn job_of(s: &ScrapeSource, sel: &Selection, t: &Selectable) -> String {
    let from_label = sel
        .job_label
        .as_ref()
        .and_then(|l| t.labels.get(l))
        .cloned();
    match sel.flavor {
        Flavor::GoogleManaged => s.name.clone().unwrap_or_default(),
        _ if sel.services => from_label.unwrap_or_else(|| t.name.clone()),
        _ => from_label.unwrap_or_else(|| pod_monitor_job(s, sel)),
    }
}

/// A pod monitor's `job` without `jobLabel`: `<namespace>/<name>` (Prometheus Operator),
/// the resource's name (Google Managed Prometheus).
fn pod_monitor_job(s: &ScrapeSource, sel: &Selection) -> String {
    let name = s.name.clone().unwrap_or_default();
    match (sel.flavor, &sel.namespace) {
        (Flavor::GoogleManaged, _) | (_, None) => name,
        (_, Some(ns)) => format!("{ns}/{name}"),
    }
}

/// Why a query's series come from what monitor `s` scrapes, following the monitor to the
/// Services or pods it selects and the labels the operator gives their targets; `None` when
/// nothing in the query ties them.
fn selected_by(
    s: &ScrapeSource,
    selectables: &[Selectable],
    hint: &SeriesHint<'_>,
) -> Option<String> {
    let sel = s.selection.as_ref()?;
    // A pod monitor's own job name needs no pods in the input.
    if let Some(job) = own_job(s)
        && hint.jobs.contains(&job.as_str())
    {
        return Some(format!(
            "`job=\"{job}\"` is the job {} gives its targets",
            s.label
        ));
    }
    for t in selectables.iter().filter(|t| sel.selects(t)) {
        let what = if t.service {
            format!("Service {}", t.name)
        } else {
            format!("the pods of {}", t.name)
        };
        let job = job_of(s, sel, t);
        if hint.jobs.contains(&job.as_str()) {
            return Some(format!(
                "`job=\"{job}\"` names the targets of {what}, selected by {}",
                s.label
            ));
        }
        for (label, value) in &hint.labels {
            let by_service = sel.services && *label == "service" && *value == t.name;
            let by_target_label = sel.target_labels.iter().any(|(from, to)| {
                to == label && t.labels.get(from).map(String::as_str) == Some(*value)
            });
            if by_service || by_target_label {
                return Some(format!(
                    "`{label}=\"{value}\"` is a label of the targets of {what}, selected by {}",
                    s.label
                ));
            }
        }
    }
    None
}

/// Why the query's series are scraped from the scale target's own pods: a monitor in the input
/// selects them (or their Service) and the query's labels pick that monitor's targets.
#[must_use]
pub fn scraped_from_target(
    sources: &[ScrapeSource],
    selectables: &[Selectable],
    so: &ScaledObject<'_>,
    hint: &SeriesHint<'_>,
) -> Option<String> {
    let target = so.target_name()?;
    let namespace = so.object.namespace();
    sources.iter().find_map(|s| {
        let why = scrapes_workload(s, selectables, target, namespace)?;
        let picked = selected_by(s, selectables, hint)?;
        Some(format!("{why}, and {picked}"))
    })
}

/// Whether monitor `s` scrapes the scale target `target` (a workload named so): it selects
/// the workload's pods, or a Service whose selector picks them. Says which, for messages.
#[must_use]
pub fn scrapes_workload(
    s: &ScrapeSource,
    selectables: &[Selectable],
    target: &str,
    namespace: Option<&str>,
) -> Option<String> {
    let sel = s.selection.as_ref()?;
    let same_ns = |t: &Selectable| match (namespace, t.namespace.as_deref()) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let workload = selectables
        .iter()
        .find(|t| !t.service && t.name == target && same_ns(t))?;
    if !sel.services {
        return sel
            .selects(workload)
            .then(|| format!("{} selects the pods of {target}", s.label));
    }
    selectables
        .iter()
        .filter(|t| t.service && same_ns(t) && sel.selects(t))
        .find(|svc| {
            !svc.pod_selector.is_empty()
                && svc
                    .pod_selector
                    .iter()
                    .all(|(k, v)| workload.labels.get(k) == Some(v))
        })
        .map(|svc| {
            format!(
                "{} selects Service {}, whose selector picks the pods of {target}",
                s.label, svc.name
            )
        })
}

/// Where each name and selector label value first appears among the ServiceMonitors and
/// PodMonitors of an input: what [`resolve`] looks a trigger's jobs or scale target up in, built
/// once for all triggers instead of a scan of every monitor per trigger (quadratic in a
/// repository with a monitor per application).
#[derive(Debug, Default)]
pub struct MonitorIndex(OnceLock<Built>);

/// What a [`MonitorIndex`] holds once built.
#[derive(Debug)]
struct Built {
    /// How many sources it was built from.
    len: usize,
    /// The first monitor named `key` or selecting a label of value `key`.
    by_key: HashMap<String, usize>,
    /// The first pod monitor without `jobLabel` that gives its targets this `job`.
    by_own_job: HashMap<String, usize>,
}

impl Clone for MonitorIndex {
    /// A new index, built again on first use from the sources it is used with.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl MonitorIndex {
    /// The index of `sources`, built from the first `sources` it sees; `None` for sources of
    /// another length (added to since), which callers scan instead.
    fn built(&self, sources: &[ScrapeSource]) -> Option<&Built> {
        let built = self.0.get_or_init(|| {
            let mut by_key = HashMap::new();
            let mut by_own_job = HashMap::new();
            for (i, s) in sources.iter().enumerate().filter(|(_, s)| is_monitor(s)) {
                for k in s.name.iter().chain(s.match_labels.iter().map(|(_, v)| v)) {
                    by_key.entry(k.clone()).or_insert(i);
                }
                if let Some(job) = own_job(s) {
                    by_own_job.entry(job).or_insert(i);
                }
            }
            Built {
                len: sources.len(),
                by_key,
                by_own_job,
            }
        });
        (built.len == sources.len()).then_some(built)
    }

    /// The position in `sources` of the first monitor named `key` or selecting a label of value
    /// `key`.
    fn first(&self, sources: &[ScrapeSource], key: &str) -> Option<usize> {
        match self.built(sources) {
            Some(b) => b.by_key.get(key).copied(),
            None => sources
                .iter()
                .position(|s| is_monitor(s) && names_or_selects(s, key)),
        }
    }

    /// The position in `sources` of the first pod monitor whose own `job` (without `jobLabel`)
    /// is one of `jobs`: the only monitors [`selected_by`] finds when the input holds no
    /// Services or workloads.
    fn first_own_job(&self, sources: &[ScrapeSource], jobs: &[&str]) -> Option<usize> {
        match self.built(sources) {
            Some(b) => jobs
                .iter()
                .filter_map(|j| b.by_own_job.get(*j))
                .min()
                .copied(),
            None => sources.iter().position(|s| {
                is_monitor(s) && own_job(s).is_some_and(|j| jobs.contains(&j.as_str()))
            }),
        }
    }
}

/// The `job` a pod monitor without `jobLabel` gives its targets whatever pods it selects.
fn own_job(s: &ScrapeSource) -> Option<String> {
    let sel = s.selection.as_ref()?;
    (!sel.services && sel.job_label.is_none()).then(|| pod_monitor_job(s, sel))
}

fn is_monitor(s: &ScrapeSource) -> bool {
    matches!(s.kind, SourceKind::ServiceMonitor | SourceKind::PodMonitor)
}

/// A monitor named `key`, or selecting a label of value `key`.
fn names_or_selects(s: &ScrapeSource, key: &str) -> bool {
    s.name.as_deref() == Some(key) || s.match_labels.iter().any(|(_, v)| v == key)
}

/// Resolves the scrape interval for a trigger's series.
#[must_use]
pub fn resolve(
    live: Option<&ServerProbe>,
    sources: &[ScrapeSource],
    index: &MonitorIndex,
    selectables: &[Selectable],
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
        None if s
            .selection
            .as_ref()
            .is_some_and(|sel| sel.flavor == Flavor::AzureMonitor) =>
        {
            (
                PROMETHEUS_DEFAULT,
                format!(
                    "{} sets no interval: Prometheus's default 1m assumed",
                    s.label
                ),
            )
        }
        None => {
            let (d, why) = operator_default();
            (d, format!("{} sets no interval: {why}", s.label))
        }
    };
    let target = so.target_name();
    let monitors = || sources.iter().filter(|s| is_monitor(s));
    // Followed through the Services and pods they select: the labels the targets really get.
    // Without Services or workloads only a pod monitor's own job can tie them: looked up, not
    // scanned for every trigger.
    let selecting = if selectables.is_empty() {
        index
            .first_own_job(sources, &hint.jobs)
            .and_then(|i| Some((&sources[i], selected_by(&sources[i], selectables, hint)?)))
    } else {
        monitors().find_map(|s| Some((s, selected_by(s, selectables, hint)?)))
    };
    if let Some((s, why)) = selecting {
        let (d, origin) = monitor_interval(s);
        return found(d, format!("{origin}; {why}"));
    }
    // Without Services or workloads in the input no monitor is seen to scrape the target.
    if hint.jobs.is_empty()
        && !selectables.is_empty()
        && let Some(t) = target
    {
        let namespace = so.object.namespace();
        for s in monitors() {
            if let Some(why) = scrapes_workload(s, selectables, t, namespace) {
                let (d, origin) = monitor_interval(s);
                return found(d, format!("{origin}; {why}"));
            }
        }
    }
    // The first monitor named by a job (or, without jobs, by the scale target).
    let by_name = if hint.jobs.is_empty() {
        target.and_then(|t| index.first(sources, t))
    } else {
        hint.jobs
            .iter()
            .filter_map(|j| index.first(sources, j))
            .min()
    };
    if let Some(i) = by_name {
        let (d, origin) = monitor_interval(&sources[i]);
        return found(d, origin);
    }
    if hint.jobs.is_empty() {
        let mut found_monitors = monitors();
        if let (Some(only), None) = (found_monitors.next(), found_monitors.next()) {
            let (d, origin) = monitor_interval(only);
            return found(d, origin);
        }
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
            &MonitorIndex::default(),
            &[],
            &ScaledObject { object: obj },
            &SeriesHint {
                jobs: jobs.to_vec(),
                metrics: vec!["x_total"],
                labels: Vec::new(),
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
            &MonitorIndex::default(),
            &[],
            &so,
            &SeriesHint {
                jobs: vec!["api"],
                metrics: vec![],
                labels: vec![],
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
            &MonitorIndex::default(),
            &[],
            &so,
            &SeriesHint::default(),
            &Settings::default(),
        );
        assert_eq!(r.interval, Duration::from_secs(20));
    }

    #[test]
    fn label_selectors_match_as_kubernetes_evaluates_them() {
        let docs = load_stream(
            "matchLabels: {app: api}\nmatchExpressions:\n  - {key: tier, operator: In, values: [web, edge]}\n  - {key: canary, operator: DoesNotExist}\n",
            LoadLimits::default(),
        );
        let sel = LabelSelector::of(docs[0].root.as_ref()).unwrap();
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert!(sel.matches(&labels(&[("app", "api"), ("tier", "web")])));
        assert!(!sel.matches(&labels(&[("app", "api"), ("tier", "db")])));
        assert!(!sel.matches(&labels(&[("app", "api"), ("tier", "web"), ("canary", "1")])));
        assert!(!sel.matches(&labels(&[("tier", "web")])));
        assert!(LabelSelector::default().matches(&labels(&[])));
    }

    #[test]
    fn a_service_monitor_names_its_jobs_after_the_services_it_selects() {
        let yaml = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m, namespace: shop}\nspec:\n  jobLabel: team\n  selector: {matchLabels: {app: api}}\n  endpoints: [{port: http, interval: 15s}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api-svc, namespace: shop, labels: {app: api, team: payments}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api-svc, namespace: other, labels: {app: api, team: other}}\n";
        let objects: Vec<_> = load_stream(yaml, LoadLimits::default())
            .into_iter()
            .filter_map(|d| d.root)
            .collect();
        let all: Vec<Object<'_>> = objects.iter().flat_map(|r| objects_of(r, 0)).collect();
        let sources: Vec<ScrapeSource> = all.iter().filter_map(source_of).collect();
        let selectables: Vec<Selectable> = all.iter().filter_map(selectable_of).collect();
        let hint = |jobs: Vec<&'static str>| SeriesHint {
            jobs,
            metrics: Vec::new(),
            labels: Vec::new(),
        };
        // `jobLabel: team`: the job is the Service's `team` label, in the monitor's namespace only.
        let why = selected_by(&sources[0], &selectables, &hint(vec!["payments"])).unwrap();
        assert!(why.contains("Service api-svc"), "{why}");
        assert!(selected_by(&sources[0], &selectables, &hint(vec!["other"])).is_none());
        assert!(selected_by(&sources[0], &selectables, &hint(vec!["api-svc"])).is_none());
    }
}
