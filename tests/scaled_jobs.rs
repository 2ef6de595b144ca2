//! ScaledJobs carry the same Prometheus triggers as ScaledObjects. Every trigger rule finds on a
//! ScaledJob what it finds on a ScaledObject (`tests/fixtures/scaledjobs/` holds the ScaledJob
//! twin of each rule's fixtures, written by `scripts/scaledjob-fixtures.py`), the rules about the
//! HPA's arithmetic stay silent on ScaledJobs, and the field checks read a ScaledJob's own spec.

use std::path::Path;

use kedalint_rules::registry::Group;
use kedalint_rules::{Finding, RULES, RuleInfo};
use kedalint_tests::{fixture_facts, fixture_settings, fixtures, lint_path, lint_path_with_facts};

/// Findings of `rule` in `file`, linted with the settings and facts of the rule's fixture
/// directory, as (path, message) with the object's kind left out of the message.
fn findings_of(rule: &RuleInfo, file: &Path) -> Vec<(String, String)> {
    let dir = fixtures().join("rules").join(rule.code);
    let linted = lint_path_with_facts(file, &fixture_settings(&dir), fixture_facts(&dir));
    let mut out: Vec<_> = linted
        .report
        .findings
        .iter()
        .filter(|f| f.code == rule.code)
        .map(|f: &Finding| {
            (
                f.path.to_string(),
                f.message.replace("ScaledJob", "ScaledObject"),
            )
        })
        .collect();
    out.sort();
    out
}

fn trigger_and_scaling_rules() -> impl Iterator<Item = &'static RuleInfo> {
    RULES.iter().filter(|r| {
        matches!(
            r.group(),
            Group::Metadata | Group::Promql | Group::Scaling | Group::Live
        ) && Path::new(&fixtures().join("scaledjobs").join(r.code)).is_dir()
    })
}

#[test]
fn every_trigger_rule_finds_on_a_scaled_job_what_it_finds_on_the_scaled_object() {
    let mut problems = Vec::new();
    let mut compared = Vec::new();
    for rule in trigger_and_scaling_rules() {
        if !rule
            .applies
            .covers(kedalint_rules::model::ScaleKind::ScaledJob)
        {
            continue;
        }
        for fixture in ["fires.yaml", "silent.yaml"] {
            let object = findings_of(
                rule,
                &fixtures().join("rules").join(rule.code).join(fixture),
            );
            let job = findings_of(
                rule,
                &fixtures().join("scaledjobs").join(rule.code).join(fixture),
            );
            if fixture == "fires.yaml" && job.is_empty() {
                problems.push(format!(
                    "{}: silent on the ScaledJob twin of fires.yaml",
                    rule.code
                ));
            } else if object != job {
                problems.push(format!(
                    "{} {fixture}: ScaledObject {object:#?}\nScaledJob {job:#?}",
                    rule.code
                ));
            }
        }
        compared.push(rule.code);
    }
    // Every KL1xx and KL2xx rule, and the live KL4xx rules that read a trigger (those about a
    // ScaledObject's HPA and status, KL412-KL419, apply to ScaledObjects only).
    for rule in RULES {
        if matches!(rule.group(), Group::Metadata | Group::Promql | Group::Live)
            && rule
                .applies
                .covers(kedalint_rules::model::ScaleKind::ScaledJob)
        {
            assert!(
                compared.contains(&rule.code),
                "{} was not compared",
                rule.code
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rules_about_the_hpa_are_silent_on_scaled_jobs() {
    let mut hpa_only = Vec::new();
    for rule in trigger_and_scaling_rules() {
        if rule
            .applies
            .covers(kedalint_rules::model::ScaleKind::ScaledJob)
        {
            continue;
        }
        let object = findings_of(
            rule,
            &fixtures().join("rules").join(rule.code).join("fires.yaml"),
        );
        assert!(
            !object.is_empty(),
            "{} does not fire on its own fixture",
            rule.code
        );
        let job = findings_of(
            rule,
            &fixtures()
                .join("scaledjobs")
                .join(rule.code)
                .join("fires.yaml"),
        );
        assert!(
            job.is_empty(),
            "{} fires on a ScaledJob: {job:#?}",
            rule.code
        );
        hpa_only.push(rule.code);
    }
    // KL301-KL305, KL307-KL311, KL313, KL314: the HPA's arithmetic, activation, fallback, formulas.
    for code in [
        "KL301", "KL302", "KL303", "KL307", "KL308", "KL310", "KL314",
    ] {
        assert!(
            hpa_only.contains(&code),
            "{code} should be ScaledObject-only: {hpa_only:?}"
        );
    }
}

#[test]
fn a_clean_scaled_job_has_no_finding() {
    let linted = lint_path(
        &fixtures().join("scaledjobs").join("clean.yaml"),
        &Default::default(),
    );
    assert_eq!(linted.report.objects, 1);
    assert!(
        linted.report.findings.is_empty(),
        "{:#?}",
        linted.report.findings
    );
}

#[test]
fn the_field_checks_know_a_scaled_jobs_spec() {
    let linted = lint_path(
        &fixtures().join("scaledjobs").join("fields.yaml"),
        &Default::default(),
    );
    let mut got: Vec<(&str, String)> = linted
        .report
        .findings
        .iter()
        .filter(|f| matches!(f.code, "KL004" | "KL005"))
        .map(|f| (f.code, f.path.to_string()))
        .collect();
    got.sort();
    let want = [
        ("KL004", "spec.jobTargetRef"),
        ("KL004", "spec.jobTargetRef.parallelism"),
        ("KL004", "spec.pollingInterval"),
        (
            "KL004",
            "spec.scalingStrategy.customScalingRunningJobPercentage",
        ),
        ("KL004", "spec.scalingStrategy.strategy"),
        ("KL004", "spec.successfulJobsHistoryLimit"),
        ("KL004", "spec.triggers"),
        ("KL004", "spec.triggers[0].metadata.threshold"),
        ("KL005", "spec.jobTargetRef.backofLimit"),
        ("KL005", "spec.rollout.propogationPolicy"),
        ("KL005", "spec.scaleTargetRef"),
        ("KL005", "spec.scalingStrategy.multipleScalersCalculaton"),
        ("KL005", "spec.triggers[0].metadata.ignoreNullValue"),
    ];
    let want: Vec<(&str, String)> = want.iter().map(|(c, p)| (*c, (*p).to_owned())).collect();
    assert_eq!(got, want, "{:#?}", linted.report.findings);
    let message = |path: &str| {
        linted
            .report
            .findings
            .iter()
            .find(|f| f.path.to_string() == path)
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    // In the API server's own words.
    assert!(message("spec.scalingStrategy.strategy").contains(
        "Unsupported value: \"Accurate\": supported values: \"default\", \"custom\", \"accurate\", \"eager\""
    ));
    assert!(
        message("spec.successfulJobsHistoryLimit").contains("should be greater than or equal to 0")
    );
    assert!(message("spec.jobTargetRef").contains("spec.jobTargetRef.template: Required value"));
    assert!(message("spec.triggers").contains("should have at least 1 items"));
    assert!(message("spec.scaleTargetRef").contains("jobTargetRef"));
}

#[test]
fn before_keda_2_20_the_crd_lets_an_unknown_strategy_through_and_keda_uses_the_default() {
    let settings = kedalint_rules::Settings {
        keda_version: kedalint_rules::KedaVersion::parse("2.18").expect("version"),
        ..Default::default()
    };
    let linted = lint_path(
        &fixtures().join("scaledjobs").join("fields.yaml"),
        &settings,
    );
    let strategy = linted
        .report
        .findings
        .iter()
        .find(|f| f.path.to_string() == "spec.scalingStrategy.strategy")
        .expect("strategy finding");
    assert!(
        strategy.message.contains("KEDA 2.18's CRD lets it through")
            && strategy.message.contains("`default` strategy"),
        "{}",
        strategy.message
    );
}
