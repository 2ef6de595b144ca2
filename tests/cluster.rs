//! `--cluster` against a stand-in Kubernetes API server: no Kubernetes API server can run on
//! these machines, so a small HTTP server on 127.0.0.1 answers the few GETs kedalint makes
//! (ScaledObjects, ScaledJobs, TriggerAuthentications, Services, EndpointSlices) with JSON shaped
//! as the API server's, and a kubeconfig points kube-rs at it. kube's real client does the requests.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kedalint_tests::cli_binary;
use kedalint_tests::live::serve;
use serde_json::{Value, json};

/// What one run of the CLI against the stand-in printed.
struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("JSON: {e}\n{}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Runs `kubectl kedalint ARGS` in `dir` with a kubeconfig whose current context is the
/// stand-in API server at `api`. The run is killed after 60 s, so a deadline that does not hold
/// fails the test instead of hanging it.
fn run_cluster(api: SocketAddr, args: &[&str], dir: &Path) -> Run {
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stand-in\n  cluster:\n    server: http://{api}\ncontexts:\n- name: stand-in\n  context:\n    cluster: stand-in\n    user: nobody\ncurrent-context: stand-in\nusers:\n- name: nobody\n  user: {{}}\n"
        ),
    )
    .expect("kubeconfig");
    let mut child = Command::new(cli_binary())
        .args(args)
        .current_dir(dir)
        .env("KUBECONFIG", &kubeconfig)
        .env("NO_COLOR", "1")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl-kedalint");
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            // Still running after a minute: end this one process (by its id) so the test fails.
            let _ = Command::new("kill").arg(id.to_string()).status();
        }
    });
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("wait for kubectl-kedalint");
    let _ = tx.send(());
    let _ = guard.join();
    Run {
        stdout,
        stderr,
        code: status.code(),
    }
}

fn scaled_object(name: &str, address: &str, threshold: &str) -> Value {
    json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": "shop", "managedFields": [{"manager": "kubectl"}]},
        "spec": {
            "scaleTargetRef": {"name": name},
            "minReplicaCount": 1,
            "triggers": [{
                "type": "prometheus",
                "metricType": "Value",
                "metadata": {
                    "serverAddress": address,
                    "query": "sum(rate(http_requests_total{job=\"api\"}[2m]))",
                    "threshold": threshold,
                    "ignoreNullValues": "false"
                }
            }]
        }
    })
}

/// A ScaledJob with the same trigger as [`scaled_object`].
fn scaled_job(name: &str, address: &str, threshold: &str) -> Value {
    let mut job = scaled_object(name, address, threshold);
    job["kind"] = json!("ScaledJob");
    let spec = job["spec"].as_object_mut().expect("spec");
    spec.remove("scaleTargetRef");
    spec.remove("minReplicaCount");
    spec.insert(
        "jobTargetRef".to_owned(),
        json!({"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": name, "image": "example.com/worker:1"}]}}}),
    );
    spec["triggers"][0]
        .as_object_mut()
        .expect("trigger")
        .remove("metricType");
    job
}

/// The findings of code `code` on the object named `name`.
fn findings_of<'j>(json: &'j Value, name: &str, code: &str) -> Vec<&'j Value> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["object"]["name"] == name && f["code"] == code)
        .collect()
}

fn service(name: &str, port: u16) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "monitoring"},
        "spec": {"type": "ClusterIP", "ports": [{"name": "http", "port": port, "targetPort": 9090}]}
    })
}

fn slices(ready: bool) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSliceList", "metadata": {},
        "items": [{
            "metadata": {"name": "s-1", "namespace": "monitoring"},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.5"], "conditions": {"ready": ready}}]
        }]
    })
}

fn not_found(what: &str) -> String {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": format!("{what} not found"), "reason": "NotFound", "code": 404})
    .to_string()
}

/// Runs `kubectl kedalint --cluster --format json` against a stand-in serving `scaled_objects`,
/// `scaled_jobs` (none: the ScaledJob CRD is absent, 404) and two Prometheus Services, the
/// second (`prometheus-down`) without ready endpoints. Returns the run and every path requested.
fn lint_stand_in(
    scaled_objects: Vec<Value>,
    scaled_jobs: Option<Vec<Value>>,
) -> (Run, Vec<String>) {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let api = serve(Arc::new(move |target: &str| {
        log.lock().expect("log").push(target.to_owned());
        let path = target.split('?').next().unwrap_or("");
        let ok = |v: Value| (200, "application/json", v.to_string(), Duration::ZERO);
        match path {
            "/apis/keda.sh/v1alpha1/scaledobjects" => ok(json!({
                "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObjectList",
                "metadata": {"resourceVersion": "7"},
                "items": scaled_objects.clone()
            })),
            "/apis/keda.sh/v1alpha1/scaledjobs" if scaled_jobs.is_some() => ok(json!({
                "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJobList",
                "metadata": {"resourceVersion": "8"},
                "items": scaled_jobs.clone()
            })),
            "/apis/keda.sh/v1alpha1/triggerauthentications"
            | "/apis/keda.sh/v1alpha1/clustertriggerauthentications" => ok(json!({
                "apiVersion": "keda.sh/v1alpha1", "kind": "List", "metadata": {}, "items": []
            })),
            "/api/v1/namespaces/monitoring/services/prometheus-server" => {
                ok(service("prometheus-server", 80))
            }
            "/api/v1/namespaces/monitoring/services/prometheus-down" => {
                ok(service("prometheus-down", 80))
            }
            "/apis/discovery.k8s.io/v1/namespaces/monitoring/endpointslices" => {
                ok(slices(!target.contains("prometheus-down")))
            }
            _ => (404, "application/json", not_found(path), Duration::ZERO),
        }
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_cluster(api, &["--cluster", "--format", "json"], dir.path());
    let seen = seen.lock().expect("log").clone();
    (run, seen)
}

#[test]
fn cluster_mode_lints_scaled_objects_and_checks_the_services_their_addresses_name() {
    let (run, seen) = lint_stand_in(
        vec![
            scaled_object("good", "http://prometheus-server.monitoring.svc:80", "10"),
            scaled_object(
                "wrong-namespace",
                "http://prometheus-server.default.svc:80",
                "10",
            ),
            scaled_object(
                "wrong-port",
                "http://prometheus-server.monitoring.svc.cluster.local:9090",
                "10",
            ),
            scaled_object("down", "http://prometheus-down.monitoring.svc:80", "350m"),
        ],
        None,
    );
    let (json, stderr) = (run.json(), &run.stderr);
    assert_eq!(run.code, Some(1), "stderr: {stderr}");
    assert_eq!(json["summary"]["objects"], 4);
    // No ScaledJob CRD in this cluster (404): read as no ScaledJobs, not as an error.
    assert!(
        seen.iter()
            .any(|p| p.starts_with("/apis/keda.sh/v1alpha1/scaledjobs")),
        "ScaledJobs not listed"
    );
    let findings = json["findings"].as_array().expect("findings");
    let of = |name: &str, code: &str| findings_of(&json, name, code);
    // Objects from the cluster carry namespace/name and a field path, no file position.
    let kl102 = of("down", "KL102");
    assert_eq!(kl102.len(), 1, "{findings:#?}");
    assert_eq!(kl102[0]["object"]["namespace"], "shop");
    assert_eq!(kl102[0]["file"], Value::Null);
    assert_eq!(kl102[0]["line"], Value::Null);
    assert_eq!(kl102[0]["path"], "spec.triggers[0].metadata.threshold");

    assert!(
        of("good", "KL410").is_empty() && of("good", "KL411").is_empty(),
        "{findings:#?}"
    );
    let missing = of("wrong-namespace", "KL410");
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Service `default/prometheus-server` does not exist"),
        "{missing:#?}"
    );
    let port = of("wrong-port", "KL410");
    assert!(
        port[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("has no port 9090"),
        "{port:#?}"
    );
    let down = of("down", "KL411");
    assert!(
        down[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("no ready endpoints"),
        "{findings:#?}"
    );
    // Read-only, and never a Secret.
    assert!(seen.iter().all(|p| !p.contains("/secrets")), "{seen:#?}");
}

#[test]
fn cluster_mode_lints_scaled_jobs_with_the_trigger_rules_and_the_job_rules() {
    let (run, _) = lint_stand_in(
        vec![scaled_object(
            "good",
            "http://prometheus-server.monitoring.svc:80",
            "10",
        )],
        Some(vec![
            scaled_job(
                "render",
                "http://prometheus-server.monitoring.svc:80",
                "350m",
            ),
            scaled_job("resize", "http://prometheus-server.default.svc:80", "10"),
        ]),
    );
    let json = run.json();
    assert_eq!(run.code, Some(1), "{json:#}");
    assert_eq!(json["summary"]["objects"], 3);
    let findings = json["findings"].as_array().expect("findings");
    let of = |name: &str, code: &str| findings_of(&json, name, code);
    let kl102 = of("render", "KL102");
    assert_eq!(kl102.len(), 1, "{findings:#?}");
    assert_eq!(kl102[0]["object"]["kind"], "ScaledJob");
    assert_eq!(kl102[0]["path"], "spec.triggers[0].metadata.threshold");
    // The Service check of an in-cluster address, and a job rule (no maxReplicaCount).
    assert_eq!(of("resize", "KL410").len(), 1, "{findings:#?}");
    assert_eq!(of("resize", "KL324").len(), 1, "{findings:#?}");
    assert!(of("good", "KL324").is_empty(), "{findings:#?}");
}

// ---------------------------------------------------------------------------------------------
// Live state: what KEDA and the HPA report. The stand-in serves objects shaped as the real API
// serves them: KEDA's ScaledObject `status` (apis/keda/v1alpha1/scaledobject_types.go,
// condition_types.go), `autoscaling/v2` HorizontalPodAutoscalers as KEDA creates them
// (`keda-hpa-<name>`, one External metric `s<i>-prometheus` selected by
// `scaledobject.keda.sh/name`), `core/v1` Events with `involvedObject`, and
// `external.metrics.k8s.io/v1beta1` `ExternalMetricValueList`s. Still no real API server: none
// can run on these machines.
// ---------------------------------------------------------------------------------------------

const NS: &str = "shop";
const SEED: &str = "inference-slo-scaler";
const P95_1M: &str =
    "histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[1m])) by (le))";
const P95_4M: &str =
    "histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[4m])) by (le))";

/// A condition as KEDA and the HPA write them.
fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message,
           "lastTransitionTime": "2026-11-12T09:00:00Z"})
}

/// KEDA's conditions of a healthy object.
fn healthy_conditions(active: bool) -> Vec<Value> {
    vec![
        condition(
            "Ready",
            "True",
            "ScaledObjectReady",
            "ScaledObject is defined correctly and is ready for scaling",
        ),
        if active {
            condition(
                "Active",
                "True",
                "ScalerActive",
                "Scaling is performed because triggers are active",
            )
        } else {
            condition(
                "Active",
                "False",
                "ScalerNotActive",
                "Scaling is not performed because triggers are not active",
            )
        },
        condition(
            "Fallback",
            "False",
            "NoFallbackFound",
            "No fallbacks are active on this scaled object",
        ),
        condition(
            "Paused",
            "False",
            "ScaledObjectUnpaused",
            "pause annotation removed for ScaledObject",
        ),
    ]
}

/// The seed's ScaledObject as the API server lists it: the p95 latency trigger, with `status`.
fn live_object(
    name: &str,
    query: &str,
    annotations: Value,
    conditions: Vec<Value>,
    failures: i64,
) -> Value {
    json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": NS, "uid": format!("uid-{name}"), "generation": 3,
                     "annotations": annotations, "finalizers": ["finalizer.keda.sh"]},
        "spec": {
            "scaleTargetRef": {"name": "inference"},
            "minReplicaCount": 1,
            "maxReplicaCount": 10,
            "fallback": {"failureThreshold": 3, "replicas": 4},
            "triggers": [{
                "type": "prometheus",
                "metricType": "Value",
                "metadata": {
                    "serverAddress": "http://prometheus-server.monitoring.svc:80",
                    "query": query,
                    "threshold": "0.35"
                }
            }]
        },
        "status": {
            "scaleTargetKind": "apps/v1.Deployment",
            "scaleTargetGVKR": {"group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments"},
            "originalReplicaCount": 1,
            "externalMetricNames": ["s0-prometheus"],
            "hpaName": format!("keda-hpa-{name}"),
            "conditions": conditions,
            "health": {"s0-prometheus": {"numberOfFailures": failures,
                                         "status": if failures > 0 { "Failing" } else { "Happy" }}},
            "triggersTypes": "prometheus"
        }
    })
}

/// The HPA KEDA creates for `so`: target `Value 350m` (threshold 0.35), reading `current`.
fn live_hpa(so: &str, current: &str, replicas: (i64, i64, i64), conditions: Vec<Value>) -> Value {
    let (desired, now, max) = replicas;
    let selector = json!({"matchLabels": {"scaledobject.keda.sh/name": so}});
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": format!("keda-hpa-{so}"), "namespace": NS,
                     "labels": {"app.kubernetes.io/managed-by": "keda-operator", "scaledobject.keda.sh/name": so},
                     "ownerReferences": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": so,
                                          "uid": format!("uid-{so}"), "controller": true, "blockOwnerDeletion": true}]},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "inference"},
            "minReplicas": 1,
            "maxReplicas": max,
            "metrics": [{"type": "External", "external": {
                "metric": {"name": "s0-prometheus", "selector": selector},
                "target": {"type": "Value", "value": "350m"}}}]
        },
        "status": {
            "currentReplicas": now,
            "desiredReplicas": desired,
            "currentMetrics": [{"type": "External", "external": {
                "metric": {"name": "s0-prometheus", "selector": selector},
                "current": {"value": current}}}],
            "conditions": conditions
        }
    })
}

fn hpa_ok_conditions() -> Vec<Value> {
    vec![
        condition(
            "AbleToScale",
            "True",
            "ReadyForNewScale",
            "recommended size matches current size",
        ),
        condition(
            "ScalingActive",
            "True",
            "ValidMetricFound",
            "the HPA was able to successfully calculate a replica count from external metric s0-prometheus(&LabelSelector{MatchLabels:map[string]string{scaledobject.keda.sh/name: inference-slo-scaler,},MatchExpressions:[]LabelSelectorRequirement{},})",
        ),
        condition(
            "ScalingLimited",
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        ),
    ]
}

/// A `core/v1` Event as KEDA's recorder writes it.
fn event(kind: &str, name: &str, reason: &str, message: &str, count: i64) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.1873a2b4c5d6e7f8"), "namespace": NS},
        "involvedObject": {"kind": kind, "namespace": NS, "name": name,
                           "apiVersion": if kind == "ScaledObject" { "keda.sh/v1alpha1" } else { "autoscaling/v2" },
                           "uid": format!("uid-{name}")},
        "reason": reason, "message": message, "type": "Warning", "count": count,
        "source": {"component": if kind == "ScaledObject" { "keda-operator" } else { "horizontal-pod-autoscaler" }},
        "firstTimestamp": "2026-11-12T09:30:00Z", "lastTimestamp": "2026-11-12T09:59:30Z",
        "reportingComponent": "", "reportingInstance": ""
    })
}

fn list(kind: &str, api_version: &str, items: Vec<Value>) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"resourceVersion": "42"}, "items": items})
}

/// What the external metrics API answers for a metric: a value, or an error status.
#[derive(Clone)]
enum Metric {
    Value(&'static str),
    Status(u16, &'static str),
}

/// The stand-in's objects for the live-state tests.
#[derive(Clone)]
struct Cluster {
    objects: Vec<Value>,
    hpas: Vec<Value>,
    events: Vec<Value>,
    metrics: Vec<(&'static str, Metric)>,
    /// Every HPA read waits this long (a slow API server).
    hpa_delay: Duration,
}

fn status_body(code: u16, reason: &str, message: &str) -> String {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
    .to_string()
}

/// Serves `cluster`, recording each request target.
fn serve_cluster(cluster: Cluster, seen: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    serve(Arc::new(move |target: &str| {
        seen.lock().expect("log").push(target.to_owned());
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let ok = |v: Value| (200, "application/json", v.to_string(), Duration::ZERO);
        let hpa_prefix = format!("/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/");
        let metric_prefix = format!("/apis/external.metrics.k8s.io/v1beta1/namespaces/{NS}/");
        if path == "/apis/keda.sh/v1alpha1/scaledobjects" {
            ok(list(
                "ScaledObjectList",
                "keda.sh/v1alpha1",
                cluster.objects.clone(),
            ))
        } else if path == "/api/v1/namespaces/monitoring/services/prometheus-server" {
            ok(service("prometheus-server", 80))
        } else if path == "/apis/discovery.k8s.io/v1/namespaces/monitoring/endpointslices" {
            ok(slices(true))
        } else if path.starts_with("/apis/keda.sh/v1alpha1/") {
            ok(list("List", "keda.sh/v1alpha1", vec![]))
        } else if let Some(name) = path.strip_prefix(&hpa_prefix) {
            let found = cluster.hpas.iter().find(|h| h["metadata"]["name"] == name);
            match found {
                Some(h) => (200, "application/json", h.to_string(), cluster.hpa_delay),
                None => (
                    404,
                    "application/json",
                    status_body(
                        404,
                        "NotFound",
                        &format!("horizontalpodautoscalers.autoscaling \"{name}\" not found"),
                    ),
                    cluster.hpa_delay,
                ),
            }
        } else if path == format!("/api/v1/namespaces/{NS}/events") {
            // Field selectors as the API server applies them: kind and name of involvedObject.
            let items = cluster
                .events
                .iter()
                .filter(|e| {
                    let o = &e["involvedObject"];
                    query.contains(&format!(
                        "involvedObject.kind%3D{}",
                        o["kind"].as_str().unwrap_or("")
                    )) && query.contains(&format!(
                        "involvedObject.name%3D{}",
                        o["name"].as_str().unwrap_or("")
                    ))
                })
                .cloned()
                .collect();
            ok(list("EventList", "v1", items))
        } else if let Some(metric) = path.strip_prefix(&metric_prefix) {
            let so = query
                .split('&')
                .find_map(|p| p.strip_prefix("labelSelector=scaledobject.keda.sh%2Fname%3D"))
                .unwrap_or("");
            match cluster
                .metrics
                .iter()
                .find(|(n, _)| *n == so)
                .map(|(_, m)| m.clone())
            {
                Some(Metric::Value(v)) => ok(json!({
                    "kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1",
                    "metadata": {},
                    "items": [{"metricName": metric, "metricLabels": null,
                               "timestamp": "2026-11-12T10:00:00Z", "value": v}]
                })),
                Some(Metric::Status(code, message)) => (
                    code,
                    "application/json",
                    status_body(
                        code,
                        if code == 403 {
                            "Forbidden"
                        } else {
                            "InternalError"
                        },
                        message,
                    ),
                    Duration::ZERO,
                ),
                None => (404, "application/json", not_found(path), Duration::ZERO),
            }
        } else {
            (404, "application/json", not_found(path), Duration::ZERO)
        }
    }))
}

/// The findings of one object in a JSON report, as (code, message, help, path).
fn live_findings(json: &Value, name: &str) -> Vec<(String, String, String, String)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["object"]["name"] == name)
        .filter(|f| {
            f["code"]
                .as_str()
                .is_some_and(|c| ("KL412"..="KL439").contains(&c))
        })
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_owned();
            (s("code"), s("message"), s("help"), s("path"))
        })
        .collect()
}

/// A healthy seed object reading 1.87 (above its 0.35 threshold), scaled to 4 of at most 10.
fn healthy_cluster(name: &'static str) -> Cluster {
    Cluster {
        objects: vec![live_object(
            name,
            P95_4M,
            json!({}),
            healthy_conditions(true),
            0,
        )],
        hpas: vec![live_hpa(name, "1870m", (4, 4, 10), hpa_ok_conditions())],
        events: vec![],
        metrics: vec![(name, Metric::Value("1870m"))],
        hpa_delay: Duration::ZERO,
    }
}

#[test]
fn a_healthy_object_gets_no_live_state_finding() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let api = serve_cluster(healthy_cluster("healthy"), seen.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_cluster(api, &["--cluster", "--format", "json"], dir.path());
    let live = live_findings(&run.json(), "healthy");
    assert!(live.is_empty(), "{live:#?}\nstderr: {}", run.stderr);
    // Every read was made, in the object's namespace, with KEDA's selector; never a Secret.
    let seen = seen.lock().expect("log");
    for wanted in [
        "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/keda-hpa-healthy",
        "/api/v1/namespaces/shop/events?&fieldSelector=involvedObject.kind%3DScaledObject%2CinvolvedObject.name%3Dhealthy",
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/s0-prometheus?&labelSelector=scaledobject.keda.sh%2Fname%3Dhealthy",
    ] {
        assert!(seen.iter().any(|p| p == wanted), "no {wanted} in {seen:#?}");
    }
    assert!(seen.iter().all(|p| !p.contains("/secrets")), "{seen:#?}");
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
}

#[test]
fn an_active_fallback_and_failing_health_are_reported_on_the_trigger() {
    let mut cluster = healthy_cluster("falling-back");
    let mut conditions = healthy_conditions(true);
    conditions[2] = condition(
        "Fallback",
        "True",
        "FallbackExists",
        "At least one trigger is falling back on this scaled object",
    );
    cluster.objects = vec![live_object(
        "falling-back",
        P95_4M,
        json!({}),
        conditions,
        5,
    )];
    cluster.metrics = vec![("falling-back", Metric::Value("1400m"))];
    let api = serve_cluster(cluster, Arc::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_cluster(api, &["--cluster", "--format", "json"], dir.path());
    let live = live_findings(&run.json(), "falling-back");
    let failing: Vec<_> = live.iter().filter(|f| f.0 == "KL413").collect();
    assert_eq!(failing.len(), 2, "{live:#?}");
    assert!(
        failing.iter().any(|f| f
            .1
            .contains("`s0-prometheus` is Failing with 5 consecutive failures")
            && f.3 == "spec.triggers[0]"),
        "{failing:#?}"
    );
    assert!(
        failing
            .iter()
            .any(|f| f.1.contains("Fallback condition is on")
                && f.1.contains("At least one trigger is falling back")
                && f.3 == "status.conditions[2]"),
        "{failing:#?}"
    );
    assert_eq!(run.code, Some(1), "errors fail the run: {}", run.stderr);
}

#[test]
fn an_hpa_held_at_max_replicas_is_reported_with_its_condition() {
    let mut cluster = healthy_cluster("at-max");
    let mut conditions = hpa_ok_conditions();
    conditions[2] = condition(
        "ScalingLimited",
        "True",
        "TooManyReplicas",
        "the desired replica count is more than the maximum replica count",
    );
    cluster.hpas = vec![live_hpa("at-max", "9", (10, 10, 10), conditions)];
    cluster.metrics = vec![("at-max", Metric::Value("9"))];
    let api = serve_cluster(cluster, Arc::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_cluster(api, &["--cluster", "--format", "json"], dir.path());
    let live = live_findings(&run.json(), "at-max");
    let codes: Vec<&str> = live.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(codes, ["KL415"], "{live:#?}");
    assert!(
        live[0]
            .1
            .contains("`keda-hpa-at-max` is held at maxReplicas 10")
            && live[0].1.contains("more than the maximum replica count"),
        "{live:#?}"
    );
    assert_eq!(live[0].3, "spec.maxReplicaCount");
    // A warning: the exit code stays 0 under the default --fail-on error.
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn a_paused_object_is_reported_on_its_annotation() {
    let mut cluster = healthy_cluster("paused");
    let mut conditions = healthy_conditions(false);
    conditions[3] = condition(
        "Paused",
        "True",
        "ScaledObjectPaused",
        "ScaledObject is paused",
    );
    cluster.objects = vec![live_object(
        "paused",
        P95_4M,
        json!({"autoscaling.keda.sh/paused": "true"}),
        conditions,
        0,
    )];
    // KEDA deletes the HPA of a paused object.
    cluster.hpas = vec![];
    let api = serve_cluster(cluster, Arc::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_cluster(api, &["--cluster", "--format", "json"], dir.path());
    let live = live_findings(&run.json(), "paused");
    let paused: Vec<_> = live.iter().filter(|f| f.0 == "KL417").collect();
    assert_eq!(paused.len(), 1, "{live:#?}");
    assert!(
        paused[0]
            .1
            .contains("autoscaling.keda.sh/paused: \"true\"` pauses it"),
        "{paused:#?}"
    );
    assert_eq!(
        paused[0].3,
        "metadata.annotations[\"autoscaling.keda.sh/paused\"]"
    );
    assert!(
        run.stderr.contains("does not exist"),
        "the missing HPA is said: {}",
        run.stderr
    );
}

#[test]
fn a_forbidden_external_metrics_api_is_a_note_naming_the_rbac_rule_and_the_exit_code_is_unchanged()
{
    let mut cluster = healthy_cluster("forbidden");
    cluster.metrics = vec![(
        "forbidden",
        Metric::Status(
            403,
            "s0-prometheus.external.metrics.k8s.io is forbidden: User \"dev\" cannot list resource \"s0-prometheus\" in API group \"external.metrics.k8s.io\" in the namespace \"shop\"",
        ),
    )];
    let api = serve_cluster(cluster, Arc::default());
    let allowed = serve_cluster(healthy_cluster("forbidden"), Arc::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_cluster(api, &["--cluster", "--format", "json"], dir.path());
    let baseline = run_cluster(allowed, &["--cluster", "--format", "json"], dir.path());
    assert_eq!(run.code, baseline.code, "stderr: {}", run.stderr);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(live_findings(&run.json(), "forbidden").is_empty());
    assert!(
        run.stderr.contains("note: the external metric `s0-prometheus` of `shop/forbidden` was not read: forbidden (HTTP 403)")
            && run.stderr.contains("apiGroups: [\"external.metrics.k8s.io\"], resources: [\"*\"], verbs: [\"get\", \"list\"]"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_slow_api_server_does_not_hold_the_run_past_its_deadline() {
    let mut cluster = healthy_cluster("slow");
    // Far longer than the 10 s deadline: the run must end without the HPA and say so.
    cluster.hpa_delay = Duration::from_secs(45);
    let api = serve_cluster(cluster, Arc::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_cluster(api, &["--cluster", "--format", "json"], dir.path());
    // `run_cluster` kills the run after 60 s; a run that ends on its own has held the deadline.
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains(
            "the HPA `shop/keda-hpa-slow` was not read: the cluster deadline passed first"
        ),
        "{}",
        run.stderr
    );
    // What answered in time is still used: the events and the metric were read.
    assert!(live_findings(&run.json(), "slow").is_empty());
}

/// OpenMetrics for the seed: `inference_latency_seconds`, scraped every 60 s for the hour
/// before `end`, with a p95 of exactly 1.87 s (per scrape: 400 requests under 0.5 s, 800 under
/// 1 s, all 1300 under 2 s; the 1235th falls 87 % into the 1-2 s bucket).
fn latency_backfill(end: u64) -> String {
    let mut om = String::from("# TYPE inference_latency_seconds histogram\n");
    let mut t = end - 3600;
    let mut scrapes = 0_u64;
    while t <= end {
        for (le, per_scrape) in [("0.5", 400), ("1.0", 800), ("2.0", 1300), ("+Inf", 1300)] {
            om.push_str(&format!(
                "inference_latency_seconds_bucket{{job=\"inference\",le=\"{le}\"}} {} {t}\n",
                per_scrape * scrapes
            ));
        }
        t += 60;
        scrapes += 1;
    }
    om.push_str("# EOF\n");
    om
}

#[test]
fn the_seed_an_hpa_reading_zero_is_explained_by_an_empty_1m_window_that_a_wider_window_fills() {
    // Samples every 60 s, the last 20 s ago: `[1m]` holds one sample at "now" (empty), `[4m]`
    // holds four (1.87).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let Some(prom) = kedalint_tests::live::Backfilled::start(&latency_backfill(now - 20)) else {
        return;
    };
    let cluster = Cluster {
        objects: vec![live_object(
            SEED,
            P95_1M,
            json!({}),
            healthy_conditions(false),
            0,
        )],
        hpas: vec![live_hpa(SEED, "0", (1, 1, 10), hpa_ok_conditions())],
        events: vec![event(
            "ScaledObject",
            SEED,
            "KEDAScalerFailed",
            "error executing prometheus query: Get \"http://prometheus-server.monitoring.svc:80/api/v1/query?query=histogram_quantile%280.95%2C+sum%28rate%28inference_latency_seconds_bucket%5B1m%5D%29%29+by+%28le%29%29&time=2026-11-12T09%3A59%3A30Z\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            3,
        )],
        metrics: vec![(SEED, Metric::Value("0"))],
        hpa_delay: Duration::ZERO,
    };
    let api = serve_cluster(cluster, Arc::default());
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".kedalint.yaml"),
        format!(
            "prometheus:\n  addressMap:\n    \"http://prometheus-server.monitoring.svc:80\": \"{}\"\n",
            prom.url()
        ),
    )
    .expect("config");
    let run = run_cluster(
        api,
        &["--cluster", "--online", "--format", "json"],
        dir.path(),
    );
    let live = live_findings(&run.json(), SEED);
    let disagree = live
        .iter()
        .find(|f| f.0 == "KL414")
        .unwrap_or_else(|| panic!("no KL414 in {live:#?}\nstderr: {}", run.stderr));
    assert!(
        disagree
            .1
            .contains("the HPA reads `s0-prometheus` = 0 (the external metrics API")
            && disagree.1.contains(
                "the query returns nothing on `http://prometheus-server.monitoring.svc:80`"
            )
            && disagree.1.contains(&format!("`{P95_4M}`, it returns 1.87")),
        "{disagree:#?}"
    );
    assert_eq!(disagree.3, "spec.triggers[0].metadata.query");
    let help = &disagree.2;
    assert!(
        help.contains("likely cause: the range 1m is shorter than 2 x the scrape interval")
            && help.contains("kubectl get --raw '/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/s0-prometheus?labelSelector=scaledobject.keda.sh%2Fname%3Dinference-slo-scaler'")
            && help.contains(&format!("{}/api/v1/query?query=histogram_quantile%280.95", prom.url())),
        "{help}"
    );
    let event = live
        .iter()
        .find(|f| f.0 == "KL419")
        .unwrap_or_else(|| panic!("no KL419 in {live:#?}"));
    assert!(
        event
            .1
            .contains("KEDA reports the scaler's error in a KEDAScalerFailed Event")
            && event.1.contains(
                "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
            ),
        "{event:#?}"
    );

    // The human output tells it as one diagnosis, the empty window first.
    let human = run_cluster(api, &["--cluster", "--online"], dir.path());
    let text = &human.stdout;
    let start = text
        .find("Diagnosis of ScaledObject shop/inference-slo-scaler, most likely cause first:")
        .unwrap_or_else(|| panic!("no diagnosis in\n{text}"));
    let diagnosis = &text[start..];
    eprintln!("{diagnosis}");
    let first = diagnosis
        .find("1. warning KL414")
        .unwrap_or_else(|| panic!("{diagnosis}"));
    let second = diagnosis
        .find("2. error KL419")
        .unwrap_or_else(|| panic!("{diagnosis}"));
    assert!(first < second, "{diagnosis}");
    assert!(
        diagnosis.contains("     likely cause: the range 1m"),
        "{diagnosis}"
    );
}
