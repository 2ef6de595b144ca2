//! `kubectl-kedalint lsp` over real stdio of the real binary: a small LSP client of our own
//! (Content-Length framing, JSON-RPC ids), then Neovim as a real editor.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use kedalint_tests::{cli_binary, run_cli, workspace};
use serde_json::{Value, json};

/// How long to wait for a message before the test fails instead of hanging (a bound on a hang,
/// not a speed assertion).
const HANG: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Messages read while waiting for something else.
    backlog: VecDeque<Value>,
    /// Requests the server sent, answered.
    server_requests: Vec<Value>,
    next_id: i64,
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some(v) = header.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts the server in `cwd` and completes `initialize` with these client capabilities.
    fn start(cwd: &Path, capabilities: Value, options: Value) -> (Self, Value) {
        let mut child = Command::new(cli_binary())
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn kubectl-kedalint lsp");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(m) = read_message(&mut reader) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut client = Self {
            child,
            stdin,
            incoming: rx,
            backlog: VecDeque::new(),
            server_requests: Vec::new(),
            next_id: 1,
        };
        let root = format!("file://{}", cwd.display());
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "workspaceFolders": [{"uri": root, "name": "root"}],
                "capabilities": capabilities,
                "initializationOptions": options,
            }),
        );
        client.notify("initialized", json!({}));
        (client, result)
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to server");
        stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self) -> Value {
        match self.incoming.recv_timeout(HANG) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => panic!("no message from the server in {HANG:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its stdout"),
        }
    }

    /// Sends a request and returns its response, answering the server's own requests
    /// (`client/registerCapability`) and keeping notifications for later.
    fn request_full(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.next();
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            if !self.answered(&m) {
                self.backlog.push_back(m);
            }
        }
    }

    /// Answers a request from the server (`client/registerCapability`) and keeps it; false for
    /// any other message.
    fn answered(&mut self, m: &Value) -> bool {
        if m.get("id").is_none() || m.get("method").is_none() {
            return false;
        }
        let reply = json!({"jsonrpc": "2.0", "id": m["id"], "result": null});
        self.send(&reply);
        self.server_requests.push(m.clone());
        true
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_full(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// Waits for diagnostics of `uri` at `version`; returns them and how many publications for
    /// the document came before.
    fn diagnostics(&mut self, uri: &str, version: i64) -> (Vec<Value>, usize) {
        let mut earlier = 0;
        loop {
            let m = match self.backlog.pop_front() {
                Some(m) => m,
                None => self.next(),
            };
            if self.answered(&m) {
                continue;
            }
            if m["method"] != "textDocument/publishDiagnostics" || m["params"]["uri"] != uri {
                continue;
            }
            if m["params"]["version"] == json!(version) {
                let list = m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                return (list, earlier);
            }
            earlier += 1;
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        self.diagnostics(uri, 1).0
    }

    /// `shutdown` then `exit`; returns the exit code.
    fn stop(mut self) -> Option<i32> {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        self.child.wait().expect("wait for the server").code()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn seed() -> String {
    std::fs::read_to_string(workspace().join("examples/inference-p95-latency.yaml"))
        .expect("the seed example")
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect()
}

fn find<'a>(diagnostics: &'a [Value], code: &str) -> &'a Value {
    diagnostics
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {diagnostics:#?}"))
}

fn position_of(text: &str, needle: &str) -> (usize, usize) {
    let offset = text.find(needle).expect("needle in text");
    let line = text[..offset].matches('\n').count();
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].encode_utf16().count())
}

#[test]
fn a_session_lints_on_open_and_change_offers_fixes_and_hover_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut client, init) = Client::start(dir.path(), json!({}), Value::Null);
    let caps = &init["capabilities"];
    assert_eq!(
        caps["textDocumentSync"]["change"], 2,
        "incremental sync: {caps}"
    );
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(init["serverInfo"]["name"], "kedalint");

    let uri = format!("file://{}/so.yaml", dir.path().display());
    let text = seed();
    let diagnostics = client.open(&uri, &text);
    let kl202 = find(&diagnostics, "KL202");
    let (line, character) = position_of(&text, "[1m]");
    assert_eq!(
        kl202["range"]["start"],
        json!({"line": line, "character": character})
    );
    assert_eq!(
        kl202["range"]["end"],
        json!({"line": line, "character": character + 4})
    );
    assert_eq!(kl202["severity"], 1);
    assert_eq!(kl202["source"], "kedalint");
    assert!(
        kl202["codeDescription"]["href"]
            .as_str()
            .is_some_and(|h| h.ends_with("/docs/rules/KL202.md")),
        "{kl202}"
    );
    let help = &kl202["relatedInformation"][0];
    assert!(
        help["message"].as_str().is_some_and(|m| m.contains("5m")),
        "{kl202}"
    );
    assert_eq!(help["location"]["uri"], uri);

    // The fix and the suppression for the finding under the cursor.
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": line, "character": character + 1},
                      "end": {"line": line, "character": character + 1}},
            "context": {"diagnostics": []},
        }),
    );
    let actions = actions.as_array().expect("code actions");
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    let fix = actions
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("widen the range"))
        })
        .unwrap_or_else(|| panic!("no KL202 fix in {titles:?}"));
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(fix["diagnostics"][0]["code"], "KL202");
    let edit = &fix["edit"]["changes"][&uri][0];
    // The edit replaces the `1m` inside the underlined `[1m]`.
    assert_eq!(edit["newText"], "5m");
    assert_eq!(
        edit["range"],
        json!({"start": {"line": line, "character": character + 1},
               "end": {"line": line, "character": character + 3}})
    );
    let suppress = actions
        .iter()
        .find(|a| a["title"] == "suppress KL202 on this line")
        .unwrap_or_else(|| panic!("no suppression in {titles:?}"));
    let insert = &suppress["edit"]["changes"][&uri][0];
    assert_eq!(insert["newText"], " # kedalint: ignore[KL202]");

    // didChange, incremental: apply the fix's edit as an editor would.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": edit["range"], "text": edit["newText"]}],
        }),
    );
    let (after, _) = client.diagnostics(&uri, 2);
    assert!(!codes(&after).contains(&"KL202"), "{after:#?}");
    assert!(!after.is_empty(), "other findings of the seed remain");

    // Hover on a code in a suppression comment, added by another incremental change.
    let end =
        json!({"line": line, "character": text.lines().nth(line).unwrap().encode_utf16().count()});
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{"range": {"start": end, "end": end}, "text": " # kedalint: ignore[KL203]"}],
        }),
    );
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": end["character"].as_u64().unwrap() + 22}}),
    );
    let shown = hover["contents"]["value"].as_str().expect("hover markdown");
    assert!(shown.starts_with("**KL203**"), "{shown}");
    assert!(shown.contains("KL203.md"), "{shown}");
    let nothing = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 2}}),
    );
    assert_eq!(nothing, Value::Null);

    assert_eq!(client.stop(), Some(0));
}

#[test]
fn utf8_positions_are_used_when_the_client_offers_them() {
    let dir = tempfile::tempdir().unwrap();
    let caps = json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}});
    let (mut client, init) = Client::start(dir.path(), caps, Value::Null);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let uri = format!("file://{}/so.yaml", dir.path().display());
    let text = seed().replace(
        "inference_latency_seconds_bucket[1m]",
        "inference_latency_seconds_bucket{path=\"/é😀\"}[1m]",
    );
    let diagnostics = client.open(&uri, &text);
    let offset = text.find("[1m]").unwrap();
    let start = text[..offset].rfind('\n').unwrap() + 1;
    assert_eq!(
        find(&diagnostics, "KL202")["range"]["start"]["character"],
        offset - start
    );
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn a_burst_of_changes_is_linted_once_at_its_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let (mut client, _) = Client::start(dir.path(), json!({}), Value::Null);
    let uri = format!("file://{}/so.yaml", dir.path().display());
    let text = seed();
    client.open(&uri, &text);
    let (line, character) = position_of(&text, "1m]");
    let at = json!({"start": {"line": line, "character": character}, "end": {"line": line, "character": character + 1}});
    // Typing 1 → 2 → … → 9 → 5 as 20 full-text and incremental edits, as fast as a pipe allows.
    let burst = 20;
    for v in 2..=burst {
        let digit = if v == burst { 5 } else { v % 9 + 1 };
        let change = if v % 2 == 0 {
            json!({"range": at, "text": digit.to_string()})
        } else {
            json!({"text": text.replace("[1m]", &format!("[{digit}m]"))})
        };
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [change]}),
        );
    }
    let (last, earlier) = client.diagnostics(&uri, burst);
    assert!(
        !codes(&last).contains(&"KL202"),
        "[5m] is long enough: {last:#?}"
    );
    assert!(
        earlier < usize::try_from(burst).unwrap() - 2,
        "{earlier} earlier versions were linted out of {}",
        burst - 1
    );
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn documents_without_keda_objects_and_documents_over_the_size_limit_get_their_own_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut client, _) = Client::start(dir.path(), json!({}), Value::Null);
    let plain = format!("file://{}/configmap.yaml", dir.path().display());
    let none = client.open(&plain, "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n");
    assert_eq!(none, Vec::<Value>::new());

    let big = format!("file://{}/big.yaml", dir.path().display());
    let text = format!("# keda\n{}", "a: b\n".repeat(7 << 20));
    let diagnostics = client.open(&big, &text);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["code"], "KL001");
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(message.contains(&text.len().to_string()), "{message}");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn the_workspace_configuration_applies_and_is_reloaded_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join(".kedalint.yaml");
    std::fs::write(&config, "rules:\n  KL202: off\n").unwrap();
    let watch = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let (mut client, _) = Client::start(dir.path(), watch, Value::Null);
    let uri = format!("file://{}/deploy/so.yaml", dir.path().display());
    let first = client.open(&uri, &seed());
    assert!(!codes(&first).contains(&"KL202"), "{first:#?}");
    let registration = client
        .server_requests
        .iter()
        .find(|r| r["method"] == "client/registerCapability")
        .expect("the server asks to watch the configuration");
    let watcher = &registration["params"]["registrations"][0];
    assert_eq!(watcher["method"], "workspace/didChangeWatchedFiles");
    assert_eq!(
        watcher["registerOptions"]["watchers"][0]["globPattern"],
        "**/.kedalint.yaml"
    );

    std::fs::write(&config, "rules:\n  KL202: warning\n").unwrap();
    let config_uri = format!("file://{}", config.display());
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": config_uri, "type": 2}]}),
    );
    let (second, _) = client.diagnostics(&uri, 1);
    assert_eq!(find(&second, "KL202")["severity"], 2);

    std::fs::write(&config, "rules:\n  KL202: sometimes\n").unwrap();
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": config_uri}}),
    );
    let (third, _) = client.diagnostics(&uri, 1);
    let note = find(&third, "config");
    assert!(
        note["message"]
            .as_str()
            .is_some_and(|m| m.contains(".kedalint.yaml") && m.contains("default settings")),
        "{note}"
    );
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn online_checks_run_only_when_the_client_asks_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("file://{}/so.yaml", dir.path().display());
    let online = |d: &[Value]| codes(d).iter().any(|c| c.starts_with("KL4"));
    let (mut client, _) = Client::start(dir.path(), json!({}), Value::Null);
    let offline = client.open(&uri, &seed());
    assert!(!online(&offline), "{offline:#?}");
    assert_eq!(client.stop(), Some(0));
    // The seed's in-cluster address cannot be reached from here: the probe says so (KL401).
    let (mut client, _) = Client::start(dir.path(), json!({}), json!({"online": true}));
    let probed = client.open(&uri, &seed());
    assert!(online(&probed), "{probed:#?}");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn exit_without_shutdown_ends_the_server_with_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let (mut client, _) = Client::start(dir.path(), json!({}), Value::Null);
    client.notify("exit", Value::Null);
    drop(client.stdin.take());
    assert_eq!(client.child.wait().unwrap().code(), Some(1));
}

/// A finding as both sides are compared: code, start and end (LSP line, UTF-16 character), and
/// the LSP severity number.
type Compared = (String, (u64, u64), (u64, u64), u64);

/// Each CLI JSON finding with LSP positions.
fn cli_findings(file: &Path) -> Vec<Compared> {
    let out = run_cli(
        &["--format", "json", file.to_str().unwrap()],
        None,
        &workspace(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("CLI JSON");
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.split('\n').collect();
    // line 1-based, column 1-based in characters → LSP line 0-based, UTF-16 units.
    let pos = |line: &Value, col: &Value| {
        let l = line.as_u64().unwrap() - 1;
        let chars = usize::try_from(col.as_u64().unwrap() - 1).unwrap();
        let units: usize = lines[usize::try_from(l).unwrap()]
            .chars()
            .take(chars)
            .map(char::len_utf16)
            .sum();
        (l, units as u64)
    };
    let mut all: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let severity = match f["severity"].as_str().unwrap() {
                "error" => 1,
                "warning" => 2,
                _ => 3,
            };
            (
                f["code"].as_str().unwrap().to_owned(),
                pos(&f["line"], &f["column"]),
                pos(&f["end_line"], &f["end_column"]),
                severity,
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn diagnostics_for_every_example_equal_the_cli_json_findings() {
    let root = workspace();
    let (mut client, _) = Client::start(&root, json!({}), Value::Null);
    let mut examples: Vec<_> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    let mut compared = 0;
    for file in examples {
        let uri = format!("file://{}", file.display());
        let diagnostics = client.open(&uri, &std::fs::read_to_string(&file).unwrap());
        let at = |p: &Value| {
            (
                p["line"].as_u64().unwrap(),
                p["character"].as_u64().unwrap(),
            )
        };
        let mut lsp: Vec<Compared> = diagnostics
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_owned(),
                    at(&d["range"]["start"]),
                    at(&d["range"]["end"]),
                    d["severity"].as_u64().unwrap(),
                )
            })
            .collect();
        lsp.sort();
        let cli = cli_findings(&file);
        compared += cli.len();
        assert_eq!(lsp, cli, "{}", file.display());
    }
    assert!(compared > 0, "the examples have findings to compare");
    assert_eq!(client.stop(), Some(0));
}

/// Neovim 0.7 (Debian) as the client: `vim.lsp.start_client`, `vim.lsp.buf_attach_client`, the
/// KL202 code action applied to the buffer.
#[test]
fn neovim_shows_the_seed_diagnostics_and_applies_the_kl202_fix() {
    let Some(nvim) = find_nvim() else {
        assert!(
            std::env::var_os("KEDALINT_REQUIRE_NVIM").is_none(),
            "KEDALINT_REQUIRE_NVIM is set but nvim is not on PATH"
        );
        eprintln!(
            "SKIPPED: nvim is not on PATH (apt-get install neovim); the Neovim test did not run"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inference-p95-latency.yaml");
    std::fs::write(&file, seed()).unwrap();
    let script = dir.path().join("kedalint.lua");
    std::fs::write(&script, NVIM_SCRIPT).unwrap();
    let out = Command::new(nvim)
        .args([
            "--headless",
            "-n",
            "-i",
            "NONE",
            "-u",
            "NONE",
            "--noplugin",
            "-S",
        ])
        .arg(&script)
        .env("KEDALINT_BIN", cli_binary())
        .env("KEDALINT_FILE", &file)
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run nvim");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "nvim failed: {said}");
    assert!(said.contains("KEDALINT-NVIM-OK"), "{said}");
    assert!(said.contains("[5m]"), "{said}");
}

fn find_nvim() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("nvim"))
            .find(|p| p.is_file())
    })
}

const NVIM_SCRIPT: &str = r#"
local function finish(code, msg)
  io.stderr:write(msg .. "\n")
  vim.cmd(code == 0 and "qall!" or "cquit! " .. code)
end
local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("KEDALINT_FILE")))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({
    name = "kedalint",
    cmd = { os.getenv("KEDALINT_BIN"), "lsp" },
    root_dir = vim.fn.getcwd(),
  })
  assert(id, "start_client returned nil")
  assert(vim.lsp.buf_attach_client(buf, id), "buf_attach_client failed")
  local function kl202()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
      if code == "KL202" then return d end
    end
  end
  assert(vim.wait(60000, function() return kl202() ~= nil end, 20), "no KL202 diagnostic")
  local d = kl202()
  local client = vim.lsp.get_client_by_id(id)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = { start = { line = d.lnum, character = 0 }, ["end"] = { line = d.lnum + 1, character = 0 } },
    context = { diagnostics = {} },
  }
  local resp = client.request_sync("textDocument/codeAction", params, 60000, buf)
  assert(resp and resp.result, "no code action answer: " .. vim.inspect(resp))
  local action
  for _, a in ipairs(resp.result) do
    if a.diagnostics and a.diagnostics[1] and a.diagnostics[1].code == "KL202" and a.isPreferred then action = a end
  end
  assert(action, "no KL202 fix among " .. vim.inspect(resp.result))
  vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
  local line = vim.api.nvim_buf_get_lines(buf, d.lnum, d.lnum + 1, true)[1]
  assert(line:find("[5m]", 1, true), "the line reads " .. line)
  io.stderr:write(line .. "\n")
  client.stop()
  assert(vim.wait(60000, function() return client.is_stopped() end, 20), "the server did not stop")
end)
if ok then finish(0, "KEDALINT-NVIM-OK") else finish(1, "KEDALINT-NVIM-FAIL: " .. tostring(err)) end
"#;
