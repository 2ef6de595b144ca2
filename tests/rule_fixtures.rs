//! Every rule has a fixture that must trigger it and one that must not, and a snapshot of its
//! rendered diagnostic (miette, unicode without colour, width 80) so a reviewer sees what a
//! user sees.

use kedalint_rules::RULES;
use kedalint_tests::{fixture_facts, fixture_settings, fixtures, lint_path, lint_path_with_facts};
use kubectl_kedalint::render::human::{Style, render_finding};

#[test]
fn every_rule_fires_on_its_fixture_and_stays_silent_on_the_clean_one() {
    let mut problems = Vec::new();
    for rule in RULES {
        let dir = fixtures().join("rules").join(rule.code);
        let (fires, silent) = (dir.join("fires.yaml"), dir.join("silent.yaml"));
        if !fires.is_file() || !silent.is_file() {
            problems.push(format!(
                "{}: missing {} or {}",
                rule.code,
                fires.display(),
                silent.display()
            ));
            continue;
        }
        let settings = fixture_settings(&dir);
        // KL4xx fixtures carry what online checks would have learned (`facts.json`).
        let facts = fixture_facts(&dir);
        let fired = lint_path_with_facts(&fires, &settings, facts.clone());
        let hits: Vec<_> = fired
            .report
            .findings
            .iter()
            .filter(|f| f.code == rule.code)
            .collect();
        if hits.is_empty() {
            problems.push(format!(
                "{}: fires.yaml did not trigger it; got {:?}",
                rule.code,
                fired
                    .report
                    .findings
                    .iter()
                    .map(|f| f.code)
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        let quiet = lint_path_with_facts(&silent, &settings, facts);
        if let Some(f) = quiet.report.findings.iter().find(|f| f.code == rule.code) {
            problems.push(format!(
                "{}: silent.yaml triggered it: {}",
                rule.code, f.message
            ));
        }
        let rendered: String = hits
            .iter()
            .map(|f| render_finding(&fired, f, Style::default()))
            .collect::<Vec<_>>()
            .join("\n");
        insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(rule.code, rendered);
        });
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_broken_document_is_reported_with_its_line_and_the_next_document_is_still_linted() {
    let dir = fixtures().join("rules").join("KL001");
    let linted = lint_path(&dir.join("fires.yaml"), &Default::default());
    let kl001 = linted
        .report
        .findings
        .iter()
        .find(|f| f.code == "KL001")
        .expect("KL001");
    let (line, _) = linted
        .file
        .line_col(kl001.span.clone().expect("span").start);
    assert!((20..=22).contains(&line), "KL001 at line {line}");
    assert_eq!(kl001.document, 1);
    // The third document's bad threshold is still found.
    assert!(
        linted
            .report
            .findings
            .iter()
            .any(|f| f.code == "KL102" && f.document == 2)
    );
}
