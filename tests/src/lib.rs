//! Helpers shared by the workspace-level integration tests.

pub mod history;
pub mod live;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kedalint_rules::facts::Facts;
use kedalint_rules::{Settings, SourceFile};
use kubectl_kedalint::render::Linted;

/// The workspace root.
#[must_use]
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `tests/fixtures`.
#[must_use]
pub fn fixtures() -> PathBuf {
    workspace().join("tests").join("fixtures")
}

/// The team's shared folder (`../shared` beside the project, as CI lays it out), when present.
#[must_use]
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("KEDALINT_SHARED")
        .map_or_else(|| workspace().join("..").join("shared"), PathBuf::from);
    p.join("corpus").is_dir().then_some(p)
}

/// The `kubectl-kedalint` binary built by `cargo test --workspace` next to the test executables.
/// `cargo test -p kedalint-tests` alone does not rebuild it: after changing the CLI, run the
/// workspace (or `cargo build -p kubectl-kedalint` first), or these tests see the old binary.
#[must_use]
pub fn cli_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = dir.join("kubectl-kedalint");
    assert!(
        bin.is_file(),
        "{} is missing: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}

/// Runs the CLI with arguments, optional stdin, in a working directory.
#[must_use]
pub fn run_cli(args: &[&str], stdin: Option<&str>, cwd: &Path) -> Output {
    use std::io::Write;
    let mut child = Command::new(cli_binary())
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kubectl-kedalint");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for kubectl-kedalint")
}

/// Lints one file on disk with the given settings and returns it ready to render.
#[must_use]
pub fn lint_path(path: &Path, settings: &Settings) -> Linted {
    lint_path_with_facts(path, settings, Facts::default())
}

/// Lints one file on disk with the given settings and online facts.
#[must_use]
pub fn lint_path_with_facts(path: &Path, settings: &Settings, facts: Facts) -> Linted {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let name = path
        .strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string();
    let parsed = kubectl_kedalint::run::parse_all(vec![SourceFile::new(name, text)]);
    kubectl_kedalint::run::lint_parsed_all(parsed, settings, facts)
        .pop()
        .expect("one file")
}

/// Online facts for a fixture directory: its `facts.json` (serde form of
/// `kedalint_rules::facts::Facts`: durations in seconds, services keyed `"namespace/name"`), else
/// none, as when online checks do not run.
#[must_use]
pub fn fixture_facts(dir: &Path) -> Facts {
    let path = dir.join("facts.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not valid facts: {e}", path.display())),
        Err(_) => Facts::default(),
    }
}

/// Settings for a fixture directory: its `.kedalint.yaml` when present, else the defaults.
#[must_use]
pub fn fixture_settings(dir: &Path) -> Settings {
    let cfg = dir.join(".kedalint.yaml");
    match std::fs::read_to_string(&cfg) {
        Ok(text) => {
            // Relative to the workspace, so snapshots that name the file do not depend on the checkout.
            let name = cfg
                .strip_prefix(workspace())
                .unwrap_or(&cfg)
                .display()
                .to_string();
            Settings::from_yaml(&name, &text).expect("fixture configuration")
        }
        Err(_) => Settings::default(),
    }
}

/// Every ScaledObject-bearing file under the shared corpus.
#[must_use]
pub fn corpus_files(shared: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![shared.join("corpus")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
