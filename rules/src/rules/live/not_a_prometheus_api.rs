use crate::checker::Checker;
use crate::facts::ServerOutcome;
use crate::registry::declare_rule;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: reports a `serverAddress` that answers, but not like the Prometheus HTTP API:
    /// `GET <serverAddress>/api/v1/query` gives a 404, an HTML page, or JSON without `status`.
    ///
    /// ## Why is this bad?
    /// The address points at something else: a Grafana, the Prometheus web UI behind a path
    /// prefix, a Mimir or Cortex gateway without its `/prometheus` prefix, an ingress default
    /// backend. KEDA fails on every poll (`prometheus query api returned error. status: 404`).
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://mimir-gateway.mimir.svc:8080
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://mimir-gateway.mimir.svc:8080/prometheus
    /// ```
    pub(crate) struct NotAPrometheusApi => "KL402", "not-a-prometheus-api", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &Live<'_>) {
    let ServerOutcome::NotPrometheus { status, detail } = &live.server.outcome else {
        return;
    };
    cx.report(
        &NotAPrometheusApi::INFO,
        live.address_loc.clone(),
        format!(
            "{} does not answer like the Prometheus HTTP API: `GET /api/v1/query` gave HTTP {status}, {detail}",
            live.probed
        ),
    )
    .help("point serverAddress at the base URL that serves /api/v1/query (Mimir and Cortex serve it under /prometheus, Thanos at the querier)");
}
