//! What the KL412-KL419 rules share: the live state KEDA and the HPA report about one
//! ScaledObject (`Facts::scaled_objects`, read in cluster mode), where in the object to point,
//! and the commands a person runs to confirm.

use crate::checker::{Checker, Loc};
use crate::facts::{
    MetricReading, ObjectState, external_metric_path, parse_quantity, query_escape,
};
use crate::model::{ScaledObject, Trigger};
use crate::rules::query_context::QueryContext;
use crate::source::{FieldPath, Node, PathSegment};

use super::{
    HpaAtMaxReplicas, HpaCannotScale, HpaMetricDisagreesWithPrometheus,
    HpaTargetDiffersFromThreshold, ScaledObjectNotReady, ScaledObjectPaused, ScalerErrorEvent,
    TriggerFailing, cluster_read, hpa_at_max_replicas, hpa_cannot_scale,
    hpa_metric_disagrees_with_prometheus, hpa_target_differs_from_threshold,
    scaled_object_not_ready, scaled_object_paused, scaler_error_event, trigger_failing,
};

/// One ScaledObject and what the cluster reports about it.
pub(crate) struct ObjectLive<'a> {
    /// The object.
    pub(crate) so: &'a ScaledObject<'a>,
    /// Its live state.
    pub(crate) state: &'a ObjectState,
    /// `metadata.namespace` (`default` when absent, as `kubectl apply` does).
    pub(crate) namespace: &'a str,
    /// `metadata.name`.
    pub(crate) name: &'a str,
    /// "read from the cluster at …" for messages.
    pub(crate) read: String,
}

impl ObjectLive<'_> {
    /// A location at `path` under the object, with the node's span when the input has it.
    pub(crate) fn loc(&self, path: FieldPath) -> Loc {
        let mut full = self.so.object.base_path();
        for seg in path.segments() {
            full = match seg {
                PathSegment::Key(k) => full.key(k),
                PathSegment::Index(i) => full.index(*i),
            };
        }
        self.at(full)
    }

    /// A location at a full path (one the model gives, such as a trigger's).
    pub(crate) fn at(&self, path: FieldPath) -> Loc {
        let span = node_at(self.so.object.root, &path).and_then(|n| n.span.clone());
        Loc { path, span }
    }

    /// `status.conditions[i]`.
    pub(crate) fn condition_loc(&self, index: usize) -> Loc {
        self.loc(
            FieldPath::root()
                .key("status")
                .key("conditions")
                .index(index),
        )
    }

    /// The external metric name of a trigger: from `status.externalMetricNames` (`s<i>-…`),
    /// else KEDA's `s<i>-prometheus`.
    pub(crate) fn metric_of(&self, trigger: &Trigger<'_>) -> String {
        let prefix = format!("s{}-", trigger.index);
        self.state
            .external_metric_names
            .iter()
            .find(|m| m.starts_with(&prefix))
            .cloned()
            .unwrap_or_else(|| format!("s{}-prometheus", trigger.index))
    }

    /// The trigger a metric name belongs to (`s1-prometheus` is `spec.triggers[1]`).
    pub(crate) fn trigger_of<'t>(
        &self,
        metric: &str,
        triggers: &'t [Trigger<'t>],
    ) -> Option<&'t Trigger<'t>> {
        let index: usize = metric.strip_prefix('s')?.split('-').next()?.parse().ok()?;
        triggers.get(index)
    }

    /// `kubectl get --raw '…'` for a metric, with KEDA's selector.
    pub(crate) fn raw_command(&self, metric: &str) -> String {
        format!(
            "kubectl get --raw '{}'",
            external_metric_path(self.namespace, metric, self.name)
        )
    }

    /// `kubectl get events …` for the object.
    pub(crate) fn events_command(&self) -> String {
        format!(
            "kubectl get events -n {} --field-selector involvedObject.name={}",
            self.namespace, self.name
        )
    }

    /// `kubectl describe hpa …`.
    pub(crate) fn describe_hpa_command(&self, hpa: &str) -> String {
        format!("kubectl describe hpa -n {} {hpa}", self.namespace)
    }

    /// What the HPA reads for a metric right now, and from where: the external metrics API
    /// (exactly KEDA's answer), else the HPA's last `currentMetrics`.
    pub(crate) fn hpa_value(&self, metric: &str) -> Option<(f64, &'static str)> {
        if let Some(MetricReading::Values(values)) = self.state.external_metrics.get(metric)
            && let [one] = values.as_slice()
            && let Some(v) = parse_quantity(one)
        {
            return Some((v, "the external metrics API"));
        }
        let hpa = self.state.hpa.as_ref()?;
        let m = hpa.metric(metric)?;
        if let Some(v) = m.current_value.as_deref().and_then(parse_quantity) {
            return Some((v, "the HPA's currentMetrics"));
        }
        // An AverageValue is the metric divided by the replicas the HPA counted.
        let avg = m
            .current_average_value
            .as_deref()
            .and_then(parse_quantity)?;
        let replicas = hpa.current_replicas.filter(|r| *r > 0)?;
        #[allow(clippy::cast_precision_loss)] // replica counts are small
        Some((
            avg * replicas as f64,
            "the HPA's currentMetrics (averageValue x replicas)",
        ))
    }
}

/// The Prometheus query URL a person opens to see what the trigger's query returns now: on the
/// probed URL when `--online` ran, else on the address as written.
pub(crate) fn query_url(cx: &Checker<'_>, address: &str, query: &str) -> String {
    let base = cx
        .facts
        .server(address)
        .map_or(address.trim(), |s| s.probed_url.as_str())
        .trim_end_matches('/');
    format!("{base}/api/v1/query?query={}", query_escape(query))
}

/// The node at `path` under `root`.
fn node_at<'n>(root: &'n Node, path: &FieldPath) -> Option<&'n Node> {
    let mut node = root;
    for seg in path.segments() {
        node = match seg {
            PathSegment::Key(k) => node.get(k)?,
            PathSegment::Index(i) => node.as_seq()?.get(*i)?,
        };
    }
    Some(node)
}

/// Runs the KL412-KL419 rules on a ScaledObject the cluster reported on.
pub(crate) fn check(
    cx: &mut Checker<'_>,
    so: &ScaledObject<'_>,
    queries: &[(Trigger<'_>, Option<QueryContext<'_>>)],
) {
    let Some(name) = so.object.name() else {
        return;
    };
    let namespace = so.object.namespace().unwrap_or("default");
    let Some(state) = cx.facts.object_state(namespace, name) else {
        return;
    };
    let live = ObjectLive {
        so,
        state,
        namespace,
        name,
        read: cluster_read(cx),
    };
    let triggers: Vec<Trigger<'_>> = queries.iter().map(|(t, _)| t.clone()).collect();
    if cx.enabled(&ScaledObjectPaused::INFO) {
        scaled_object_paused::check(cx, &live);
    }
    if cx.enabled(&ScaledObjectNotReady::INFO) {
        scaled_object_not_ready::check(cx, &live);
    }
    if cx.enabled(&TriggerFailing::INFO) {
        trigger_failing::check(cx, &live, &triggers);
    }
    if cx.enabled(&ScalerErrorEvent::INFO) {
        scaler_error_event::check(cx, &live);
    }
    if cx.enabled(&HpaMetricDisagreesWithPrometheus::INFO) {
        for (trigger, query) in queries {
            if let Some(q) = query {
                hpa_metric_disagrees_with_prometheus::check(cx, &live, trigger, q);
            }
        }
    }
    if cx.enabled(&HpaTargetDiffersFromThreshold::INFO) {
        for trigger in triggers.iter().filter(|t| t.is_prometheus()) {
            hpa_target_differs_from_threshold::check(cx, &live, trigger);
        }
    }
    if cx.enabled(&HpaCannotScale::INFO) {
        hpa_cannot_scale::check(cx, &live);
    }
    if cx.enabled(&HpaAtMaxReplicas::INFO) {
        hpa_at_max_replicas::check(cx, &live);
    }
}

/// A message text quoted for a finding: one line, at most 1000 characters (KEDA's errors carry
/// the whole query URL, and the cause is at their end).
pub(crate) fn quote(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 1000 {
        format!("{}…", one.chars().take(999).collect::<String>())
    } else {
        one
    }
}
