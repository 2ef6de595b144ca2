//! Cluster mode, live state: what KEDA and the HPA report about each ScaledObject right now. The
//! object's `status` (read with the object), the HPA it names, recent Events on both, and the
//! values `external.metrics.k8s.io/v1beta1` serves with KEDA's selector, the numbers the HPA
//! scales on. Reads only (`get`, `list`), in the object's namespace, never a Secret.
//!
//! Every read is optional: a refused or missing API becomes a note naming the RBAC rule that
//! would allow it, and whatever the deadline cuts short is said, never a failure of the run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Event;
use kedalint_rules::facts::{
    Condition, HpaMetric, HpaState, KEDA_SELECTOR_LABEL, MetricHealth, MetricReading, ObjectEvent,
    ObjectState,
};
use kube::api::{Api, ListParams};
use kube::{Client, core::Request};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The events kept per object, newest first.
const MAX_EVENTS: usize = 20;

/// KEDA's `ScaledObjectStatus`, the fields kedalint reads (`apis/keda/v1alpha1/scaledobject_types.go`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct KedaStatus {
    conditions: Vec<KedaCondition>,
    external_metric_names: Vec<String>,
    health: BTreeMap<String, KedaHealth>,
    paused_replica_count: Option<i64>,
    hpa_name: Option<String>,
}

/// KEDA's `Condition` (`apis/keda/v1alpha1/condition_types.go`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KedaCondition {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    reason: Option<String>,
    message: Option<String>,
}

/// KEDA's `HealthStatus`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct KedaHealth {
    number_of_failures: Option<i64>,
    status: Option<String>,
}

/// `external.metrics.k8s.io/v1beta1` `ExternalMetricValueList`.
#[derive(Debug, Deserialize)]
struct ExternalMetricValueList {
    #[serde(default)]
    items: Vec<ExternalMetricValue>,
}

#[derive(Debug, Deserialize)]
struct ExternalMetricValue {
    value: String,
}

/// One ScaledObject to read the live state of.
#[derive(Debug, Clone)]
struct Target {
    namespace: String,
    name: String,
    hpa: String,
    metrics: Vec<String>,
}

/// The state read from the object itself, and what else to read.
fn target_of(object: &Value) -> Option<(Target, ObjectState)> {
    let namespace = object.pointer("/metadata/namespace")?.as_str()?.to_owned();
    let name = object.pointer("/metadata/name")?.as_str()?.to_owned();
    let status: KedaStatus = object
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    let state = ObjectState {
        conditions: status
            .conditions
            .into_iter()
            .map(|c| Condition {
                kind: c.kind,
                status: c.status,
                reason: c.reason.filter(|r| !r.is_empty()),
                message: c.message.filter(|m| !m.is_empty()),
            })
            .collect(),
        external_metric_names: status.external_metric_names.clone(),
        health: status
            .health
            .into_iter()
            .map(|(k, h)| {
                (
                    k,
                    MetricHealth {
                        number_of_failures: h.number_of_failures,
                        status: h.status,
                    },
                )
            })
            .collect(),
        hpa_name: status.hpa_name.clone().filter(|n| !n.is_empty()),
        paused_replica_count: status.paused_replica_count,
        ..ObjectState::default()
    };
    // The HPA KEDA creates: `status.hpaName`, else the configured name, else `keda-hpa-<name>`.
    let hpa = state
        .hpa_name
        .clone()
        .or_else(|| {
            object
                .pointer("/spec/advanced/horizontalPodAutoscalerConfig/name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("keda-hpa-{name}"));
    // KEDA names a trigger's metric `s<index>-<type>`; before the first reconcile the status
    // does not list them yet.
    let metrics = if status.external_metric_names.is_empty() {
        object
            .pointer("/spec/triggers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(_, t)| t.get("type").and_then(Value::as_str) == Some("prometheus"))
            .map(|(i, _)| format!("s{i}-prometheus"))
            .collect()
    } else {
        status.external_metric_names
    };
    Some((
        Target {
            namespace,
            name,
            hpa,
            metrics,
        },
        state,
    ))
}

/// One read of the live state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Read {
    Hpa,
    Events,
    Metric(String),
}

impl Read {
    fn describe(&self, t: &Target) -> String {
        match self {
            Self::Hpa => format!("the HPA `{}/{}`", t.namespace, t.hpa),
            Self::Events => format!("the Events of `{}/{}` and its HPA", t.namespace, t.name),
            Self::Metric(m) => format!("the external metric `{m}` of `{}/{}`", t.namespace, t.name),
        }
    }

    /// The RBAC rule that allows this read, for a note.
    fn rbac_rule(&self) -> &'static str {
        match self {
            Self::Hpa => {
                "apiGroups: [\"autoscaling\"], resources: [\"horizontalpodautoscalers\"], verbs: [\"get\"]"
            }
            Self::Events => "apiGroups: [\"\"], resources: [\"events\"], verbs: [\"list\"]",
            Self::Metric(_) => {
                "apiGroups: [\"external.metrics.k8s.io\"], resources: [\"*\"], verbs: [\"get\", \"list\"]"
            }
        }
    }
}

/// What the reads share.
#[derive(Default)]
struct Gathered {
    states: BTreeMap<(String, String), ObjectState>,
    notes: BTreeSet<String>,
}

type Shared = Arc<Mutex<Gathered>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Gathered> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the live state of every ScaledObject in `objects` (as listed, with `status`) until
/// `deadline`. Returns the states by `(namespace, name)` and notes on what could not be read.
pub async fn read_states(
    client: &Client,
    objects: &[Value],
    deadline: Instant,
) -> (BTreeMap<(String, String), ObjectState>, Vec<String>) {
    let shared: Shared = Arc::default();
    let permits = Arc::new(Semaphore::new(8));
    let pending: Arc<Mutex<BTreeSet<(String, String, Read)>>> = Arc::default();
    let mut targets = BTreeMap::new();
    let mut tasks = JoinSet::new();
    for object in objects {
        let Some((target, state)) = target_of(object) else {
            continue;
        };
        let key = (target.namespace.clone(), target.name.clone());
        lock(&shared).states.insert(key.clone(), state);
        let reads = [Read::Hpa, Read::Events]
            .into_iter()
            .chain(target.metrics.iter().cloned().map(Read::Metric));
        for read in reads {
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert((key.0.clone(), key.1.clone(), read.clone()));
            let (client, shared, permits, pending, target) = (
                client.clone(),
                shared.clone(),
                permits.clone(),
                pending.clone(),
                target.clone(),
            );
            tasks.spawn(async move {
                let _permit = permits.acquire().await;
                run_read(&client, &target, &read, &shared).await;
                pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&(target.namespace.clone(), target.name.clone(), read));
            });
        }
        targets.insert(key, target);
    }
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {}
    tasks.abort_all();
    let mut gathered = std::mem::take(&mut *lock(&shared));
    for (ns, name, read) in pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
    {
        if let Some(t) = targets.get(&(ns.clone(), name.clone())) {
            gathered.notes.insert(format!(
                "{} was not read: the cluster deadline passed first",
                read.describe(t)
            ));
        }
    }
    (gathered.states, gathered.notes.into_iter().collect())
}

async fn run_read(client: &Client, target: &Target, read: &Read, shared: &Shared) {
    let key = (target.namespace.clone(), target.name.clone());
    match read {
        Read::Hpa => {
            let api: Api<HorizontalPodAutoscaler> =
                Api::namespaced(client.clone(), &target.namespace);
            match api.get_opt(&target.hpa).await {
                Ok(Some(hpa)) => {
                    if let Some(s) = lock(shared).states.get_mut(&key) {
                        s.hpa = Some(hpa_state(&hpa));
                    }
                }
                Ok(None) => {
                    lock(shared).notes.insert(format!(
                        "{} does not exist (KEDA creates it once the ScaledObject is Ready)",
                        read.describe(target)
                    ));
                }
                Err(e) => failed(shared, target, read, &e),
            }
        }
        Read::Events => {
            let api: Api<Event> = Api::namespaced(client.clone(), &target.namespace);
            let mut events = Vec::new();
            for (kind, name) in [
                ("ScaledObject", &target.name),
                ("HorizontalPodAutoscaler", &target.hpa),
            ] {
                let lp = ListParams::default().fields(&format!(
                    "involvedObject.kind={kind},involvedObject.name={name}"
                ));
                match api.list(&lp).await {
                    Ok(list) => events.extend(
                        list.items
                            .iter()
                            // The selector is the server's to apply; do not trust a server that
                            // ignores it.
                            .filter(|e| {
                                e.involved_object.kind.as_deref() == Some(kind)
                                    && e.involved_object.name.as_deref() == Some(name.as_str())
                            })
                            .map(object_event),
                    ),
                    Err(e) => return failed(shared, target, read, &e),
                }
            }
            // Newest first; RFC 3339 in UTC sorts as text.
            events.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
            events.truncate(MAX_EVENTS);
            if let Some(s) = lock(shared).states.get_mut(&key) {
                s.events = Some(events);
            }
        }
        Read::Metric(metric) => {
            let path = format!(
                "/apis/external.metrics.k8s.io/v1beta1/namespaces/{}/{metric}",
                target.namespace
            );
            let lp =
                ListParams::default().labels(&format!("{KEDA_SELECTOR_LABEL}={}", target.name));
            let request = match Request::new(path).list(&lp) {
                Ok(r) => r,
                Err(e) => {
                    lock(shared)
                        .notes
                        .insert(format!("{} was not read: {e}", read.describe(target)));
                    return;
                }
            };
            let reading = match client.request::<ExternalMetricValueList>(request).await {
                Ok(list) => {
                    MetricReading::Values(list.items.into_iter().map(|i| i.value).collect())
                }
                Err(kube::Error::Api(s)) if !matches!(s.code, 401 | 403 | 404 | 503) => {
                    MetricReading::Error {
                        status: s.code,
                        message: s.message.clone(),
                    }
                }
                Err(e) => return failed(shared, target, read, &e),
            };
            if let Some(s) = lock(shared).states.get_mut(&key) {
                s.external_metrics.insert(metric.clone(), reading);
            }
        }
    }
}

/// A read that failed: a note saying why, and for a refusal the RBAC rule to add.
fn failed(shared: &Shared, target: &Target, read: &Read, error: &kube::Error) {
    let what = read.describe(target);
    let note = match error {
        kube::Error::Api(s) if s.code == 401 || s.code == 403 => format!(
            "{what} was not read: forbidden (HTTP {}); to read it, add the RBAC rule {{{}}} in namespace `{}`",
            s.code,
            read.rbac_rule(),
            target.namespace
        ),
        kube::Error::Api(s) if s.code == 404 && matches!(read, Read::Metric(_)) => format!(
            "{what} was not read: the API server does not serve external.metrics.k8s.io/v1beta1 (HTTP 404; is KEDA's metrics server installed and its APIService registered?)"
        ),
        kube::Error::Api(s) if s.code == 503 => format!(
            "{what} was not read: the API is unavailable (HTTP 503: {}); check `kubectl get apiservice v1beta1.external.metrics.k8s.io`",
            s.message
        ),
        kube::Error::Api(s) => format!("{what} was not read: HTTP {}: {}", s.code, s.message),
        other => format!("{what} was not read: {other}"),
    };
    lock(shared).notes.insert(note);
}

fn hpa_state(hpa: &HorizontalPodAutoscaler) -> HpaState {
    let spec = hpa.spec.clone().unwrap_or_default();
    let status = hpa.status.clone().unwrap_or_default();
    let current = status.current_metrics.unwrap_or_default();
    let metrics = spec
        .metrics
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(index, m)| {
            let ext = m.external.as_ref()?;
            let name = ext.metric.name.clone();
            let target = match ext.target.type_.as_str() {
                "Value" => ext.target.value.as_ref(),
                _ => ext.target.average_value.as_ref(),
            };
            let now = current
                .iter()
                .filter_map(|c| c.external.as_ref())
                .find(|c| c.metric.name == name);
            Some(HpaMetric {
                name,
                index,
                target_type: ext.target.type_.clone(),
                target: target.map(|q| q.0.clone()),
                current_value: now
                    .and_then(|c| c.current.value.as_ref())
                    .map(|q| q.0.clone()),
                current_average_value: now
                    .and_then(|c| c.current.average_value.as_ref())
                    .map(|q| q.0.clone()),
            })
        })
        .collect();
    HpaState {
        name: hpa.metadata.name.clone().unwrap_or_default(),
        min_replicas: spec.min_replicas.map(i64::from),
        max_replicas: i64::from(spec.max_replicas),
        current_replicas: status.current_replicas.map(i64::from),
        desired_replicas: i64::from(status.desired_replicas),
        metrics,
        conditions: status
            .conditions
            .unwrap_or_default()
            .into_iter()
            .map(|c| Condition {
                kind: c.type_,
                status: c.status,
                reason: c.reason,
                message: c.message,
            })
            .collect(),
    }
}

fn object_event(e: &Event) -> ObjectEvent {
    let time = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_owned));
    let last_seen = time(
        e.series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .and_then(|t| serde_json::to_value(t).ok()),
    )
    .or_else(|| {
        time(
            e.last_timestamp
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok()),
        )
    })
    .or_else(|| {
        time(
            e.event_time
                .as_ref()
                .and_then(|t| serde_json::to_value(t).ok()),
        )
    });
    ObjectEvent {
        kind: e.involved_object.kind.clone().unwrap_or_default(),
        name: e.involved_object.name.clone().unwrap_or_default(),
        event_type: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        count: e
            .series
            .as_ref()
            .and_then(|s| s.count)
            .or(e.count)
            .map(i64::from),
        last_seen,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hpa_and_metrics_come_from_the_status_or_keda_defaults() {
        let so = json!({
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"triggers": [{"type": "cpu"}, {"type": "prometheus"}]},
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "TriggerError", "message": ""}],
                       "health": {"s1-prometheus": {"numberOfFailures": 3, "status": "Failing"}}}
        });
        let (t, state) = target_of(&so).unwrap();
        assert_eq!(t.hpa, "keda-hpa-api");
        assert_eq!(t.metrics, vec!["s1-prometheus"]);
        assert_eq!(state.conditions[0].reason.as_deref(), Some("TriggerError"));
        assert_eq!(state.conditions[0].message, None);
        assert_eq!(state.health["s1-prometheus"].number_of_failures, Some(3));
        let named = json!({
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"advanced": {"horizontalPodAutoscalerConfig": {"name": "custom"}}, "triggers": []},
            "status": {"externalMetricNames": ["s0-prometheus"]}
        });
        let (t, _) = target_of(&named).unwrap();
        assert_eq!((t.hpa.as_str(), t.metrics.len()), ("custom", 1));
    }
}
