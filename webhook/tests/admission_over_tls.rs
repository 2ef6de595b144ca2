//! The real server over real TLS on 127.0.0.1: what the API server sees for each kind of review.

mod common;

use std::time::Duration;

use common::*;
use kedalint_webhook::Server;
use serde_json::{Value, json};

async fn started() -> (Running, reqwest::Client, TestCa, SecretVolume) {
    install_provider();
    let ca = TestCa::new();
    let volume = SecretVolume::new(&ca.leaf("serving-1"));
    let server = Server::new(test_config(volume.path())).unwrap();
    let running = start(server).await;
    let client = client(&ca.ca_pem, running.addr, false);
    (running, client, ca, volume)
}

async fn post_review(client: &reqwest::Client, url: &str, review: &Value) -> Value {
    let response = client.post(url).json(review).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_scaled_object_with_an_error_is_denied_with_code_and_path() {
    let (running, client, _ca, _v) = started().await;
    let object = scaled_object("no-threshold", None, Some("false"));
    let review = review_for(&object, "CREATE", "8a1e6c36-3c1b-4f3e-9c55-0d2e7b1e0001");
    let answer = post_review(&client, &running.url(), &review).await;
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    let response = &answer["response"];
    assert_eq!(response["uid"], "8a1e6c36-3c1b-4f3e-9c55-0d2e7b1e0001");
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(message.contains("KL101"), "{message}");
    assert!(message.contains("spec.triggers[0].metadata"), "{message}");
    running.stop().await;
}

#[tokio::test]
async fn an_obsolete_api_group_is_denied() {
    let (running, client, _ca, _v) = started().await;
    let mut object = scaled_object("old-group", Some("10"), Some("false"));
    object["apiVersion"] = json!("keda.k8s.io/v1alpha1");
    // The API server would route a keda.k8s.io object with that group; the review says so too.
    let mut review = review_for(&object, "CREATE", "uid-kl003");
    review["request"]["kind"]["group"] = json!("keda.sh");
    let answer = post_review(&client, &running.url(), &review).await;
    assert_eq!(answer["response"]["allowed"], false);
    assert!(
        answer["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("KL003")
    );
    running.stop().await;
}

#[tokio::test]
async fn a_scaled_object_with_only_warnings_is_allowed_with_warnings() {
    let (running, client, _ca, _v) = started().await;
    let object = scaled_object("warn-only", Some("100"), None);
    let findings = kedalint_rules::lint_value(&object, &Default::default(), &Default::default());
    assert!(
        findings
            .iter()
            .all(|f| f.severity != kedalint_rules::Severity::Error),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| f.code == "KL109"),
        "fixture must warn: {findings:?}"
    );
    let answer = post_review(
        &client,
        &running.url(),
        &review_for(&object, "CREATE", "uid-warn"),
    )
    .await;
    let response = &answer["response"];
    assert_eq!(response["uid"], "uid-warn");
    assert_eq!(response["allowed"], true);
    let warnings: Vec<&str> = response["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("KL109 warning spec.triggers[0]")),
        "{warnings:?}"
    );
    assert!(warnings.iter().all(|w| w.chars().count() <= 120));
    running.stop().await;
}

#[tokio::test]
async fn a_deployment_is_allowed_untouched() {
    let (running, client, _ca, _v) = started().await;
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    });
    let answer = post_review(
        &client,
        &running.url(),
        &review_for(&deployment, "CREATE", "uid-deploy"),
    )
    .await;
    let response = &answer["response"];
    assert_eq!(response["uid"], "uid-deploy");
    assert_eq!(response["allowed"], true);
    assert!(response.get("warnings").is_none(), "{response}");
    assert!(response.get("patch").is_none());
    running.stop().await;
}

#[tokio::test]
async fn delete_and_dry_run_are_handled() {
    let (running, client, _ca, _v) = started().await;
    let object = scaled_object("bad", None, None);
    let mut delete = review_for(&object, "DELETE", "uid-delete");
    delete["request"]["object"] = Value::Null;
    delete["request"]["oldObject"] = object.clone();
    let answer = post_review(&client, &running.url(), &delete).await;
    assert_eq!(answer["response"]["allowed"], true);
    // A dry run is linted like the real thing (the webhook has no side effects).
    let mut dry = review_for(&object, "CREATE", "uid-dry");
    dry["request"]["dryRun"] = json!(true);
    let answer = post_review(&client, &running.url(), &dry).await;
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(answer["response"]["uid"], "uid-dry");
    running.stop().await;
}

#[tokio::test]
async fn v1beta1_reviews_and_non_json_bodies_get_400_with_a_reason() {
    let (running, client, _ca, _v) = started().await;
    let mut review = review_for(&scaled_object("x", None, None), "CREATE", "uid-beta");
    review["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let r = client
        .post(running.url())
        .json(&review)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("admission.k8s.io/v1beta1") && text.contains("admissionReviewVersions"),
        "{text}"
    );

    let r = client
        .post(running.url())
        .header("content-type", "application/json")
        .body("this is not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not JSON"));

    let r = client
        .post(running.url())
        .json(&json!({"apiVersion": "v1", "kind": "Pod"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not an AdmissionReview"));
    running.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_rejected_with_413() {
    let (running, client, _ca, _v) = started().await;
    // A body with a declared length over the limit is refused before it is read.
    let big = vec![b' '; 7 * 1024 * 1024];
    let r = client
        .post(running.url())
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        // The server answers 413 and closes while the client is still sending; the client may
        // see the reset before the answer. The metric proves the server refused it.
        Err(e) => eprintln!("client saw the connection close before the 413: {e}"),
    }
    let metrics = running.metrics().await;
    assert!(
        metrics.contains("kedalint_webhook_requests_total{result=\"error\"} 1\n"),
        "{metrics}"
    );
    running.stop().await;
}

#[tokio::test]
async fn an_oversized_body_announced_with_expect_continue_gets_413_before_sending() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (running, _client, ca, _v) = started().await;
    let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        64 * 1024 * 1024
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    running.stop().await;
}

#[tokio::test]
async fn the_admission_port_speaks_only_tls_1_2_and_up() {
    let (running, _client, ca, _v) = started().await;
    // A TLS 1.3-only and a TLS 1.2-only client both connect.
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(first_cert(&ca.ca_pem)).unwrap();
        let config = rustls::ClientConfig::builder_with_protocol_versions(&[version])
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from(HOST).unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        assert_eq!(tls.get_ref().1.protocol_version(), Some(version.version));
    }
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = reqwest::Client::new()
        .post(format!("http://{}/validate", running.addr))
        .body("{}")
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    running.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics_are_on_the_plain_port() {
    let (running, client, _ca, _v) = started().await;
    let get = |path: &str| reqwest::get(running.metrics_url(path));
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    post_review(
        &client,
        &running.url(),
        &review_for(&scaled_object("a", None, None), "CREATE", "m1"),
    )
    .await;
    post_review(
        &client,
        &running.url(),
        &review_for(&scaled_object("b", Some("5"), None), "CREATE", "m2"),
    )
    .await;
    let response = get("/metrics").await.unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for expected in [
        "kedalint_webhook_requests_total{result=\"denied\"} 1\n",
        "kedalint_webhook_requests_total{result=\"allowed\"} 1\n",
        "kedalint_webhook_request_duration_seconds_count 2\n",
        "kedalint_webhook_findings_total{code=\"KL101\",severity=\"error\"} 1\n",
        "kedalint_webhook_findings_total{code=\"KL109\",severity=\"warning\"} 2\n",
        "kedalint_webhook_probe_cache_hits_total 0\n",
        "kedalint_webhook_probe_cache_misses_total 0\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The admission port does not serve them.
    let r = client
        .get(format!("https://{HOST}:{}/metrics", running.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    running.stop().await;
}

#[tokio::test]
async fn readiness_waits_for_a_certificate() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::new(test_config(dir.path())).unwrap();
    let bound = server.clone().bind().await.unwrap();
    let metrics = bound.metrics_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve(async move {
        let _ = rx.await;
    }));
    let readyz = format!("http://{metrics}/readyz");
    // Serving, but no certificate yet: not ready, and says why.
    let mut body = String::new();
    for _ in 0..100 {
        match reqwest::get(&readyz).await {
            Ok(r) => {
                assert_eq!(r.status(), 503);
                body = r.text().await.unwrap();
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(body.contains("no certificate loaded"), "{body}");
    let ca = TestCa::new();
    let leaf = ca.leaf("late");
    std::fs::write(dir.path().join("tls.crt"), &leaf.cert_pem).unwrap();
    std::fs::write(dir.path().join("tls.key"), &leaf.key_pem).unwrap();
    wait_ready(&readyz).await;
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_shapes_of_the_shared_corpus_are_answered() {
    let Some(dir) = corpus_dir() else {
        eprintln!("SKIPPED: shared/corpus/admission not found");
        return;
    };
    let (running, client, _ca, _v) = started().await;
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        seen += 1;
        let body = std::fs::read(&path).unwrap();
        let value: Value = serde_json::from_slice(&body).unwrap();
        let r = client
            .post(running.url())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        if value["kind"] == "AdmissionReview" && value["apiVersion"] == "admission.k8s.io/v1" {
            // Full v1 reviews of other kinds: allowed untouched, uid echoed.
            assert_eq!(status, 200, "{}", path.display());
            let answer: Value = r.json().await.unwrap();
            assert_eq!(
                answer["response"]["uid"],
                value["request"]["uid"],
                "{}",
                path.display()
            );
            assert_eq!(answer["response"]["allowed"], true, "{}", path.display());
            assert!(answer["response"].get("warnings").is_none());
        } else {
            // Bare requests (no AdmissionReview envelope) are not reviews.
            assert_eq!(status, 400, "{}", path.display());
            assert!(r.text().await.unwrap().contains("not an AdmissionReview"));
        }
        // The same request reshaped as a ScaledObject review is linted, uid echoed.
        let request = value.get("request").unwrap_or(&value);
        let uid = request["uid"].as_str().unwrap();
        let mut review = review_for(&scaled_object("corpus", None, Some("false")), "CREATE", uid);
        for key in ["userInfo", "dryRun", "options"] {
            if let Some(v) = request.get(key) {
                review["request"][key] = v.clone();
            }
        }
        let answer = post_review(&client, &running.url(), &review).await;
        assert_eq!(answer["response"]["uid"], uid);
        assert_eq!(answer["response"]["allowed"], false, "{}", path.display());
    }
    assert!(seen > 0, "no corpus files in {}", dir.display());
    running.stop().await;
}

fn first_cert(pem: &str) -> rustls_pki_types::CertificateDer<'static> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}
