//! KL4xx: live checks. They read what online checks gathered (`cx.facts`: a probe of the
//! trigger's Prometheus, Services read from the cluster) and never run without it. Every finding
//! names what was probed and when. KL412-KL419 read what KEDA and the HPA report about the
//! object (`cx.facts.scaled_objects`, cluster mode): see [`state`].

pub(crate) mod auth_required;
pub(crate) mod hpa_at_max_replicas;
pub(crate) mod hpa_cannot_scale;
pub(crate) mod hpa_metric_disagrees_with_prometheus;
pub(crate) mod hpa_target_differs_from_threshold;
pub(crate) mod metric_absent;
pub(crate) mod not_a_prometheus_api;
pub(crate) mod query_empty_now;
pub(crate) mod query_multiple_series_now;
pub(crate) mod query_nan_now;
pub(crate) mod query_slow;
pub(crate) mod scaled_object_not_ready;
pub(crate) mod scaled_object_paused;
pub(crate) mod scaler_error_event;
pub(crate) mod server_unreachable;
pub(crate) mod service_not_found;
pub(crate) mod service_without_endpoints;
pub(crate) mod state;
pub(crate) mod threshold_unreachable;
pub(crate) mod trigger_failing;

pub(crate) use auth_required::AuthRequired;
pub(crate) use hpa_at_max_replicas::HpaAtMaxReplicas;
pub(crate) use hpa_cannot_scale::HpaCannotScale;
pub(crate) use hpa_metric_disagrees_with_prometheus::HpaMetricDisagreesWithPrometheus;
pub(crate) use hpa_target_differs_from_threshold::HpaTargetDiffersFromThreshold;
pub(crate) use metric_absent::MetricAbsent;
pub(crate) use not_a_prometheus_api::NotAPrometheusApi;
pub(crate) use query_empty_now::QueryEmptyNow;
pub(crate) use query_multiple_series_now::QueryMultipleSeriesNow;
pub(crate) use query_nan_now::QueryNanNow;
pub(crate) use query_slow::QuerySlow;
pub(crate) use scaled_object_not_ready::ScaledObjectNotReady;
pub(crate) use scaled_object_paused::ScaledObjectPaused;
pub(crate) use scaler_error_event::ScalerErrorEvent;
pub(crate) use server_unreachable::ServerUnreachable;
pub(crate) use service_not_found::ServiceNotFound;
pub(crate) use service_without_endpoints::ServiceWithoutEndpoints;
pub(crate) use threshold_unreachable::ThresholdUnreachable;
pub(crate) use trigger_failing::TriggerFailing;

use crate::checker::{Checker, Loc};
use crate::facts::{QueryProbe, ServerOutcome, ServerProbe};
use crate::model::Trigger;
use crate::rules::query_context::QueryContext;

/// What the live rules of one trigger share: the probe of its server and where to point.
pub(crate) struct Live<'a> {
    /// The probe of the trigger's `serverAddress`.
    pub(crate) server: &'a ServerProbe,
    /// The probe of its query, when the query ran.
    pub(crate) query: Option<&'a QueryProbe>,
    /// "`http://…` (probed at …)" for messages.
    pub(crate) probed: String,
    /// The `serverAddress` value.
    pub(crate) address_loc: Loc,
    /// The path of the trigger's `query`.
    pub(crate) query_path: crate::source::FieldPath,
}

/// Runs the KL4xx rules on one prometheus trigger.
pub(crate) fn check_trigger(
    cx: &mut Checker<'_>,
    trigger: &Trigger<'_>,
    query: Option<&QueryContext<'_>>,
) {
    let Some(entry) = trigger.meta_entry("serverAddress") else {
        return;
    };
    let Some(address) = trigger.meta("serverAddress") else {
        return;
    };
    let address_loc = Loc::value(trigger.metadata_path().key("serverAddress"), entry);
    if cx.facts.services.is_some() {
        if cx.enabled(&ServiceNotFound::INFO) {
            service_not_found::check(cx, address, &address_loc);
        }
        if cx.enabled(&ServiceWithoutEndpoints::INFO) {
            service_without_endpoints::check(cx, address, &address_loc);
        }
    }
    let Some(server) = cx.facts.server(address) else {
        return;
    };
    let probed = describe_probe(cx, address, server);
    let live = Live {
        server,
        query: query.and_then(|q| server.queries.get(q.query)),
        probed,
        address_loc,
        query_path: trigger.metadata_path().key("query"),
    };
    if cx.enabled(&ServerUnreachable::INFO) {
        server_unreachable::check(cx, &live);
    }
    if cx.enabled(&NotAPrometheusApi::INFO) {
        not_a_prometheus_api::check(cx, &live);
    }
    if cx.enabled(&AuthRequired::INFO) {
        auth_required::check(cx, trigger, &live);
    }
    if !matches!(server.outcome, ServerOutcome::Prometheus { .. }) {
        return;
    }
    let (Some(q), Some(_)) = (query, live.query) else {
        return;
    };
    if cx.enabled(&QueryEmptyNow::INFO) {
        query_empty_now::check(cx, trigger, q, &live);
    }
    if cx.enabled(&QueryMultipleSeriesNow::INFO) {
        query_multiple_series_now::check(cx, q, &live);
    }
    if cx.enabled(&QueryNanNow::INFO) {
        query_nan_now::check(cx, q, &live);
    }
    if cx.enabled(&MetricAbsent::INFO) {
        metric_absent::check(cx, q, &live);
    }
    if cx.enabled(&QuerySlow::INFO) {
        query_slow::check(cx, q, &live);
    }
    if cx.enabled(&ThresholdUnreachable::INFO) {
        threshold_unreachable::check(cx, trigger, q, &live);
    }
}

/// "`http://prometheus.monitoring.svc:9090` (probed as `http://127.0.0.1:9090` at 2025-…Z)".
fn describe_probe(cx: &Checker<'_>, address: &str, server: &ServerProbe) -> String {
    let address = address.trim().trim_end_matches('/');
    let url = server.probed_url.trim_end_matches('/');
    let mut out = format!("`{address}` (probed");
    if url != address {
        out.push_str(&format!(" as `{url}`"));
    }
    match &cx.facts.probed_at {
        Some(t) => out.push_str(&format!(" at {t})")),
        None => out.push(')'),
    }
    out
}

/// "the range 1m is shorter than 2 x the scrape interval, 1m (…)" for the first range of the
/// query that holds fewer than two samples: the most common reason a query is empty.
fn short_range(q: &QueryContext<'_>) -> Option<String> {
    let a = q.analysis.as_ref().ok()?;
    let r = a.ranges.iter().find(|r| r.range < q.scrape.interval * 2)?;
    Some(format!(
        "the range {} is shorter than 2 x the scrape interval, {}",
        crate::promql::format_duration(r.range),
        q.scrape
    ))
}

/// "cluster read at 2025-…Z" or "cluster read".
fn cluster_read(cx: &Checker<'_>) -> String {
    match &cx.facts.probed_at {
        Some(t) => format!("read from the cluster at {t}"),
        None => "read from the cluster".to_owned(),
    }
}

/// A duration for messages: `1.8s`, `350ms`.
fn seconds(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let s = format!("{:.2}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}
