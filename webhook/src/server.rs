//! The admission server: `POST /validate` over TLS, health and metrics on a plain port.
//!
//! Built on hyper-util and tokio-rustls directly rather than axum-server: the TLS handshake gets
//! its own timeout (a client that opens a socket and sends nothing holds no task for long),
//! hyper's `header_read_timeout` bounds slow headers, and hyper-util's `GracefulShutdown` drains
//! in-flight connections on SIGTERM. Routing, body limits and JSON stay axum.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use kedalint_rules::{Settings, Severity};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, error, info, warn};

use crate::error::{Error, Result};
use crate::metrics::{Metrics, Reload};
use crate::online::{self, Probe};
use crate::review::{self, Verdict};
use crate::tls::{self, CertChange, CertStore};

/// Bounds that keep one slow or hostile client from taking the server down.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body. The API server refuses requests over 3 MiB, and an UPDATE review
    /// carries the object and the old object, so twice that.
    pub body_bytes: usize,
    /// Time allowed for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed to receive a request's headers (slowloris).
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request, body included.
    pub request_timeout: Duration,
    /// Reviews handled at once; beyond that the answer is an immediate 503.
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 6 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(8),
            max_concurrent: 64,
        }
    }
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// The TLS admission address.
    pub listen: SocketAddr,
    /// The plain HTTP address of `/healthz`, `/readyz`, `/metrics`.
    pub metrics_listen: SocketAddr,
    /// The directory holding `tls.crt` and `tls.key` (a mounted Secret).
    pub cert_dir: PathBuf,
    /// The `.kedalint.yaml` to read and watch; `None` runs with default settings.
    pub config_path: Option<PathBuf>,
    /// How often the certificate and configuration files are checked for changes.
    pub poll_interval: Duration,
    /// Request bounds.
    pub limits: Limits,
    /// After SIGTERM, how long to keep accepting (not ready) while endpoints catch up.
    pub shutdown_delay: Duration,
    /// After that, how long in-flight requests may take before connections are dropped.
    pub shutdown_timeout: Duration,
}

impl Config {
    /// A configuration with the defaults of the binary's flags.
    #[must_use]
    pub fn new(cert_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            metrics_listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            cert_dir: cert_dir.into(),
            config_path: None,
            poll_interval: Duration::from_secs(2),
            limits: Limits::default(),
            shutdown_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(20),
        }
    }
}

struct Shared {
    config: Config,
    settings: RwLock<Arc<Settings>>,
    last_config: Mutex<Option<Vec<u8>>>,
    certs: Arc<CertStore>,
    metrics: Metrics,
    probe: Option<Arc<dyn Probe>>,
    tls_bound: AtomicBool,
    draining: AtomicBool,
    in_flight: Arc<Semaphore>,
}

/// The webhook server. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Reads the configuration file (an invalid one is an error at startup, unlike on reload)
    /// and tries to load the certificate (a missing one only keeps the server unready).
    ///
    /// # Errors
    /// The configuration file cannot be read or is invalid.
    pub fn new(config: Config) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs = Arc::new(CertStore::new(config.cert_dir.clone(), provider));
        let shared = Arc::new(Shared {
            settings: RwLock::new(Arc::new(Settings::default())),
            last_config: Mutex::new(None),
            certs,
            metrics: Metrics::default(),
            probe: None,
            tls_bound: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            in_flight: Arc::new(Semaphore::new(config.limits.max_concurrent)),
            config,
        });
        let server = Self { shared };
        if server.shared.config.config_path.is_some() {
            server.reload_settings()?;
        }
        server.reload_certificate();
        Ok(server)
    }

    /// Adds the online probe run for each ScaledObject when `webhook.online` is true.
    ///
    /// # Panics
    /// When called after the server was cloned (set the probe first).
    #[must_use]
    pub fn with_probe(mut self, probe: Arc<dyn Probe>) -> Self {
        Arc::get_mut(&mut self.shared)
            .expect("with_probe is called before the server is shared")
            .probe = Some(probe);
        self
    }

    /// The settings in use now.
    #[must_use]
    pub fn settings(&self) -> Arc<Settings> {
        self.shared
            .settings
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The metrics.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Whether the server is ready: TLS listener bound, certificate loaded, not shutting down.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.shared.tls_bound.load(Ordering::SeqCst)
            && self.shared.certs.is_loaded()
            && !self.shared.draining.load(Ordering::SeqCst)
    }

    /// Rereads the configuration file; when it changed and is valid, uses it. An invalid new
    /// file keeps the previous settings.
    ///
    /// # Errors
    /// The file cannot be read or is invalid.
    pub fn reload_settings(&self) -> Result<bool> {
        let Some(path) = &self.shared.config.config_path else {
            return Ok(false);
        };
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        {
            let mut last = self
                .shared
                .last_config
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.as_deref() == Some(bytes.as_slice()) {
                return Ok(false);
            }
            *last = Some(bytes.clone());
        }
        let text = String::from_utf8_lossy(&bytes);
        match Settings::from_yaml(&path.display().to_string(), &text) {
            Ok(settings) => {
                *self
                    .shared
                    .settings
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(settings);
                self.shared.metrics.config_reload(Reload::Success);
                Ok(true)
            }
            Err(e) => {
                self.shared.metrics.config_reload(Reload::Failure);
                Err(e.into())
            }
        }
    }

    /// Rereads the certificate files and logs what happened.
    pub fn reload_certificate(&self) {
        match self.shared.certs.reload() {
            Ok(CertChange::Unchanged) => {}
            Ok(CertChange::Loaded) => {
                self.shared.metrics.cert_reload(Reload::Success);
                info!(dir = %self.shared.certs.dir().display(), "serving certificate loaded");
            }
            Err(e) => {
                if matches!(e, Error::Tls { .. }) {
                    self.shared.metrics.cert_reload(Reload::Failure);
                }
                error!(error = %error_chain(&e), "certificate not loaded; keeping the previous one");
            }
        }
    }

    /// Logs whether online checks run, and with which allow-list, deadline and cache TTL.
    pub fn log_online_settings(&self) {
        let settings = self.settings();
        let w = &settings.webhook;
        if w.online && self.shared.probe.is_some() {
            info!(
                allowed_hosts = ?w.allowed_hosts,
                deadline_ms = w.deadline.unwrap_or(online::DEFAULT_DEADLINE).as_millis(),
                cache_ttl_s = w
                    .cache_ttl
                    .unwrap_or(crate::prober::DEFAULT_CACHE_TTL)
                    .as_secs_f64(),
                "online checks on"
            );
        } else if w.online {
            warn!("webhook.online is true but no probe is installed; online checks do not run");
        } else {
            info!("online checks off (webhook.online: false)");
        }
    }

    fn poll_once(&self) {
        match self.reload_settings() {
            Ok(true) => {
                info!("configuration reloaded");
                self.log_online_settings();
            }
            Ok(false) => {}
            Err(e) => {
                error!(error = %error_chain(&e), "configuration not reloaded; keeping the previous one");
            }
        }
        self.reload_certificate();
    }

    /// The admission routes (`POST /validate`) with body limit, request timeout and concurrency
    /// limit. Served over TLS by [`Server::run`]; usable in-process with `tower::ServiceExt`.
    pub fn router(&self) -> Router {
        let limits = &self.shared.config.limits;
        Router::new()
            .route("/validate", post(validate))
            .layer(DefaultBodyLimit::max(limits.body_bytes))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                declared_length,
            ))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                request_timeout,
            ))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                concurrency_limit,
            ))
            .with_state(self.clone())
    }

    /// The plain-HTTP routes: `/healthz`, `/readyz`, `/metrics`.
    pub fn metrics_router(&self) -> Router {
        Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(self.clone())
    }

    /// Binds both listeners.
    ///
    /// # Errors
    /// An address cannot be bound.
    pub async fn bind(self) -> Result<Bound> {
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| Error::Bind { addr, source })
        };
        let tls = bind(self.shared.config.listen).await?;
        let plain = bind(self.shared.config.metrics_listen).await?;
        Ok(Bound {
            server: self,
            tls,
            plain,
        })
    }

    /// Binds and serves until `shutdown` completes, then drains in-flight requests.
    ///
    /// # Errors
    /// An address cannot be bound.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        self.bind().await?.serve(shutdown).await
    }
}

/// A server whose listeners are bound (their addresses are known, ports 0 resolved).
#[derive(Debug)]
pub struct Bound {
    server: Server,
    tls: TcpListener,
    plain: TcpListener,
}

impl Bound {
    /// The TLS admission address.
    #[must_use]
    pub fn tls_addr(&self) -> SocketAddr {
        self.tls
            .local_addr()
            .unwrap_or(self.server.shared.config.listen)
    }

    /// The plain metrics address.
    #[must_use]
    pub fn metrics_addr(&self) -> SocketAddr {
        self.plain
            .local_addr()
            .unwrap_or(self.server.shared.config.metrics_listen)
    }

    /// Serves until `shutdown` completes. Then readiness fails, the listener keeps accepting for
    /// `shutdown_delay` (endpoints take a moment to drop the pod), stops, and in-flight requests
    /// finish within `shutdown_timeout`.
    ///
    /// # Errors
    /// The TLS configuration cannot be built.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let Self { server, tls, plain } = self;
        let shared = server.shared.clone();
        let acceptor = TlsAcceptor::from(Arc::new(tls::server_config(shared.certs.clone())?));
        let (stop_tx, stop_rx) = watch::channel(false);

        let listen = tls.local_addr().map_err(|source| Error::Bind {
            addr: shared.config.listen,
            source,
        })?;
        let metrics_addr = plain.local_addr().map_err(|source| Error::Bind {
            addr: shared.config.metrics_listen,
            source,
        })?;
        let poller = tokio::spawn(poll_files(server.clone(), stop_rx.clone()));
        let mut metrics_stop = stop_rx.clone();
        let metrics_server =
            axum::serve(plain, server.metrics_router()).with_graceful_shutdown(async move {
                let _ = metrics_stop.wait_for(|stop| *stop).await;
            });
        let metrics_task = tokio::spawn(async move {
            if let Err(e) = metrics_server.await {
                error!(error = %e, "metrics server failed");
            }
        });

        shared.tls_bound.store(true, Ordering::SeqCst);
        info!(
            %listen,
            metrics = %metrics_addr,
            ready = server.is_ready(),
            "kedalint webhook listening"
        );

        let graceful = GracefulShutdown::new();
        let router = server.router();
        let delay = shared.config.shutdown_delay;
        let draining = &shared.draining;
        let mut stop = pin!(async move {
            shutdown.await;
            draining.store(true, Ordering::SeqCst);
            info!(
                delay_ms = delay.as_millis(),
                "shutting down: not ready, draining"
            );
            tokio::time::sleep(delay).await;
        });
        loop {
            tokio::select! {
                () = &mut stop => break,
                accepted = tls.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // EMFILE and friends: back off instead of spinning.
                            warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let watcher = graceful.watcher();
                    let acceptor = acceptor.clone();
                    let service = TowerToHyperService::new(router.clone());
                    let limits = shared.config.limits.clone();
                    tokio::spawn(async move {
                        let stream = match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                        let mut builder = hyper::server::conn::http1::Builder::new();
                        builder
                            .timer(TokioTimer::new())
                            .header_read_timeout(limits.header_read_timeout);
                        let conn = builder.serve_connection(TokioIo::new(stream), service);
                        if let Err(e) = watcher.watch(conn).await {
                            debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
            }
        }
        drop(tls);
        if tokio::time::timeout(shared.config.shutdown_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            warn!("in-flight requests did not finish in time; closing their connections");
        }
        let _ = stop_tx.send(true);
        let _ = poller.await;
        let _ = metrics_task.await;
        info!("shut down");
        Ok(())
    }
}

async fn poll_files(server: Server, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(server.shared.config.poll_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => server.poll_once(),
            _ = stop.wait_for(|s| *s) => break,
        }
    }
}

async fn concurrency_limit(State(server): State<Server>, request: Request, next: Next) -> Response {
    let Ok(_permit) = server.shared.in_flight.clone().try_acquire_owned() else {
        server.shared.metrics.request("overloaded");
        warn!("too many reviews in flight; answering 503");
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            "kedalint webhook is at its concurrency limit; retry\n",
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(request).await
}

/// Refuses a body whose declared length is over the limit before reading any of it (a client
/// that sent `Expect: 100-continue` then never sends it). Bodies without a length are cut by
/// `DefaultBodyLimit` while read.
async fn declared_length(State(server): State<Server>, request: Request, next: Next) -> Response {
    let limit = server.shared.config.limits.body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        server.shared.metrics.request("error");
        warn!(declared, limit, "request body too large");
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes\n"),
        )
            .into_response();
    }
    next.run(request).await
}

async fn request_timeout(State(server): State<Server>, request: Request, next: Next) -> Response {
    let limit = server.shared.config.limits.request_timeout;
    if let Ok(response) = tokio::time::timeout(limit, next.run(request)).await {
        response
    } else {
        server.shared.metrics.request("error");
        warn!(timeout_ms = limit.as_millis(), "request timed out");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("request not completed within {}ms\n", limit.as_millis()),
        )
            .into_response()
    }
}

async fn validate(State(server): State<Server>, body: Bytes) -> Response {
    let started = Instant::now();
    let shared = &server.shared;
    let decoded = match review::decode(&body) {
        Ok(d) => d,
        Err(e) => {
            shared.metrics.request("error");
            warn!(error = %e, "bad AdmissionReview");
            return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response();
        }
    };
    let settings = server.settings();
    let request = &decoded.request;
    let online = match &decoded.object {
        Some(object)
            if review::is_scaled_object(request)
                && request.operation != kube::core::admission::Operation::Delete =>
        {
            online::run_online(shared.probe.as_deref(), object, &settings).await
        }
        _ => online::ProbeOutcome::default(),
    };
    let answer = review::answer_online(&decoded, &settings, online.warnings, online.facts);
    let (mut errors, mut warnings) = (0, 0);
    for f in &answer.findings {
        shared.metrics.finding(f.code, f.severity.as_str());
        match f.severity {
            Severity::Error => errors += 1,
            Severity::Warning => warnings += 1,
            Severity::Info => {
                info!(uid = %request.uid, code = f.code, path = %f.path, message = %f.message, "info finding");
            }
        }
    }
    shared.metrics.request(answer.verdict.label());
    shared.metrics.observe_latency(started.elapsed());
    if answer.verdict != Verdict::Skipped || tracing::enabled!(tracing::Level::DEBUG) {
        info!(
            uid = %request.uid,
            kind = %request.kind.kind,
            namespace = request.namespace.as_deref().unwrap_or(""),
            name = %request.name,
            operation = ?request.operation,
            dry_run = request.dry_run,
            allowed = answer.response.allowed,
            errors,
            warnings,
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "review"
        );
    }
    axum::Json(answer.response.into_review()).into_response()
}

async fn readyz(State(server): State<Server>) -> Response {
    if server.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let why = if server.shared.draining.load(Ordering::SeqCst) {
            "shutting down"
        } else if !server.shared.certs.is_loaded() {
            "no certificate loaded"
        } else {
            "TLS listener not bound"
        };
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response()
    }
}

async fn metrics(State(server): State<Server>) -> Response {
    if let Some(probe) = &server.shared.probe {
        let (hits, misses) = probe.cache_counts();
        let m = &server.shared.metrics;
        m.probe_cache_hits.store(hits, Ordering::Relaxed);
        m.probe_cache_misses.store(misses, Ordering::Relaxed);
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        server.shared.metrics.render(),
    )
        .into_response()
}

/// An error with its sources, `a: b: c`, for one-line logs.
#[must_use]
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
