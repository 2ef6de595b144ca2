//! `kubectl-kedalint lsp`: a language server over stdio, so findings appear as people type.
//!
//! Synchronous on rust-analyzer's `lsp-server` scaffold: the message loop keeps the open texts
//! and answers hover and code actions itself; a worker thread ([`worker`]) lints, debounced, and
//! publishes diagnostics. Each document is linted as `kubectl kedalint FILE` would lint it, with
//! the `.kedalint.yaml` found from its workspace folder upward ([`config`]).

pub mod actions;
pub mod config;
pub mod engine;
pub mod text;
pub mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeConfigurationParams, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWatchedFilesRegistrationOptions, DidChangeWorkspaceFoldersParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    FileSystemWatcher, GlobPattern, HoverParams, HoverProviderCapability, InitializeParams, OneOf,
    PositionEncodingKind, Registration, RegistrationParams, SaveOptions, ServerCapabilities,
    ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};

use crate::run::CONFIG_FILE;
use crate::{Error, Result};
use config::Config;
use text::Encoding;
use worker::{Job, Task};

/// An open document.
#[derive(Debug)]
struct Doc {
    uri: Uri,
    version: i32,
    text: String,
    /// JSON has no comments: no "suppress on this line" for it.
    json: bool,
}

/// The server's state on the message loop.
struct Server {
    out: crossbeam_channel::Sender<Message>,
    encoding: Encoding,
    config: Config,
    docs: HashMap<String, Doc>,
    tasks: crossbeam_channel::Sender<Task>,
    results: worker::Results,
}

fn protocol(e: impl std::fmt::Display) -> Error {
    Error::Lsp(e.to_string())
}

/// Runs the server on stdin/stdout until the client says `exit` (or closes stdin); returns the
/// exit code: 0 after `shutdown` then `exit`, 1 for `exit` without `shutdown` (the LSP rule).
///
/// # Errors
/// The initialize handshake fails, or the transport breaks.
pub fn run() -> Result<i32> {
    let (connection, io) = Connection::stdio();
    let code = serve(&connection);
    drop(connection);
    io.join().map_err(protocol)?;
    code
}

/// Serves one client over `connection` (stdio in `run`, in memory in tests).
///
/// # Errors
/// The initialize handshake fails.
pub fn serve(connection: &Connection) -> Result<i32> {
    let (id, params) = connection.initialize_start().map_err(protocol)?;
    let params: InitializeParams = serde_json::from_value(params).map_err(protocol)?;
    let utf8 = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
    let encoding = if utf8 {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    };
    let watch = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        .unwrap_or(false);
    let result = serde_json::json!({
        "capabilities": capabilities(encoding),
        "serverInfo": ServerInfo {
            name: "kedalint".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        },
    });
    connection.initialize_finish(id, result).map_err(protocol)?;
    let results = Arc::new(Mutex::new(HashMap::new()));
    let (tasks, handle) = worker::start(connection.sender.clone(), encoding, results.clone());
    let mut server = Server {
        out: connection.sender.clone(),
        encoding,
        config: Config::from_initialize(&params),
        docs: HashMap::new(),
        tasks,
        results,
    };
    let code = server.main_loop(connection, watch);
    // The worker ends once its task sender is gone; it holds a sender of the connection, which
    // must be dropped before the transport threads can finish.
    drop(server);
    let _ = handle.join();
    code
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

impl Server {
    fn main_loop(&mut self, connection: &Connection, watch: bool) -> Result<i32> {
        // `initialize_finish` has already taken the client's `initialized`.
        if watch {
            self.register_watcher();
        }
        let mut shutdown = false;
        for message in &connection.receiver {
            match message {
                Message::Request(req) => {
                    if req.method == "shutdown" {
                        shutdown = true;
                        self.reply(Response::new_ok(req.id, ()));
                    } else if shutdown {
                        self.reply(Response::new_err(
                            req.id,
                            ErrorCode::InvalidRequest as i32,
                            "the server is shutting down".to_owned(),
                        ));
                    } else {
                        let response = self.request(req);
                        self.reply(response);
                    }
                }
                Message::Notification(n) if n.method == "exit" => {
                    return Ok(if shutdown { 0 } else { 1 });
                }
                Message::Notification(n) => self.notification(n),
                // Only the answer to the watcher registration comes back; nothing to do with it.
                Message::Response(_) => {}
            }
        }
        // stdin closed without `exit`.
        Ok(1)
    }

    fn reply(&self, response: Response) {
        let _ = self.out.send(Message::Response(response));
    }

    fn register_watcher(&self) {
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String(format!("**/{CONFIG_FILE}")),
                kind: None,
            }],
        };
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "kedalint-config".to_owned(),
                method: "workspace/didChangeWatchedFiles".to_owned(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        let _ = self.out.send(Message::Request(Request::new(
            "kedalint/register-config-watcher".to_owned().into(),
            "client/registerCapability".to_owned(),
            params,
        )));
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let answer = match req.method.as_str() {
            "textDocument/codeAction" => serde_json::from_value::<CodeActionParams>(req.params)
                .map(|p| serde_json::to_value(self.code_actions(&p))),
            "textDocument/hover" => serde_json::from_value::<HoverParams>(req.params).map(|p| {
                let at = p.text_document_position_params;
                let hover = self
                    .docs
                    .get(at.text_document.uri.as_str())
                    .and_then(|d| actions::hover(&d.text, at.position, self.encoding));
                serde_json::to_value(hover)
            }),
            other => {
                return Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("kedalint does not handle `{other}`"),
                );
            }
        };
        match answer {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(e)) | Err(e) => {
                Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string())
            }
        }
    }

    fn code_actions(&mut self, p: &CodeActionParams) -> Vec<lsp_types::CodeActionOrCommand> {
        let Some(doc) = self.docs.get(p.text_document.uri.as_str()) else {
            return Vec::new();
        };
        let cached = worker::lock(&self.results)
            .get(doc.uri.as_str())
            .filter(|l| l.version == doc.version && l.outcome.file.text == doc.text)
            .cloned();
        let fresh;
        let outcome = if let Some(l) = &cached {
            &l.outcome
        } else {
            // Asked before the worker caught up: lint this version now (offline; quick).
            let (settings, _) = self.config.settings_for(&doc.uri);
            fresh = engine::lint(&config::name_of(&doc.uri), &doc.text, &settings, false);
            &fresh
        };
        actions::code_actions(&doc.uri, outcome, p.range, self.encoding, doc.json)
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let d = p.text_document;
                if !lintable(&d.uri, &d.language_id) {
                    return;
                }
                let json = d.language_id == "json" || d.uri.as_str().ends_with(".json");
                self.docs.insert(
                    d.uri.as_str().to_owned(),
                    Doc {
                        uri: d.uri.clone(),
                        version: d.version,
                        text: d.text,
                        json,
                    },
                );
                self.schedule(&d.uri, true);
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(doc) = self.docs.get_mut(p.text_document.uri.as_str()) else {
                    return;
                };
                for change in p.content_changes {
                    text::apply_change(&mut doc.text, change, self.encoding);
                }
                doc.version = p.text_document.version;
                self.schedule(&p.text_document.uri, false);
            }
            "textDocument/didSave" => {
                let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params) else {
                    return;
                };
                if is_config(&p.text_document.uri) {
                    self.reload();
                }
            }
            "textDocument/didClose" => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                if self.docs.remove(p.text_document.uri.as_str()).is_some() {
                    let _ = self.tasks.send(Task::Close(p.text_document.uri));
                }
            }
            "workspace/didChangeWatchedFiles" => {
                let Ok(p) = serde_json::from_value::<DidChangeWatchedFilesParams>(n.params) else {
                    return;
                };
                if p.changes.iter().any(|c| is_config(&c.uri)) {
                    self.reload();
                }
            }
            "workspace/didChangeConfiguration" => {
                let Ok(p) = serde_json::from_value::<DidChangeConfigurationParams>(n.params) else {
                    return;
                };
                if self.config.set_options(&p.settings) {
                    self.relint_all();
                }
            }
            "workspace/didChangeWorkspaceFolders" => {
                let Ok(p) = serde_json::from_value::<DidChangeWorkspaceFoldersParams>(n.params)
                else {
                    return;
                };
                self.config.change_folders(&p.event);
                self.relint_all();
            }
            _ => {}
        }
    }

    /// Forgets every configuration read and lints every open document again.
    fn reload(&mut self) {
        self.config.forget();
        self.relint_all();
    }

    fn relint_all(&mut self) {
        let uris: Vec<Uri> = self.docs.values().map(|d| d.uri.clone()).collect();
        for uri in uris {
            self.schedule(&uri, true);
        }
    }

    fn schedule(&mut self, uri: &Uri, immediate: bool) {
        let Some(doc) = self.docs.get(uri.as_str()) else {
            return;
        };
        let (settings, config_error) = self.config.settings_for(uri);
        let job = Job {
            uri: doc.uri.clone(),
            version: doc.version,
            name: config::name_of(uri),
            text: doc.text.clone(),
            settings,
            config_error,
            online: self.config.online,
            // Text that cannot hold a KEDA object is answered (empty) at once.
            immediate: immediate || !engine::may_hold_keda(&doc.text),
        };
        let _ = self.tasks.send(Task::Lint(job));
    }
}

/// YAML and JSON documents, by language or by file name; never the configuration file itself
/// (the CLI does not lint it either).
fn lintable(uri: &Uri, language: &str) -> bool {
    let path = uri.as_str();
    let by_name = [".yaml", ".yml", ".json"].iter().any(|e| path.ends_with(e));
    (by_name || matches!(language, "yaml" | "json")) && !is_config(uri)
}

fn is_config(uri: &Uri) -> bool {
    uri.as_str().ends_with(&format!("/{CONFIG_FILE}"))
}
