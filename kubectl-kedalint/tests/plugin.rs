//! kubectl finds the binary as a plugin: with it on PATH, `kubectl plugin list` lists it and
//! `kubectl kedalint --help` runs it. Uses the real kubectl on the machine; without one the test
//! says so and skips (CI installs kubectl, and KEDALINT_REQUIRE_KUBECTL=1 turns the skip into a
//! failure).

use std::path::Path;
use std::process::Command;

fn kubectl() -> Option<&'static str> {
    let found = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("KEDALINT_REQUIRE_KUBECTL").is_none(),
            "kubectl is required (KEDALINT_REQUIRE_KUBECTL is set) but not found"
        );
        eprintln!("SKIPPED: kubectl is not installed, plugin discovery was not tested");
        return None;
    }
    Some("kubectl")
}

fn path_with_plugin() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_kubectl-kedalint"));
    let dir = bin.parent().expect("binary directory");
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn kubectl_lists_the_plugin() {
    let Some(kubectl) = kubectl() else { return };
    let out = Command::new(kubectl)
        .args(["plugin", "list"])
        .env("PATH", path_with_plugin())
        .output()
        .expect("kubectl plugin list");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("kubectl-kedalint"),
        "plugin list: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kubectl_kedalint_help_runs_the_plugin() {
    let Some(kubectl) = kubectl() else { return };
    let out = Command::new(kubectl)
        .args(["kedalint", "--help"])
        .env("PATH", path_with_plugin())
        .output()
        .expect("kubectl kedalint");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: kubectl kedalint"), "{text}");
    assert!(text.contains("--fail-on"), "{text}");
}

#[test]
fn kubectl_kedalint_lints_stdin_with_exit_codes() {
    let Some(kubectl) = kubectl() else { return };
    use std::io::Write;
    let mut child = Command::new(kubectl)
        .args(["kedalint", "--format", "json", "-"])
        .env("PATH", path_with_plugin())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"apiVersion: keda.k8s.io/v1alpha1\nkind: ScaledObject\nmetadata: {name: x}\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("KL003"));
}
