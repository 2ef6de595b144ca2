//! KL2xx behaviour that fixtures and snapshots do not show: fixes, spans, settings.

use crate::finding::{Finding, Severity};
use crate::lint::lint_text;
use crate::settings::{KedaVersion, Settings};

fn so(query_yaml: &str, extra: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n  namespace: default\nspec:\n  scaleTargetRef:\n    name: app\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://prometheus:9090\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n{extra}        query: {query_yaml}\n"
    )
}

fn lint(text: &str, settings: &Settings) -> Vec<Finding> {
    lint_text("so.yaml", text, settings).findings
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    let mut c: Vec<_> = findings
        .iter()
        .map(|f| f.code)
        .filter(|c| c.starts_with("KL2"))
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// Applies a finding's fix to the text.
fn apply(text: &str, f: &Finding) -> String {
    let mut edits = f.fix.as_ref().expect("a fix").edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = text.to_owned();
    for e in edits {
        out.replace_range(e.span.clone(), &e.replacement);
    }
    out
}

fn find<'a>(findings: &'a [Finding], code: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code} in {findings:#?}"))
}

#[test]
fn the_seed_query_at_the_default_scrape_is_too_short_and_the_fix_widens_only_the_range() {
    let text = so(
        "histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[1m])) by (le))",
        "",
    );
    let found = lint(&text, &Settings::default());
    let f = find(&found, "KL202");
    assert_eq!(&text[f.span.clone().unwrap()], "[1m]");
    assert!(
        f.message.contains("1m (Prometheus default)"),
        "{}",
        f.message
    );
    let fixed = apply(&text, f);
    assert!(
        fixed.contains("inference_latency_seconds_bucket[5m]"),
        "{fixed}"
    );
    assert!(!f.fix.as_ref().unwrap().changes_behaviour);
    assert!(!codes(&lint(&fixed, &Settings::default())).contains(&"KL202"));
}

#[test]
fn two_minutes_at_a_one_minute_scrape_is_below_recommended_only() {
    let text = so("sum(rate(x_total{job=\"a\"}[2m]))", "");
    assert_eq!(codes(&lint(&text, &Settings::default())), ["KL203"]);
}

#[test]
fn a_subquery_fix_keeps_the_step() {
    let text = so("deriv(sum(queue_length{job=\"a\"})[1m:30s])", "");
    let found = lint(&text, &Settings::default());
    let f = find(&found, "KL203");
    assert_eq!(&text[f.span.clone().unwrap()], "[1m:30s]");
    assert!(f.message.contains("subquery step 30s"), "{}", f.message);
    assert!(apply(&text, f).contains("[2m:30s]"));
}

#[test]
fn a_subquery_without_step_is_compared_with_the_default_evaluation_interval() {
    let text = so("deriv(sum(queue_length{job=\"a\"})[90s:])", "");
    let found = lint(&text, &Settings::default());
    let f = find(&found, "KL202");
    assert!(f.message.contains("no step given"), "{}", f.message);
    assert!(apply(&text, f).contains("[5m:]"));
}

#[test]
fn a_raw_selector_inside_a_subquery_is_compared_with_the_scrape_interval_not_the_step() {
    // At a 1m scrape, rate(x[30s]) is empty at every step of the subquery.
    let text = so("max_over_time(sum(rate(x_total[30s]))[10m:10s])", "");
    let found = lint(&text, &Settings::default());
    let f = find(&found, "KL202");
    assert_eq!(&text[f.span.clone().unwrap()], "[30s]");
    assert!(f.message.contains("scrape interval 1m"), "{}", f.message);
}

#[test]
fn a_window_in_a_block_scalar_is_underlined_where_it_is() {
    let text = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\nspec:\n  scaleTargetRef:\n    name: app\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://prometheus:9090\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n        query: |\n          sum(rate(a_total{job=\"a\"}[5m]))\n          /\n          sum(rate(b_total{job=\"a\"}[1m])) > 0\n";
    let found = lint(text, &Settings::default());
    let f = find(&found, "KL202");
    let span = f.span.clone().unwrap();
    assert_eq!(&text[span.clone()], "[1m]");
    assert!(text[..span.start].ends_with("b_total{job=\"a\"}"));
    let fixed = apply(text, f);
    assert!(fixed.contains("b_total{job=\"a\"}[5m]"), "{fixed}");
}

#[test]
fn a_scalar_fix_wraps_the_query_in_vector() {
    let text = so("scalar(sum(queue_length))", "");
    let found = lint(&text, &Settings::default());
    let fixed = apply(&text, find(&found, "KL207"));
    assert!(
        fixed.contains("query: vector(scalar(sum(queue_length)))\n"),
        "{fixed}"
    );
    assert!(!codes(&lint(&fixed, &Settings::default())).contains(&"KL207"));
}

#[test]
fn a_rate_interval_variable_becomes_a_concrete_window_from_the_scrape_interval() {
    let text = so("sum(rate(x_total{job=\"a\"}[$__rate_interval]))", "");
    let annotated = text.replace(
        "  namespace: default\n",
        "  namespace: default\n  annotations:\n    kedalint.io/scrape-interval: 15s\n",
    );
    let found = lint(&annotated, &Settings::default());
    let f = find(&found, "KL210");
    assert_eq!(&annotated[f.span.clone().unwrap()], "$__rate_interval");
    assert!(
        f.help
            .as_deref()
            .unwrap()
            .contains("1m (4 x the scrape interval 15s (annotation")
    );
    assert!(apply(&annotated, f).contains("[1m]"));
    assert!(!codes(&found).contains(&"KL201"));
}

#[test]
fn unsupported_syntax_is_info_unless_configured() {
    let text = so("sum(rate(x_total{job=\"a\"}[5m+1m]))", "");
    let found = lint(&text, &Settings::default());
    assert_eq!(find(&found, "KL201").severity, Severity::Info);
    let strict = Settings::from_yaml("c", "rules:\n  KL201: error\n").unwrap();
    assert_eq!(
        find(&lint(&text, &strict), "KL201").severity,
        Severity::Error
    );
    let invalid = so("sum(rate(x_total{job=\"a\"}[5m])", "");
    assert_eq!(
        find(&lint(&invalid, &Settings::default()), "KL201").severity,
        Severity::Error
    );
}

#[test]
fn nan_message_follows_the_keda_version() {
    let query = "histogram_quantile(0.95, sum(rate(x_seconds_bucket[5m])) by (le))";
    let version = |minor| Settings {
        keda_version: KedaVersion { major: 2, minor },
        keda_version_explicit: true,
        ..Settings::default()
    };
    let strict = so(query, "");
    let lenient = strict.replace("ignoreNullValues: \"false\"", "ignoreNullValues: \"true\"");
    let m = find(&lint(&lenient, &version(18)), "KL211").message.clone();
    assert!(m.contains("KEDA 2.18 passes NaN through"), "{m}");
    let m = find(&lint(&strict, &version(20)), "KL211").message.clone();
    assert!(m.contains("KEDA 2.20 fails the trigger"), "{m}");
    let m = find(&lint(&lenient, &Settings::default()), "KL211")
        .message
        .clone();
    assert!(m.contains("KEDA before 2.20 passes NaN through"), "{m}");
    assert!(m.contains("`kedaVersion` is not set"), "{m}");
    // 2.20 reads NaN as 0 itself: the guard would change nothing.
    assert!(!codes(&lint(&lenient, &version(20))).contains(&"KL211"));
}

#[test]
fn shapes_explained_by_kl206_or_kl207_do_not_also_get_kl204() {
    for (q, code) in [("x_total[5m]", "KL206"), ("scalar(x) + 1", "KL207")] {
        let c = codes(&lint(&so(q, ""), &Settings::default()));
        assert!(c.contains(&code), "{q}: {c:?}");
        assert!(!c.contains(&"KL204"), "{q}: {c:?}");
    }
}

// ----- property: mutated queries, in every scalar style, never panic the rules -------------------

const SEEDS: &[&str] = &[
    "histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[1m])) by (le))",
    "sum(rate(http_requests_total{job=\"api\"}[2m]))",
    "max_over_time(sum(rate(x_total[30s]))[10m:10s])",
    "deriv(sum(queue_length{job=\"a\"})[90s:])",
    "sum(topk(scalar(max(rate(y_total[45s]))), queue_length{queue=\"orders\"}))",
    "rate(sum(http_requests_total{job=\"api\"})[5m:30s])",
    "sum(rate(x_total{job=\"a\"}[$__rate_interval]))",
    "sum(rate(x_total{job=\"a\"}[5m+1m]))",
    "scalar(sum(queue_length))",
    "queue_length{queue='a'}[5m] offset 1m",
    "sum by (pod) (irate(x_total[1m])) / sum(rate(y_total[1m]))",
    "(histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m]))) >= 0) or vector(0)",
    "sum(mad_over_time(q[10m])) + limitk(2, z)",
    "sum(avg_over_time(x{a=\"é\u{1F600}\"}[30s]))",
    "sum(rate(a_total[1m]))\n/\nsum(rate(b_total[1m])) > 0",
];

use crate::test_rng::Rng;

fn mutate(rng: &mut Rng, query: &str) -> String {
    const PIECES: &[&str] = &[
        "[",
        "]",
        "(",
        ")",
        "[1m]",
        "[5m:30s]",
        "[1e30]",
        "$__interval",
        "'",
        "\"",
        "\\",
        "#",
        ": ",
        "\n",
        "  ",
        "{",
        "}",
        "irate",
        "sum by (pod) ",
        "scalar",
        "é",
        "\t",
        "1 + 1",
        "[0s]",
    ];
    let mut text = query.to_owned();
    for _ in 0..=rng.below(3) {
        let mut at = rng.below(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let piece = PIECES[rng.below(PIECES.len())];
        if rng.below(3) == 0 && at < text.len() {
            let mut end = (at + 1 + rng.below(4)).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(at..end, piece);
        } else {
            text.insert_str(at, piece);
        }
    }
    text
}

/// The query written as a YAML value in one of the scalar styles (`query: <value>`).
fn embed(rng: &mut Rng, query: &str) -> String {
    match rng.below(5) {
        0 => query.replace('\n', " "),
        1 => format!("'{}'", query.replace('\'', "''").replace('\n', " ")),
        2 => format!(
            "\"{}\"",
            query
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
                .replace('\t', "\\t")
        ),
        style => {
            let indicator = if style == 3 { "|" } else { ">" };
            let body: String = query.lines().map(|l| format!("          {l}\n")).collect();
            format!("{indicator}\n{body}")
        }
    }
}

#[test]
fn thousands_of_mutated_queries_never_panic_and_findings_stay_inside_the_file() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let versions = [18, 19, 20];
    let mut with_kl2 = 0;
    let mut fixes = 0;
    for round in 0..5_000 {
        let query = mutate(&mut rng, SEEDS[round % SEEDS.len()]);
        let value = embed(&mut rng, &query);
        let scrape = ["15s", "30s", "1m", "2m", "0s", "nonsense"][rng.below(6)];
        let extra = format!("  annotations:\n    kedalint.io/scrape-interval: {scrape}\n");
        let text = so(&value, "").replace(
            "  namespace: default\n",
            &format!("  namespace: default\n{extra}"),
        );
        let text = if rng.below(2) == 0 {
            text.replace("ignoreNullValues: \"false\"", "ignoreNullValues: \"true\"")
        } else {
            text
        };
        let settings = Settings {
            keda_version: KedaVersion {
                major: 2,
                minor: versions[rng.below(versions.len())],
            },
            keda_version_explicit: rng.below(2) == 0,
            ..Settings::default()
        };
        let findings = lint(&text, &settings);
        if findings.iter().any(|f| f.code.starts_with("KL2")) {
            with_kl2 += 1;
        }
        for f in &findings {
            if let Some(s) = &f.span {
                assert!(
                    s.start <= s.end && text.get(s.clone()).is_some(),
                    "{} span {s:?} outside {text:?}",
                    f.code
                );
            }
            let Some(fix) = &f.fix else { continue };
            for e in &fix.edits {
                assert!(
                    text.get(e.span.clone()).is_some(),
                    "{} edit {e:?} outside {text:?}",
                    f.code
                );
            }
            if matches!(f.code, "KL202" | "KL203") {
                // The edit replaces a duration with a longer one, and the file still lints.
                let old = &text[f.fix.as_ref().unwrap().edits[0].span.clone()];
                assert!(
                    crate::promql::parse_prom_duration(old).is_some()
                        || crate::promql::duration_token_value(old).is_some(),
                    "{} replaced {old:?} in {text:?}",
                    f.code
                );
                let fixed = apply(&text, f);
                let again = lint(&fixed, &settings);
                let before = findings.iter().filter(|g| g.code == "KL202").count();
                let after = again.iter().filter(|g| g.code == "KL202").count();
                assert!(after <= before, "fix added KL202s: {fixed:?}");
                fixes += 1;
            }
        }
    }
    // The mutations must leave enough live queries for the checks to mean something.
    assert!(with_kl2 > 2_000, "only {with_kl2} texts had KL2xx findings");
    assert!(fixes > 80, "only {fixes} window fixes applied");
}
