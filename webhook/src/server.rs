//! The admission server: `POST /validate` over TLS, health and metrics on a plain port.
//!
//! Built on hyper-util and tokio-rustls directly rather than axum-server: connections are
//! admitted against per-peer and total caps before any TLS work, handshakes start at a bounded
//! rate and have their own timeout, each connection's phase (idle, headers, body, writing) has a
//! deadline kept by a watchdog (`conn.rs`), and hyper-util's `GracefulShutdown` drains in-flight
//! connections on SIGTERM. Routing, body reading and JSON stay axum: a review slot is taken only
//! once the body is complete.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::{Pin, pin};
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
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, error, info, warn};

use crate::conn::{
    Caps, ConnState, Deadlines, HandshakeRate, Phase, ReadBudget, Registered, Shed, Table, Tracked,
};
use crate::error::{Error, Result};
use crate::metrics::{Metrics, Reload};
use crate::online::{self, Probe};
use crate::review::{self, Verdict};
use crate::tls::{self, CertChange, CertStore};

/// Bounds that keep one slow or hostile client from taking the server down. docs/limits.md lists
/// each with the attack it answers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body. The API server refuses requests over 3 MiB, and an UPDATE review
    /// carries the object and the old object, so twice that.
    pub body_bytes: usize,
    /// Time allowed for the TLS handshake, waiting for its turn included.
    pub handshake_timeout: Duration,
    /// Time allowed to receive a request's headers, from its first byte (slowloris).
    pub header_read_timeout: Duration,
    /// Time allowed to receive a request's body once its headers are complete; then 408. The API
    /// server sends a review in one write.
    pub body_timeout: Duration,
    /// Time allowed to review a request once its body is complete; then 503.
    pub request_timeout: Duration,
    /// Time a keep-alive connection may stay silent between requests (or after the handshake).
    pub idle_timeout: Duration,
    /// Time allowed for the client to take an answer (a client that does not read).
    pub write_timeout: Duration,
    /// Reviews handled at once, counted from the moment a body is complete; beyond that the
    /// answer is an immediate 503.
    pub max_concurrent: usize,
    /// Open admission connections in all; when full, the one waiting longest on its client (idle
    /// or trickling a request) is closed for a new one.
    pub max_connections: usize,
    /// Open admission connections from one peer address; beyond that new ones are closed.
    pub max_connections_per_peer: usize,
    /// TLS handshakes waiting or running at once; beyond that new connections are closed at accept.
    pub max_handshakes: usize,
    /// TLS handshakes started per second (a token bucket holding one second's worth).
    pub handshake_rate: u32,
    /// Bytes of request bodies being read at once across all connections; a chunk that would go
    /// over gets its request a 503.
    pub read_budget_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 6 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(8),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(5),
            max_concurrent: 64,
            max_connections: 512,
            max_connections_per_peer: 128,
            max_handshakes: 32,
            handshake_rate: 200,
            read_budget_bytes: 32 * 1024 * 1024,
        }
    }
}

impl Limits {
    fn deadlines(&self) -> Deadlines {
        Deadlines {
            idle: self.idle_timeout,
            headers: self.header_read_timeout,
            body: self.body_timeout,
            write: self.write_timeout,
        }
    }
}

/// The most a connection buffers of a request's head (hyper's read buffer): the API server's
/// headers are well under 1 KiB. Larger heads are answered 431.
const HEAD_BUFFER_BYTES: usize = 64 * 1024;

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
    connections: Arc<Table>,
    handshakes: Arc<Semaphore>,
    handshake_rate: HandshakeRate,
    read_budget: Arc<ReadBudget>,
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
            connections: Arc::new(Table::new(Caps {
                total: config.limits.max_connections,
                per_peer: config.limits.max_connections_per_peer,
            })),
            handshakes: Arc::new(Semaphore::new(config.limits.max_handshakes.max(1))),
            handshake_rate: HandshakeRate::new(config.limits.handshake_rate),
            // A budget smaller than one largest body would refuse every large review.
            read_budget: Arc::new(ReadBudget::new(
                config
                    .limits
                    .read_budget_bytes
                    .max(config.limits.body_bytes),
            )),
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

    /// The admission routes (`POST /validate`): the declared length is checked, the body read
    /// (within its deadline, the body limit and the read budget), and only then is a review slot
    /// taken (the concurrency limit) and the review timed. Served over TLS by [`Server::run`];
    /// usable in-process with `tower::ServiceExt`.
    pub fn router(&self) -> Router {
        let limits = &self.shared.config.limits;
        Router::new()
            .route("/validate", post(validate))
            .layer(DefaultBodyLimit::max(limits.body_bytes))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                request_timeout,
            ))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                concurrency_limit,
            ))
            .layer(middleware::from_fn_with_state(self.clone(), read_body))
            .layer(middleware::from_fn_with_state(
                self.clone(),
                declared_length,
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
                    if let Some(conn) = admit(&shared, stream, peer) {
                        let service = ConnService {
                            inner: TowerToHyperService::new(router.clone()),
                            state: conn.registered.state.clone(),
                        };
                        tokio::spawn(serve_connection(
                            shared.clone(),
                            conn,
                            acceptor.clone(),
                            service,
                            graceful.watcher(),
                        ));
                    }
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

/// A connection let in at accept: its place in the table and its turn to handshake.
struct Admitted {
    stream: TcpStream,
    peer: SocketAddr,
    registered: Registered,
    handshake: OwnedSemaphorePermit,
}

/// The checks at accept, before any TLS work: the peer's and the total connection caps (evicting
/// the connection waiting longest on its client when full), then a place among the pending handshakes. A refused
/// connection is closed by dropping it.
fn admit(shared: &Shared, stream: TcpStream, peer: SocketAddr) -> Option<Admitted> {
    let registered = match shared.connections.admit(peer.ip()) {
        Ok((registered, evicted)) => {
            if let Some(why) = evicted {
                shared.metrics.shed(why);
                debug!(%peer, reason = why.label(), "connection evicted to make room");
            }
            registered
        }
        Err(why) => {
            shared.metrics.shed(why);
            debug!(%peer, reason = why.label(), "connection refused");
            return None;
        }
    };
    let Ok(handshake) = shared.handshakes.clone().try_acquire_owned() else {
        shared.metrics.shed(Shed::HandshakeLimit);
        debug!(%peer, reason = Shed::HandshakeLimit.label(), "connection refused");
        return None;
    };
    Some(Admitted {
        stream,
        peer,
        registered,
        handshake,
    })
}

/// One admission connection: its handshake (at the handshake rate, within the handshake
/// timeout), then HTTP/1.1 until the client leaves, the server drains, or the watchdog closes it.
async fn serve_connection(
    shared: Arc<Shared>,
    conn: Admitted,
    acceptor: TlsAcceptor,
    service: ConnService,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let Admitted {
        stream,
        peer,
        registered,
        handshake,
    } = conn;
    let limits = &shared.config.limits;
    let handshaken = tokio::time::timeout(limits.handshake_timeout, async {
        shared.handshake_rate.turn().await;
        acceptor.accept(stream).await
    })
    .await;
    drop(handshake);
    let stream = match handshaken {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            shared.metrics.shed(Shed::HandshakeTimeout);
            debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    registered.state.set(Phase::Idle);
    debug!(%peer, "TLS connection established");
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Header, idle and write deadlines are the watchdog's, per phase; hyper's own header timer
    // would also run on idle keep-alive connections.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(HEAD_BUFFER_BYTES);
    let io = TokioIo::new(Tracked::new(stream, registered.state.clone()));
    let conn = watcher.watch(builder.serve_connection(io, service));
    tokio::select! {
        served = conn => {
            if let Err(e) = served {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        why = registered.state.watchdog(limits.deadlines()) => {
            // Evictions were counted when decided.
            if !matches!(why, Shed::EvictedIdle | Shed::EvictedReading) {
                shared.metrics.shed(why);
            }
            debug!(%peer, reason = why.label(), "connection closed");
        }
    }
}

/// The router as a per-connection hyper service that moves the connection's phase: to
/// [`Phase::Body`] when a request's headers are complete, to [`Phase::Writing`] once it is
/// answered. Requests carry the connection's [`ConnState`] for `read_body`.
#[derive(Clone)]
struct ConnService {
    inner: TowerToHyperService<Router>,
    state: Arc<ConnState>,
}

type BoxedAnswer =
    Pin<Box<dyn Future<Output = std::result::Result<Response, Infallible>> + Send + 'static>>;

impl hyper::service::Service<Request<hyper::body::Incoming>> for ConnService {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxedAnswer;

    fn call(&self, mut request: Request<hyper::body::Incoming>) -> Self::Future {
        self.state.set(Phase::Body);
        request.extensions_mut().insert(self.state.clone());
        let state = self.state.clone();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            state.set(Phase::Writing);
            answer
        })
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
        return retry_later("kedalint webhook is at its concurrency limit; retry\n");
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

/// Why a body was not read.
enum BodyRead {
    TooLarge,
    OverBudget,
    Failed(axum::Error),
}

/// Reads the whole body within `body_timeout`, at most `body_bytes`, each chunk taken from the
/// read budget (held until the answer is ready), and only then passes the request on to the
/// concurrency limit: a client trickling its body holds a connection, never a review slot.
async fn read_body(State(server): State<Server>, request: Request, next: Next) -> Response {
    use axum::body::HttpBody as _;
    let shared = &server.shared;
    let limits = &shared.config.limits;
    let conn = request.extensions().get::<Arc<ConnState>>().cloned();
    let (parts, mut body) = request.into_parts();
    let mut held = shared.read_budget.hold();
    let read = tokio::time::timeout(limits.body_timeout, async {
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let Ok(data) = frame.map_err(BodyRead::Failed)?.into_data() else {
                continue; // trailers
            };
            if bytes.len() + data.len() > limits.body_bytes {
                return Err(BodyRead::TooLarge);
            }
            if !held.take(data.len()) {
                return Err(BodyRead::OverBudget);
            }
            bytes.extend_from_slice(&data);
        }
        Ok(bytes)
    })
    .await;
    let refusal = match read {
        Ok(Ok(bytes)) => {
            if let Some(conn) = &conn {
                conn.set(Phase::Processing);
            }
            let response = next
                .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await;
            drop(held);
            return response;
        }
        Err(_) => {
            shared.metrics.request("error");
            shared.metrics.shed(Shed::BodyTimeout);
            warn!(
                timeout_ms = limits.body_timeout.as_millis(),
                "request body not received in time; answering 408"
            );
            (
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request body not received within {}ms\n",
                    limits.body_timeout.as_millis()
                ),
            )
                .into_response()
        }
        Ok(Err(BodyRead::TooLarge)) => {
            shared.metrics.request("error");
            warn!(limit = limits.body_bytes, "request body too large");
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {} bytes\n", limits.body_bytes),
            )
                .into_response()
        }
        Ok(Err(BodyRead::OverBudget)) => {
            shared.metrics.request("overloaded");
            shared.metrics.shed(Shed::ReadBudget);
            warn!(
                budget = limits.read_budget_bytes,
                "request bodies being read are over the read budget; answering 503"
            );
            retry_later("kedalint webhook is reading too many request bodies; retry\n")
        }
        Ok(Err(BodyRead::Failed(e))) => {
            shared.metrics.request("error");
            debug!(error = %e, "request body not read");
            (
                StatusCode::BAD_REQUEST,
                format!("request body not read: {e}\n"),
            )
                .into_response()
        }
    };
    // The rest of the body is not wanted: do not read it, close the connection after the answer.
    let mut refusal = refusal;
    refusal
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    refusal
}

/// A 503 with `Retry-After: 1`.
fn retry_later(message: &'static str) -> Response {
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
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
    // The probe reads JSON: the object is turned back into it only when online checks are on.
    let online = match &decoded.object {
        Some(object)
            if settings.webhook.online
                && review::is_scaled_object(request)
                && request.operation != kube::core::admission::Operation::Delete =>
        {
            let object = review::to_json(object);
            online::run_online(shared.probe.as_deref(), &object, &settings).await
        }
        _ => online::ProbeOutcome::default(),
    };
    let answer = review::answer_online(&decoded, &settings, online.warnings, online.facts);
    shared.metrics.findings(
        answer
            .findings
            .iter()
            .map(|f| (f.code, f.severity.as_str())),
    );
    let (mut errors, mut warnings) = (0, 0);
    for f in &answer.findings {
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
    let response = answer.response;
    // Room for the envelope and the status besides the texts (serialised in one buffer, without
    // growing it a few times from `Json`'s 128 bytes).
    let size = 512
        + response.result.message.len()
        + response
            .warnings
            .iter()
            .flatten()
            .map(String::len)
            .sum::<usize>();
    json_response(&response.into_review(), size)
}

/// `value` as an `application/json` response, serialised into a buffer of `size` bytes; the
/// same answer as axum's `Json`, a 500 when the value does not serialise.
fn json_response(value: &impl serde::Serialize, size: usize) -> Response {
    let mut body = Vec::with_capacity(size);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            e.to_string(),
        )
            .into_response(),
    }
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
        server
            .shared
            .metrics
            .render_with_connections(&server.shared.connections.phase_counts()),
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
