use crate::checker::{Checker, Loc};
use crate::model::ScaledObject;
use crate::promql::SignalKind;
use crate::registry::declare_rule;
use crate::rules::scaling::{TriggerQuery, analysis, is_resource_trigger, meta_number};

declare_rule! {
    /// ## What it does
    /// Reports a ScaledObject that can scale to zero (`minReplicaCount` 0, which is KEDA's
    /// default when unset, or an `idleReplicaCount` of 0) while every trigger reads a signal
    /// that only exists while the workload itself serves traffic: latency histograms and
    /// quantiles, per-pod series of the scaled pods, or `cpu`/`memory`. One trigger whose
    /// signal exists without the workload (a queue length, consumer lag, a request count at an
    /// ingress in front of it, or a non-Prometheus scaler such as `rabbitmq`, `kafka` or
    /// `aws-sqs-queue`) is enough to stay silent. Trigger snippets (no `minReplicaCount` written)
    /// are not checked.
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
            Some(a) if trigger.is_prometheus() && a.signal.kind == SignalKind::WorkloadOnly => {
                reasons.push(a.signal.reason.clone());
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
