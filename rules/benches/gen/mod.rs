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

/// The two repository shapes of the benchmarks (issue 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every document a KEDA object or its context: 9 ScaledObjects and 1 ServiceMonitor in 10,
    /// every query distinct.
    KedaDense,
    /// `helm template` output of a GitOps repository: rendered Deployments, Services and
    /// ConfigMaps, one document in 100 a ScaledObject.
    GitOps,
}

impl Shape {
    /// The shape named on a command line (`keda` or `gitops`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "keda" | "keda-dense" => Some(Self::KedaDense),
            "gitops" => Some(Self::GitOps),
            _ => None,
        }
    }

    /// The name used in file names and reports.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::KedaDense => "keda-dense",
            Self::GitOps => "gitops",
        }
    }

    /// Files in the repository at scale 1 (10 documents each).
    #[must_use]
    pub fn files(self) -> usize {
        match self {
            Self::KedaDense => 1000,
            Self::GitOps => 2000,
        }
    }

    /// File number `f` of a repository of this shape with `docs` documents per file.
    #[must_use]
    pub fn file(self, f: usize, docs: usize) -> String {
        match self {
            Self::KedaDense => file(f * docs, docs, 1 + f % 3),
            Self::GitOps => gitops_file(f * docs, docs),
        }
    }

    /// How many of documents `0..n` are ScaledObjects.
    #[must_use]
    pub fn scaled_objects(self, n: usize) -> usize {
        (0..n)
            .filter(|&i| match self {
                Self::KedaDense => i % 10 != 9,
                Self::GitOps => is_gitops_scaled_object(i),
            })
            .count()
    }
}

fn is_gitops_scaled_object(i: usize) -> bool {
    i % 100 == 42
}

/// A file of `docs` rendered manifests starting at document number `first`, as `helm template`
/// prints them: a `# Source:` comment before each document.
#[must_use]
pub fn gitops_file(first: usize, docs: usize) -> String {
    let mut out = String::new();
    for i in first..first + docs {
        let chart = format!("svc-{}", i / 10);
        out.push_str("---\n");
        if is_gitops_scaled_object(i) {
            out.push_str(&format!("# Source: {chart}/templates/scaledobject.yaml\n"));
            out.push_str(&scaled_object(i, 1 + i % 3));
            continue;
        }
        let (template, body) = match i % 10 {
            0..=2 => ("deployment", deployment(i, &chart)),
            3..=6 => ("service", service(i, &chart)),
            _ => ("configmap", config_map(i, &chart)),
        };
        out.push_str(&format!("# Source: {chart}/templates/{template}.yaml\n"));
        out.push_str(&body);
    }
    out
}

/// The labels a Helm chart puts on everything it renders.
fn helm_labels(i: usize, chart: &str, indent: &str) -> String {
    format!(
        "{indent}app.kubernetes.io/name: {chart}\n{indent}app.kubernetes.io/instance: {chart}-release\n{indent}app.kubernetes.io/version: \"1.{minor}.{patch}\"\n{indent}app.kubernetes.io/managed-by: Helm\n{indent}helm.sh/chart: {chart}-0.{minor}.{patch}\n",
        minor = i % 23,
        patch = i % 7,
    )
}

/// A rendered Deployment: a container (two in every fourth) with probes, resources and env.
#[must_use]
pub fn deployment(i: usize, chart: &str) -> String {
    let mut s = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {chart}-api-{i}\n  namespace: ns-{ns}\n  labels:\n{labels}  annotations:\n    meta.helm.sh/release-name: {chart}-release\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {chart}\n      app.kubernetes.io/instance: {chart}-release\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: {chart}\n        app.kubernetes.io/instance: {chart}-release\n      annotations:\n        checksum/config: {checksum:016x}\n    spec:\n      serviceAccountName: {chart}\n      containers:\n",
        ns = i % 17,
        labels = helm_labels(i, chart, "    "),
        replicas = 1 + i % 4,
        checksum = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let containers = if i.is_multiple_of(4) { 2 } else { 1 };
    for c in 0..containers {
        s.push_str(&format!(
            "        - name: {name}\n          image: \"registry.example.com/{chart}/{name}:1.{minor}.{c}\"\n          ports:\n            - name: http\n              containerPort: {port}\n          env:\n            - name: APP_INSTANCE\n              value: \"{i}\"\n            - name: DATABASE_URL\n              valueFrom:\n                secretKeyRef:\n                  name: {chart}-db\n                  key: url\n          livenessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n          readinessProbe:\n            httpGet:\n              path: /ready\n              port: http\n          resources:\n            requests:\n              cpu: {cpu}m\n              memory: {mem}Mi\n            limits:\n              memory: {lim}Mi\n",
            name = if c == 0 { "api" } else { "sidecar" },
            port = 8080 + c,
            minor = i % 23,
            cpu = 50 + 50 * (i % 8),
            mem = 64 << (i % 4),
            lim = 128 << (i % 4),
        ));
    }
    s
}

/// A rendered Service.
#[must_use]
pub fn service(i: usize, chart: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {chart}-{i}\n  namespace: ns-{ns}\n  labels:\n{labels}spec:\n  type: ClusterIP\n  ports:\n    - port: 80\n      targetPort: http\n      protocol: TCP\n      name: http\n  selector:\n    app.kubernetes.io/name: {chart}\n    app.kubernetes.io/instance: {chart}-release\n",
        ns = i % 17,
        labels = helm_labels(i, chart, "    "),
    )
}

/// A rendered ConfigMap with an application configuration file in a block scalar.
#[must_use]
pub fn config_map(i: usize, chart: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {chart}-config-{i}\n  namespace: ns-{ns}\n  labels:\n{labels}data:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: \"search,checkout-v{v}\"\n  app.yaml: |\n    server:\n      port: 8080\n      readTimeout: 15s\n      writeTimeout: 15s\n    cache:\n      ttl: {ttl}s\n      size: {size}\n    upstream: http://inventory-{i}.ns-{ns}.svc.cluster.local:8080\n",
        ns = i % 17,
        labels = helm_labels(i, chart, "    "),
        v = i % 5,
        ttl = 30 + i % 90,
        size = 1000 + i % 4000,
    )
}
