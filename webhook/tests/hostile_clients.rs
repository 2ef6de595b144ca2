//! Clients and objects that try to hurt the webhook: bodies over the limit without a declared
//! length, headers or bodies trickled byte by byte (issue 17: slow bodies used to hold every
//! review slot), connections that never handshake or never speak, too many connections from one
//! peer or in all, a query that panics the PromQL parser, and trigger addresses pointing at the
//! metadata service or the webhook's own pod. Each test names the defence it proves
//! (docs/limits.md).

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

/// Sends a request's headers declaring a 100,000-byte body, then one byte of it: the attack of
/// issue 17, which used to hold a review slot for the whole request timeout.
async fn slow_body(
    ca: &TestCa,
    running: &Running,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
    tls.write_all(
        b"POST /validate HTTP/1.1\r\nHost: kedalint\r\n\
          Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
    )
    .await
    .unwrap();
    tls.flush().await.unwrap();
    tls
}

/// `kedalint_webhook_connections_shed_total{reason}` is `n`.
async fn assert_shed(running: &Running, reason: &str, n: f64) {
    let series = format!("kedalint_webhook_connections_shed_total{{reason=\"{reason}\"}}");
    assert_eq!(running.metric(&series).await, n, "{series}");
}

/// Posts `review` on new connections until the answer has `status` (at most 100 tries): what
/// the test set up may still be on its way to the server.
async fn post_until(ca: &TestCa, running: &Running, review: &Value, status: u16) -> Value {
    for _ in 0..100 {
        let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
        let (got, answer) = post_raw(&mut tls, review).await;
        if got == status {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never answered {status}");
}

fn denied_review(uid: &str) -> Value {
    review_for(&scaled_object("slow", None, Some("false")), "CREATE", uid)
}

/// The answer is the review's: 200, its uid, denied for the missing threshold (KL101).
fn assert_decided(status: u16, answer: &Value, uid: &str) {
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response"]["uid"], uid, "{answer}");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("KL101"), "{message}");
}

#[tokio::test]
async fn slow_bodies_on_every_review_slot_leave_a_complete_review_its_answer() {
    // Two review slots, two clients trickling bodies, and a body deadline longer than the test:
    // only taking slots once a body is complete lets the real review through.
    let (running, ca, _volume) = started_with(Limits {
        max_concurrent: 2,
        body_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..2 {
        slow.push(slow_body(&ca, &running).await);
    }
    running
        .wait_metric("kedalint_webhook_connections{phase=\"body\"}", 2.0)
        .await;
    let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
    let (status, answer) = post_raw(&mut tls, &denied_review("real")).await;
    assert_decided(status, &answer, "real");
    assert_eq!(
        running
            .metric("kedalint_webhook_requests_total{result=\"overloaded\"}")
            .await,
        0.0
    );
    drop(slow);
    running.stop().await;
}

#[tokio::test]
async fn a_body_trickled_after_fast_headers_is_answered_408_at_the_body_deadline() {
    let (running, ca, _volume) = started_with(Limits {
        body_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let mut tls = slow_body(&ca, &running).await;
    let mut answer = Vec::new();
    // Hang guard only: without a body deadline nothing is ever answered.
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer:?}"
    );
    assert_shed(&running, "body_timeout", 1.0).await;
    running.stop().await;
}

#[tokio::test]
async fn bodies_being_read_are_bounded_by_the_read_budget() {
    // A 4 KiB budget: one client holding 3,500 bytes of an unfinished body leaves too little for
    // a review of about 1 KB, which is refused with a 503 instead of buffered.
    let (running, ca, _volume) = started_with(Limits {
        body_bytes: 4096,
        read_budget_bytes: 4096,
        body_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let review = denied_review("over");
    assert!(serde_json::to_vec(&review).unwrap().len() > 4096 - 3500);
    let mut holder = raw_tls(&ca.ca_pem, running.addr).await;
    holder
        .write_all(b"POST /validate HTTP/1.1\r\nHost: kedalint\r\nContent-Length: 4000\r\n\r\n")
        .await
        .unwrap();
    holder.write_all(&[b' '; 3500]).await.unwrap();
    holder.flush().await.unwrap();
    running
        .wait_metric("kedalint_webhook_connections{phase=\"body\"}", 1.0)
        .await;
    // The holder's bytes may still be on their way: ask again until they are all counted.
    post_until(&ca, &running, &review, 503).await;
    assert_shed(&running, "read_budget", 1.0).await;
    // Once the holder leaves, its bytes are given back.
    drop(holder);
    let answer = post_until(&ca, &running, &review, 200).await;
    assert_decided(200, &answer, "over");
    running.stop().await;
}

#[tokio::test]
async fn a_connection_silent_after_the_handshake_is_closed_at_the_idle_timeout() {
    // A header timeout longer than the test: only the idle timeout can close it.
    let (running, ca, _volume) = started_with(Limits {
        idle_timeout: Duration::from_millis(300),
        header_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
    closed_within(&mut tls, Duration::from_secs(10))
        .await
        .expect("the silent client was never disconnected");
    assert_shed(&running, "idle_timeout", 1.0).await;
    running.stop().await;
}

#[tokio::test]
async fn a_keep_alive_connection_silent_after_its_review_is_closed_at_the_idle_timeout() {
    let (running, ca, _volume) = started_with(Limits {
        idle_timeout: Duration::from_millis(300),
        header_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut tls = raw_tls(&ca.ca_pem, running.addr).await;
    let (status, answer) = post_raw(&mut tls, &denied_review("first")).await;
    assert_decided(status, &answer, "first");
    closed_within(&mut tls, Duration::from_secs(10))
        .await
        .expect("the idle keep-alive connection was never closed");
    running.stop().await;
}

#[tokio::test]
async fn a_peer_at_its_connection_cap_is_refused_and_other_peers_are_still_served() {
    let (running, ca, _volume) = started_with(Limits {
        max_connections_per_peer: 2,
        ..Limits::default()
    })
    .await;
    let local = |last: u8| std::net::IpAddr::from([127, 0, 0, last]);
    let _first = raw_tls_from(&ca.ca_pem, running.addr, local(1))
        .await
        .unwrap();
    let _second = raw_tls_from(&ca.ca_pem, running.addr, local(1))
        .await
        .unwrap();
    let third = raw_tls_from(&ca.ca_pem, running.addr, local(1)).await;
    assert!(
        third.is_err(),
        "a third connection from the same peer was let in"
    );
    let mut other = raw_tls_from(&ca.ca_pem, running.addr, local(2))
        .await
        .unwrap();
    let (status, answer) = post_raw(&mut other, &denied_review("other")).await;
    assert_decided(status, &answer, "other");
    assert_shed(&running, "peer_limit", 1.0).await;
    running.stop().await;
}

#[tokio::test]
async fn a_full_server_closes_its_longest_idle_connection_for_a_new_one() {
    let (running, ca, _volume) = started_with(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let mut oldest = raw_tls(&ca.ca_pem, running.addr).await;
    running
        .wait_metric("kedalint_webhook_connections{phase=\"idle\"}", 1.0)
        .await;
    let _younger = raw_tls(&ca.ca_pem, running.addr).await;
    running
        .wait_metric("kedalint_webhook_connections{phase=\"idle\"}", 2.0)
        .await;
    let mut newcomer = raw_tls(&ca.ca_pem, running.addr).await;
    let (status, answer) = post_raw(&mut newcomer, &denied_review("new")).await;
    assert_decided(status, &answer, "new");
    closed_within(&mut oldest, Duration::from_secs(10))
        .await
        .expect("the longest idle connection was not closed");
    assert_shed(&running, "evicted_idle", 1.0).await;
    running.stop().await;
}

#[tokio::test]
async fn pending_handshakes_beyond_the_limit_are_refused_and_established_connections_served() {
    let (running, ca, _volume) = started_with(Limits {
        max_handshakes: 1,
        handshake_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let mut established = raw_tls(&ca.ca_pem, running.addr).await;
    // The start of a ClientHello, then nothing: this handshake holds the only place.
    let mut stuck = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    stuck.write_all(b"\x16\x03\x01").await.unwrap();
    running
        .wait_metric("kedalint_webhook_connections{phase=\"handshaking\"}", 1.0)
        .await;
    let refused = raw_tls_from(&ca.ca_pem, running.addr, [127, 0, 0, 1].into()).await;
    assert!(refused.is_err(), "a second pending handshake was let in");
    assert_shed(&running, "handshake_limit", 1.0).await;
    let (status, answer) = post_raw(&mut established, &denied_review("kept")).await;
    assert_decided(status, &answer, "kept");
    drop(stuck);
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
