//! Shutdown finishes every request already accepted: in-process through the shutdown future,
//! and for the real binary through SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use kedalint_rules::Settings;
use kedalint_webhook::Server;
use kedalint_webhook::online::{Probe, ProbeFuture, ProbeOutcome};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A probe that takes 300ms and counts how many reviews entered and left it.
struct SlowProbe(Arc<AtomicUsize>, Arc<AtomicUsize>);

impl Probe for SlowProbe {
    fn probe<'a>(&'a self, _: &'a Value, _: &'a [String], _: &'a Settings) -> ProbeFuture<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.1.fetch_add(1, Ordering::SeqCst);
            ProbeOutcome {
                warnings: vec!["probed".to_owned()],
                ..ProbeOutcome::default()
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_answers_every_review_in_flight() {
    install_provider();
    let ca = TestCa::new();
    let volume = SecretVolume::new(&ca.leaf("s"));
    let config_dir = tempfile::tempdir().unwrap();
    let config_path = config_dir.path().join(".kedalint.yaml");
    std::fs::write(
        &config_path,
        "webhook:\n  online: true\n  allowedHosts: [prometheus-operated.monitoring.svc]\n",
    )
    .unwrap();
    let entered = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let mut config = test_config(volume.path());
    config.config_path = Some(config_path);
    let server = Server::new(config)
        .unwrap()
        .with_probe(Arc::new(SlowProbe(entered.clone(), finished.clone())));
    let running = start(server).await;
    let client = client(&ca.ca_pem, running.addr, true);
    let url = running.url();
    let mut requests = Vec::new();
    for i in 0..8 {
        let review = review_for(
            &scaled_object("s", Some("5"), Some("false")),
            "CREATE",
            &format!("uid-{i}"),
        );
        let (client, url) = (client.clone(), url.clone());
        requests.push(tokio::spawn(async move {
            client.post(&url).json(&review).send().await
        }));
    }
    // Every review is inside the (slow) probe: in flight.
    while entered.load(Ordering::SeqCst) < 8 {
        tokio::task::yield_now().await;
    }
    let addr = running.addr;
    running.stop().await;
    // Shutdown returned only after every review finished, not by abandoning them.
    assert_eq!(finished.load(Ordering::SeqCst), 8);
    for (i, r) in requests.into_iter().enumerate() {
        let r = r.await.unwrap().expect("an in-flight review is answered");
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["response"]["uid"], format!("uid-{i}"));
        assert_eq!(answer["response"]["warnings"][0], "probed");
    }
    // And the listener is closed.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_the_binary_answers_accepted_requests_then_exits() {
    install_provider();
    let ca = TestCa::new();
    let volume = SecretVolume::new(&ca.leaf("bin"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_kedalint-webhook"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--cert-dir")
        .arg(volume.path())
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The binary logs the addresses it bound (ports chosen by the OS).
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (listen, metrics) = loop {
        let line = lines
            .next()
            .expect("the binary logs before exiting")
            .unwrap();
        let Ok(log) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if log["message"] == "kedalint webhook listening" {
            break (
                log["listen"]
                    .as_str()
                    .unwrap()
                    .parse::<std::net::SocketAddr>()
                    .unwrap(),
                log["metrics"].as_str().unwrap().to_owned(),
            );
        }
    };
    let log_tail = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    wait_ready(&format!("http://{metrics}/readyz")).await;

    // Five requests whose headers are in and whose bodies are not: the server has sent
    // `100 Continue`, so each is inside the handler when SIGTERM arrives.
    let body = serde_json::to_vec(&review_for(
        &scaled_object("t", None, None),
        "CREATE",
        "uid-term",
    ))
    .unwrap();
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut tls = raw_tls(&ca.ca_pem, listen).await;
        let head = format!(
            "POST /validate HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await.unwrap();
        let mut buf = [0u8; 64];
        let n = tls.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100 Continue"));
        streams.push(tls);
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The server stops accepting (readiness is irrelevant now: the process is going away).
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(listen).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "listener still open after SIGTERM");
    for mut tls in streams {
        tls.write_all(&body).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut answer))
            .await
            .unwrap()
            .ok();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"uid\":\"uid-term\""), "{answer}");
        assert!(answer.contains("\"allowed\":false"), "{answer}");
    }
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "exit status {exit}");
    let tail = log_tail.join().unwrap();
    assert!(tail.iter().any(|l| l.contains("shut down")), "{tail:?}");
}
