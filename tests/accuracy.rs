//! Defects found by linting real manifests nobody here wrote, each with the case that was wrong
//! and its neighbours that must not change.
//!
//! Every file in `tests/fixtures/accuracy/` is named after the rule it is about
//! (`KL305-idle-replica-count.yaml`); its objects are named after what they expect:
//! `fires-…` must get that rule (`fires-info-…`, `fires-warning-…`, `fires-error-…` also at that
//! severity), `silent-…` must not. A file may hold a `.kedalint.yaml` beside it under the same
//! stem (`KL202-service-monitor.kedalint.yaml`) and context documents (Services, monitors) that
//! are not ScaledObjects.

use std::collections::BTreeMap;
use std::path::Path;

use kedalint_rules::{Finding, Settings, Severity};
use kedalint_tests::{fixtures, lint_path};

/// Findings per ScaledObject name.
fn findings_by_object(path: &Path, settings: &Settings) -> BTreeMap<String, Vec<Finding>> {
    let linted = lint_path(path, settings);
    let mut out: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in linted.report.findings {
        let name = f
            .object
            .as_ref()
            .and_then(|o| o.name.clone())
            .unwrap_or_default();
        out.entry(name).or_default().push(f);
    }
    out
}

/// Object names of a fixture (every `metadata: name:` of a ScaledObject), in order.
fn scaled_object_names(text: &str) -> Vec<String> {
    text.split("\n---")
        .filter(|d| d.contains("kind: ScaledObject"))
        .filter_map(|d| {
            let at = d.find("metadata:")?;
            let rest = &d[at..];
            let name = rest.find("name:")?;
            Some(
                rest[name + 5..]
                    .lines()
                    .next()?
                    .trim()
                    .trim_end_matches('}')
                    .trim_end_matches(',')
                    .trim()
                    .to_owned(),
            )
        })
        .collect()
}

fn expected_severity(name: &str) -> Option<Severity> {
    let rest = name.strip_prefix("fires-")?;
    ["error", "warning", "info"]
        .into_iter()
        .find(|s| rest.starts_with(&format!("{s}-")))
        .and_then(Severity::parse)
}

#[test]
fn each_defect_fixture_fires_where_it_was_wrong_and_stays_silent_on_its_neighbours() {
    let dir = fixtures().join("accuracy");
    let mut problems = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/accuracy")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yaml")
                && !p.to_string_lossy().ends_with(".kedalint.yaml")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let code = stem.split('-').next().unwrap().to_owned();
        let config = dir.join(format!("{stem}.kedalint.yaml"));
        let settings = if config.is_file() {
            Settings::from_yaml(
                &config.display().to_string(),
                &std::fs::read_to_string(&config).unwrap(),
            )
            .unwrap()
        } else {
            Settings::default()
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let names = scaled_object_names(&text);
        assert!(!names.is_empty(), "{stem}: no ScaledObject");
        let found = findings_by_object(&path, &settings);
        for name in names {
            let hits: Vec<&Finding> = found
                .get(&name)
                .map(|v| v.iter().filter(|f| f.code == code).collect())
                .unwrap_or_default();
            if name.starts_with("fires-") {
                if hits.is_empty() {
                    problems.push(format!(
                        "{stem}: {name} did not get {code}; got {:?}",
                        found
                            .get(&name)
                            .map(|v| v.iter().map(|f| f.code).collect::<Vec<_>>())
                    ));
                } else if let Some(s) = expected_severity(&name)
                    && hits.iter().any(|f| f.severity != s)
                {
                    problems.push(format!(
                        "{stem}: {name} got {code} at {} instead of {s}: {}",
                        hits[0].severity, hits[0].message
                    ));
                }
            } else if let Some(f) = hits.first() {
                problems.push(format!("{stem}: {name} got {code}: {}", f.message));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
