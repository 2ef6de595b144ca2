//! Online mode against a real Prometheus (the Debian 2.42 binary, started by the test with a
//! scrape target the test serves) and small stand-in servers for what is not Prometheus. Each
//! KL4xx finding is shown by running the CLI as a user does: `--online --format json`.
//! Skipped with a visible message when /usr/bin/prometheus is missing, except in CI
//! (`KEDALINT_REQUIRE_PROMETHEUS=1`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use kedalint_tests::live::{Prometheus, closed_port, serve, slow_proxy};
use kedalint_tests::run_cli;
use serde_json::Value;

fn scaled_object(name: &str, address: &str, query: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  scaleTargetRef:\n    name: {name}\n  minReplicaCount: 1\n  triggers:\n    - type: prometheus\n      metricType: Value\n      metadata:\n        serverAddress: {address}\n        query: '{query}'\n        ignoreNullValues: \"false\"\n{extra}"
    )
}

fn threshold(t: &str) -> String {
    format!("        threshold: \"{t}\"\n")
}

/// Runs `kubectl kedalint --online --format json` on `yaml`; returns the JSON, the stderr and
/// how long it took.
fn lint_online(yaml: &str) -> (Value, String, Duration, i32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("so.yaml");
    std::fs::write(&file, yaml).expect("write");
    let start = Instant::now();
    let out = run_cli(
        &[
            "--online",
            "--format",
            "json",
            file.to_str().expect("utf-8"),
        ],
        None,
        dir.path(),
    );
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "JSON output: {e}\n{stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
        out.status.code().unwrap_or(-1),
    )
}

/// The findings of one object, as (code, message, help).
fn findings_of(json: &Value, object: &str) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["object"]["name"] == object)
        .map(|f| {
            (
                f["code"].as_str().unwrap_or("").to_owned(),
                f["message"].as_str().unwrap_or("").to_owned(),
                f["help"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn finding<'a>(
    all: &'a [(String, String, String)],
    code: &str,
    object: &str,
) -> &'a (String, String, String) {
    all.iter()
        .find(|f| f.0 == code)
        .unwrap_or_else(|| panic!("{object}: no {code} in {all:#?}"))
}

fn live_codes(all: &[(String, String, String)]) -> Vec<&str> {
    all.iter()
        .map(|f| f.0.as_str())
        .filter(|c| c.starts_with("KL4"))
        .collect()
}

#[test]
fn every_live_check_reports_against_a_real_prometheus_and_stand_in_servers() {
    let Some(prom) = Prometheus::start() else {
        return;
    };
    let url = prom.url();
    // Stand-ins: a 404 page, an HTML page, a login wall, and a proxy that answers late.
    let not_found = serve(Arc::new(|_: &str| {
        (
            404,
            "text/html",
            "<html><body>404 page not found</body></html>".to_owned(),
            Duration::ZERO,
        )
    }));
    let html = serve(Arc::new(|_: &str| {
        (
            200,
            "text/html",
            "<!doctype html><title>Grafana</title>".to_owned(),
            Duration::ZERO,
        )
    }));
    let login = serve(Arc::new(|_: &str| {
        (401, "text/plain", "Unauthorized".to_owned(), Duration::ZERO)
    }));
    let slow = slow_proxy(prom.addr, Duration::from_millis(900), "vector%281%29");
    let refused = format!("http://127.0.0.1:{}", closed_port());

    let t = threshold("5");
    let yaml = [
        scaled_object(
            "ok",
            &url,
            "sum(rate(demo_requests_total{job=\"demo\"}[10s]))",
            &t,
        ),
        scaled_object(
            "empty",
            &url,
            "sum(rate(demo_requests_total{job=\"demo\"}[1s]))",
            &t,
        ),
        scaled_object("many", &url, "demo_gauge", &t),
        scaled_object(
            "nan",
            &url,
            "histogram_quantile(0.95, sum(rate(demo_frozen_seconds_bucket[10s])) by (le))",
            &threshold("0.5"),
        ),
        scaled_object(
            "typo",
            &url,
            "sum(rate(inference_requests_total{model=\"llama\"}[10s]))",
            &t,
        ),
        scaled_object(
            "high",
            &url,
            "histogram_quantile(0.95, sum(rate(demo_latency_seconds_bucket[10s])) by (le))",
            &threshold("2"),
        ),
        scaled_object(
            "reachable",
            &url,
            "histogram_quantile(0.95, sum(rate(demo_latency_seconds_bucket[10s])) by (le))",
            &threshold("0.5"),
        ),
        scaled_object(
            "slow",
            &format!("http://{slow}"),
            "sum(rate(demo_requests_total[10s]))",
            &format!("{t}        timeout: \"1000\"\n"),
        ),
        scaled_object("refused", &refused, "up", &t),
        scaled_object("nxdomain", "http://does-not-exist.invalid:9090", "up", &t),
        scaled_object("notfound", &format!("http://{not_found}"), "up", &t),
        scaled_object("html", &format!("http://{html}"), "up", &t),
        scaled_object("login", &format!("http://{login}"), "up", &t),
    ]
    .concat();
    let (json, stderr, took, code) = lint_online(&yaml);
    eprintln!("13 ScaledObjects, 8 servers probed and linted in {took:?}");
    assert_eq!(code, 1, "errors fail the run; stderr: {stderr}");
    assert!(took < Duration::from_secs(12), "took {took:?}");

    let ok = findings_of(&json, "ok");
    assert!(
        live_codes(&ok).is_empty(),
        "ok: {ok:#?}\nall: {:#}\nstderr: {stderr}",
        json["findings"]
    );

    let empty = findings_of(&json, "empty");
    let (_, message, _) = finding(&empty, "KL404", "empty");
    assert!(message.contains("empty vector right now"), "{message}");
    assert!(message.contains("probed at "), "names when: {message}");
    // The live scrape interval (1s, from the target of job `demo`) is the one used, and said.
    assert!(
        message.contains("1s (targets of job `demo` on") && message.contains(", live)"),
        "{message}"
    );
    if kedalint_rules::RULES.iter().any(|r| r.code == "KL202") {
        assert!(
            empty.iter().any(|f| f.0 == "KL202" && f.1.contains("live")),
            "{empty:#?}"
        );
        assert!(!ok.iter().any(|f| f.0 == "KL202"), "{ok:#?}");
    }

    let many = findings_of(&json, "many");
    assert!(
        finding(&many, "KL405", "many")
            .1
            .contains("returns 2 series right now")
    );

    let nan = findings_of(&json, "nan");
    assert!(
        finding(&nan, "KL406", "nan")
            .1
            .contains("returns NaN right now")
    );

    let typo = findings_of(&json, "typo");
    let (_, message, help) = finding(&typo, "KL407", "typo");
    assert!(
        message.contains("`inference_requests_total{model=\"llama\"}` matches no series"),
        "{message}"
    );
    assert!(help.contains("did you mean `model_name`"), "{help}");
    assert!(typo.iter().any(|f| f.0 == "KL404"), "{typo:#?}");

    let high = findings_of(&json, "high");
    let (_, message, _) = finding(&high, "KL409", "high");
    assert!(message.contains("le=\"1\""), "{message}");
    assert!(live_codes(&findings_of(&json, "reachable")).is_empty());

    let slow = findings_of(&json, "slow");
    let (_, message, _) = finding(&slow, "KL408", "slow");
    assert!(
        message.contains("more than half of KEDA's 1s timeout"),
        "{message}"
    );
    assert!(!slow.iter().any(|f| f.0 == "KL404"), "{slow:#?}");

    let refused = findings_of(&json, "refused");
    assert!(
        finding(&refused, "KL401", "refused")
            .1
            .contains("the connection was refused")
    );
    let nxdomain = findings_of(&json, "nxdomain");
    assert!(
        finding(&nxdomain, "KL401", "nxdomain")
            .1
            .contains("does not resolve")
    );
    let notfound = findings_of(&json, "notfound");
    assert!(
        finding(&notfound, "KL402", "notfound")
            .1
            .contains("HTTP 404, an HTML page")
    );
    let html = findings_of(&json, "html");
    assert!(
        finding(&html, "KL402", "html")
            .1
            .contains("HTTP 200, an HTML page")
    );
    let login = findings_of(&json, "login");
    assert!(finding(&login, "KL403", "login").1.contains("HTTP 401"));
}

#[test]
fn a_prometheus_killed_halfway_still_ends_within_the_deadline_with_well_formed_json() {
    let Some(mut prom) = Prometheus::start() else {
        return;
    };
    let url = prom.url();
    // Queries through this proxy reach Prometheus 1.5 s late: after it is killed.
    let late = slow_proxy(prom.addr, Duration::from_millis(1500), "vector%281%29");
    let t = threshold("5");
    let yaml = [
        scaled_object("direct", &url, "demo_gauge", &t),
        scaled_object(
            "late",
            &format!("http://{late}"),
            "sum(rate(demo_requests_total[10s]))",
            &format!("{t}        timeout: \"5000\"\n"),
        ),
    ]
    .concat();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        prom.kill();
    });
    let (json, stderr, took, code) = lint_online(&yaml);
    killer.join().expect("killer");
    eprintln!("run with Prometheus killed halfway took {took:?}; stderr: {stderr}");
    assert!(took < Duration::from_secs(12), "took {took:?}");
    assert!(
        !stderr.contains("probing"),
        "no progress line next to JSON: {stderr}"
    );
    assert!(code == 0 || code == 1, "exit code {code}; stderr: {stderr}");
    assert_eq!(json["version"], 1);
    // What was learned before the kill is reported ...
    let direct = findings_of(&json, "direct");
    assert!(direct.iter().any(|f| f.0 == "KL405"), "{direct:#?}");
    // ... and what could not be checked is said.
    assert!(
        stderr.contains("note: the query `sum(rate(demo_requests_total[10s]))`"),
        "stderr: {stderr}"
    );
}

/// KL208's code and severity per object of a JSON report.
fn counter_findings(json: &Value) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["code"] == "KL208")
        .map(|f| {
            (
                f["object"]["name"].as_str().unwrap_or("").to_owned(),
                f["severity"].as_str().unwrap_or("").to_owned(),
                f["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn prometheus_metadata_decides_whether_a_count_used_as_a_level_is_a_counter() {
    let Some(prom) = Prometheus::start() else {
        return;
    };
    let url = prom.url();
    let t = threshold("5");
    let yaml = [
        // A gauge named like a counter, and a histogram's _count with no _bucket in the input.
        scaled_object("gauge-count", &url, "sum(demo_connection_count)", &t),
        scaled_object(
            "histogram-count",
            &url,
            "sum(demo_latency_seconds_count)",
            &t,
        ),
    ]
    .concat();
    // Offline, both are guesses from the name: info.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("so.yaml"), &yaml).expect("write");
    let out = run_cli(&["--format", "json", "so.yaml"], None, dir.path());
    let offline: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let found = counter_findings(&offline);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found
            .iter()
            .all(|(_, sev, m)| sev == "info" && m.contains("a guess from the name")),
        "{found:#?}"
    );
    // Online, Prometheus's metadata decides: the gauge is fine, the histogram's count is a counter.
    let (online, stderr, _, _) = lint_online(&yaml);
    let found = counter_findings(&online);
    assert_eq!(found.len(), 1, "{found:#?}\nstderr: {stderr}");
    let (object, severity, message) = &found[0];
    assert_eq!(object, "histogram-count");
    assert_eq!(severity, "warning");
    assert!(
        message.contains("Prometheus's metadata on") && message.contains("type `histogram`"),
        "{message}"
    );
}
