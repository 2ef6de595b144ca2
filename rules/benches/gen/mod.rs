//! Generates realistic manifest repositories for benchmarks: ScaledObjects with varied Prometheus
//! triggers (about a third of them with a problem), TriggerAuthentications and ServiceMonitors.

#![allow(dead_code, unreachable_pub)]

const QUERIES: &[&str] = &[
    "sum(rate(http_requests_total{service=\"svc-{i}\"}[2m]))",
    "histogram_quantile(0.95, sum(rate(request_duration_seconds_bucket{app=\"app-{i}\"}[5m])) by (le))",
    "sum(avg_over_time(queue_depth{queue=\"q-{i}\"}[5m]))",
    "sum by (pod) (rate(container_cpu_usage_seconds_total{namespace=\"ns-{i}\", pod=~\"worker-.*\"}[1m]))",
    "max(kafka_consumergroup_lag{consumergroup=\"group-{i}\", topic=~\"orders|payments\"})",
    "sum(rate(nginx_ingress_controller_requests{ingress=\"web-{i}\", status=~\"5..\"}[3m])) / sum(rate(nginx_ingress_controller_requests{ingress=\"web-{i}\"}[3m]))",
];

/// One ScaledObject document (`i` varies names, values and which problems it has).
#[must_use]
pub fn scaled_object(i: usize, triggers: usize) -> String {
    let mut s = format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: app-{i}\n  namespace: ns-{ns}\n  labels:\n    team: team-{t}\n    app.kubernetes.io/name: app-{i}\nspec:\n  scaleTargetRef:\n    name: app-{i}\n  pollingInterval: {poll}\n  minReplicaCount: {min}\n  maxReplicaCount: {max}\n  triggers:\n",
        ns = i % 17,
        t = i % 5,
        poll = if i.is_multiple_of(11) {
            "\"15s\"".to_owned()
        } else {
            "30".to_owned()
        },
        min = i % 3,
        max = 10 + i % 40,
    );
    for k in 0..triggers {
        let q = QUERIES[(i + k) % QUERIES.len()].replace("{i}", &i.to_string());
        s.push_str(&format!(
            "    - type: prometheus\n      name: t{k}\n      metadata:\n        serverAddress: http://prometheus-operated.monitoring.svc:9090{slash}\n        query: |\n          {q}\n        threshold: {thr}\n{inv}",
            slash = if i.is_multiple_of(13) { "/" } else { "" },
            thr = if i.is_multiple_of(7) { "100".to_owned() } else { format!("\"{}\"", 10 + i % 90) },
            inv = if i.is_multiple_of(2) { "        ignoreNullValues: \"false\"\n" } else { "" },
        ));
    }
    s
}

/// A file of `docs` documents starting at object number `first`.
#[must_use]
pub fn file(first: usize, docs: usize, triggers: usize) -> String {
    let mut out = String::new();
    for d in 0..docs {
        if d > 0 {
            out.push_str("---\n");
        }
        let i = first + d;
        if i % 10 == 9 {
            out.push_str(&format!(
                "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: app-{i}\nspec:\n  selector:\n    matchLabels:\n      app: app-{i}\n  endpoints:\n    - port: http\n      interval: 15s\n"
            ));
        } else {
            out.push_str(&scaled_object(i, triggers));
        }
    }
    out
}
