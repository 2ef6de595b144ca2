use crate::checker::{Checker, Loc};
use crate::facts::in_cluster_service;
use crate::registry::declare_rule;

use super::cluster_read;

declare_rule! {
    /// ## What it does
    /// Cluster mode: for an in-cluster `serverAddress`, reports a Service that exists but has no
    /// ready endpoints (no ready address in its EndpointSlices).
    ///
    /// ## Why is this bad?
    /// Nothing behind the Service answers: the Prometheus pods are down, not ready, or the
    /// Service's selector matches no pod. Every KEDA poll fails until that changes.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   # the Service selects app=prometheus, the pods are labelled app.kubernetes.io/name=prometheus
    ///   serverAddress: http://prometheus.monitoring.svc:9090
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:80
    /// ```
    pub(crate) struct ServiceWithoutEndpoints => "KL411", "service-without-endpoints", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, address: &str, at: &Loc) {
    let Some(services) = &cx.facts.services else {
        return;
    };
    let Some(svc) = in_cluster_service(address) else {
        return;
    };
    let Some(found) = services.get(&(svc.namespace.clone(), svc.name.clone())) else {
        return;
    };
    if found.ready_endpoints > 0
        || found.external_name.is_some()
        || !found.ports.contains(&svc.port)
    {
        return;
    }
    cx.report(
        &ServiceWithoutEndpoints::INFO,
        at.clone(),
        format!(
            "Service `{}/{}` has no ready endpoints ({}): nothing answers KEDA's queries",
            svc.namespace,
            svc.name,
            cluster_read(cx)
        ),
    )
    .help(format!(
        "check the Prometheus pods and the Service's selector: `kubectl -n {} get endpointslices -l kubernetes.io/service-name={}`",
        svc.namespace, svc.name
    ));
}
