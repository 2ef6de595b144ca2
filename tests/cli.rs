//! `kubectl kedalint` as a user runs it: arguments, stdin, files, exit codes, outputs.

use std::path::Path;

use kedalint_tests::{run_cli, workspace};
use serde_json::Value;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const BAD: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: x\nspec:\n  scaleTargetRef:\n    name: x\n  pollingInterval: \"15s\"\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://p:9090\n        query: sum(up)\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n";
const WARN_ONLY: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: x\nspec:\n  scaleTargetRef:\n    name: x\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://p:9090/\n        query: sum(up)\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n";

#[test]
fn json_output_of_the_examples_follows_format_version_1() {
    let out = run_cli(&["--format", "json", "examples/"], None, &workspace());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "kedalint");
    let files = std::fs::read_dir(workspace().join("examples"))
        .unwrap()
        .count();
    assert_eq!(v["summary"]["files"].as_u64(), Some(files as u64));
    for key in ["objects", "error", "warning", "info"] {
        assert!(v["summary"][key].is_u64(), "summary.{key}");
    }
    let findings = v["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        for key in ["code", "name", "severity", "message", "file", "path"] {
            assert!(f[key].is_string(), "{key} in {f}");
        }
        for key in ["line", "column", "end_line", "end_column", "document"] {
            assert!(f[key].is_u64(), "{key} in {f}");
        }
        assert!(f.get("help").is_some());
        assert!(matches!(
            f["object"]["kind"].as_str(),
            Some("ScaledObject" | "ScaledJob")
        ));
        assert!(f["object"]["apiVersion"].is_string());
    }
    let keys: Vec<(String, u64, u64, String)> = findings
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "findings are sorted by file, line, column, code"
    );
    let wrong_type = findings
        .iter()
        .find(|f| f["code"] == "KL004" && f["path"] == "spec.pollingInterval")
        .expect("KL004 on pollingInterval");
    assert_eq!(wrong_type["file"], "examples/typos-and-types.yaml");
    assert_eq!(
        (wrong_type["line"].as_u64(), wrong_type["column"].as_u64()),
        (Some(10), Some(20))
    );
    assert_eq!(wrong_type["end_column"].as_u64(), Some(25));
}

#[test]
fn human_output_underlines_the_exact_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("so.yaml"), BAD).unwrap();
    let out = run_cli(&["so.yaml"], None, dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("KL004/wrong-field-type"), "{text}");
    assert!(text.contains("pollingInterval: \"15s\""), "{text}");
    assert!(text.contains("──┬──"), "caret under \"15s\": {text}");
    assert!(text.contains("Found 1 error"), "{text}");
}

#[test]
fn stdin_is_read_from_a_dash() {
    let out = run_cli(&["--format", "json", "-"], Some(BAD), Path::new("/"));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["findings"][0]["file"], "<stdin>");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_missing_path_exits_2_and_names_it() {
    let out = run_cli(&["does/not/exist.yaml"], None, &workspace());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("does/not/exist.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_flag_exits_2() {
    let out = run_cli(&["--format", "xml", "examples/"], None, &workspace());
    assert_eq!(out.status.code(), Some(2));
    let out = run_cli(
        &["--scrape-interval", "soon", "examples/"],
        None,
        &workspace(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--scrape-interval"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_file_that_is_not_text_exits_2_after_the_other_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), [0xff, 0xfe, 0x00, 0x41]).unwrap();
    std::fs::write(dir.path().join("b.yaml"), BAD).unwrap();
    let out = run_cli(&["--format", "json", "."], None, dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a.yaml") && stderr(&out).contains("UTF-8"),
        "{}",
        stderr(&out)
    );
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json still written");
    assert_eq!(v["findings"][0]["file"], "b.yaml");
}

#[test]
fn a_malformed_document_is_an_error_finding_not_a_silent_pass() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.yaml"),
        format!("{BAD}---\nkind: [unclosed\n---\n{WARN_ONLY}"),
    )
    .unwrap();
    let out = run_cli(&["--format", "json", "x.yaml"], None, dir.path());
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let codes: Vec<(&str, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["document"].as_u64().unwrap()))
        .collect();
    assert!(codes.contains(&("KL001", 1)), "{codes:?}");
    assert!(codes.contains(&("KL108", 2)), "{codes:?}");
}

#[test]
fn fail_on_sets_the_threshold_of_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("w.yaml"), WARN_ONLY).unwrap();
    assert_eq!(
        run_cli(&["w.yaml"], None, dir.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        run_cli(&["--fail-on", "warning", "w.yaml"], None, dir.path())
            .status
            .code(),
        Some(1)
    );
    std::fs::write(dir.path().join("b.yaml"), BAD).unwrap();
    assert_eq!(
        run_cli(&["--fail-on", "never", "b.yaml"], None, dir.path())
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn configuration_is_found_upward_and_a_bad_one_exits_2_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("apps/api");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("w.yaml"), WARN_ONLY).unwrap();
    std::fs::write(
        dir.path().join(".kedalint.yaml"),
        "failOn: warning\nrules:\n  KL108: off\n",
    )
    .unwrap();
    // KL108 is off, so nothing at or above warning remains.
    assert_eq!(run_cli(&["w.yaml"], None, &sub).status.code(), Some(0));
    std::fs::write(dir.path().join(".kedalint.yaml"), "failOn: warning\n").unwrap();
    assert_eq!(run_cli(&["w.yaml"], None, &sub).status.code(), Some(1));
    std::fs::write(
        dir.path().join(".kedalint.yaml"),
        "failOn: warning\nrulez: {}\n",
    )
    .unwrap();
    let out = run_cli(&["w.yaml"], None, &sub);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(".kedalint.yaml:2:1") && stderr(&out).contains("rulez"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(&["--config", "nope.yaml", "w.yaml"], None, &sub);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn several_formats_go_to_their_own_outputs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.yaml"), BAD).unwrap();
    let out = run_cli(
        &[
            "--format", "json", "--output", "r.json", "--format", "human", "b.yaml",
        ],
        None,
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(v["summary"]["error"], 1);
    assert!(stdout(&out).contains("KL004/wrong-field-type"));
}

#[test]
fn rules_lists_every_rule_and_explain_prints_its_documentation() {
    let out = run_cli(&["rules"], None, &workspace());
    assert_eq!(out.status.code(), Some(0));
    let listing = stdout(&out);
    for r in kedalint_rules::RULES {
        let line = listing
            .lines()
            .find(|l| l.starts_with(r.code))
            .unwrap_or_else(|| panic!("{} is not listed", r.code));
        assert!(line.contains(r.name), "{line}");
        // Which objects the rule checks: HPA rules ScaledObjects only, job rules ScaledJobs only.
        assert!(line.contains(&format!(" {} ", r.applies.short())), "{line}");
    }
    let line_of = |code: &str| listing.lines().find(|l| l.starts_with(code)).unwrap();
    assert!(line_of("KL301").contains(" ScaledObject "));
    assert!(line_of("KL320").contains(" ScaledJob "));
    assert!(line_of("KL202").contains(" both "));
    let out = run_cli(&["explain", "KL109"], None, &workspace());
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("# KL109 ignore-null-values-unset")
            && stdout(&out).contains("## Why is this bad?")
    );
    let out = run_cli(&["explain", "KL999"], None, &workspace());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn hostile_files_never_crash_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let mut laughs = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x]\n");
    for i in 1..12 {
        laughs.push_str(&format!(
            "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n",
            p = i - 1
        ));
    }
    std::fs::write(dir.path().join("laughs.yaml"), laughs).unwrap();
    std::fs::write(dir.path().join("deep.yaml"), "[".repeat(100_000)).unwrap();
    std::fs::write(dir.path().join("empty.yaml"), "").unwrap();
    std::fs::write(dir.path().join("scalar.yaml"), "just a string\n").unwrap();
    std::fs::write(dir.path().join("tabs.yaml"), "a:\n\t- b\n").unwrap();
    std::fs::write(dir.path().join("list.json"), "{\"kind\": \"List\", \"items\": [1, null, {\"kind\": \"ScaledObject\", \"apiVersion\": \"keda.sh/v1alpha1\", \"spec\": {\"triggers\": 5}}]}").unwrap();
    let out = run_cli(&["--format", "json", "."], None, dir.path());
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.iter().filter(|c| **c == "KL001").count() >= 2,
        "{codes:?}"
    );
    assert!(codes.contains(&"KL004"), "{codes:?}");
}
