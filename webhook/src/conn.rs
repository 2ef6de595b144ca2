//! Bounds on connections, as opposed to requests: how many there are (per peer address and in
//! total), what phase each is in, how long it may stay there, and how fast new TLS handshakes
//! start. A review slot (`--max-concurrent`) is only taken once a request's body is complete
//! (`server.rs`), so everything a slow client can hold is counted and cut here.
//!
//! Every open connection is in the [`Table`] with its [`Phase`] and the time it entered it. A
//! watchdog task per connection closes it when it overstays its phase (idle keep-alive, slow
//! headers, slow body, slow reader of the response) or when the table evicts it to make room.
//!
//! A request moves its connection through five phases; waking the watchdog at each move cost
//! five task wake-ups and timer re-registrations per request. So a phase change only stores the
//! phase and its start: the watchdog sleeps towards the current phase's deadline, but never
//! longer than the shortest of all deadlines, so no phase entered meanwhile can have a nearer
//! one. It re-reads the phase when it wakes. Only an eviction wakes it early.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Why a connection or request was cut short; one label of
/// `kedalint_webhook_connections_shed_total`. The order is the order of [`SHED_REASONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Shed {
    /// Refused at accept: the peer address already has `max_connections_per_peer`.
    PeerLimit = 1,
    /// Refused at accept: `max_connections` open and none of them could be evicted.
    ConnectionLimit,
    /// Closed to make room for a new connection: it was the longest idle.
    EvictedIdle,
    /// Closed to make room: no connection was idle, and it had been reading a request the longest.
    EvictedReading,
    /// Refused at accept: `max_handshakes` handshakes already pending.
    HandshakeLimit,
    /// The TLS handshake (waiting for its turn included) did not finish in `handshake_timeout`.
    HandshakeTimeout,
    /// A keep-alive connection sent nothing for `idle_timeout`.
    IdleTimeout,
    /// A request's headers did not arrive within `header_read_timeout` of its first byte.
    HeaderTimeout,
    /// A request's body did not arrive within `body_timeout` of its headers (answered 408).
    BodyTimeout,
    /// A response was not taken by the client within `write_timeout`.
    WriteTimeout,
    /// A body chunk would have put the bytes being read over `read_budget_bytes` (answered 503).
    ReadBudget,
}

/// The labels of `kedalint_webhook_connections_shed_total`, in the order of [`Shed`].
pub const SHED_REASONS: &[&str] = &[
    "peer_limit",
    "connection_limit",
    "evicted_idle",
    "evicted_reading",
    "handshake_limit",
    "handshake_timeout",
    "idle_timeout",
    "header_timeout",
    "body_timeout",
    "write_timeout",
    "read_budget",
];

impl Shed {
    /// The metric label.
    #[must_use]
    pub fn label(self) -> &'static str {
        SHED_REASONS[self as usize - 1]
    }

    fn from_u8(n: u8) -> Option<Self> {
        const ALL: [Shed; 11] = [
            Shed::PeerLimit,
            Shed::ConnectionLimit,
            Shed::EvictedIdle,
            Shed::EvictedReading,
            Shed::HandshakeLimit,
            Shed::HandshakeTimeout,
            Shed::IdleTimeout,
            Shed::HeaderTimeout,
            Shed::BodyTimeout,
            Shed::WriteTimeout,
            Shed::ReadBudget,
        ];
        ALL.get(usize::from(n).checked_sub(1)?).copied()
    }
}

/// Where a connection is in its life. Labels of `kedalint_webhook_connections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Accepted; the TLS handshake is waiting for its turn or running.
    Handshaking,
    /// Between requests (or before the first): nothing received.
    Idle,
    /// The first bytes of a request arrived; its headers are not complete.
    Headers,
    /// Headers complete; the body is being read.
    Body,
    /// The body is complete: the review holds a slot or is being refused.
    Processing,
    /// The answer is being written to the client.
    Writing,
}

/// The labels of `kedalint_webhook_connections`, in the order of [`Phase`].
pub const PHASES: &[&str] = &[
    "handshaking",
    "idle",
    "headers",
    "body",
    "processing",
    "writing",
];

impl Phase {
    fn from_u8(n: u8) -> Self {
        match n {
            0 => Self::Handshaking,
            1 => Self::Idle,
            2 => Self::Headers,
            3 => Self::Body,
            4 => Self::Processing,
            _ => Self::Writing,
        }
    }
}

/// The timeouts the watchdog applies, one per phase that a client controls.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// [`Phase::Idle`].
    pub idle: Duration,
    /// [`Phase::Headers`].
    pub headers: Duration,
    /// [`Phase::Body`]; the request itself answers 408 at this point, the watchdog is the backstop
    /// (it closes one second later).
    pub body: Duration,
    /// [`Phase::Writing`].
    pub write: Duration,
}

impl Deadlines {
    /// The shortest deadline of any phase, in milliseconds (at least 1, at most an hour): the
    /// longest the watchdog sleeps without looking at the phase again.
    fn shortest_ms(&self) -> u64 {
        [
            self.idle,
            self.headers,
            self.body + Duration::from_secs(1),
            self.write,
        ]
        .into_iter()
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .min()
        .unwrap_or(u64::MAX)
        .clamp(1, 3_600_000)
    }

    fn of(&self, phase: Phase) -> Option<(Duration, Shed)> {
        match phase {
            Phase::Idle => Some((self.idle, Shed::IdleTimeout)),
            Phase::Headers => Some((self.headers, Shed::HeaderTimeout)),
            Phase::Body => Some((self.body + Duration::from_secs(1), Shed::BodyTimeout)),
            Phase::Writing => Some((self.write, Shed::WriteTimeout)),
            // The handshake has its own timeout; processing is bounded by `request_timeout`.
            Phase::Handshaking | Phase::Processing => None,
        }
    }
}

/// One connection's phase, the time it entered it, and a request to close it.
#[derive(Debug)]
pub struct ConnState {
    epoch: Instant,
    phase: AtomicU8,
    /// Milliseconds from `epoch` when `phase` was entered.
    since_ms: AtomicU64,
    /// A [`Shed`] once the table asked this connection to close; 0 before.
    evicted: AtomicU8,
    wake: Notify,
}

impl ConnState {
    fn new(epoch: Instant) -> Self {
        let state = Self {
            epoch,
            phase: AtomicU8::new(Phase::Handshaking as u8),
            since_ms: AtomicU64::new(0),
            evicted: AtomicU8::new(0),
            wake: Notify::new(),
        };
        state.since_ms.store(state.now_ms(), Ordering::Relaxed);
        state
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Enters `phase` now. The watchdog is not woken: its deadline cannot be nearer than its
    /// next look (see [`ConnState::watchdog`]).
    pub fn set(&self, phase: Phase) {
        self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// Enters `to` now if the connection is in `from`.
    fn advance(&self, from: Phase, to: Phase) {
        if self
            .phase
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.since_ms.store(self.now_ms(), Ordering::Relaxed);
        }
    }

    /// The phase now and when it was entered.
    #[must_use]
    pub fn phase(&self) -> (Phase, u64) {
        let phase = Phase::from_u8(self.phase.load(Ordering::Acquire));
        (phase, self.since_ms.load(Ordering::Relaxed))
    }

    fn evict(&self, why: Shed) {
        self.evicted.store(why as u8, Ordering::Release);
        self.wake.notify_one();
    }

    /// Completes when the connection must close: it overstayed a phase, or was evicted. Never
    /// completes for a connection that keeps moving.
    ///
    /// Phase changes do not wake it. When it looks at time `now`, it sleeps until the current
    /// phase's deadline or `now + shortest`, whichever is first, `shortest` being the shortest
    /// deadline of any phase: a phase entered after `now` ends no sooner than `now + shortest`,
    /// so no deadline passes unseen. Times are whole milliseconds from `epoch`, as `since_ms`.
    pub async fn watchdog(&self, deadlines: Deadlines) -> Shed {
        let shortest = deadlines.shortest_ms();
        loop {
            if let Some(why) = Shed::from_u8(self.evicted.load(Ordering::Acquire)) {
                return why;
            }
            let now = self.now_ms();
            let (phase, since) = self.phase();
            let mut look_at = now.saturating_add(shortest);
            if let Some((limit, why)) = deadlines.of(phase) {
                let limit = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
                let deadline = since.saturating_add(limit);
                if now >= deadline {
                    return why;
                }
                look_at = look_at.min(deadline);
            }
            let wake_at = self.epoch + Duration::from_millis(look_at);
            tokio::select! {
                () = tokio::time::sleep_until(wake_at.into()) => {}
                () = self.wake.notified() => {}
            }
        }
    }
}

/// The connection limits of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Open connections in all.
    pub total: usize,
    /// Open connections from one peer address.
    pub per_peer: usize,
}

struct Entry {
    peer: IpAddr,
    state: Arc<ConnState>,
    evicting: bool,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    entries: HashMap<u64, Entry>,
    per_peer: HashMap<IpAddr, usize>,
    /// Entries not being evicted.
    live: usize,
}

/// Every open connection of the admission listener.
pub struct Table {
    caps: Caps,
    epoch: Instant,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("caps", &self.caps)
            .finish_non_exhaustive()
    }
}

/// A connection's place in the [`Table`]; dropping it frees the place.
pub struct Registered {
    table: Arc<Table>,
    id: u64,
    /// The connection's phase, shared with its IO, its requests and its watchdog.
    pub state: Arc<ConnState>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut inner = self.table.lock();
        if let Some(entry) = inner.entries.remove(&self.id)
            && !entry.evicting
        {
            inner.live -= 1;
            if let Some(n) = inner.per_peer.get_mut(&entry.peer) {
                *n -= 1;
                if *n == 0 {
                    inner.per_peer.remove(&entry.peer);
                }
            }
        }
    }
}

impl Table {
    /// An empty table.
    #[must_use]
    pub fn new(caps: Caps) -> Self {
        Self {
            caps: Caps {
                total: caps.total.max(1),
                per_peer: caps.per_peer.max(1),
            },
            epoch: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a new connection from `peer`, or says why not. When the table is full, the
    /// connection that has waited longest on its client is evicted to make room: idle the
    /// longest, or reading one request the longest (a client trickling headers or a body),
    /// whichever began first. A connection the API server just used is the youngest of all;
    /// connections handshaking, processing a review or writing its answer are never evicted. The
    /// evicted connection's watchdog reports the eviction (the second element).
    ///
    /// # Errors
    /// [`Shed::PeerLimit`] or [`Shed::ConnectionLimit`].
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<(Registered, Option<Shed>), Shed> {
        let mut inner = self.lock();
        if inner.per_peer.get(&peer).copied().unwrap_or(0) >= self.caps.per_peer {
            return Err(Shed::PeerLimit);
        }
        let mut evicted = None;
        if inner.live >= self.caps.total {
            let victim = inner
                .entries
                .iter()
                .filter(|(_, e)| !e.evicting)
                .filter_map(|(id, e)| {
                    let (phase, since) = e.state.phase();
                    matches!(phase, Phase::Idle | Phase::Headers | Phase::Body).then_some((
                        since,
                        phase == Phase::Idle,
                        *id,
                    ))
                })
                .min();
            let Some((_, idle, id)) = victim else {
                return Err(Shed::ConnectionLimit);
            };
            let why = if idle {
                Shed::EvictedIdle
            } else {
                Shed::EvictedReading
            };
            let entry = inner
                .entries
                .get_mut(&id)
                .expect("the victim is in the table");
            entry.evicting = true;
            entry.state.evict(why);
            let victim_peer = entry.peer;
            inner.live -= 1;
            if let Some(n) = inner.per_peer.get_mut(&victim_peer) {
                *n -= 1;
                if *n == 0 {
                    inner.per_peer.remove(&victim_peer);
                }
            }
            evicted = Some(why);
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let state = Arc::new(ConnState::new(self.epoch));
        inner.entries.insert(
            id,
            Entry {
                peer,
                state: state.clone(),
                evicting: false,
            },
        );
        inner.live += 1;
        *inner.per_peer.entry(peer).or_default() += 1;
        drop(inner);
        Ok((
            Registered {
                table: self.clone(),
                id,
                state,
            },
            evicted,
        ))
    }

    /// Open connections by phase, in the order of [`PHASES`].
    #[must_use]
    pub fn phase_counts(&self) -> [u64; 6] {
        let mut counts = [0; 6];
        for entry in self.lock().entries.values() {
            counts[entry.state.phase().0 as usize] += 1;
        }
        counts
    }
}

/// A transport that moves its connection from [`Phase::Idle`] to [`Phase::Headers`] when request
/// bytes arrive, and from [`Phase::Writing`] to [`Phase::Idle`] once the answer is flushed.
pub struct Tracked<S> {
    inner: S,
    state: Arc<ConnState>,
}

impl<S> Tracked<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, state: Arc<ConnState>) -> Self {
        Self { inner, state }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.advance(Phase::Idle, Phase::Headers);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        if matches!(polled, Poll::Ready(Ok(()))) {
            self.state.advance(Phase::Writing, Phase::Idle);
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Starts at most `rate` handshakes per second on average, `rate` at once after a quiet second.
#[derive(Debug)]
pub struct HandshakeRate {
    rate: f64,
    /// (tokens, when last refilled)
    bucket: Mutex<(f64, Instant)>,
}

impl HandshakeRate {
    /// A full bucket of `rate` handshakes per second (at least 1).
    #[must_use]
    pub fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            rate,
            bucket: Mutex::new((rate, Instant::now())),
        }
    }

    /// Waits for this handshake's turn.
    pub async fn turn(&self) {
        loop {
            let wait = {
                let mut bucket = self
                    .bucket
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let now = Instant::now();
                let (tokens, last) = *bucket;
                let tokens =
                    (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.rate);
                if tokens >= 1.0 {
                    *bucket = (tokens - 1.0, now);
                    return;
                }
                *bucket = (tokens, now);
                Duration::from_secs_f64((1.0 - tokens) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// Bytes of request bodies being read and not yet complete, across all connections.
#[derive(Debug)]
pub struct ReadBudget {
    limit: usize,
    used: AtomicUsize,
}

impl ReadBudget {
    /// A budget of `limit` bytes.
    #[must_use]
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes held now.
    #[must_use]
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// A hold on nothing yet, released when dropped.
    #[must_use]
    pub fn hold(self: &Arc<Self>) -> Held {
        Held {
            budget: self.clone(),
            bytes: 0,
        }
    }
}

/// Bytes taken from a [`ReadBudget`] by one request's body, given back on drop.
#[derive(Debug)]
pub struct Held {
    budget: Arc<ReadBudget>,
    bytes: usize,
}

impl Held {
    /// Takes `n` more bytes, or returns `false` and takes nothing when they would exceed the budget.
    pub fn take(&mut self, n: usize) -> bool {
        let budget = &self.budget;
        let taken = budget
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= budget.limit)
            })
            .is_ok();
        if taken {
            self.bytes += n;
        }
        taken
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn a_peer_at_its_cap_is_refused_while_others_are_admitted() {
        let table = Arc::new(Table::new(Caps {
            total: 10,
            per_peer: 2,
        }));
        let _a = table.admit(ip(1)).unwrap();
        let _b = table.admit(ip(1)).unwrap();
        assert_eq!(table.admit(ip(1)).err(), Some(Shed::PeerLimit));
        assert!(table.admit(ip(2)).is_ok());
    }

    #[test]
    fn a_full_table_evicts_the_connection_waiting_longest_on_its_client_never_the_busy() {
        let table = Arc::new(Table::new(Caps {
            total: 3,
            per_peer: 10,
        }));
        let (busy, _) = table.admit(ip(1)).unwrap();
        busy.state.set(Phase::Processing);
        busy.state.since_ms.store(0, Ordering::Relaxed);
        // A client trickling a body for 5 s, and the API server's connection idle for 20 ms.
        let (reading, _) = table.admit(ip(2)).unwrap();
        reading.state.set(Phase::Body);
        let now = reading.state.now_ms() + 10_000;
        reading.state.since_ms.store(now - 5_000, Ordering::Relaxed);
        let (idle, _) = table.admit(ip(3)).unwrap();
        idle.state.set(Phase::Idle);
        idle.state.since_ms.store(now - 20, Ordering::Relaxed);

        let (newcomer, why) = table.admit(ip(4)).unwrap();
        assert_eq!(why, Some(Shed::EvictedReading));
        assert_eq!(
            reading.state.evicted.load(Ordering::Relaxed),
            Shed::EvictedReading as u8
        );
        newcomer.state.set(Phase::Processing);

        let (_, why) = table.admit(ip(5)).unwrap();
        assert_eq!(why, Some(Shed::EvictedIdle));
        assert_eq!(
            idle.state.evicted.load(Ordering::Relaxed),
            Shed::EvictedIdle as u8
        );
        assert_eq!(busy.state.evicted.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_table_of_busy_connections_refuses_and_frees_places_on_drop() {
        let table = Arc::new(Table::new(Caps {
            total: 1,
            per_peer: 1,
        }));
        let (busy, _) = table.admit(ip(1)).unwrap();
        busy.state.set(Phase::Writing);
        assert_eq!(table.admit(ip(2)).err(), Some(Shed::ConnectionLimit));
        drop(busy);
        assert!(table.admit(ip(1)).is_ok());
    }

    #[test]
    fn the_read_budget_refuses_what_does_not_fit_and_gives_back_on_drop() {
        let budget = Arc::new(ReadBudget::new(10));
        let mut a = budget.hold();
        assert!(a.take(6));
        let mut b = budget.hold();
        assert!(!b.take(5));
        assert!(b.take(4));
        drop(a);
        assert_eq!(budget.used(), 4);
    }

    fn deadlines(each: Duration) -> Deadlines {
        Deadlines {
            idle: each,
            headers: each,
            body: each,
            write: each,
        }
    }

    #[tokio::test]
    async fn an_answer_not_taken_by_the_client_is_cut_at_the_write_timeout() {
        let state = ConnState::new(Instant::now());
        state.set(Phase::Writing);
        let why = tokio::time::timeout(
            Duration::from_secs(10),
            state.watchdog(deadlines(Duration::from_millis(50))),
        )
        .await
        .expect("hang guard");
        assert_eq!(why, Shed::WriteTimeout);
    }

    #[tokio::test]
    async fn a_nearer_deadline_entered_while_the_watchdog_sleeps_is_kept_without_waking_it() {
        let state = Arc::new(ConnState::new(Instant::now()));
        state.set(Phase::Idle);
        let deadlines = Deadlines {
            write: Duration::from_millis(50),
            ..deadlines(Duration::from_secs(60))
        };
        let watchdog = tokio::spawn({
            let state = state.clone();
            async move { state.watchdog(deadlines).await }
        });
        // Let the watchdog look at the idle phase and go to sleep before the answer is written.
        tokio::task::yield_now().await;
        state.set(Phase::Writing);
        let why = tokio::time::timeout(Duration::from_secs(10), watchdog)
            .await
            .expect("the write deadline was missed until the idle one")
            .unwrap();
        assert_eq!(why, Shed::WriteTimeout);
    }

    #[tokio::test]
    async fn a_connection_in_review_has_no_deadline_of_its_own() {
        let state = ConnState::new(Instant::now());
        state.set(Phase::Processing);
        let watched = tokio::time::timeout(
            Duration::from_millis(300),
            state.watchdog(deadlines(Duration::from_millis(10))),
        )
        .await;
        assert!(
            watched.is_err(),
            "a review in progress was cut: {watched:?}"
        );
    }

    #[tokio::test]
    async fn request_bytes_end_idleness_and_a_flushed_answer_starts_it() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, server) = tokio::io::duplex(1024);
        let state = Arc::new(ConnState::new(Instant::now()));
        state.set(Phase::Idle);
        let mut tracked = Tracked::new(server, state.clone());
        let (mut client_read, mut client_write) = tokio::io::split(client);
        client_write.write_all(b"POST").await.unwrap();
        let mut buf = [0_u8; 4];
        tracked.read_exact(&mut buf).await.unwrap();
        assert_eq!(state.phase().0, Phase::Headers);
        state.set(Phase::Writing);
        tracked.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
        assert_eq!(state.phase().0, Phase::Writing);
        tracked.flush().await.unwrap();
        assert_eq!(state.phase().0, Phase::Idle);
        let mut answer = [0_u8; 8];
        client_read.read_exact(&mut answer).await.unwrap();
    }

    #[test]
    fn shed_labels_follow_the_enum() {
        for (i, label) in SHED_REASONS.iter().enumerate() {
            let shed = Shed::from_u8(u8::try_from(i + 1).unwrap()).unwrap();
            assert_eq!(shed.label(), *label);
        }
        assert_eq!(Shed::from_u8(0), None);
    }
}
