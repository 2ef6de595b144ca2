//! Clients and objects that try to hurt the webhook: bodies over the limit without a declared
//! length, headers trickled byte by byte, connections that never handshake or never speak, a
//! query that panics the PromQL parser, and trigger addresses pointing at the metadata service or
//! the webhook's own pod. Each test names the defence it proves (docs/limits.md).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use kedalint_rules::Settings;
use kedalint_webhook::online::{Probe, ProbeFuture};
use kedalint_webhook::{Limits, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

async fn post_in_process(server: &Server, body: Vec<u8>) -> axum::response::Response {
    // No Content-Length header: the body limit, not the declared-length check, must act.
    let request = axum::http::Request::post("/validate")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert!(request.headers().get("content-length").is_none());
    server.router().oneshot(request).await.unwrap()
}

async fn body_json(response: axum::response::Response) -> Value {
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn a_body_without_a_length_is_cut_at_6_mib_and_not_before() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::new(test_config(dir.path())).unwrap();
    let over = post_in_process(&server, vec![b' '; (6 << 20) + 1]).await;
    assert_eq!(over.status(), 413);
    // An UPDATE of a large object (object and oldObject) between axum's 2 MB default and the
    // 6 MiB limit is read and answered.
    let mut review = review_for(
        &scaled_object("big", Some("1"), Some("false")),
        "UPDATE",
        "b",
    );
    review["request"]["object"]["metadata"]["annotations"] =
        serde_json::json!({"padding": "x".repeat(5 << 20)});
    let under = post_in_process(&server, serde_json::to_vec(&review).unwrap()).await;
    assert_eq!(under.status(), 200);
    assert_eq!(body_json(under).await["response"]["uid"], "b");
}

async fn started_with(limits: Limits) -> (Running, TestCa, SecretVolume) {
    install_provider();
    let ca = TestCa::new();
    let volume = SecretVolume::new(&ca.leaf("hostile"));
    let mut config = test_config(volume.path());
    config.limits = limits;
    let running = start(Server::new(config).unwrap()).await;
    (running, ca, volume)
}

/// Reads until the server closes the connection; the time it took, or `None` after `within`.
async fn closed_within<R: AsyncReadExt + Unpin>(
    reader: &mut R,
    within: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0_u8; 1024];
    let closed = tokio::time::timeout(within, async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.ok().map(|()| started.elapsed())
}

#[tokio::test]
async fn headers_trickled_byte_by_byte_are_cut_at_the_header_timeout() {
    let (running, ca, _volume) = started_with(Limits {
        header_read_timeout: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    let tls = raw_tls(&ca.ca_pem, running.addr).await;
    let (mut reader, mut writer) = tokio::io::split(tls);
    // One byte every 50 ms, for up to 10 s: each byte is progress, but the headers never end.
    let trickle = tokio::spawn(async move {
        let head = b"POST /validate HTTP/1.1\r\nHost: kedalint\r\nX-Slow: ".to_vec();
        for &byte in head.iter().chain(std::iter::repeat_n(&b'a', 200)) {
            if writer.write_all(&[byte]).await.is_err() || writer.flush().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let closed = closed_within(&mut reader, Duration::from_secs(10)).await;
    trickle.abort();
    let took = closed.expect("the trickling client was never disconnected");
    assert!(took < Duration::from_secs(2), "disconnected after {took:?}");
    running.stop().await;
}

#[tokio::test]
async fn a_body_trickled_byte_by_byte_is_cut_at_the_request_timeout() {
    // Headers arrive at once, so the header timeout is satisfied; the declared body then comes
    // one byte every 50 ms (50 s in all). Only the whole-request timeout ends it.
    let (running, ca, _volume) = started_with(Limits {
        request_timeout: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    let tls = raw_tls(&ca.ca_pem, running.addr).await;
    let (mut reader, mut writer) = tokio::io::split(tls);
    let trickle = tokio::spawn(async move {
        let head = b"POST /validate HTTP/1.1\r\nHost: kedalint\r\n\
            Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
        if writer.write_all(head).await.is_err() || writer.flush().await.is_err() {
            return;
        }
        for _ in 0..1000 {
            if writer.write_all(b" ").await.is_err() || writer.flush().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0_u8; 1024];
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let took = started.elapsed();
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 503"),
        "after {took:?}: {answer:?}"
    );
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    running.stop().await;
}

#[tokio::test]
async fn a_connection_silent_after_the_handshake_is_closed() {
    let (running, ca, _volume) = started_with(Limits {
        header_read_timeout: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
    let took = closed_within(&mut tls, Duration::from_secs(10))
        .await
        .expect("the silent client was never disconnected");
    assert!(took < Duration::from_secs(2), "disconnected after {took:?}");
    running.stop().await;
}

#[tokio::test]
async fn a_connection_that_never_starts_tls_is_closed_at_the_handshake_timeout() {
    let (running, _ca, _volume) = started_with(Limits {
        handshake_timeout: Duration::from_millis(500),
        ..Limits::default()
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    tcp.write_all(b"\x16\x03\x01").await.unwrap(); // the start of a ClientHello, then nothing
    let took = closed_within(&mut tcp, Duration::from_secs(10))
        .await
        .expect("the half-open handshake was never closed");
    assert!(took < Duration::from_secs(2), "closed after {took:?}");
    running.stop().await;
}

#[tokio::test]
async fn a_query_that_panics_the_promql_parser_is_answered_as_invalid() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::new(test_config(dir.path())).unwrap();
    for query in ["rate(x[1e20])", "x offset Inf", "sum(x[5m:1e30])"] {
        let mut object = scaled_object("p", Some("1"), Some("false"));
        object["spec"]["triggers"][0]["metadata"]["query"] = query.into();
        let body = serde_json::to_vec(&review_for(&object, "CREATE", "p")).unwrap();
        let response = post_in_process(&server, body).await;
        assert_eq!(response.status(), 200, "{query}");
        let answer = body_json(response).await;
        assert_eq!(answer["response"]["allowed"], false, "{query}");
        let message = answer["response"]["status"]["message"].as_str().unwrap();
        assert!(message.contains("KL201"), "{query}: {message}");
    }
}

/// Counts probes; any probe at all fails the allow-list test below.
struct CountingProbe(Arc<AtomicUsize>);

impl Probe for CountingProbe {
    fn probe<'a>(&'a self, _: &'a Value, _: &'a [String], _: &'a Settings) -> ProbeFuture<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { kedalint_webhook::online::ProbeOutcome::default() })
    }
}

#[tokio::test]
async fn metadata_loopback_and_unlisted_hosts_are_never_probed_even_when_listed() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join(".kedalint.yaml");
    // The operator listed the metadata service by mistake: it is refused anyway.
    std::fs::write(
        &config_path,
        "webhook:\n  online: true\n  allowedHosts:\n    - prometheus-operated.monitoring.svc:9090\n    \
         - 169.254.169.254\n    - metadata.google.internal\n",
    )
    .unwrap();
    let mut config = test_config(dir.path());
    config.config_path = Some(config_path);
    let probes = Arc::new(AtomicUsize::new(0));
    let server = Server::new(config)
        .unwrap()
        .with_probe(Arc::new(CountingProbe(probes.clone())));
    // (serverAddress, host as the warning names it, reason)
    let hostile = [
        (
            "http://169.254.169.254/latest/meta-data",
            "169.254.169.254",
            "link-local",
        ),
        (
            "http://[::ffff:169.254.169.254]:80",
            "::ffff:169.254.169.254",
            "link-local",
        ),
        (
            "http://metadata.google.internal",
            "metadata.google.internal",
            "metadata",
        ),
        ("http://127.0.0.1:8443", "127.0.0.1", "loopback"),
        ("http://localhost:8080", "localhost", "loopback"),
        ("http://[::1]:9090", "::1", "loopback"),
        (
            "http://prometheus.evil.example:9090",
            "prometheus.evil.example",
            "not in webhook.allowedHosts",
        ),
    ];
    let mut object = scaled_object("h", Some("1"), Some("false"));
    let trigger = object["spec"]["triggers"][0].clone();
    object["spec"]["triggers"] = hostile
        .iter()
        .enumerate()
        .map(|(i, (address, _, _))| {
            let mut t = trigger.clone();
            t["name"] = format!("t{i}").into();
            t["metadata"]["serverAddress"] = (*address).into();
            t
        })
        .collect();
    let body = serde_json::to_vec(&review_for(&object, "CREATE", "h")).unwrap();
    let answer = body_json(post_in_process(&server, body).await).await;
    let warnings: Vec<&str> = answer["response"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    for (address, host, reason) in hostile {
        let expected = format!("not checked online: host {host} ");
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with(&expected) && w.contains(reason)),
            "{address}: {warnings:#?}"
        );
    }
    assert_eq!(
        probes.load(Ordering::SeqCst),
        0,
        "a refused host was probed"
    );
}
