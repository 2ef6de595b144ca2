use crate::checker::Checker;
use crate::facts::{ServerOutcome, Unreachable};
use crate::registry::declare_rule;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: reports a `serverAddress` that cannot be reached from where kedalint ran,
    /// and says why: the host name does not resolve, the connection is refused, the TLS
    /// handshake fails, or nothing answers in time.
    ///
    /// ## Why is this bad?
    /// KEDA cannot read the metric: every poll fails, the ScaledObject reports
    /// `KEDAScalerFailed`, and without `fallback` nothing scales. From a laptop, an in-cluster
    /// address only resolves through `prometheus.addressMap` in `.kedalint.yaml`.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitorng.svc:9090
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:9090
    /// ```
    pub(crate) struct ServerUnreachable => "KL401", "server-unreachable", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &Live<'_>) {
    let ServerOutcome::Unreachable { reason, detail } = &live.server.outcome else {
        return;
    };
    let help = match reason {
        Unreachable::Dns => {
            "check the host name; an in-cluster name only resolves inside the cluster: map it to a reachable address with `prometheus.addressMap` in .kedalint.yaml"
        }
        Unreachable::ConnectionRefused => {
            "check the port: nothing listens there (Prometheus usually listens on 9090; a Service may map 80 to it)"
        }
        Unreachable::Tls => {
            "check the scheme (http or https) and the server's certificate; KEDA needs `authModes: tls` with `ca` for a private CA"
        }
        Unreachable::Timeout => {
            "check that the address is reachable from the KEDA operator (network policies, firewalls)"
        }
        Unreachable::Other => "check the address",
    };
    cx.report(
        &ServerUnreachable::INFO,
        live.address_loc.clone(),
        format!(
            "{} cannot be reached: {} ({detail}); KEDA cannot read the metric",
            live.probed,
            reason.describe()
        ),
    )
    .help(help);
}
