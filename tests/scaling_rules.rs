//! KL3xx behaviour beyond the per-rule fixtures: the example that started kedalint, KEDA
//! versions, trigger snippets, fixes and the KEDA quirks the rules mirror.

use kedalint_rules::{Finding, Settings, Severity, lint_text};
use kedalint_tests::{lint_path, workspace};

fn so(spec: &str, triggers: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: web\nspec:\n  scaleTargetRef:\n    name: web\n{spec}  triggers:\n{triggers}"
    )
}

fn prom(query: &str, threshold: &str, extra: &str) -> String {
    format!(
        "    - type: prometheus\n{extra}      metadata:\n        serverAddress: http://prometheus.monitoring.svc:9090\n        query: {query}\n        threshold: \"{threshold}\"\n        ignoreNullValues: \"false\"\n"
    )
}

const P95: &str = "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{app=\"web\"}[5m])) by (le))";
const RATE: &str = "sum(rate(http_requests_total{app=\"web\"}[5m]))";

fn findings(text: &str, settings: &Settings, code: &str) -> Vec<Finding> {
    lint_text("so.yaml", text, settings)
        .findings
        .into_iter()
        .filter(|f| f.code == code)
        .collect()
}

fn settings(yaml: &str) -> Settings {
    Settings::from_yaml(".kedalint.yaml", yaml).expect("settings")
}

#[test]
fn the_inference_p95_example_gets_the_average_value_and_scale_from_zero_findings() {
    let linted = lint_path(
        &workspace().join("examples/inference-p95-latency.yaml"),
        &Settings::default(),
    );
    let f = &linted.report.findings;
    let kl301 = f.iter().find(|f| f.code == "KL301").expect("KL301");
    // The HPA arithmetic with the manifest's own threshold, an illustrative value, and the fix.
    for part in [
        "ceil(0.7 / 0.350) = 2 replicas",
        "whether 2 or 10 are running",
        "illustrative",
        "metricType: Value",
    ] {
        assert!(
            kl301.message.contains(part),
            "{part:?} in {}",
            kl301.message
        );
    }
    let kl308 = f.iter().find(|f| f.code == "KL308").expect("KL308");
    for part in [
        "minReplicaCount is unset (KEDA's default is 0)",
        "inference_latency_seconds_bucket",
        "activationThreshold 0.200",
        "never scales up again",
    ] {
        assert!(
            kl308.message.contains(part),
            "{part:?} in {}",
            kl308.message
        );
    }
    assert!(
        kl308
            .help
            .as_deref()
            .unwrap_or("")
            .contains("minReplicaCount: 1")
    );
}

#[test]
fn the_clean_example_has_no_scaling_finding() {
    let linted = lint_path(
        &workspace().join("examples/clean-queue-backlog.yaml"),
        &Settings::default(),
    );
    let kl3: Vec<_> = linted
        .report
        .findings
        .iter()
        .filter(|f| f.code.starts_with("KL3"))
        .map(|f| format!("{} {}", f.code, f.message))
        .collect();
    assert!(kl3.is_empty(), "{kl3:?}");
}

#[test]
fn a_quantile_over_time_of_a_sum_is_still_an_additive_total() {
    let text = so(
        "  minReplicaCount: 1\n",
        &prom(
            "quantile_over_time(0.95, sum(rate(http_requests_total{app=\"web\"}[5m]))[15m:1m])",
            "100",
            "",
        ),
    );
    assert!(findings(&text, &Settings::default(), "KL301").is_empty());
    let avg = so(
        "  minReplicaCount: 1\n",
        &prom(
            "avg(rate(http_requests_total{app=\"web\"}[5m])) * 60",
            "100",
            "",
        ),
    );
    assert_eq!(findings(&avg, &Settings::default(), "KL301").len(), 1);
}

#[test]
fn scaling_modifiers_take_the_per_trigger_metric_type_out_of_play() {
    let text = so(
        "  minReplicaCount: 1\n  advanced:\n    scalingModifiers:\n      formula: \"latency * 10\"\n      target: \"5\"\n",
        &prom(P95, "0.35", "      name: latency\n"),
    );
    let s = Settings::default();
    assert!(findings(&text, &s, "KL301").is_empty());
    assert!(findings(&text, &s, "KL313").is_empty());
}

#[test]
fn a_trigger_snippet_does_not_count_unwritten_spec_fields_as_defaults() {
    let snippet = format!(
        "- type: prometheus\n  metadata:\n    serverAddress: http://prometheus.monitoring.svc:9090\n    query: {P95}\n    threshold: \"0.35\"\n    activationThreshold: \"0.1\"\n"
    );
    let report = lint_text("snippet.yaml", &snippet, &Settings::default());
    let codes: Vec<_> = report.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&"KL301"), "{codes:?}");
    assert!(
        !codes.contains(&"KL308") && !codes.contains(&"KL305"),
        "{codes:?}"
    );
}

#[test]
fn a_queue_trigger_or_a_floor_of_one_replica_prevents_the_scale_from_zero_deadlock() {
    let s = Settings::default();
    let latency = prom(P95, "0.35", "      metricType: Value\n");
    assert_eq!(findings(&so("", &latency), &s, "KL308").len(), 1);
    assert!(findings(&so("  minReplicaCount: 1\n", &latency), &s, "KL308").is_empty());
    let with_queue = format!(
        "{latency}{}",
        prom(
            "sum(rabbitmq_queue_messages_ready{queue=\"jobs\"})",
            "20",
            ""
        )
    );
    assert!(findings(&so("", &with_queue), &s, "KL308").is_empty());
    // idleReplicaCount 0 is a floor of zero too.
    let idle = findings(
        &so("  idleReplicaCount: 0\n  minReplicaCount: 1\n", &latency),
        &s,
        "KL308",
    );
    assert_eq!(idle.len(), 1);
    assert!(idle[0].message.contains("idleReplicaCount is 0"));
}

#[test]
fn messages_say_which_keda_version_they_assume() {
    let latency = so(
        "",
        &prom(P95, "0.35", "      metricType: Value\n")
            .replace("        ignoreNullValues: \"false\"\n", ""),
    );
    let new = findings(&latency, &Settings::default(), "KL308");
    assert!(
        new[0]
            .message
            .contains("KEDA 2.20 reads an empty result or NaN as 0"),
        "{}",
        new[0].message
    );
    let old = findings(&latency, &settings("kedaVersion: \"2.18\"\n"), "KL308");
    assert!(
        old[0].message.contains("KEDA 2.18") && old[0].message.contains("NaN through"),
        "{}",
        old[0].message
    );

    let bounds = so(
        "  minReplicaCount: 5\n  maxReplicaCount: 3\n",
        &prom(RATE, "100", ""),
    );
    let new = findings(&bounds, &Settings::default(), "KL311");
    assert!(
        new[0].message.contains("KEDA 2.20's webhook rejects"),
        "{}",
        new[0].message
    );
    let old = findings(&bounds, &settings("kedaVersion: \"2.18\"\n"), "KL311");
    assert!(
        old[0]
            .message
            .contains("KEDA 2.18 accepts it, then marks the ScaledObject not Ready"),
        "{}",
        old[0].message
    );
}

#[test]
fn idle_replica_count_follows_kedas_check_where_an_explicit_min_of_zero_counts_as_one() {
    let s = Settings::default();
    let t = prom(RATE, "100", "");
    assert!(
        findings(
            &so("  idleReplicaCount: 0\n  minReplicaCount: 0\n", &t),
            &s,
            "KL311"
        )
        .is_empty()
    );
    assert_eq!(
        findings(&so("  idleReplicaCount: 0\n", &t), &s, "KL311").len(),
        1
    );
    assert_eq!(
        findings(
            &so("  idleReplicaCount: 2\n  minReplicaCount: 2\n", &t),
            &s,
            "KL311"
        )
        .len(),
        1
    );
}

#[test]
fn a_negative_activation_threshold_is_a_warning_unless_configured() {
    let text = so(
        "  minReplicaCount: 1\n",
        &prom(RATE, "100", "").replace(
            "        ignoreNullValues",
            "        activationThreshold: \"-1\"\n        ignoreNullValues",
        ),
    );
    let default = findings(&text, &Settings::default(), "KL307");
    assert_eq!(default.len(), 1);
    assert_eq!(default[0].severity, Severity::Warning);
    let configured = findings(&text, &settings("rules:\n  KL307: error\n"), "KL307");
    assert_eq!(configured[0].severity, Severity::Error);
}

#[test]
fn a_lowercase_metric_type_has_a_fix_that_keeps_behaviour() {
    let text = so(
        "  minReplicaCount: 1\n",
        &prom(RATE, "100", "      metricType: averagevalue\n"),
    );
    let f = findings(&text, &Settings::default(), "KL310");
    let fix = f[0].fix.as_ref().expect("fix");
    assert!(!fix.changes_behaviour);
    assert_eq!(fix.edits.len(), 1);
    assert_eq!(&text[fix.edits[0].span.clone()], "averagevalue");
    assert_eq!(fix.edits[0].replacement, "AverageValue");
    let utilization = so(
        "  minReplicaCount: 1\n",
        &prom(RATE, "100", "      metricType: Utilization\n"),
    );
    assert!(
        findings(&utilization, &Settings::default(), "KL310")[0]
            .fix
            .is_none()
    );
}

#[test]
fn a_formula_cannot_name_a_cpu_trigger() {
    let text = so(
        "  minReplicaCount: 1\n  advanced:\n    scalingModifiers:\n      formula: \"load + cpu_use\"\n      target: \"10\"\n",
        &format!(
            "{}    - type: cpu\n      name: cpu_use\n      metricType: Utilization\n      metadata:\n        value: \"70\"\n",
            prom(RATE, "100", "      name: load\n")
        ),
    );
    let f = findings(&text, &Settings::default(), "KL313");
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("cpu or memory"), "{}", f[0].message);
}

#[test]
fn slow_reaction_sums_the_terms_and_names_the_largest() {
    let text = so(
        "  minReplicaCount: 1\n  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleUp:\n          stabilizationWindowSeconds: 300\n",
        &prom(RATE, "100", ""),
    );
    let f = findings(
        &text,
        &settings("reactionBudget: 2m\nscrapeInterval: 30s\n"),
        "KL314",
    );
    assert_eq!(f.len(), 1);
    let m = &f[0].message;
    for part in [
        "≈ 10m45s",
        "30s scrape interval",
        "5m query window `[5m]`",
        "15s HPA sync period",
        "5m scale-up stabilization",
        "largest term",
    ] {
        assert!(m.contains(part), "{part:?} in {m}");
    }
    assert!(
        findings(&text, &Settings::default(), "KL314").is_empty(),
        "off without a budget"
    );
}
