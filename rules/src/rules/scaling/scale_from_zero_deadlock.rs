use crate::checker::{Checker, Loc};
use crate::model::ScaledObject;
use crate::promql::{Analysis, MatchOp, SignalKind};
use crate::registry::declare_rule;
use crate::rules::query_context::series_hint;
use crate::rules::scaling::{TriggerQuery, analysis, is_resource_trigger, meta_number};
use crate::scrape::scraped_from_target;

declare_rule! {
    /// ## What it does
    /// Reports a ScaledObject that can scale to zero (`minReplicaCount` 0, which is KEDA's
    /// default when unset, or an `idleReplicaCount` of 0) while every trigger reads a signal
    /// that only exists while the workload itself serves traffic: latency histograms and
    /// quantiles, per-pod series of the scaled pods, or `cpu`/`memory`, or a queue or load
    /// metric the workload exports about itself. A metric is taken for self-exported when the
    /// input says so: it is a family inference servers export from their own pods (vLLM's
    /// `vllm:…` such as `vllm:num_requests_waiting`, Text Generation Inference's `tgi_…` such
    /// as `tgi_queue_size`, SGLang's `sglang:…`, Triton's `nv_inference_…`); or it is a queue
    /// or load metric (its name says queue, pending, waiting, running, active, …) that is
    /// scraped from the scale target, because its selector names the target (`job`, `service`,
    /// `app`, `container`, … equal to `scaleTargetRef.name`, or `pod=~"<name>-…"`) or because a
    /// ServiceMonitor/PodMonitor in the input selects the target's pods (or their Service) and
    /// the query's labels pick that monitor's targets.
    /// The message says which. One trigger whose signal exists without the workload (a queue
    /// length in a broker, consumer lag, a request count at an ingress in front of it, or a
    /// non-Prometheus scaler such as `rabbitmq`, `kafka` or `aws-sqs-queue`) is enough to stay
    /// silent. Trigger snippets (no `minReplicaCount` written) are not checked.
    ///
    /// ## Why is this bad?
    /// After `cooldownPeriod` without activity KEDA scales the workload to zero. Then no pod
    /// serves, no latency is observed, and the query is empty: KEDA reads 0 (with the default
    /// `ignoreNullValues: true`), or NaN for a quantile of zero rates (KEDA 2.18 passes NaN
    /// through; 2.20 reads it as 0). Neither is greater than `activationThreshold`, so the
    /// trigger never activates again and the workload stays at zero whatever the load.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   triggers:
    ///     - type: prometheus
    ///       metricType: Value
    ///       metadata:
    ///         query: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{app="web"}[5m])) by (le))
    ///         threshold: "0.35"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   minReplicaCount: 1
    ///   triggers:
    ///     - type: prometheus
    ///       metricType: Value
    ///       metadata:
    ///         query: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{app="web"}[5m])) by (le))
    ///         threshold: "0.35"
    /// ```
    pub(crate) struct ScaleFromZeroDeadlock => "KL308", "scale-from-zero-deadlock", Warning, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>, queries: &[TriggerQuery<'_, '_>]) {
    if queries.is_empty() {
        return;
    }
    let min_entry = so.spec_field("minReplicaCount");
    let idle = so.spec_int("idleReplicaCount");
    let (floor_text, loc) = match (min_entry, so.spec_int("minReplicaCount"), idle) {
        (_, _, Some(0)) => (
            "idleReplicaCount is 0".to_owned(),
            so.spec_field("idleReplicaCount")
                .map(|e| Loc::value(so.spec_path().key("idleReplicaCount"), e)),
        ),
        (Some(e), Some(0), _) => (
            "minReplicaCount is 0".to_owned(),
            Some(Loc::value(so.spec_path().key("minReplicaCount"), e)),
        ),
        (None, _, _) if !so.object.fragment => (
            "minReplicaCount is unset (KEDA's default is 0)".to_owned(),
            so.object
                .spec()
                .and_then(|s| s.get_entry("triggers"))
                .map(|e| Loc::key(so.spec_path().key("triggers"), e)),
        ),
        _ => return,
    };
    let mut reasons = Vec::new();
    let mut activation = None;
    for (trigger, query) in queries {
        if is_resource_trigger(trigger) {
            reasons.push(format!(
                "the {} trigger measures the pods themselves",
                trigger.trigger_type().unwrap_or("resource")
            ));
            continue;
        }
        match analysis(query.as_ref()) {
            Some(a) if trigger.is_prometheus() => {
                let reason = if a.signal.kind == SignalKind::WorkloadOnly {
                    a.signal.reason.clone()
                } else {
                    let Some(why) = self_exported(cx, so, a, so.target_name()) else {
                        return;
                    };
                    why
                };
                reasons.push(reason);
                if activation.is_none() {
                    activation = meta_number(trigger, "activationThreshold").map(|t| t.text);
                }
            }
            _ => return,
        }
    }
    let Some(loc) = loc else { return };
    let version = cx.settings.keda_version;
    let empty = if version.at_least(2, 20) {
        format!("KEDA {version} reads an empty result or NaN as 0 (ignoreNullValues default true)")
    } else {
        format!(
            "KEDA {version} reads an empty result as 0 (ignoreNullValues default true) and passes a quantile's NaN through"
        )
    };
    let signals = if let [only] = reasons.as_slice() {
        format!(
            "the only trigger reads {}",
            only.strip_prefix("reads ").unwrap_or(only)
        )
    } else {
        format!(
            "every trigger reads a signal only the workload itself produces ({})",
            reasons.join("; ")
        )
    };
    let strict = queries.iter().any(|(t, _)| {
        t.meta("ignoreNullValues")
            .and_then(crate::keda::parse_go_bool)
            == Some(false)
    });
    let empty = if strict {
        "KEDA gets an error (ignoreNullValues \"false\") and the trigger is not active".to_owned()
    } else {
        format!(
            "{empty}, which is never > activationThreshold {}",
            activation.unwrap_or("0 (default)")
        )
    };
    cx.report(
        &ScaleFromZeroDeadlock::INFO,
        loc,
        format!(
            "{floor_text} and {signals}. After cooldownPeriod KEDA scales to zero, no pod serves, the query comes back empty; {empty}, so the workload never scales up again"
        ),
    )
    .help("set `minReplicaCount: 1` (or higher), or add a trigger that exists without the workload, such as a queue length or the request rate at the ingress in front of it");
}

/// Metric families that servers export about their own queue and load, from the pods being
/// scaled: at zero replicas there is no such series.
const SELF_EXPORTED_FAMILIES: &[(&str, &str)] = &[
    ("vllm:", "vLLM"),
    ("tgi_", "Text Generation Inference"),
    ("sglang:", "SGLang"),
    ("nv_inference_", "NVIDIA Triton"),
];

/// Words in metric names of a server's own load (queue words are the analysis's `External`).
const LOAD_WORDS: &[&str] = &[
    "running",
    "active",
    "inflight",
    "concurrency",
    "concurrent",
    "load",
    "utilization",
    "busy",
    "occupancy",
];

/// Labels whose value names the workload a series is scraped from.
const WORKLOAD_LABELS: &[&str] = &[
    "job",
    "service",
    "app",
    "app_kubernetes_io_name",
    "deployment",
    "statefulset",
    "container",
    "workload",
];

/// Why a query that is not a latency or per-pod signal still reads only what the scaled
/// workload exports about itself, judged from the input; `None` when nothing says so.
fn self_exported(
    cx: &Checker<'_>,
    so: &ScaledObject<'_>,
    a: &Analysis,
    target: Option<&str>,
) -> Option<String> {
    let metrics: Vec<&str> = a
        .selectors
        .iter()
        .filter_map(|s| s.metric.as_deref())
        .collect();
    if metrics.is_empty() {
        return None;
    }
    let family = |m: &str| {
        SELF_EXPORTED_FAMILIES
            .iter()
            .find(|(prefix, _)| m.starts_with(prefix))
            .map(|(_, server)| *server)
    };
    if metrics.iter().all(|m| family(m).is_some()) {
        let m = metrics[0];
        let server = family(m).unwrap_or("the server");
        return Some(format!(
            "reads `{m}`, which {server} exports about its own queue and load from the pods being scaled"
        ));
    }
    // Beyond the known families, only queue and load metrics are judged by where they are
    // scraped from: a request rate may come from an ingress in front of the workload.
    let load = |m: &str| {
        m.to_ascii_lowercase()
            .split(['_', ':', '.'])
            .any(|w| LOAD_WORDS.contains(&w))
    };
    if a.signal.kind != SignalKind::External && !metrics.iter().all(|m| load(m)) {
        return None;
    }
    let target = target?;
    let names_target = |s: &crate::promql::Selector| {
        s.matchers.iter().any(|m| match m.op {
            MatchOp::Equal => WORKLOAD_LABELS.contains(&m.name.as_str()) && m.value == target,
            MatchOp::RegexMatch => {
                m.name == "pod"
                    && m.value
                        .strip_prefix(target)
                        .is_some_and(|r| r.starts_with('-'))
            }
            _ => false,
        })
    };
    if a.selectors.iter().all(names_target) {
        let m = metrics[0];
        return Some(format!(
            "reads `{m}` with a selector naming the scale target `{target}`, so the series is exported by the workload itself"
        ));
    }
    let why = scraped_from_target(
        &cx.inventory.scrape_sources,
        &cx.inventory.selectables,
        so,
        &series_hint(a),
    )?;
    Some(format!(
        "reads `{}`, scraped from the workload itself: {why}",
        metrics[0]
    ))
}
