//! The KL2xx findings on every ScaledObject of the shared corpus match a reviewed expectations
//! file (tests/corpus/expectations-kl2xx.txt), one line per corpus file with the reason, and where
//! it differs from the corpus's own INDEX.md. Each ScaledObject is linted together with the
//! Prometheus configuration or ServiceMonitor that INDEX.md §2 pairs it with, so the scrape
//! interval those state is the one the window rules use.

use std::collections::BTreeMap;
use std::path::Path;

use kedalint_rules::{Settings, SourceFile, lint_files};
use kedalint_tests::{shared, workspace};

/// INDEX.md §2: ScaledObject file-name prefix -> the file under corpus/prometheus it pairs with.
const PAIRS: &[(&str, &str)] = &[
    ("abhirockzz", "abhirockzz-prometheus.yaml"),
    ("aiops-sre-lab", "aiops-sre-lab-servicemonitor.yaml"),
    (
        "keda-e2e-prometheus",
        "keda-e2e-prometheus-server-configmap.yaml",
    ),
    (
        "kubeflow01",
        "kubeflow01-prometheus-inference-fast-scrape.yaml",
    ),
    ("rbaumgar", "rbaumgar-openshift-servicemonitor.yaml"),
    (
        "supersonic",
        "supersonic-bundled-prometheus-values-excerpt.yaml",
    ),
    ("thegsgs", "thegsgs-servicemonitor-no-interval.yaml"),
];

fn source(path: &Path) -> SourceFile {
    let text =
        String::from_utf8_lossy(&std::fs::read(path).expect("read corpus file")).into_owned();
    SourceFile::new(path.display().to_string(), text)
}

/// `file -> codes` from the expectations file.
fn expectations() -> BTreeMap<String, Vec<String>> {
    let path = workspace().join("tests/corpus/expectations-kl2xx.txt");
    let text = std::fs::read_to_string(&path).expect("expectations-kl2xx.txt");
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (file, codes) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("line {}: expected `file: CODES # why`", i + 1));
        let mut codes: Vec<String> = codes.split_whitespace().map(str::to_owned).collect();
        codes.sort();
        assert!(
            out.insert(file.trim().to_owned(), codes).is_none(),
            "line {}: {file} listed twice",
            i + 1
        );
    }
    out
}

#[test]
fn kl2xx_findings_on_the_corpus_match_the_reviewed_expectations() {
    let Some(shared) = shared() else {
        eprintln!(
            "SKIPPED: ../shared/corpus is absent; the KL2xx corpus expectations were not checked"
        );
        return;
    };
    let corpus = shared.join("corpus");
    let mut files: Vec<_> = std::fs::read_dir(corpus.join("scaledobjects"))
        .expect("corpus/scaledobjects")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let expected = expectations();
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let mut sources = vec![source(path)];
        for (prefix, paired) in PAIRS {
            if name.starts_with(prefix) {
                sources.push(source(&corpus.join("prometheus").join(paired)));
            }
        }
        let report = lint_files(sources, &Settings::default()).swap_remove(0);
        let mut codes: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.code.starts_with("KL2"))
            .map(|f| f.code.to_owned())
            .collect();
        codes.sort();
        codes.dedup();
        match expected.get(&name) {
            None => problems.push(format!(
                "{name}: not in the expectations file; found {codes:?}"
            )),
            Some(want) if *want != codes => {
                problems.push(format!("{name}: expected {want:?}, found {codes:?}"));
            }
            Some(_) => {}
        }
        seen.push(name);
    }
    for name in expected.keys() {
        if !seen.contains(name) {
            problems.push(format!(
                "{name}: in the expectations file but not in the corpus"
            ));
        }
    }
    assert!(
        files.len() >= 50,
        "only {} corpus ScaledObjects",
        files.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
