use crate::checker::{Checker, Loc};
use crate::facts::in_cluster_service;
use crate::registry::declare_rule;

use super::cluster_read;

declare_rule! {
    /// ## What it does
    /// Cluster mode: for an in-cluster `serverAddress`
    /// (`http://<service>.<namespace>.svc[.cluster.local][:port]`), reports a Service that does
    /// not exist, or one that has no such port.
    ///
    /// ## Why is this bad?
    /// The name does not resolve (or the port is closed) inside the cluster: every KEDA poll
    /// fails, and nothing scales. Namespaces and ports are easy to get wrong after a Helm chart
    /// upgrade renames `prometheus-server` or moves it to another namespace.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.default.svc:9090
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:80
    /// ```
    pub(crate) struct ServiceNotFound => "KL410", "service-not-found", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, address: &str, at: &Loc) {
    let Some(services) = &cx.facts.services else {
        return;
    };
    let Some(svc) = in_cluster_service(address) else {
        return;
    };
    let key = (svc.namespace.clone(), svc.name.clone());
    if cx.facts.service_errors.contains_key(&key) {
        return;
    }
    let read = cluster_read(cx);
    let (message, help) = match services.get(&key) {
        None => {
            let others: Vec<&str> = services
                .keys()
                .filter(|(ns, _)| *ns == svc.namespace)
                .map(|(_, n)| n.as_str())
                .collect();
            let help = match crate::keda::closest(&svc.name, &others) {
                Some(g) => format!("did you mean the Service `{g}` in `{}`?", svc.namespace),
                None => "check the Service name and namespace: `kubectl get svc -A`".to_owned(),
            };
            (
                format!(
                    "Service `{}/{}` does not exist ({read}): the address does not resolve in the cluster",
                    svc.namespace, svc.name
                ),
                help,
            )
        }
        Some(found) if !found.ports.contains(&svc.port) && found.external_name.is_none() => (
            format!(
                "Service `{}/{}` has no port {} ({read}); its ports are {}",
                svc.namespace,
                svc.name,
                svc.port,
                found
                    .ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "use one of the Service's ports (`port`, not `targetPort`)".to_owned(),
        ),
        Some(_) => return,
    };
    cx.report(&ServiceNotFound::INFO, at.clone(), message)
        .help(help);
}
