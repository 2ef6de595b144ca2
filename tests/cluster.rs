//! `--cluster` against a stand-in Kubernetes API server: no Kubernetes API server can run on
//! these machines, so a small HTTP server on 127.0.0.1 answers the few GETs kedalint makes
//! (ScaledObjects, ScaledJobs, TriggerAuthentications, Services, EndpointSlices) with JSON shaped
//! as the API server's, and a kubeconfig points kube-rs at it. kube's real client does the requests.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kedalint_tests::cli_binary;
use kedalint_tests::live::serve;
use serde_json::{Value, json};

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

/// Runs `kubectl kedalint --cluster --format json` against a stand-in API server that serves
/// `scaled_objects` and, when given, `scaled_jobs` (else the ScaledJob CRD is absent: 404), with
/// two Prometheus Services. Returns the exit code, the JSON output and every path requested.
fn run_cluster(
    scaled_objects: Vec<Value>,
    scaled_jobs: Option<Vec<Value>>,
) -> (Option<i32>, Value, Vec<String>) {
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
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stand-in\n  cluster:\n    server: http://{api}\ncontexts:\n- name: stand-in\n  context:\n    cluster: stand-in\n    user: nobody\ncurrent-context: stand-in\nusers:\n- name: nobody\n  user: {{}}\n"
        ),
    )
    .expect("kubeconfig");
    let out = Command::new(cli_binary())
        .args(["--cluster", "--format", "json"])
        .current_dir(dir.path())
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdin(Stdio::null())
        .output()
        .expect("run kubectl-kedalint");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("JSON: {e}\n{stdout}\nstderr: {stderr}"));
    let seen = seen.lock().expect("log").clone();
    (out.status.code(), json, seen)
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

#[test]
fn cluster_mode_lints_scaled_objects_and_checks_the_services_their_addresses_name() {
    let (code, json, seen) = run_cluster(
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
    assert_eq!(code, Some(1), "{json:#}");
    // No ScaledJob CRD in this cluster: read as no ScaledJobs, not as an error.
    assert!(
        seen.iter()
            .any(|p| p.starts_with("/apis/keda.sh/v1alpha1/scaledjobs"))
    );
    assert_eq!(json["summary"]["objects"], 4);
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
    let (code, json, _) = run_cluster(
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
    assert_eq!(code, Some(1), "{json:#}");
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
