//! Real parts for the online tests: a Prometheus process (the Debian 2.42 binary) scraping a
//! metrics endpoint served by the test, and tiny HTTP servers that stand in for what is not
//! Prometheus (a 404 page, a login wall, a slow proxy). Everything listens on 127.0.0.1 only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a stand-in server answers: status, content type, body, delay before answering.
pub type Handler = dyn Fn(&str) -> (u16, &'static str, String, Duration) + Send + Sync;

/// Serves HTTP/1.x on 127.0.0.1 with `handler` (given the request target), one thread per
/// connection. Lives as long as the test process.
#[must_use]
pub fn serve(handler: Arc<Handler>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test server");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = handler.clone();
            std::thread::spawn(move || answer(stream, &*handler));
        }
    });
    addr
}

fn answer(mut stream: TcpStream, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (status, content_type, body, delay) = handler(&target);
    std::thread::sleep(delay);
    if status == 0 {
        return; // close without answering
    }
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A raw GET to 127.0.0.1: status and body.
#[must_use]
pub fn http_get(addr: SocketAddr, target: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {target} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split_whitespace().nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map_or("", |x| x.1).to_owned();
    Some((status, body))
}

/// Percent-encodes a query parameter.
#[must_use]
pub fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The metrics the scrape target serves, `secs` after it started: a counter (+10/s), a growing
/// histogram with buckets up to 1, a frozen histogram (rate 0: its quantile is NaN), a gauge with
/// two series, an inference counter labelled `model_name`, and a gauge whose name ends in
/// `_count` (`demo_connection_count`).
#[must_use]
pub fn metrics(secs: f64) -> String {
    let n = (secs * 10.0).floor();
    let mut out = String::new();
    out.push_str("# TYPE demo_requests_total counter\n");
    out.push_str(&format!("demo_requests_total {n}\n"));
    out.push_str("# TYPE demo_latency_seconds histogram\n");
    for (le, share) in [
        ("0.1", 0.5),
        ("0.25", 0.8),
        ("0.5", 0.95),
        ("1", 1.0),
        ("+Inf", 1.0),
    ] {
        out.push_str(&format!(
            "demo_latency_seconds_bucket{{le=\"{le}\"}} {}\n",
            (n * share).floor()
        ));
    }
    out.push_str(&format!("demo_latency_seconds_sum {}\n", n * 0.12));
    out.push_str(&format!("demo_latency_seconds_count {n}\n"));
    out.push_str("# TYPE demo_frozen_seconds histogram\n");
    for le in ["0.1", "1", "+Inf"] {
        out.push_str(&format!("demo_frozen_seconds_bucket{{le=\"{le}\"}} 7\n"));
    }
    out.push_str("demo_frozen_seconds_sum 1.4\ndemo_frozen_seconds_count 7\n");
    out.push_str("# TYPE demo_gauge gauge\ndemo_gauge{shard=\"a\"} 1\ndemo_gauge{shard=\"b\"} 2\n");
    out.push_str("# TYPE demo_connection_count gauge\ndemo_connection_count 3\n");
    out.push_str("# TYPE inference_requests_total counter\n");
    out.push_str(&format!(
        "inference_requests_total{{model_name=\"llama\"}} {n}\n"
    ));
    out
}

/// A Prometheus process scraping the test's metrics every second; killed on drop.
pub struct Prometheus {
    child: Child,
    /// Where its HTTP API listens.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// The Prometheus binary, or `None` with a visible message (a failure when
/// `KEDALINT_REQUIRE_PROMETHEUS=1`, as CI sets it).
#[must_use]
pub fn prometheus_binary() -> Option<PathBuf> {
    let found = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("KEDALINT_REQUIRE_PROMETHEUS").as_deref() != Ok("1"),
            "KEDALINT_REQUIRE_PROMETHEUS=1 but /usr/bin/prometheus is missing (apt-get install -y prometheus)"
        );
        eprintln!(
            "SKIPPED: /usr/bin/prometheus is missing; install it with `apt-get update && apt-get install -y prometheus`"
        );
    }
    found
}

impl Prometheus {
    /// Starts the metrics target and Prometheus on free ports, and waits until the target is
    /// up and holds four samples. `None` when the binary is missing.
    #[must_use]
    pub fn start() -> Option<Self> {
        let binary = prometheus_binary()?;
        let started = Instant::now();
        let target = serve(Arc::new(move |path: &str| {
            if path.starts_with("/metrics") {
                (
                    200,
                    "text/plain; version=0.0.4",
                    metrics(started.elapsed().as_secs_f64()),
                    Duration::ZERO,
                )
            } else {
                (404, "text/plain", "not found".to_owned(), Duration::ZERO)
            }
        }));
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let (child, addr) = spawn(&binary, &config, &dir.path().join("data"));
        let prom = Self {
            addr,
            child,
            _dir: dir,
        };
        prom.wait_for("/-/ready", |status, _| status == 200);
        let up = format!("/api/v1/query?query={}", escape("up{job=\"demo\"} == 1"));
        prom.wait_for(&up, |_, body| body.contains("\"value\""));
        // KEDA sends `time=` to the second, so "now" can be up to 1s in the past: wait for four
        // samples, so that a rate over 10s still has two at that instant.
        let rate = format!(
            "/api/v1/query?query={}",
            escape("count_over_time(demo_requests_total[10s]) >= 4")
        );
        prom.wait_for(&rate, |_, body| body.contains("\"value\""));
        Some(prom)
    }

    /// Polls `target` until `ready` says so (at most 30 s).
    fn wait_for(&self, target: &str, ready: impl Fn(u16, &str) -> bool) {
        wait_for(self.addr, target, ready);
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the process now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Spawns Prometheus on a free port of 127.0.0.1 and returns it with the address it logged
/// (port 0: the real port is in the line `msg="Listening on" address=127.0.0.1:NNNN`). The log is
/// drained for the life of the child, so it never blocks on a full pipe.
fn spawn(binary: &Path, config: &Path, data: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .arg("--log.level=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn prometheus");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("msg=\"Listening on\"")
                && let Some(a) = line.split("address=").nth(1)
            {
                let _ = tx.send(a.split_whitespace().next().unwrap_or("").to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("prometheus logged its address");
    (child, addr.parse().expect("listen address"))
}

/// A Prometheus serving only backfilled data (no scrape jobs), killed on drop.
pub struct Backfilled {
    child: Child,
    /// Where its HTTP API listens.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Backfilled {
    /// Writes `openmetrics` into a fresh TSDB with `promtool tsdb create-blocks-from openmetrics`
    /// and starts Prometheus on it; ready when `/-/ready` says so. `None` (with a visible
    /// message) when the binaries are missing.
    #[must_use]
    pub fn start(openmetrics: &str) -> Option<Self> {
        let binary = prometheus_binary()?;
        let promtool = binary.with_file_name("promtool");
        assert!(
            promtool.is_file(),
            "{} is missing (it comes with the prometheus package)",
            promtool.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let om = dir.path().join("backfill.om");
        std::fs::write(&om, openmetrics).expect("write openmetrics");
        let out = Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&om)
            .arg(&data)
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 15s\n").expect("write config");
        let (child, addr) = spawn(&binary, &config, &data);
        let server = Self {
            child,
            addr,
            _dir: dir,
        };
        wait_for(server.addr, "/-/ready", |status, _| status == 200);
        Some(server)
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Backfilled {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `target` on `addr` every 50 ms until `ready` says so (at most 30 s).
fn wait_for(addr: SocketAddr, target: &str, ready: impl Fn(u16, &str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((status, body)) = http_get(addr, target)
            && ready(status, &body)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus never answered {target} as expected"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A proxy in front of `upstream` that forwards every request, after `delay` for requests
/// whose target does not contain `fast` (so the reachability check stays quick).
#[must_use]
pub fn slow_proxy(upstream: SocketAddr, delay: Duration, fast: &'static str) -> SocketAddr {
    serve(Arc::new(move |target: &str| {
        let wait = if target.contains(fast) {
            Duration::ZERO
        } else {
            delay
        };
        std::thread::sleep(wait);
        match http_get(upstream, target) {
            Some((status, body)) => (status, "application/json", body, Duration::ZERO),
            None => (0, "", String::new(), Duration::ZERO),
        }
    }))
}

/// A port on 127.0.0.1 where nothing listens.
#[must_use]
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}
