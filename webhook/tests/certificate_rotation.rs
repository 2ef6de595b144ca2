//! A Secret volume rotated the way the kubelet does it, under continuous requests.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use kedalint_webhook::Server;

/// The DER of the certificate the server presented on this response's connection.
fn peer_certificate(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("TLS info on the response")
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swap_rotates_the_certificate_without_failing_a_request() {
    install_provider();
    let ca = TestCa::new();
    let (old, new) = (ca.leaf("serving-v1"), ca.leaf("serving-v2"));
    let mut volume = SecretVolume::new(&old);
    let running = start(Server::new(test_config(volume.path())).unwrap()).await;
    let url = running.url();
    let body = serde_json::to_vec(&review_for(
        &scaled_object("rot", Some("5"), Some("false")),
        "CREATE",
        "uid-rot",
    ))
    .unwrap();

    // Each request makes a new connection, so each handshake picks the current certificate.
    let client = client(&ca.ca_pem, running.addr, true);
    let first = client.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(
        peer_certificate(&first),
        old.cert_der,
        "serves the first certificate"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (client, url, body, stop, sent) = (
            client.clone(),
            url.clone(),
            body.clone(),
            stop.clone(),
            sent.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut certs = Vec::new();
            // Bounded: at most 400 requests per worker.
            for _ in 0..400 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("no request fails during rotation");
                assert_eq!(r.status(), 200);
                certs.push(peer_certificate(&r));
                let answer: serde_json::Value = r.json().await.unwrap();
                assert_eq!(answer["response"]["uid"], "uid-rot");
                sent.fetch_add(1, Ordering::SeqCst);
            }
            certs
        }));
    }
    // Rotate once traffic flows, then keep it flowing until the new certificate is served.
    while sent.load(Ordering::SeqCst) < 20 {
        tokio::task::yield_now().await;
    }
    volume.swap(&new);
    let check = client.clone();
    let mut rotated = false;
    for _ in 0..100 {
        let r = check.post(&url).body(body.clone()).send().await.unwrap();
        if peer_certificate(&r) == new.cert_der {
            rotated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A few more requests after the switch, then stop.
    let after = sent.load(Ordering::SeqCst);
    while sent.load(Ordering::SeqCst) < after + 20
        && !workers.iter().all(tokio::task::JoinHandle::is_finished)
    {
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::SeqCst);
    let mut seen = Vec::new();
    for w in workers {
        seen.extend(w.await.expect("worker saw no failure"));
    }
    assert!(rotated, "the new certificate was never served");
    assert!(
        seen.iter()
            .all(|c| *c == old.cert_der || *c == new.cert_der)
    );
    assert!(
        seen.contains(&new.cert_der),
        "workers never saw the new certificate"
    );
    eprintln!("{} requests during rotation, none failed", seen.len());

    let metrics = running.metrics().await;
    assert!(
        metrics.contains("kedalint_webhook_certificate_reloads_total{result=\"success\"} 2\n"),
        "{metrics}"
    );
    running.stop().await;
}

#[tokio::test]
async fn a_broken_certificate_keeps_the_previous_one() {
    install_provider();
    let ca = TestCa::new();
    let good = ca.leaf("good");
    let mut volume = SecretVolume::new(&good);
    let running = start(Server::new(test_config(volume.path())).unwrap()).await;
    // A key that does not belong to the certificate.
    let other = ca.leaf("other");
    let mismatched = Leaf {
        key_pem: other.key_pem.clone(),
        ..ca.leaf("mismatched")
    };
    volume.swap(&mismatched);
    let metrics_url = running.metrics_url("/metrics");
    let mut rejected = false;
    for _ in 0..100 {
        let m = reqwest::get(&metrics_url)
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if m.contains("kedalint_webhook_certificate_reloads_total{result=\"failure\"} 1\n") {
            rejected = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rejected, "the mismatched pair was never seen and rejected");
    let client = client(&ca.ca_pem, running.addr, true);
    let r = client.post(running.url()).body("{}").send().await.unwrap();
    assert_eq!(peer_certificate(&r), good.cert_der);
    assert_eq!(
        reqwest::get(running.metrics_url("/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    running.stop().await;
}
