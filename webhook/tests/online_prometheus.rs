//! Online checks against a small imitation of the Prometheus HTTP API on 127.0.0.1, over real
//! TLS: live findings arrive as warnings and never deny, hosts not allowed are never contacted,
//! DNS cannot redirect an allowed name, a silent Prometheus cannot delay an answer, and repeated
//! reviews are served from the cache. Nothing but 127.0.0.1 is ever contacted.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use kedalint_webhook::prober::{Lookup, PrometheusProbe};
use kedalint_webhook::{Limits, Server};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the imitation saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: Mutex<Vec<String>>,
}

impl Seen {
    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The answers of the imitation: an empty vector for every query, a build version, one target
/// of job `web` scraped every 15s.
fn prometheus_answer(path: &str) -> (u16, String) {
    let route = path.split('?').next().unwrap_or("");
    let body = match route {
        "/api/v1/query" => r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        "/api/v1/status/buildinfo" => r#"{"status":"success","data":{"version":"2.53.0"}}"#,
        "/api/v1/targets" => {
            r#"{"status":"success","data":{"activeTargets":[{"labels":{"job":"web","instance":"10.0.0.7:8080"},"scrapeInterval":"15s"}]}}"#
        }
        "/api/v1/status/config" => {
            r#"{"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n"}}"#
        }
        "/api/v1/labels" => r#"{"status":"success","data":[]}"#,
        _ => return (404, "404 page not found\n".to_owned()),
    };
    (200, body.to_owned())
}

/// Serves the imitation on 127.0.0.1; `answer: false` accepts connections and never answers.
async fn fake_prometheus(answer: bool) -> (SocketAddr, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            s.connections.fetch_add(1, Ordering::SeqCst);
            let s = s.clone();
            tokio::spawn(async move {
                if !answer {
                    let mut sink = [0u8; 1024];
                    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                    // Hold the socket until the peer goes away.
                    std::future::pending::<()>().await;
                }
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let line = head.lines().next().unwrap_or("");
                let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                s.requests.lock().unwrap().push(path.clone());
                let (status, body) = if line.starts_with("GET ") {
                    prometheus_answer(&path)
                } else {
                    (405, String::new())
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, seen)
}

fn write_config(
    dir: &std::path::Path,
    deadline: &str,
    allowed: &[String],
    extra: &str,
) -> std::path::PathBuf {
    let path = dir.join(".kedalint.yaml");
    let hosts: String = allowed.iter().map(|h| format!("    - \"{h}\"\n")).collect();
    std::fs::write(
        &path,
        format!(
            "{extra}webhook:\n  online: true\n  deadline: {deadline}\n  allowedHosts:\n{hosts}"
        ),
    )
    .unwrap();
    path
}

/// A ScaledObject whose query reads job `web` through a 2m rate window: no offline error.
fn object(name: &str, server_address: &str) -> Value {
    object_with_window(name, server_address, "2m")
}

/// With a 40s window: offline (default interval 1m) that is KL202 and denied; with the live 15s
/// interval it is fine.
fn object_with_window(name: &str, server_address: &str, window: &str) -> Value {
    let mut o = scaled_object(name, Some("1"), Some("false"));
    let meta = &mut o["spec"]["triggers"][0]["metadata"];
    meta["serverAddress"] = server_address.into();
    meta["query"] = format!("sum(rate(http_requests_total{{job=\"web\"}}[{window}]))").into();
    o
}

struct Webhook {
    running: Running,
    client: reqwest::Client,
    _volume: SecretVolume,
    _dir: tempfile::TempDir,
}

impl Webhook {
    async fn start(
        config_text: impl FnOnce(&std::path::Path) -> std::path::PathBuf,
        probe: PrometheusProbe,
        limits: Limits,
    ) -> Self {
        install_provider();
        let ca = TestCa::new();
        let volume = SecretVolume::new(&ca.leaf("online"));
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(volume.path());
        config.config_path = Some(config_text(dir.path()));
        config.limits = limits;
        let server = Server::new(config).unwrap().with_probe(Arc::new(probe));
        let running = start(server).await;
        let client = client(&ca.ca_pem, running.addr, false);
        Self {
            running,
            client,
            _volume: volume,
            _dir: dir,
        }
    }

    /// Sends a CREATE review of `object`; the response and how long it took.
    async fn review(&self, object: &Value, uid: &str) -> (Value, Duration) {
        let started = Instant::now();
        let r = self
            .client
            .post(self.running.url())
            .json(&review_for(object, "CREATE", uid))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["response"]["uid"], uid);
        (answer["response"].clone(), started.elapsed())
    }

    async fn metrics(&self) -> String {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(self.running.metrics_url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|w| w.iter().map(|l| l.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_prometheus_is_probed_and_live_findings_warn() {
    let (prom, seen) = fake_prometheus(true).await;
    let address = format!("http://{prom}");
    let allowed = vec![prom.to_string()];
    let hook = Webhook::start(
        |d| write_config(d, "2s", &allowed, ""),
        PrometheusProbe::new(),
        Limits::default(),
    )
    .await;
    let (response, _) = hook
        .review(&object_with_window("live", &address, "40s"), "uid-live")
        .await;
    let w = warnings(&response);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        w.iter().any(|l| l.starts_with("KL404 warning")),
        "the empty query is reported live: {w:?}"
    );
    // The live scrape interval (15s for job `web`) replaced the assumed 1m: no KL202.
    assert!(!w.iter().any(|l| l.starts_with("KL202")), "{w:?}");
    let requests = seen.requests();
    assert!(
        requests
            .iter()
            .any(|p| p.starts_with("/api/v1/query?query=sum%28rate")),
        "the trigger's query was run: {requests:?}"
    );
    assert!(requests.iter().any(|p| p.starts_with("/api/v1/targets")));
    hook.running.stop().await;

    // The control: the same object without online checks is denied on KL202 (interval 1m
    // assumed), so the live interval is what allowed it above.
    let offline = Webhook::start(
        |d| {
            let p = d.join(".kedalint.yaml");
            std::fs::write(&p, "webhook:\n  online: false\n").unwrap();
            p
        },
        PrometheusProbe::new(),
        Limits::default(),
    )
    .await;
    let before = seen.requests().len();
    let (response, _) = offline
        .review(&object_with_window("live", &address, "40s"), "uid-off")
        .await;
    assert_eq!(response["allowed"], false, "{response}");
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("KL202")
    );
    assert_eq!(seen.requests().len(), before, "online off contacts nothing");
    offline.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_not_allowed_is_never_contacted_and_says_so() {
    let (prom, seen) = fake_prometheus(true).await;
    // Listed on another port only; and an allowed in-cluster name whose addressMap target is
    // this (not listed) server.
    let allowed = vec![
        "127.0.0.1:1".to_owned(),
        "prometheus.monitoring.svc:9090".to_owned(),
    ];
    let map = format!(
        "prometheus:\n  addressMap:\n    \"http://prometheus.monitoring.svc:9090\": \"http://{prom}\"\n"
    );
    let hook = Webhook::start(
        |d| write_config(d, "2s", &allowed, &map),
        PrometheusProbe::new(),
        Limits::default(),
    )
    .await;
    let (response, _) = hook
        .review(&object("direct", &format!("http://{prom}")), "uid-direct")
        .await;
    let w = warnings(&response);
    assert!(
        w[0].starts_with("not checked online: host 127.0.0.1"),
        "{w:?}"
    );
    let (response, _) = hook
        .review(
            &object("mapped", "http://prometheus.monitoring.svc:9090"),
            "uid-mapped",
        )
        .await;
    let w = warnings(&response);
    assert!(
        w.iter()
            .any(|l| l.contains("was not probed: its mapped address: host 127.0.0.1")),
        "{w:?}"
    );
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        0,
        "{:?}",
        seen.requests()
    );
    hook.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_and_rebound_addresses_are_refused_even_when_listed() {
    let (prom, seen) = fake_prometheus(true).await;
    let allowed = vec![
        "169.254.169.254".to_owned(),
        format!("loopback.rebind.test:{}", prom.port()),
    ];
    // A resolver under the test's control pointing a listed name at the imitation on loopback
    // (DNS rebinding). Rebinding to the metadata address is a unit test of `prober`: here only
    // 127.0.0.1 may ever be contacted, even by a broken build.
    let asked = Arc::new(Mutex::new(Vec::new()));
    let a = asked.clone();
    let lookup: Lookup = Arc::new(move |host: String, port: u16| {
        a.lock().unwrap().push(host.clone());
        Box::pin(async move { Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]) })
    });
    let hook = Webhook::start(
        |d| write_config(d, "2s", &allowed, ""),
        PrometheusProbe::new().with_lookup(lookup),
        Limits::default(),
    )
    .await;
    let (response, elapsed) = hook
        .review(&object("imds", "http://169.254.169.254/"), "uid-imds")
        .await;
    let w = warnings(&response);
    assert!(
        w[0].contains("169.254.169.254") && w[0].contains("link-local"),
        "{w:?}"
    );
    assert_eq!(response["allowed"], true);
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert!(
        asked.lock().unwrap().is_empty(),
        "a literal is not resolved"
    );

    let (response, _) = hook
        .review(
            &object(
                "rebind-lo",
                &format!("http://loopback.rebind.test:{}", prom.port()),
            ),
            "uid-rebind-lo",
        )
        .await;
    let w = warnings(&response);
    assert!(
        w.iter()
            .any(|l| l.contains("was not probed") && l.contains("loopback")),
        "{w:?}"
    );
    assert_eq!(*asked.lock().unwrap(), vec!["loopback.rebind.test"]);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 0);
    hook.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_prometheus_cannot_delay_any_answer_nor_deny() {
    let (prom, seen) = fake_prometheus(false).await;
    let allowed = vec![prom.to_string()];
    let hook = Webhook::start(
        |d| write_config(d, "500ms", &allowed, ""),
        PrometheusProbe::new(),
        Limits::default(),
    )
    .await;
    let hook = Arc::new(hook);
    let budget = Duration::from_millis(500);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let hook = hook.clone();
        let o = object(&format!("silent-{i}"), &format!("http://{prom}"));
        tasks.push(tokio::spawn(async move {
            hook.review(&o, &format!("uid-{i}")).await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let (response, elapsed) = t.await.unwrap();
        // The budget plus scheduling slack on a loaded 2-core machine; far below the 5s
        // timeoutSeconds of the ValidatingWebhookConfiguration.
        assert!(
            elapsed < budget + Duration::from_millis(700),
            "review {i} took {elapsed:?}"
        );
        assert_eq!(
            response["allowed"], true,
            "an outage never denies: {response}"
        );
        let w = warnings(&response);
        assert!(
            w.iter().any(|l| l.contains(&prom.to_string())
                && (l.contains("not probed")
                    || l.contains("did not finish")
                    || l.starts_with("KL401 warning"))),
            "review {i}: {w:?}"
        );
    }
    // Ten reviews of one (URL, query) share one probe: one connection, not ten.
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
    let metrics = hook.metrics().await;
    assert!(
        metrics.contains("kedalint_webhook_probe_cache_misses_total 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("kedalint_webhook_probe_cache_hits_total 9\n"));
    Arc::into_inner(hook).unwrap().running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_review_within_the_ttl_is_served_from_the_cache() {
    let (prom, seen) = fake_prometheus(true).await;
    let allowed = vec![prom.to_string()];
    let hook = Webhook::start(
        |d| write_config(d, "2s", &allowed, ""),
        PrometheusProbe::new(),
        Limits::default(),
    )
    .await;
    let o = object("cached", &format!("http://{prom}"));
    let (first, _) = hook.review(&o, "uid-1").await;
    let after_first = seen.requests().len();
    assert!(after_first > 0);
    let (second, _) = hook.review(&o, "uid-2").await;
    assert_eq!(
        seen.requests().len(),
        after_first,
        "the second review made requests: {:?}",
        seen.requests()
    );
    assert_eq!(warnings(&first), warnings(&second));
    let metrics = hook.metrics().await;
    assert!(
        metrics.contains("kedalint_webhook_probe_cache_hits_total 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("kedalint_webhook_probe_cache_misses_total 1\n"));
    hook.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_ttl_probes_again() {
    let (prom, seen) = fake_prometheus(true).await;
    let allowed = vec![prom.to_string()];
    let hook = Webhook::start(
        |d| {
            let p = write_config(d, "2s", &allowed, "");
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(
                &p,
                text.replace("  deadline: 2s\n", "  deadline: 2s\n  cacheTTL: 0s\n"),
            )
            .unwrap();
            p
        },
        PrometheusProbe::new(),
        Limits::default(),
    )
    .await;
    let o = object("uncached", &format!("http://{prom}"));
    hook.review(&o, "uid-1").await;
    let after_first = seen.requests().len();
    hook.review(&o, "uid-2").await;
    assert_eq!(seen.requests().len(), after_first * 2);
    hook.running.stop().await;
}
