//! `kubectl kedalint replay` against a real Prometheus (the Debian 2.42 binary) serving a history
//! backfilled with `promtool tsdb create-blocks-from openmetrics` (tests/src/history.rs): fixed
//! instants on 2026-11-12, so every replay here is deterministic. The CLI runs as a user runs
//! it; the objects name an in-cluster address that `prometheus.addressMap` maps to the test's
//! server, as a laptop's configuration would.
//!
//! Each test states the replica timeline it expects, worked out by hand from the model
//! (docs/replay.md, "The model"): KEDA polls at tick 0 and then every `pollingInterval` (30 s),
//! the HPA syncs every tick (15 s), KEDA first at the same instant; pods are ready at once; the
//! HPA has no `behavior` (KEDA's default, the controller's legacy path: the max of the
//! recommendations of the last 300 s, a ceiling of max(2·R, 4) per sync, HPA minReplicas
//! max(minReplicaCount, 1)); Kubernetes 1.35.
//!
//! Skipped with a visible message when /usr/bin/prometheus is missing, except in CI
//! (`KEDALINT_REQUIRE_PROMETHEUS=1`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kedalint_tests::history::{T0, at, jobs_queue, openmetrics};
use kedalint_tests::live::{Backfilled, serve};
use kedalint_tests::{run_cli, workspace};
use serde_json::Value;

/// The in-cluster address the objects name (the README's example names it too).
const ADDRESS: &str = "http://prometheus-server.default.svc.cluster.local:80";

/// A working directory whose `.kedalint.yaml` maps [`ADDRESS`] to `url`.
fn workdir(url: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join(".kedalint.yaml"),
        format!("prometheus:\n  addressMap:\n    \"{ADDRESS}\": \"{url}\"\n{extra}"),
    )
    .expect("write .kedalint.yaml");
    dir
}

/// Runs `kubectl kedalint replay ARGS` in `dir`; returns the exit code, stdout and stderr.
fn replay(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut all = vec!["replay"];
    all.extend_from_slice(args);
    let out = run_cli(&all, stdin, dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The README's example object, `examples/inference-p95-latency.yaml`.
fn example() -> String {
    let path = workspace().join("examples/inference-p95-latency.yaml");
    path.to_str().expect("utf-8 path").to_owned()
}

/// Replays the README's example from `from` to `to` minutes after T0 in human format, with
/// `more` flags; returns the exit code, stdout and stderr.
fn replay_example(dir: &Path, from: i64, to: i64, more: &[&str]) -> (i32, String, String) {
    let (example, from, to) = (example(), at(from), at(to));
    let mut args = vec![example.as_str(), "--from", &from, "--to", &to];
    args.extend_from_slice(more);
    replay(dir, &args, None)
}

/// Runs a replay from `from` to `to` minutes after T0 with `--format json`; returns the JSON.
fn replay_json(dir: &Path, file: &str, from: i64, to: i64, more: &[&str]) -> Value {
    let (from, to) = (at(from), at(to));
    let mut args = vec![file, "--from", &from, "--to", &to, "--format", "json"];
    args.extend_from_slice(more);
    let (code, stdout, stderr) = replay(dir, &args, None);
    assert_eq!(code, 0, "exit {code}\nstdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{stdout}"))
}

/// The variant named `variant` of the only object.
fn variant<'a>(json: &'a Value, variant: &str) -> &'a Value {
    json["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| o["variant"] == variant)
        .unwrap_or_else(|| panic!("no variant {variant} in {json}"))
}

/// Replica changes as (seconds after T0, replicas), starting with the first tick's count.
fn replica_changes(v: &Value) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for tick in v["timeline"].as_array().expect("timeline") {
        let t = seconds_after_t0(tick["t"].as_str().expect("t"));
        let r = tick["replicas"].as_i64().expect("replicas");
        if out.last().is_none_or(|&(_, last)| last != r) {
            out.push((t, r));
        }
    }
    out
}

/// `2026-11-12T10:05:30Z` → 330.
fn seconds_after_t0(t: &str) -> i64 {
    let hms: Vec<i64> = t[11..19]
        .split(':')
        .map(|x| x.parse().expect("clock"))
        .collect();
    hms[0] * 3600 + hms[1] * 60 + hms[2] - 10 * 3600
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).expect("write object");
    name.to_owned()
}

fn queue_object(name: &str, query: &str, metric_type: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  scaleTargetRef:\n    name: worker\n  minReplicaCount: {{MIN}}\n  maxReplicaCount: 20\n{extra_spec}  triggers:\n    - type: prometheus\n      metricType: {metric_type}\n      metadata:\n        serverAddress: {ADDRESS}\n        query: '{query}'\n        threshold: \"10\"\n"
    )
}

#[test]
fn the_readme_object_never_scales_and_its_fixed_variant_scales_with_each_load_test() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let json = replay_json(dir.path(), &example(), 0, 60, &["--with-fixes"]);
    assert_eq!(json["kind"], "replay");
    assert_eq!(json["step_seconds"], 15);
    assert_eq!(json["keda_version"], "2.20");

    // Original, `rate(...[1m])` at a 1m scrape: every window [t-60s, t] holds exactly one scrape
    // (they land at :07.25, ticks on whole seconds), so Prometheus returns nothing at all 240
    // ticks; KEDA reads 0 (ignoreNullValues), never above activationThreshold 0.2, and from
    // minReplicaCount 0 nothing ever scales: 0 replicas throughout.
    let original = variant(&json, "original");
    assert_eq!(original["triggers"][0]["reads"]["empty"], 240);
    assert_eq!(original["summary"]["reads_zero"], 240);
    assert_eq!(original["summary"]["active_ticks"], 0);
    assert_eq!(replica_changes(original), vec![(0, 0)]);

    // Fixed: the safe fix widens the window to [5m] (KL202). The window [t-300s, t] holds five
    // scrapes; it sees an increase (p95 = 1.9 s, the buckets' shape) while its last scrape is at
    // or after the first one with load and its first scrape is at or before the last one still
    // rising, else every bucket rate is 0 and the quantile is NaN (2.20: read as 0).
    //   load 1, 10:05:00-10:07:00: scrapes 307.25 .. 367.25 rising: 1.9 for t in [315, 660]
    //   load 2, 10:20:00-10:23:00: scrapes 1207.25 .. 1327.25:      1.9 for t in [1215, 1620]
    //   load 3, 10:40:00-10:41:00: scrape 2407.25:                  1.9 for t in [2415, 2700]
    // Each episode, e.g. the first: tick 315 the HPA is off (R = 0); KEDA polls at 330, reads
    // 1.9 > 0.2: active, scale from zero to 1; the HPA at 330 proposes ceil(1900m/350m) = 6,
    // ceiling max(2·1, 4) = 4 → 4; at 345 ceiling 8 → 6; 6 while active (last active poll 660).
    // From 675 it reads 0; the HPA's 300 s window still holds the 6 recorded at 660, and KEDA's
    // cooldown ends at the poll at 660 + 300 = 960, where KEDA scales straight to 0.
    let fixed = variant(&json, "fixed");
    let query = fixed["triggers"][0]["query"].as_str().expect("query");
    assert!(query.contains("[5m]"), "{query}");
    assert_eq!(fixed["triggers"][0]["reads"]["value"], 24 + 28 + 20);
    assert_eq!(
        replica_changes(fixed),
        vec![
            (0, 0),
            (330, 4),
            (345, 6),
            (960, 0),
            (1230, 4),
            (1245, 6),
            (1920, 0),
            (2430, 4),
            (2445, 6),
            (3000, 0)
        ]
    );
    assert_eq!(fixed["summary"]["max_replicas"], 6);
    assert_eq!(fixed["summary"]["scale_events"], 9);
}

#[test]
fn the_human_report_tells_the_story_with_the_users_numbers_and_a_chart() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let (code, stdout, stderr) = replay_example(dir.path(), 0, 60, &["--with-fixes"]);
    assert_eq!(code, 0, "{stderr}");
    // Sentences are wrapped at 80 columns: compare with the line breaks taken out.
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Open loop:",
        "original:",
        "s0-prometheus read 0 at 240 of 240 ticks; Prometheus returned nothing for the query at 240 instants",
        "the replicas stayed at 0 the whole window",
        "fixed:",
        "changed spec.triggers[0].metadata.query: …_seconds_bucket[1m])) by (le)) → …_seconds_bucket[5m])) by (le))",
        "the values it got were 1.9",
        "0 → 4 at 10:05:30 → 6 at 10:05:45 → 0 at 10:16:00",
        "replicas (fixed)",
    ] {
        assert!(
            flat.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert!(
        stdout.lines().all(|l| l.chars().count() <= 80),
        "a line is wider than 80 columns:\n{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "colour escapes in piped output");
}

#[test]
fn a_queue_under_average_value_and_under_value_scale_as_their_formulas_say() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let query = "sum(queue_ready{queue=\"jobs\"})";
    let object =
        |name, metric_type| queue_object(name, query, metric_type, "").replace("{MIN}", "1");
    // A cpu-only object beside them is not replayed, with a note; the others still are.
    let cpu = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: cpu-only\nspec:\n  scaleTargetRef:\n    name: api\n  triggers:\n    - type: cpu\n      metricType: Utilization\n      metadata:\n        value: \"60\"\n";
    let file = write(
        dir.path(),
        "queue.yaml",
        &format!(
            "{}---\n{}---\n{cpu}",
            object("by-average", "AverageValue"),
            object("by-value", "Value")
        ),
    );
    let json = replay_json(dir.path(), &file, 0, 30, &[]);
    let objects = json["objects"].as_array().expect("objects");
    assert_eq!(objects.len(), 2);
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("default/cpu-only (original) was not replayed"),
        "{notes}"
    );
    // The gauge is scraped every 15 s at :05.25; a tick reads the newest scrape, 9.75 s old:
    // 95 at ticks 315..600, 40 at 615..900, 0 otherwise. Threshold 10 (10000m), min 1, max 20.
    //
    // AverageValue proposes ceil(u/T) whatever runs: ceil(95000/10000) = 10, ceil(40000/10000)
    // = 4. 315: ceiling max(2·1, 4) = 4; 330: ceiling 8; 345: 10. From 615 the proposal is 4
    // but the window holds the 10s recorded up to 600, until 900; at 915 the max over
    // [615, 915] is 4; at 1215 it is 0, floored at minReplicas 1.
    assert_eq!(
        replica_changes(&objects[0]),
        vec![(0, 1), (315, 4), (330, 8), (345, 10), (915, 4), (1215, 1)]
    );
    // Value proposes ceil(u/T · ready pods), open loop: 9.5 · 1 → 10 capped at 4; 9.5 · 4 = 38
    // capped at 8; 9.5 · 8 = 76 capped at 16; 9.5 · 16 = 152 capped at maxReplicaCount 20. The
    // raw proposals (190 at 600, 80 up to 900) keep it at 20 until 1200; at 1215 the window
    // holds only zeros: 1.
    assert_eq!(
        replica_changes(&objects[1]),
        vec![(0, 1), (315, 4), (330, 8), (345, 16), (360, 20), (1215, 1)]
    );
    assert_eq!(objects[0]["summary"]["max_replicas"], 10);
    assert_eq!(objects[1]["summary"]["max_replicas"], 20);
}

#[test]
fn a_query_returning_two_series_errors_until_fallback_takes_over() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let fallback = "  fallback:\n    failureThreshold: 3\n    replicas: 6\n";
    let file = write(
        dir.path(),
        "two.yaml",
        &queue_object("two-queues", "queue_ready", "AverageValue", fallback).replace("{MIN}", "2"),
    );
    let json = replay_json(dir.path(), &file, 0, 10, &["--keda-version", "2.18"]);
    let o = &json["objects"][0];
    // `queue_ready` has two series (jobs, mail): KEDA's "multiple elements" error at every
    // tick. KEDA 2.18 counts failures on the HPA's reads only: syncs at 0, 15, 30 fail (1, 2, 3
    // failures, not over failureThreshold 3: the sync aborts, R stays 2); at 45 the 4th failure
    // is over it and KEDA emits the fallback, 6 × 10000m, so the HPA proposes 6; ceiling
    // max(2·2, 4) = 4 → 4; at 60 ceiling 8 → 6, and 6 to the end. Never active (an erroring
    // trigger is not), and the error with fallback set blocks nothing (R ≥ min anyway).
    assert_eq!(o["triggers"][0]["reads"]["error"], 40);
    assert_eq!(replica_changes(o), vec![(0, 2), (45, 4), (60, 6)]);
    let timeline = o["timeline"].as_array().expect("timeline");
    assert!(!timeline[2]["fallback"].as_bool().expect("fallback"));
    assert!(timeline[3]["fallback"].as_bool().expect("fallback"));
    let error = timeline[0]["errors"][0].as_str().expect("error text");
    assert!(error.contains("multiple"), "{error}");
}

#[test]
fn a_nan_quantile_drives_keda_2_18_to_max_replicas_and_reads_as_0_on_2_20() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let file = write(
        dir.path(),
        "nan.yaml",
        &format!(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: idle-latency\n  namespace: default\nspec:\n  scaleTargetRef:\n    name: api\n  minReplicaCount: 1\n  maxReplicaCount: 10\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: {ADDRESS}\n        query: histogram_quantile(0.95, sum(rate(idle_latency_seconds_bucket[5m])) by (le))\n        threshold: \"0.350\"\n"
        ),
    );
    // No traffic: every bucket rate is 0 and the quantile is NaN at all 40 ticks.
    // 2.18 passes NaN through: int64(NaN · 1000) = -9223372036854775808m on x86-64; under
    // AverageValue Kubernetes ≥ 1.34 reads the negative sum as an overflow and proposes
    // MaxInt32, so from 1 the legacy ceilings give 4 at tick 0, 8 at 15, 10 (maxReplicaCount)
    // at 30.
    let old = replay_json(dir.path(), &file, 0, 10, &["--keda-version", "2.18"]);
    let o = &old["objects"][0];
    assert_eq!(o["triggers"][0]["reads"]["nan"], 40);
    assert_eq!(o["timeline"][0]["raw"][0], "NaN");
    assert_eq!(replica_changes(o), vec![(0, 4), (15, 8), (30, 10)]);
    // 2.20 reads NaN as 0 (ignoreNullValues true): the proposal is 0, floored at 1.
    let new = replay_json(dir.path(), &file, 0, 10, &["--keda-version", "2.20"]);
    let o = &new["objects"][0];
    assert_eq!(o["timeline"][0]["reported"][0], 0.0);
    assert_eq!(replica_changes(o), vec![(0, 1)]);
}

#[test]
fn a_what_if_edit_replays_beside_the_original_with_its_own_history() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let json = replay_json(
        dir.path(),
        &example(),
        0,
        60,
        &[
            "--set",
            "spec.triggers[0].metadata.query=histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[5m])) by (le))",
            "--set",
            "spec.minReplicaCount=1",
        ],
    );
    // The same [5m] query as the fixed variant (72 ticks at 1.9 s), with minReplicaCount 1: it
    // starts at 1, so the HPA already syncs at 315, the first tick reading 1.9:
    // ceil(1900/350) = 6, ceiling max(2·1, 4) = 4; at 330: 6. Reads 0 from 675; the 6 recorded
    // at 660 holds until 960; at 975 the max over [675, 975] is 0 → floored at 1, never 0.
    let what_if = variant(&json, "what-if");
    assert_eq!(what_if["triggers"][0]["reads"]["value"], 72);
    let changes = replica_changes(what_if);
    assert_eq!(&changes[..4], &[(0, 1), (315, 4), (330, 6), (975, 1)]);
    assert_eq!(what_if["summary"]["min_replicas"], 1);
    assert_eq!(variant(&json, "original")["summary"]["max_replicas"], 0);
}

#[test]
fn the_plot_is_well_formed_svg_with_every_series_named() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let svg_path = dir.path().join("replay.svg");
    replay_json(
        dir.path(),
        &example(),
        0,
        60,
        &["--with-fixes", "--plot", svg_path.to_str().expect("utf-8")],
    );
    let svg = std::fs::read_to_string(&svg_path).expect("the plot was written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for label in [
        "original: s0-prometheus (metric): no value at any tick",
        "fixed: s0-prometheus (metric)",
        "threshold 0.35",
        "activation threshold 0.2",
        "original: replicas",
        "fixed: replicas",
    ] {
        assert!(
            texts.iter().any(|t| t.trim() == label),
            "no legend entry {label:?} in {texts:?}"
        );
    }
    assert!(
        texts.iter().any(|t| t.to_lowercase().contains("open loop")),
        "{texts:?}"
    );
    // One polyline per run of values of the fixed metric (three load tests), two step lines
    // of replicas, two dashed thresholds drawn as segments: at least 5 polylines.
    let lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert!(lines >= 5, "{lines} polylines");
}

#[test]
fn a_window_over_the_points_limit_is_fetched_in_chunks_and_read_right_at_every_tick() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let file = write(
        dir.path(),
        "queue.yaml",
        &queue_object(
            "jobs",
            "sum(queue_ready{queue=\"jobs\"})",
            "AverageValue",
            "",
        )
        .replace("{MIN}", "1"),
    );
    // 3h10m at a 1 s step: 11,400 ticks, over Prometheus's 11,000 points: two range queries.
    let json = replay_json(dir.path(), &file, 0, 190, &["--step", "1s"]);
    let o = &json["objects"][0];
    let timeline = o["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), 11_400);
    assert_eq!(o["triggers"][0]["reads"]["error"], 0);
    // Each tick reads the newest scrape at or before it (scrapes at 15k + 5.25 s).
    for (i, tick) in timeline.iter().enumerate() {
        let t = i as f64;
        let newest = ((t - 5.25) / 15.0).floor() * 15.0 + 5.25;
        let expected = jobs_queue(newest);
        assert_eq!(
            tick["raw"][0].as_f64(),
            Some(expected),
            "tick {i} ({})",
            tick["t"]
        );
    }
    assert_eq!(T0 % 15, 0);
}

#[test]
fn a_prometheus_that_never_answers_ends_the_replay_with_exit_2_naming_the_timeout() {
    let silent = serve(Arc::new(|_: &str| {
        (
            200,
            "application/json",
            "{}".to_owned(),
            Duration::from_secs(60),
        )
    }));
    let dir = workdir(&format!("http://{silent}"), "  timeout: 1s\n");
    let (code, stdout, stderr) = replay_example(dir.path(), 0, 10, &[]);
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stderr.contains("Prometheus answered no trigger's history")
            && stderr.contains("did not answer in time"),
        "{stderr}"
    );
}

#[test]
fn a_prometheus_that_answers_4xx_ends_the_replay_with_exit_2_and_the_status() {
    let refusing = serve(Arc::new(|_: &str| {
        (
            400,
            "application/json",
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}"#
                .to_owned(),
            Duration::ZERO,
        )
    }));
    let dir = workdir(&format!("http://{refusing}"), "");
    let (code, _, stderr) = replay_example(dir.path(), 0, 10, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("HTTP 400: bad_data: invalid parameter"),
        "{stderr}"
    );
}

#[test]
fn from_after_to_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = replay_example(dir.path(), 30, 0, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--from 2026-11-12T10:30:00Z is not before --to 2026-11-12T10:00:00Z"),
        "{stderr}"
    );
}

#[test]
fn an_object_without_a_prometheus_trigger_gets_a_note_and_alone_is_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cpu = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: cpu-only\nspec:\n  scaleTargetRef:\n    name: api\n  triggers:\n    - type: cpu\n      metricType: Utilization\n      metadata:\n        value: \"60\"\n";
    let (code, _, stderr) = replay(
        dir.path(),
        &["-", "--from", &at(0), "--to", &at(10)],
        Some(cpu),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("default/cpu-only (original) was not replayed")
            && stderr.contains("nothing was replayed"),
        "{stderr}"
    );
}

#[test]
fn an_object_filter_that_matches_nothing_names_the_objects_there_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = replay_example(dir.path(), 0, 10, &["--object", "default/nope"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--object default/nope matches none of the ScaledObjects read: default/inference-slo-scaler"),
        "{stderr}"
    );
}

#[test]
fn a_range_vector_query_reads_as_keda_decodes_it_one_series_without_a_value() {
    let Some(prom) = Backfilled::start(&openmetrics()) else {
        return;
    };
    let dir = workdir(&prom.url(), "");
    let file = write(
        dir.path(),
        "matrix.yaml",
        &queue_object(
            "matrix",
            "queue_ready{queue=\"jobs\"}[1m]",
            "AverageValue",
            "",
        )
        .replace("{MIN}", "1"),
    );
    // A range query cannot evaluate `x[1m]`; the replay counts the series KEDA would decode
    // (one, without a `value`) and reads each tick as empty: 0 under ignoreNullValues, so the
    // HPA proposes 0 and stays at minReplicaCount 1.
    let json = replay_json(dir.path(), &file, 0, 10, &[]);
    let o = &json["objects"][0];
    assert_eq!(o["triggers"][0]["reads"]["empty"], 40);
    assert_eq!(replica_changes(o), vec![(0, 1)]);
    assert!(
        json["notes"].to_string().contains("range vector"),
        "{}",
        json["notes"]
    );
}
