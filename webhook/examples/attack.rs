//! The attacker of `scripts/attack-webhook.sh`: hostile connections against a webhook on loopback
//! while a well-behaved client posts real reviews, as the API server would (one keep-alive
//! connection, one review at a time). Prints one line of results for the real reviews.
//!
//! `attack TARGET CA_PEM REVIEW_JSON MODE HOSTILE SOURCES SECONDS`
//!
//! - TARGET: the webhook's `ip:port`; only loopback addresses are accepted.
//! - MODE: `none`, `slow-headers` (headers one byte every 500 ms), `slow-body` (headers declaring
//!   100,000 bytes, then one byte every 500 ms), `idle` (handshake, then nothing), `handshake` (a
//!   full TLS handshake, then close, again and again), or `all` (the four, in turn per connection).
//! - HOSTILE: hostile connections kept open at once; each is renewed as soon as it ends, whether
//!   the server closed it or refused it.
//! - SOURCES: loopback addresses the hostile connections come from (127.1.0.1 and up; the real
//!   client is 127.0.0.1): 1 is one attacking pod, more are many.
//! - SECONDS: how long; everything stops by itself then.
//!
//! Output (one line): `RESULT mode reviews ok_200_decided status_200 status_other errors p50_ms
//! p99_ms max_ms hostile_opened hostile_refused`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

const HOST: &str = "kedalint-webhook.kedalint-system.svc";
const PACE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    SlowHeaders,
    SlowBody,
    Idle,
    Handshake,
}

#[derive(Default)]
struct Counts {
    opened: AtomicU64,
    refused: AtomicU64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, ca, review, mode, hostile, sources, seconds] = args.as_slice() else {
        eprintln!("usage: attack TARGET CA_PEM REVIEW_JSON MODE HOSTILE SOURCES SECONDS");
        std::process::exit(2);
    };
    let target: SocketAddr = target.parse().expect("TARGET as ip:port");
    if !target.ip().is_loopback() {
        eprintln!("attack: {target} is not a loopback address; refusing");
        std::process::exit(2);
    }
    let modes: Vec<Mode> = match mode.as_str() {
        "none" => vec![],
        "slow-headers" => vec![Mode::SlowHeaders],
        "slow-body" => vec![Mode::SlowBody],
        "idle" => vec![Mode::Idle],
        "handshake" => vec![Mode::Handshake],
        "all" => vec![
            Mode::SlowHeaders,
            Mode::SlowBody,
            Mode::Idle,
            Mode::Handshake,
        ],
        other => {
            eprintln!("attack: unknown mode {other}");
            std::process::exit(2);
        }
    };
    let hostile: usize = hostile.parse().expect("HOSTILE as a number");
    let sources: u32 = sources.parse::<u32>().expect("SOURCES as a number").max(1);
    let seconds: u64 = seconds.parse().expect("SECONDS as a number");
    let ca_pem = std::fs::read(ca).expect("CA_PEM readable");
    let review = std::fs::read(review).expect("REVIEW_JSON readable");
    let uid = serde_json::from_slice::<serde_json::Value>(&review).expect("REVIEW_JSON is JSON")
        ["request"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&ca_pem) {
        roots.add(cert.expect("CA_PEM is PEM")).expect("a CA");
    }
    let mut tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    // Every hostile handshake is a full one, the most the server can be made to pay.
    tls.resumption = rustls::client::Resumption::disabled();
    let tls = Arc::new(tls);
    let end = Instant::now() + Duration::from_secs(seconds);
    let counts = Arc::new(Counts::default());

    // The attacker on one thread, so that it takes at most one core from the server.
    let attacker = {
        let counts = counts.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut tasks = Vec::new();
                for i in 0..hostile {
                    if modes.is_empty() {
                        break;
                    }
                    let mode = modes[i % modes.len()];
                    let n = u32::try_from(i).unwrap_or(u32::MAX) % sources;
                    let source = IpAddr::from([127, 1, (n >> 8) as u8, (n & 0xff) as u8 + 1]);
                    let (tls, counts) = (tls.clone(), counts.clone());
                    tasks.push(tokio::spawn(async move {
                        while Instant::now() < end {
                            let ended = tokio::time::timeout_at(
                                end.into(),
                                hostile_connection(mode, target, source, &tls, &counts),
                            )
                            .await;
                            if matches!(ended, Ok(false)) {
                                // Refused: try again soon, not in a spin.
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                        }
                    }));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
        })
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (latencies, decided, ok, other, errors) =
        runtime.block_on(real_reviews(target, &ca_pem, review, &uid, end));
    let _ = attacker.join();
    let mut sorted = latencies;
    sorted.sort_unstable();
    let pct = |p: f64| -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1e3
    };
    println!(
        "RESULT {mode} {} {decided} {ok} {other} {errors} {:.2} {:.2} {:.2} {} {}",
        sorted.len(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
        counts.opened.load(Ordering::Relaxed),
        counts.refused.load(Ordering::Relaxed),
    );
}

/// Posts the review on one keep-alive connection, one at a time, every 20 ms until `end`.
/// Returns the latencies, answers that were 200 with the review's uid and a decision, other
/// 200s, other statuses, and transport errors.
async fn real_reviews(
    target: SocketAddr,
    ca_pem: &[u8],
    review: Vec<u8>,
    uid: &str,
    end: Instant,
) -> (Vec<Duration>, u64, u64, u64, u64) {
    let client = reqwest::Client::builder()
        .resolve(HOST, target)
        .local_address(IpAddr::from([127, 0, 0, 1]))
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem).expect("CA_PEM is PEM")])
        // The API server's default webhook timeout is 10 s; ours is 5 s in deploy/.
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let url = format!("https://{HOST}:{}/validate", target.port());
    let (mut latencies, mut decided, mut ok, mut other, mut errors) = (Vec::new(), 0, 0, 0, 0);
    while Instant::now() < end {
        let started = Instant::now();
        let answer = client
            .post(&url)
            .header("content-type", "application/json")
            .body(review.clone())
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.bytes().await.unwrap_or_default();
                latencies.push(started.elapsed());
                if status == 200 {
                    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    if json["response"]["uid"] == uid && json["response"]["allowed"].is_boolean() {
                        decided += 1;
                    } else {
                        ok += 1;
                    }
                } else {
                    other += 1;
                    eprintln!(
                        "review answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
            Err(e) => {
                latencies.push(started.elapsed());
                errors += 1;
                eprintln!("review failed: {e}");
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (latencies, decided, ok, other, errors)
}

/// One hostile connection, until the server ends it. `false` when it was refused before or
/// during the handshake.
async fn hostile_connection(
    mode: Mode,
    target: SocketAddr,
    source: IpAddr,
    tls: &Arc<rustls::ClientConfig>,
    counts: &Counts,
) -> bool {
    let Ok(socket) = TcpSocket::new_v4() else {
        return false;
    };
    if socket.bind(SocketAddr::new(source, 0)).is_err() {
        return false;
    }
    let Ok(tcp) = socket.connect(target).await else {
        counts.refused.fetch_add(1, Ordering::Relaxed);
        return false;
    };
    let connector = tokio_rustls::TlsConnector::from(tls.clone());
    let name = ServerName::try_from(HOST).expect("a DNS name");
    let Ok(mut stream) = connector.connect(name, tcp).await else {
        counts.refused.fetch_add(1, Ordering::Relaxed);
        return false;
    };
    counts.opened.fetch_add(1, Ordering::Relaxed);
    let (head, trickle): (&[u8], &[u8]) = match mode {
        Mode::Handshake => return true,
        Mode::Idle => (b"", b""),
        Mode::SlowHeaders => (b"POST /validate HTTP/1.1\r\nHost: kedalint\r\n", b"x"),
        Mode::SlowBody => (
            b"POST /validate HTTP/1.1\r\nHost: kedalint\r\nContent-Type: application/json\r\n\
              Content-Length: 100000\r\n\r\n",
            b" ",
        ),
    };
    if stream.write_all(head).await.is_err() || stream.flush().await.is_err() {
        return true;
    }
    let mut buf = [0_u8; 512];
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => {
                // Closed, or answered (408 and close): either way this connection is done.
                if !matches!(read, Ok(n) if n > 0) {
                    return true;
                }
            }
            () = tokio::time::sleep(PACE), if !trickle.is_empty() => {
                if stream.write_all(trickle).await.is_err() || stream.flush().await.is_err() {
                    return true;
                }
            }
        }
    }
}
