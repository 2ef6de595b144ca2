//! `--fix`, `--unsafe-fixes` and `--diff` as a user runs them. Each fixture in
//! `tests/fixtures/fix/` has a `.fixed.yaml` twin holding the exact bytes the fix must produce;
//! fixtures named `*unsafe*` are run with `--unsafe-fixes`.

use std::path::{Path, PathBuf};
use std::process::Command;

use kedalint_rules::{Settings, SourceFile};
use kedalint_tests::{fixtures, run_cli, workspace};
use kubectl_kedalint::fix::applies;
use kubectl_kedalint::run::lint_all;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `(fixture, expected output)` pairs.
fn fix_fixtures() -> Vec<(PathBuf, PathBuf)> {
    let dir = fixtures().join("fix");
    let mut out: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/fix")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml")
                && !p.to_string_lossy().ends_with(".fixed.yaml")
        })
        .map(|p| {
            let fixed = p.with_extension("fixed.yaml");
            (p, fixed)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

fn is_unsafe(p: &Path) -> bool {
    p.file_name().unwrap().to_string_lossy().contains("unsafe")
}

fn fix_args(p: &Path) -> Vec<&'static str> {
    if is_unsafe(p) {
        vec!["--fix", "--unsafe-fixes", "t.yaml"]
    } else {
        vec!["--fix", "t.yaml"]
    }
}

#[test]
fn every_fix_fixture_is_fixed_byte_for_byte_and_a_second_run_changes_nothing() {
    for (before, after) in fix_fixtures() {
        let want = std::fs::read(&after).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (every fixture needs its .fixed.yaml)",
                after.display()
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.yaml");
        std::fs::copy(&before, &target).unwrap();
        let out = run_cli(&fix_args(&before), None, dir.path());
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let got = std::fs::read(&target).unwrap();
        assert!(
            got == want,
            "{}: fixed file differs from {}:\n{}",
            before.display(),
            after.display(),
            String::from_utf8_lossy(&got)
        );
        assert!(
            stderr(&out).contains("kubectl-kedalint: fixed ")
                && stderr(&out).contains(" in 1 file"),
            "{}",
            stderr(&out)
        );
        // Idempotent: nothing left to fix, not a byte changes.
        let again = run_cli(&fix_args(&before), None, dir.path());
        assert_eq!(
            std::fs::read(&target).unwrap(),
            want,
            "{}",
            before.display()
        );
        assert!(
            stderr(&again).contains("fixed 0 findings in 0 files"),
            "{}: {}",
            before.display(),
            stderr(&again)
        );
        // Relinted, no finding keeps a fix that would apply.
        let text = String::from_utf8(got).unwrap();
        let linted = lint_all(vec![SourceFile::new("t.yaml", text)], &Settings::default());
        let left: Vec<_> = linted[0]
            .report
            .findings
            .iter()
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|x| applies(x, is_unsafe(&before)))
            })
            .map(|f| (f.code, f.message.clone()))
            .collect();
        assert!(left.is_empty(), "{}: {left:?}", before.display());
    }
}

#[test]
fn every_rule_that_attaches_a_fix_has_a_fix_fixture() {
    let mut stack = vec![workspace().join("rules/src/rules")];
    let mut fixable = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let src = std::fs::read_to_string(&p).unwrap();
            if !src.contains("Fix {") {
                continue;
            }
            // `pub(crate) struct X => "KL123", …` names the rule of the file.
            if let Some(i) = src.find("=> \"KL") {
                fixable.push(src[i + 4..i + 9].to_owned());
            }
        }
    }
    fixable.sort();
    assert!(fixable.len() >= 6, "{fixable:?}");
    let names: Vec<String> = fix_fixtures()
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for code in &fixable {
        assert!(
            names.iter().any(|n| n.starts_with(code.as_str())),
            "{code} attaches a fix but tests/fixtures/fix has no {code}*.yaml"
        );
    }
}

#[test]
fn unsafe_fixes_are_applied_only_with_unsafe_fixes() {
    let src = fixtures().join("fix/KL109-unsafe.yaml");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&src, dir.path().join("t.yaml")).unwrap();
    let out = run_cli(&["--fix", "t.yaml"], None, dir.path());
    assert_eq!(
        std::fs::read(dir.path().join("t.yaml")).unwrap(),
        std::fs::read(&src).unwrap(),
        "--fix alone must not apply a behaviour-changing fix"
    );
    assert!(
        stderr(&out).contains("fixed 0 findings in 0 files; 1 more finding with --unsafe-fixes"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&["--fix", "--unsafe-fixes", "t.yaml"], None, dir.path());
    assert!(
        stderr(&out).contains("fixed 1 finding in 1 file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("t.yaml")).unwrap(),
        std::fs::read(fixtures().join("fix/KL109-unsafe.fixed.yaml")).unwrap()
    );
}

#[test]
fn diff_prints_a_patch_that_git_applies_and_writes_nothing() {
    let src = fixtures().join("fix/KL004.yaml");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.yaml");
    std::fs::copy(&src, &target).unwrap();
    let out = run_cli(&["--diff", "t.yaml"], None, dir.path());
    // Nothing was fixed, so the errors are still there.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(&src).unwrap()
    );
    let patch = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        patch.starts_with("--- a/t.yaml\n+++ b/t.yaml\n@@ -10,7 +10,7 @@\n"),
        "{patch}"
    );
    assert!(
        patch.contains("\n-        threshold: 100        # requests per second per replica\n")
            && patch.contains(
                "\n+        threshold: \"100\"        # requests per second per replica\n"
            ),
        "{patch}"
    );
    assert!(
        stderr(&out).contains("would fix 3 findings in 1 file"),
        "{}",
        stderr(&out)
    );
    // The report went to stderr, so stdout is only the patch.
    assert!(
        stderr(&out).contains("KL004/wrong-field-type"),
        "{}",
        stderr(&out)
    );
    std::fs::write(dir.path().join("p.diff"), &patch).unwrap();
    let applied = Command::new("git")
        .args(["apply", "p.diff"])
        .current_dir(dir.path())
        .output()
        .expect("git");
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(fixtures().join("fix/KL004.fixed.yaml")).unwrap()
    );
}

#[test]
fn stdin_with_fix_prints_the_fixed_text_and_reports_on_stderr() {
    let src = std::fs::read_to_string(fixtures().join("fix/KL004.yaml")).unwrap();
    let out = run_cli(&["--fix", "-"], Some(&src), Path::new("/"));
    assert_eq!(
        String::from_utf8(out.stdout.clone()).unwrap(),
        std::fs::read_to_string(fixtures().join("fix/KL004.fixed.yaml")).unwrap()
    );
    assert!(
        stderr(&out).contains("fixed 3 findings in 1 file"),
        "{}",
        stderr(&out)
    );
    // Every error was fixed, so the exit code is 0.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A file with nothing to fix passes through unchanged.
    let clean = std::fs::read_to_string(fixtures().join("fix/KL004.fixed.yaml")).unwrap();
    let out = run_cli(&["--fix", "-"], Some(&clean), Path::new("/"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), clean);
}

#[test]
fn fix_reports_counts_over_files_and_the_exit_code_reflects_what_remains() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("fix/KL004.yaml"), dir.path().join("a.yaml")).unwrap();
    std::fs::copy(fixtures().join("fix/KL108.yaml"), dir.path().join("b.yaml")).unwrap();
    // An error no fix can remove (a duration where KEDA wants seconds) keeps the exit code at 1.
    std::fs::write(
        dir.path().join("c.yaml"),
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: c}\nspec:\n  scaleTargetRef: {name: c}\n  pollingInterval: \"15s\"\n",
    )
    .unwrap();
    assert_eq!(run_cli(&["."], None, dir.path()).status.code(), Some(1));
    let out = run_cli(&["--fix", "--format", "json", "."], None, dir.path());
    assert!(
        stderr(&out).contains("fixed 4 findings in 2 files"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    // c.yaml also has no `triggers`, which the API server rejects (KL007, no fix either).
    assert_eq!(
        codes,
        [("c.yaml", "KL007"), ("c.yaml", "KL004")],
        "only the unfixable errors are left"
    );
    std::fs::remove_file(dir.path().join("c.yaml")).unwrap();
    assert_eq!(
        run_cli(&["--fix", "."], None, dir.path()).status.code(),
        Some(0)
    );
}
