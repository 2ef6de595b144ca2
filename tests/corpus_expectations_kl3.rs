//! The KL3xx findings on every ScaledObject file of the shared corpus match
//! tests/corpus/expectations-kl3xx.txt, where each line says why (and where the project
//! differs from ../shared/corpus/INDEX.md).
//!
//! Each file is linted together with the monitoring file of ../shared/corpus/prometheus that
//! shares its name prefix (the pairs of INDEX.md §2), so the scrape interval it states is used.
//! `KEDALINT_PRINT_KL3=1` prints the actual lines instead of comparing, to review a change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kedalint_rules::{Settings, SourceFile, lint_files};
use kedalint_tests::{shared, workspace};

/// `file: CODES # why` lines; `-` for no KL3xx finding.
fn expectations() -> BTreeMap<String, BTreeSet<String>> {
    let path = workspace().join("tests/corpus/expectations-kl3xx.txt");
    let text = std::fs::read_to_string(&path).expect("expectations-kl3xx.txt");
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (file, codes) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("line {}: expected `file: CODES`", n + 1));
        let codes = codes
            .split([',', ' '])
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "-")
            .map(str::to_owned)
            .collect();
        assert!(
            out.insert(file.trim().to_owned(), codes).is_none(),
            "line {}: {} listed twice",
            n + 1,
            file.trim()
        );
    }
    out
}

/// The first dash-separated word of a file name: the pairing key of INDEX.md §2.
fn prefix(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split('-').next().unwrap_or(name).to_owned()
}

fn source(path: &Path) -> SourceFile {
    SourceFile::new(
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned(),
        String::from_utf8_lossy(&std::fs::read(path).expect("read")).into_owned(),
    )
}

fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    files
}

#[test]
fn kl3xx_findings_on_the_corpus_match_the_recorded_expectations() {
    let Some(shared) = shared() else {
        eprintln!(
            "SKIPPED: ../shared/corpus is absent; the KL3xx corpus expectations were not checked"
        );
        return;
    };
    let corpus = shared.join("corpus");
    let monitoring = yaml_files(&corpus.join("prometheus"));
    let expected = expectations();
    let print = std::env::var_os("KEDALINT_PRINT_KL3").is_some();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for path in yaml_files(&corpus.join("scaledobjects")) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        let mut sources = vec![source(&path)];
        sources.extend(
            monitoring
                .iter()
                .filter(|m| prefix(m) == prefix(&path))
                .map(|m| source(m)),
        );
        let reports = lint_files(sources, &Settings::default());
        let findings = &reports[0].findings;
        let actual: BTreeSet<String> = findings
            .iter()
            .filter(|f| f.code.starts_with("KL3"))
            .map(|f| f.code.to_owned())
            .collect();
        seen.insert(name.clone());
        if print {
            let codes = if actual.is_empty() {
                "-".to_owned()
            } else {
                actual.iter().cloned().collect::<Vec<_>>().join(" ")
            };
            println!("{name}: {codes}");
            for f in findings.iter().filter(|f| f.code.starts_with("KL3")) {
                println!("    {} {}: {}", f.code, f.path, f.message);
            }
            continue;
        }
        match expected.get(&name) {
            None => problems.push(format!(
                "{name}: no line in expectations-kl3xx.txt (actual: {actual:?})"
            )),
            Some(want) if *want != actual => problems.push(format!(
                "{name}: expected {want:?}, got {actual:?}: {}",
                findings
                    .iter()
                    .filter(|f| f.code.starts_with("KL3"))
                    .map(|f| format!("{} {}", f.code, f.message))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )),
            Some(_) => {}
        }
    }
    for name in expected.keys().filter(|n| !seen.contains(*n)) {
        problems.push(format!("{name}: listed but not in the corpus"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
