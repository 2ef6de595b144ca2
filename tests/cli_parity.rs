//! The CLI lints in two passes (a first pass keeps only what the rules need across files, a second
//! lints file by file), where the library's whole-input path parses everything and builds one
//! inventory. Both must report the same findings: every fixture directory, the examples and the
//! shared corpus are linted both ways and compared finding by finding, in order.

use std::path::{Path, PathBuf};

use kedalint_rules::Settings;
use kedalint_tests::{fixture_settings, fixtures, run_cli, shared, workspace};

/// (file, line, column, code, message) of every finding, in report order.
type Row = (String, u64, u64, String, String);

/// The library's whole-input lint of `paths`, as rows.
fn library(paths: &[PathBuf], settings: &Settings) -> Vec<Row> {
    let args: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let inputs = kubectl_kedalint::discover::list(&args).expect("inputs");
    let files = inputs
        .iter()
        .map(|i| i.load().expect("readable input"))
        .collect();
    let mut rows = Vec::new();
    for linted in kubectl_kedalint::run::lint_all(files, settings) {
        for f in &linted.report.findings {
            let (line, column) = f
                .span
                .as_ref()
                .map_or((0, 0), |s| linted.file.line_col(s.start));
            rows.push((
                linted.file.name.clone(),
                line as u64,
                column as u64,
                f.code.to_owned(),
                f.message.clone(),
            ));
        }
    }
    rows.sort();
    rows
}

/// The CLI's lint of `paths` (JSON), as rows.
fn cli(paths: &[PathBuf], config: Option<&Path>) -> Vec<Row> {
    let mut args = vec!["--format", "json", "--fail-on", "never"];
    let config = config.map(|c| c.display().to_string());
    if let Some(c) = &config {
        args.extend(["--config", c.as_str()]);
    }
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let out = run_cli(&args, None, &std::env::temp_dir());
    assert_eq!(
        out.status.code(),
        Some(0),
        "kubectl-kedalint {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut rows: Vec<Row> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
                f["code"].as_str().unwrap_or_default().to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn assert_same(paths: &[PathBuf], config: Option<&Path>) {
    let settings = match config {
        Some(c) => Settings::from_yaml(
            &c.display().to_string(),
            &std::fs::read_to_string(c).expect("configuration"),
        )
        .expect("valid configuration"),
        None => Settings::default(),
    };
    let expected = library(paths, &settings);
    let got = cli(paths, config);
    let missing: Vec<&Row> = expected.iter().filter(|r| !got.contains(r)).collect();
    let extra: Vec<&Row> = got.iter().filter(|r| !expected.contains(r)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{paths:?}: the CLI's two-pass lint differs from the whole-input lint\n\
         missing from the CLI: {missing:#?}\nonly in the CLI: {extra:#?}"
    );
}

fn config_of(dir: &Path) -> Option<PathBuf> {
    Some(dir.join(".kedalint.yaml")).filter(|c| c.is_file())
}

#[test]
fn every_rule_fixture_directory_gets_the_same_findings_from_the_cli() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures().join("rules"))
        .expect("rule fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.join("facts.json").exists())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() > 50,
        "found only {} fixture directories",
        dirs.len()
    );
    for dir in dirs {
        // Settings as the fixture tests read them, so a bad configuration shows here too.
        let _ = fixture_settings(&dir);
        assert_same(std::slice::from_ref(&dir), config_of(&dir).as_deref());
    }
}

#[test]
fn accuracy_fixtures_get_the_same_findings_from_the_cli_alone_and_together() {
    let dir = fixtures().join("accuracy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("accuracy fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "yaml")
                && !p.to_string_lossy().ends_with(".kedalint.yaml")
        })
        .collect();
    files.sort();
    for file in &files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let config = Some(dir.join(format!("{stem}.kedalint.yaml"))).filter(|c| c.is_file());
        assert_same(std::slice::from_ref(file), config.as_deref());
    }
    // Context in one file (monitors, Services, histogram queries) serving objects in another.
    assert_same(&files, None);
}

#[test]
fn the_examples_and_the_shared_corpus_get_the_same_findings_from_the_cli() {
    assert_same(&[workspace().join("examples")], None);
    if let Some(shared) = shared() {
        assert_same(&[shared.join("corpus")], None);
    }
}
