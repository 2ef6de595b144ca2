//! Where kedalint meets other tools: the real `pre-commit` running this repository's hooks, the
//! krew plugin manifest rendered by `scripts/release.sh`, and the completions and man page
//! generated from the clap definitions.
//!
//! pre-commit is installed on first use into a virtualenv at `$KEDALINT_PRECOMMIT_VENV` (default
//! `~/.cache/kedalint-precommit`). Without python3/pip the test says so and skips;
//! `KEDALINT_REQUIRE_PRECOMMIT=1` (set by `.ci/run`) turns that skip into a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kedalint_rules::source::{LoadLimits, Node, load_stream};
use kedalint_tests::{cli_binary, run_cli, workspace};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const BAD: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: x\nspec:\n  scaleTargetRef:\n    name: x\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://p:9090\n        query: sum(up)\n        threshold: 100\n        ignoreNullValues: \"false\"\n";
const GOOD: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: x\nspec:\n  scaleTargetRef:\n    name: x\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://p:9090\n        query: sum(up)\n        threshold: \"100\"\n        ignoreNullValues: \"false\"\n";
const DEPLOYMENT: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n";

/// `pre-commit` from a cached virtualenv, created on first use.
fn pre_commit() -> Option<PathBuf> {
    let require = std::env::var("KEDALINT_REQUIRE_PRECOMMIT").is_ok_and(|v| v == "1");
    let venv = std::env::var_os("KEDALINT_PRECOMMIT_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/kedalint-precommit"))
        })
        .unwrap_or_else(|| workspace().join("target/kedalint-precommit"));
    let exe = venv.join("bin/pre-commit");
    if !exe.is_file() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "pre-commit"])
                .status()
                .is_ok_and(|s| s.success());
        if !made || !exe.is_file() {
            assert!(
                !require,
                "KEDALINT_REQUIRE_PRECOMMIT=1 but pre-commit could not be installed into {}",
                venv.display()
            );
            eprintln!(
                "SKIPPED: pre-commit could not be installed (python3 venv/pip unavailable); the hooks were not run"
            );
            return None;
        }
    }
    Some(exe)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
}

#[test]
fn pre_commit_runs_the_system_hook_and_fails_on_a_bad_scaled_object_only() {
    let Some(pre_commit) = pre_commit() else {
        return;
    };
    let repo = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    std::fs::write(repo.path().join("bad.yaml"), BAD).unwrap();
    std::fs::write(repo.path().join("good.yaml"), GOOD).unwrap();
    std::fs::write(repo.path().join("deployment.yaml"), DEPLOYMENT).unwrap();
    std::fs::write(repo.path().join("notes.txt"), "threshold: 100\n").unwrap();
    git(repo.path(), &["add", "."]);
    let bin_dir = cli_binary().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // try-repo reads this checkout's .pre-commit-hooks.yaml as a user's config would.
    let run = |files: &[&str]| {
        let mut cmd = Command::new(&pre_commit);
        cmd.arg("try-repo")
            .arg(workspace())
            .arg("kedalint-system")
            .arg("--files")
            .args(files)
            .current_dir(repo.path())
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path())
            .env("NO_COLOR", "1");
        cmd.output().expect("run pre-commit")
    };
    let out = run(&["bad.yaml", "good.yaml", "deployment.yaml", "notes.txt"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("KL004/wrong-field-type"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("bad.yaml"), "{}", text(&out));
    assert!(!text(&out).contains("notes.txt"), "{}", text(&out));
    // Only the files passed are linted: bad.yaml is in the repository but not passed.
    let out = run(&["good.yaml", "deployment.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Passed"), "{}", text(&out));
}

#[test]
fn the_hooks_file_declares_both_hooks_for_yaml_and_json() {
    let src = std::fs::read_to_string(workspace().join(".pre-commit-hooks.yaml")).unwrap();
    let docs = load_stream(&src, LoadLimits::default());
    let hooks = docs[0]
        .root
        .as_ref()
        .and_then(Node::as_seq)
        .expect("a list");
    let by_id = |id: &str| {
        hooks
            .iter()
            .find(|h| h.get("id").and_then(Node::as_str) == Some(id))
            .unwrap_or_else(|| panic!("hook {id}"))
    };
    let field = |h: &Node, k: &str| h.get(k).and_then(Node::as_str).unwrap_or("").to_owned();
    let types = |h: &Node| -> Vec<String> {
        h.get("types_or")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|n| n.as_str().map(str::to_owned))
            .collect()
    };
    let source = by_id("kedalint");
    let system = by_id("kedalint-system");
    assert_eq!(field(system, "language"), "system");
    assert_eq!(field(system, "entry"), "kubectl-kedalint");
    assert_eq!(field(source, "language"), "script");
    let script = workspace().join(field(source, "entry"));
    assert!(script.is_file(), "{}", script.display());
    for h in [source, system] {
        assert_eq!(types(h), ["yaml", "json"]);
        assert_eq!(field(h, "pass_filenames"), "true");
    }
}

#[test]
fn a_file_without_keda_objects_prints_only_the_summary_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deployment.yaml"), DEPLOYMENT).unwrap();
    let out = run_cli(&["deployment.yaml"], None, dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "No problems found in 1 file (0 KEDA objects).\n"
    );
    assert!(out.stderr.is_empty(), "{}", text(&out));
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Checks a krew manifest's structure; returns each platform's `os/arch` and sha256.
fn check_krew_manifest(text: &str) -> Vec<(String, String)> {
    let docs = load_stream(text, LoadLimits::default());
    assert_eq!(docs.len(), 1, "one document");
    let root = docs[0].root.as_ref().expect("a document");
    let s = |n: Option<&Node>| n.and_then(Node::as_str).unwrap_or("").to_owned();
    assert_eq!(
        s(root.get("apiVersion")),
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(s(root.get("kind")), "Plugin");
    assert_eq!(
        s(root.get("metadata").and_then(|m| m.get("name"))),
        "kedalint"
    );
    let spec = root.get("spec").expect("spec");
    let version = s(spec.get("version"));
    assert!(
        version.starts_with('v') && version[1..].split('.').count() == 3,
        "spec.version {version:?}"
    );
    assert!(!s(spec.get("shortDescription")).is_empty());
    assert!(s(spec.get("homepage")).starts_with("https://"));
    let platforms = spec
        .get("platforms")
        .and_then(Node::as_seq)
        .expect("platforms");
    let mut seen = Vec::new();
    for p in platforms {
        let labels = p
            .get("selector")
            .and_then(|x| x.get("matchLabels"))
            .expect("selector.matchLabels");
        let os_arch = format!("{}/{}", s(labels.get("os")), s(labels.get("arch")));
        let uri = s(p.get("uri"));
        assert!(
            uri.starts_with("https://github.com/kedalint/kedalint/releases/download/")
                && uri.ends_with(".tar.gz")
                && uri.contains(&version),
            "{uri}"
        );
        let sum = s(p.get("sha256"));
        assert!(
            sum.len() == 64
                && sum
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "sha256 {sum:?}"
        );
        assert_eq!(s(p.get("bin")), "kubectl-kedalint");
        seen.push((os_arch, sum));
    }
    let names: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        names.contains(&"linux/amd64") && names.contains(&"linux/arm64"),
        "{names:?}"
    );
    seen
}

#[test]
fn release_script_renders_a_krew_manifest_with_the_archives_sha256() {
    let dist = tempfile::tempdir().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    for arch in ["amd64", "arm64"] {
        std::fs::write(
            dist.path()
                .join(format!("kubectl-kedalint-{version}-linux-{arch}.tar.gz")),
            format!("not really an archive for {arch}"),
        )
        .unwrap();
    }
    let manifest = dist.path().join("kedalint.yaml");
    let out = Command::new("bash")
        .arg(workspace().join("scripts/release.sh"))
        .arg("render")
        .env("DIST", dist.path())
        .env("KREW_OUT", &manifest)
        .output()
        .expect("release.sh");
    assert!(out.status.success(), "{}", text(&out));
    let rendered = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        rendered.contains(&format!("version: v{version}\n")),
        "{rendered}"
    );
    for (platform, sum) in check_krew_manifest(&rendered) {
        let arch = platform.trim_start_matches("linux/");
        let archive = dist
            .path()
            .join(format!("kubectl-kedalint-{version}-linux-{arch}.tar.gz"));
        assert_eq!(sum, sha256(&archive), "{platform}");
    }
    // A missing archive is an error that names it, not a manifest with a placeholder.
    std::fs::remove_file(
        dist.path()
            .join(format!("kubectl-kedalint-{version}-linux-arm64.tar.gz")),
    )
    .unwrap();
    let out = Command::new("bash")
        .arg(workspace().join("scripts/release.sh"))
        .arg("render")
        .env("DIST", dist.path())
        .env("KREW_OUT", dist.path().join("other.yaml"))
        .output()
        .expect("release.sh");
    assert!(!out.status.success());
    assert!(text(&out).contains("linux-arm64.tar.gz"), "{}", text(&out));
    assert!(!dist.path().join("other.yaml").exists());
}

#[test]
fn a_committed_krew_manifest_is_well_formed() {
    let path = workspace().join("plugins/kedalint.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "SKIPPED: plugins/kedalint.yaml is written by scripts/release.sh at release time; none is committed yet"
        );
        return;
    };
    check_krew_manifest(&text);
}

#[test]
fn completions_and_man_page_are_generated_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run_cli(&["completions", shell], None, &workspace());
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("fail-on") && script.contains("kubectl-kedalint"),
            "{shell}: {script}"
        );
    }
    let out = run_cli(&["completions", "bash"], None, &workspace());
    let syntax = Command::new("bash")
        .args(["-n", "-c", &String::from_utf8_lossy(&out.stdout)])
        .output()
        .expect("bash");
    assert!(syntax.status.success(), "{}", text(&syntax));
    let out = run_cli(&["man"], None, &workspace());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH kubectl-kedalint 1"),
        "{page}"
    );
    assert!(page.contains(".TH kubectl-kedalint 1"), "{page}");
    assert!(page.contains("\\-\\-fail\\-on"), "{page}");
    assert!(page.contains("\\-\\-fix"), "{page}");
    // Hidden: generators are for packagers, not in the everyday help.
    let help = run_cli(&["--help"], None, &workspace());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        !help.contains("completions") && !help.contains("\n  man"),
        "{help}"
    );
}
