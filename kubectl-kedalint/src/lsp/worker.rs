//! The lint worker: runs the engine off the message loop, so a burst of edits is answered with
//! one lint of the latest text after a quiet period, and hover or code actions never wait on it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use kedalint_rules::Settings;
use lsp_server::{Message, Notification};
use lsp_types::{Diagnostic, PublishDiagnosticsParams, Uri};

use super::engine::{self, Outcome};
use super::text::Encoding;

/// How long the text must stay unchanged before it is linted.
pub const QUIET: Duration = Duration::from_millis(150);
/// The longest a change waits while edits keep coming, so steady typing still gets diagnostics.
pub const MAX_WAIT: Duration = Duration::from_secs(1);

/// One document version to lint.
#[derive(Debug)]
pub struct Job {
    /// The document.
    pub uri: Uri,
    /// Its version.
    pub version: i32,
    /// The name findings and notes use (its path).
    pub name: String,
    /// The text at that version.
    pub text: String,
    /// The settings of its workspace folder.
    pub settings: Arc<Settings>,
    /// Why the folder's configuration could not be used (the defaults were).
    pub config_error: Option<String>,
    /// Whether to probe Prometheus first.
    pub online: bool,
    /// Lint without waiting for quiet (open, save, configuration change).
    pub immediate: bool,
}

/// What the worker is asked.
#[derive(Debug)]
pub enum Task {
    /// Lint a version (replacing any version of the same document still waiting).
    Lint(Job),
    /// The document was closed: drop what waits and clear its diagnostics.
    Close(Uri),
}

/// The last lint of a document, for code actions.
#[derive(Debug)]
pub struct Linted {
    /// The version it was linted at.
    pub version: i32,
    /// What the engine found.
    pub outcome: Outcome,
}

/// Last lint per document URI, shared with the message loop.
pub type Results = Arc<Mutex<HashMap<String, Arc<Linted>>>>;

/// Starts the worker. It ends when every [`Sender`] of its tasks is dropped.
#[must_use]
pub fn start(
    out: Sender<Message>,
    encoding: Encoding,
    results: Results,
) -> (Sender<Task>, JoinHandle<()>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let handle = std::thread::Builder::new()
        .name("kedalint-lint".to_owned())
        .spawn(move || run(&rx, &out, encoding, &results))
        .unwrap_or_else(|e| panic!("cannot start the lint thread: {e}"));
    (tx, handle)
}

fn run(rx: &Receiver<Task>, out: &Sender<Message>, encoding: Encoding, results: &Results) {
    while let Ok(first) = rx.recv() {
        let mut waiting: BTreeMap<String, Job> = BTreeMap::new();
        let mut closed = take(first, &mut waiting, out, results);
        let since = Instant::now();
        // Wait for quiet unless every waiting job may go now.
        while !closed && waiting.values().any(|j| !j.immediate) {
            let wait = QUIET.min(MAX_WAIT.saturating_sub(since.elapsed()));
            if wait.is_zero() {
                break;
            }
            match rx.recv_timeout(wait) {
                Ok(task) => closed = take(task, &mut waiting, out, results),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        for job in waiting.into_values() {
            lint(job, out, encoding, results);
        }
    }
}

/// Adds a task to the waiting set; returns true when it was a close (handled at once, and the
/// rest is linted without further waiting so the order of publications stays the client's).
fn take(
    task: Task,
    waiting: &mut BTreeMap<String, Job>,
    out: &Sender<Message>,
    results: &Results,
) -> bool {
    match task {
        Task::Lint(job) => {
            let key = job.uri.as_str().to_owned();
            let immediate = job.immediate || waiting.get(&key).is_some_and(|j| j.immediate);
            waiting.insert(key, Job { immediate, ..job });
            false
        }
        Task::Close(uri) => {
            waiting.remove(uri.as_str());
            lock(results).remove(uri.as_str());
            publish(out, uri, None, Vec::new());
            true
        }
    }
}

fn lint(job: Job, out: &Sender<Message>, encoding: Encoding, results: &Results) {
    let outcome = if engine::may_hold_keda(&job.text) {
        engine::lint(&job.name, &job.text, &job.settings, job.online)
    } else {
        Outcome {
            file: engine::source_file(&job.name, &job.text),
            findings: Vec::new(),
            crash: None,
            notes: Vec::new(),
        }
    };
    let mut diagnostics = engine::diagnostics(&job.uri, &outcome, encoding);
    if let Some(e) = &job.config_error {
        diagnostics.push(engine::note(
            "config",
            lsp_types::DiagnosticSeverity::WARNING,
            format!("{e}; this document was linted with the default settings"),
        ));
    }
    lock(results).insert(
        job.uri.as_str().to_owned(),
        Arc::new(Linted {
            version: job.version,
            outcome,
        }),
    );
    publish(out, job.uri, Some(job.version), diagnostics);
}

/// Sends `textDocument/publishDiagnostics`.
pub fn publish(
    out: &Sender<Message>,
    uri: Uri,
    version: Option<i32>,
    diagnostics: Vec<Diagnostic>,
) {
    let params = PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    // A closed connection means the client is gone; there is no one left to tell.
    let _ = out.send(Message::Notification(Notification::new(
        "textDocument/publishDiagnostics".to_owned(),
        params,
    )));
}

/// Locks the results; a panic while holding the lock (there is none: the engine runs outside it)
/// would leave plain data behind, still usable.
pub fn lock(results: &Results) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Linted>>> {
    results.lock().unwrap_or_else(PoisonError::into_inner)
}
