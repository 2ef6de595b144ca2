//! The online seam: a probe that never finishes cannot delay a review past the deadline, refused
//! hosts are never probed, and overload is answered at once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use kedalint_rules::Settings;
use kedalint_webhook::online::{Probe, ProbeFuture};
use kedalint_webhook::{Limits, Server};
use serde_json::Value;
use tower::ServiceExt;

/// A probe stuck forever (Prometheus accepted the connection and never answered).
struct HangingProbe(Arc<AtomicUsize>);

impl Probe for HangingProbe {
    fn probe<'a>(
        &'a self,
        _: &'a Value,
        addresses: &'a [String],
        _: &'a Settings,
    ) -> ProbeFuture<'a> {
        assert!(
            addresses
                .iter()
                .all(|a| a.contains("prometheus-operated.monitoring.svc")),
            "probed a host that is not allowed: {addresses:?}"
        );
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

fn online_config(dir: &std::path::Path, deadline: &str) -> std::path::PathBuf {
    let path = dir.join(".kedalint.yaml");
    std::fs::write(
        &path,
        format!(
            "webhook:\n  online: true\n  deadline: {deadline}\n  allowedHosts:\n    - prometheus-operated.monitoring.svc:9090\n"
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_probe_is_cut_at_the_deadline_and_every_review_is_answered_in_time() {
    install_provider();
    let ca = TestCa::new();
    let volume = SecretVolume::new(&ca.leaf("d"));
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(volume.path());
    config.config_path = Some(online_config(dir.path(), "300ms"));
    let probes = Arc::new(AtomicUsize::new(0));
    let server = Server::new(config)
        .unwrap()
        .with_probe(Arc::new(HangingProbe(probes.clone())));
    let running = start(server).await;
    let client = client(&ca.ca_pem, running.addr, false);
    let budget = Duration::from_millis(300);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (client, url) = (client.clone(), running.url());
        let review = review_for(
            &scaled_object("d", None, Some("false")),
            "CREATE",
            &format!("uid-{i}"),
        );
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let r = client.post(&url).json(&review).send().await.unwrap();
            let answer: Value = r.json().await.unwrap();
            (started.elapsed(), answer)
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let (elapsed, answer) = t.await.unwrap();
        // The deadline plus scheduling slack on a loaded 2-core machine; far below the 5s
        // webhook timeout the API server applies.
        assert!(
            elapsed >= budget,
            "answered before the probe deadline: {elapsed:?}"
        );
        assert!(
            elapsed < budget + Duration::from_millis(700),
            "review {i} took {elapsed:?}"
        );
        let response = &answer["response"];
        assert_eq!(response["uid"], format!("uid-{i}"));
        // The offline rules still decided: the missing threshold denies.
        assert_eq!(response["allowed"], false);
        let warnings = response["warnings"].as_array().unwrap();
        let first = warnings[0].as_str().unwrap();
        assert!(
            first.contains("prometheus-operated.monitoring.svc")
                && first.contains("did not finish within 300ms"),
            "{first}"
        );
    }
    assert_eq!(probes.load(Ordering::SeqCst), 10);
    running.stop().await;
}

#[tokio::test]
async fn the_default_deadline_is_two_seconds_in_process() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".kedalint.yaml");
    std::fs::write(
        &path,
        "webhook:\n  online: true\n  allowedHosts: [prometheus-operated.monitoring.svc]\n",
    )
    .unwrap();
    let mut config = test_config(dir.path());
    config.config_path = Some(path);
    let server = Server::new(config)
        .unwrap()
        .with_probe(Arc::new(HangingProbe(Arc::default())));
    let review = review_for(
        &scaled_object("d", Some("1"), Some("false")),
        "CREATE",
        "uid-default",
    );
    let request = axum::http::Request::post("/validate")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(serde_json::to_vec(&review).unwrap()))
        .unwrap();
    let started = Instant::now();
    let response = server.router().oneshot(request).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2700),
        "{elapsed:?}"
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["response"]["allowed"], true);
    assert!(
        answer["response"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("within 2000ms")
    );
}

#[tokio::test]
async fn hosts_not_allowed_are_reported_and_never_probed() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.config_path = Some(online_config(dir.path(), "1s"));
    let probes = Arc::new(AtomicUsize::new(0));
    let server = Server::new(config)
        .unwrap()
        .with_probe(Arc::new(HangingProbe(probes.clone())));
    let mut object = scaled_object("meta", Some("1"), Some("false"));
    object["spec"]["triggers"][0]["metadata"]["serverAddress"] = "http://169.254.169.254:80".into();
    let review = review_for(&object, "CREATE", "uid-meta");
    let request = axum::http::Request::post("/validate")
        .body(axum::body::Body::from(serde_json::to_vec(&review).unwrap()))
        .unwrap();
    let started = Instant::now();
    let response = server.router().oneshot(request).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "nothing to probe, nothing to wait for"
    );
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    let first = answer["response"]["warnings"][0].as_str().unwrap();
    assert!(
        first.contains("169.254.169.254") && first.contains("link-local"),
        "{first}"
    );
    assert_eq!(probes.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_concurrency_limit_the_answer_is_an_immediate_503() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.config_path = Some(online_config(dir.path(), "5s"));
    config.limits = Limits {
        max_concurrent: 2,
        ..Limits::default()
    };
    let probes = Arc::new(AtomicUsize::new(0));
    let server = Server::new(config)
        .unwrap()
        .with_probe(Arc::new(HangingProbe(probes.clone())));
    let review = serde_json::to_vec(&review_for(
        &scaled_object("c", Some("1"), Some("false")),
        "CREATE",
        "u",
    ))
    .unwrap();
    let call = |server: &Server| {
        let router = server.router();
        let body = review.clone();
        async move {
            let request = axum::http::Request::post("/validate")
                .body(axum::body::Body::from(body))
                .unwrap();
            router.oneshot(request).await.unwrap()
        }
    };
    let held: Vec<_> = (0..2).map(|_| tokio::spawn(call(&server))).collect();
    while probes.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    let started = Instant::now();
    let response = call(&server).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(started.elapsed() < Duration::from_millis(200));
    assert!(
        server
            .metrics()
            .render()
            .contains("kedalint_webhook_requests_total{result=\"overloaded\"} 1\n")
    );
    for h in held {
        h.abort();
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    install_provider();
    let ca = TestCa::new();
    let volume = SecretVolume::new(&ca.leaf("slow"));
    let mut config = test_config(volume.path());
    config.limits = Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let running = start(Server::new(config).unwrap()).await;
    let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
    tls.write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), tls.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was kept open");
    assert!(started.elapsed() < Duration::from_secs(2));
    running.stop().await;
}
