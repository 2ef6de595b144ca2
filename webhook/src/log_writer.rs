//! The logs' way to stderr without a write per line on the request path.
//!
//! tracing-subscriber formats each event into one buffer and hands it to its writer in one
//! `write_all`. Written straight to stderr, every review's log line cost a `write(2)` under the
//! stderr lock, and the two worker threads met on that lock. Here a line is appended to a shared
//! buffer under a lock held only for the copy, and one writer thread moves what has gathered to
//! stderr: under load, many lines per write. Lines keep their content and their order (the order
//! they took the lock in, as with stderr's own lock). A line waits at most about
//! [`GATHER`] plus one write before it reaches stderr.
//!
//! Bounded: when [`MAX_PENDING_BYTES`] are waiting (stderr blocked or slow), loggers wait for the
//! writer, as they waited on a blocked stderr before. [`LogWriter::flush`] waits until everything
//! logged so far is written: `main` calls it before exiting and from the panic hook, so no line
//! is lost or shown after a panic message it preceded.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long the writer lets lines gather between writes: a few milliseconds of delay on a log
/// line for far fewer writes and wake-ups under load.
pub const GATHER: Duration = Duration::from_millis(5);

/// Bytes of log lines waiting for the writer beyond which loggers wait.
pub const MAX_PENDING_BYTES: usize = 1024 * 1024;

#[derive(Default)]
struct State {
    /// Lines not yet taken by the writer.
    pending: Vec<u8>,
    /// Bytes ever appended.
    appended: u64,
    /// Bytes ever handed to the sink.
    written: u64,
    /// The writer is waiting for a first line (it needs a wake-up).
    writer_idle: bool,
    /// Threads waiting for the writer's progress (room, or a flush).
    waiting: usize,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the idle writer.
    line: Condvar,
    /// Wakes loggers waiting for room and flushes, after each write.
    progress: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the writer's progress while `blocked` holds; counted in `waiting`, so the writer
    /// knows to notify.
    fn wait_while<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
        blocked: impl FnMut(&mut State) -> bool,
    ) -> MutexGuard<'a, State> {
        state.waiting += 1;
        let mut state = self
            .progress
            .wait_while(state, blocked)
            .unwrap_or_else(PoisonError::into_inner);
        state.waiting -= 1;
        state
    }
}

/// A `MakeWriter` for tracing-subscriber whose lines a background thread writes to a sink
/// (stderr in the binary). Cheap to clone; clones share the buffer.
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter").finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Lines to stderr.
    ///
    /// # Errors
    /// The writer thread cannot be started.
    pub fn stderr() -> io::Result<Self> {
        Self::new(io::stderr())
    }

    /// Lines to `sink`, written by a thread started here that lives as long as the process.
    ///
    /// # Errors
    /// The writer thread cannot be started.
    pub fn new(sink: impl Write + Send + 'static) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            line: Condvar::new(),
            progress: Condvar::new(),
        });
        let for_thread = shared.clone();
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || write_lines(&for_thread, sink))?;
        Ok(Self { shared })
    }

    /// Waits until every line logged before this call has been handed to the sink (lines logged
    /// meanwhile by other threads do not hold it up).
    pub fn flush(&self) {
        let state = self.shared.lock();
        let target = state.appended;
        drop(self.shared.wait_while(state, |s| s.written < target));
    }

    fn append(&self, bytes: &[u8]) {
        let mut state = self.shared.lock();
        if state.pending.len() + bytes.len() > MAX_PENDING_BYTES {
            state = self.shared.wait_while(state, |s| {
                !s.pending.is_empty() && s.pending.len() + bytes.len() > MAX_PENDING_BYTES
            });
        }
        state.pending.extend_from_slice(bytes);
        state.appended += bytes.len() as u64;
        if state.writer_idle {
            state.writer_idle = false;
            self.shared.line.notify_one();
        }
    }
}

/// The writer thread: every [`GATHER`], writes what has gathered; after a round that found
/// nothing it waits for a first line. So under load no logger wakes it (no system call on the
/// request path) and it wakes once per round, not per line.
fn write_lines(shared: &Shared, mut sink: impl Write) {
    let mut taken = Vec::new();
    loop {
        std::thread::sleep(GATHER);
        let upto = {
            let mut state = shared.lock();
            if state.pending.is_empty() {
                while state.pending.is_empty() {
                    state.writer_idle = true;
                    state = shared
                        .line
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                state.writer_idle = false;
                continue;
            }
            std::mem::swap(&mut taken, &mut state.pending);
            if state.waiting > 0 {
                shared.progress.notify_all(); // room for loggers
            }
            state.appended
        };
        // A sink that fails (stderr closed) loses the lines, as a failed write to stderr did.
        let _ = sink.write_all(&taken).and_then(|()| sink.flush());
        taken.clear();
        let mut state = shared.lock();
        state.written = upto;
        if state.waiting > 0 {
            shared.progress.notify_all();
        }
    }
}

/// One event's writer: tracing-subscriber writes each formatted line with one `write_all`.
#[derive(Debug)]
pub struct Line<'a> {
    writer: &'a LogWriter,
}

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line { writer: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read, as stderr is read by a log collector.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_and_each_thread_in_its_order() {
        let sink = Captured::default();
        let log = LogWriter::new(sink.clone()).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..500 {
                        let mut line = tracing_subscriber::fmt::MakeWriter::make_writer(log);
                        line.write_all(format!("thread {t} line {i}\n").as_bytes())
                            .unwrap();
                    }
                });
            }
        });
        log.flush();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 2000);
        for t in 0..4 {
            let mine: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..500).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(mine, expected);
        }
    }

    #[test]
    fn a_flush_returns_once_everything_logged_before_it_is_written() {
        let sink = Captured::default();
        let log = LogWriter::new(sink.clone()).unwrap();
        for i in 0..3 {
            let mut line = tracing_subscriber::fmt::MakeWriter::make_writer(&log);
            line.write_all(format!("line {i}\n").as_bytes()).unwrap();
            log.flush();
            assert!(
                String::from_utf8_lossy(&sink.0.lock().unwrap()).ends_with(&format!("line {i}\n"))
            );
        }
    }

    /// A sink that takes nothing until the test lets it (a blocked stderr pipe).
    struct Blocked {
        open: Arc<(Mutex<bool>, Condvar)>,
        written: Captured,
    }

    impl Write for Blocked {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (open, turned) = &*self.open;
            let mut open = open.lock().unwrap();
            while !*open {
                open = turned.wait(open).unwrap();
            }
            self.written.write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_blocked_sink_holds_at_most_the_bound_then_makes_loggers_wait_and_loses_nothing() {
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let written = Captured::default();
        let log = LogWriter::new(Blocked {
            open: open.clone(),
            written: written.clone(),
        })
        .unwrap();
        let line = vec![b'x'; 64 * 1024];
        let lines = 3 * MAX_PENDING_BYTES / line.len();
        let logger = std::thread::spawn({
            let log = log.clone();
            let line = line.clone();
            move || {
                for _ in 0..lines {
                    tracing_subscriber::fmt::MakeWriter::make_writer(&log)
                        .write_all(&line)
                        .unwrap();
                }
            }
        });
        // The logger cannot finish while the sink is blocked: it waits once the bound is reached.
        // (Checked by the pending bytes, not by time: they never pass the bound.)
        while !logger.is_finished() && log.shared.lock().pending.len() < MAX_PENDING_BYTES / 2 {
            std::thread::yield_now();
        }
        assert!(log.shared.lock().pending.len() <= MAX_PENDING_BYTES);
        assert!(
            !logger.is_finished(),
            "three bounds' worth went through a blocked sink"
        );
        *open.0.lock().unwrap() = true;
        open.1.notify_all();
        logger.join().unwrap();
        log.flush();
        assert_eq!(written.0.lock().unwrap().len(), lines * line.len());
    }
}
