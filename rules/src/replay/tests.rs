//! Unit tests of the replay model. Every expected number is worked out by hand from
//! notes/replay-semantics.md (the section is named), not copied from the model's output.

use serde_json::{Value, json};

use super::hpa::{HpaConfig, HpaState, MetricRead, Pods};
use super::spec::MetricType;
use super::*;
use crate::model::{ScaledObject, objects_of};
use crate::source::from_json;

fn so(spec: Value) -> Node {
    from_json(&json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "replayed", "namespace": "default"},
        "spec": spec,
    }))
}

use crate::source::Node;

fn spec_of(spec: Value) -> Result<ReplaySpec, NotReplayable> {
    let root = so(spec);
    let object = objects_of(&root, 0)[0];
    ReplaySpec::from_scaled_object(&ScaledObject { object })
}

fn spec(spec: Value) -> ReplaySpec {
    spec_of(spec).unwrap_or_else(|e| panic!("not replayable: {e}"))
}

/// A prometheus trigger with `metadata` merged over a query and a threshold.
fn prom(query: &str, threshold: &str, extra: Value) -> Value {
    let mut metadata =
        json!({"serverAddress": "http://prometheus:9090", "query": query, "threshold": threshold});
    if let (Some(m), Some(e)) = (metadata.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    json!({"type": "prometheus", "metadata": metadata})
}

fn version(v: &str) -> KedaVersion {
    KedaVersion::parse(v).expect("a version")
}

fn one(samples: Vec<Sample>) -> Vec<TriggerHistory> {
    vec![TriggerHistory {
        trigger: 0,
        samples,
    }]
}

fn replicas(run: &Replay) -> Vec<i64> {
    run.timeline.iter().map(|t| t.replicas).collect()
}

// ---- the HPA step (notes §4) ----

fn legacy(min: i64, max: i64) -> HpaConfig {
    HpaConfig::new(min, max, None, 0.1, 300, KubernetesVersion::NEWEST)
}

fn with_behavior(min: i64, max: i64, behavior: Value) -> HpaConfig {
    let s = spec(json!({"minReplicaCount": min, "maxReplicaCount": max,
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
        "triggers": [prom("q", "1", json!({}))]}));
    HpaConfig::new(
        min,
        max,
        s.behavior.as_ref(),
        0.1,
        300,
        KubernetesVersion::NEWEST,
    )
}

fn metric(milli: i64, target: i64, metric_type: MetricType) -> MetricRead {
    MetricRead {
        name: "s0-prometheus".to_owned(),
        milli: Ok(milli),
        target,
        metric_type,
    }
}

fn pods(n: i64) -> Pods {
    Pods {
        spec: n,
        status: n,
        ready: n,
    }
}

#[test]
fn average_value_within_tolerance_keeps_the_status_replicas() {
    let cfg = legacy(1, 20);
    // 3200m / (1000m × 3) = 1.067 and 2800m / 3000m = 0.933: both within [0.9, 1.1].
    for u in [3200, 2800] {
        let (p, how) = hpa::proposal(&metric(u, 1000, MetricType::AverageValue), u, pods(3), &cfg);
        assert_eq!(p, 3, "{how}");
    }
    // 1900m / 3000m = 0.633 is outside: ceil(1900 / 1000) = 2.
    let (p, _) = hpa::proposal(
        &metric(1900, 1000, MetricType::AverageValue),
        1900,
        pods(3),
        &cfg,
    );
    assert_eq!(p, 2);
}

#[test]
fn value_within_tolerance_keeps_the_spec_replicas_and_otherwise_scales_ready_pods() {
    let cfg = legacy(1, 20);
    // 1050m / 1000m = 1.05: within, stays 4.
    let (p, _) = hpa::proposal(&metric(1050, 1000, MetricType::Value), 1050, pods(4), &cfg);
    assert_eq!(p, 4);
    // 1500m / 1000m = 1.5 with 3 of 4 pods ready: ceil(1.5 × 3) = 5.
    let four_one_unready = Pods {
        spec: 4,
        status: 4,
        ready: 3,
    };
    let (p, how) = hpa::proposal(
        &metric(1500, 1000, MetricType::Value),
        1500,
        four_one_unready,
        &cfg,
    );
    assert_eq!(p, 5, "{how}");
}

#[test]
fn per_hpa_tolerance_applies_only_from_kubernetes_1_35() {
    let behavior = json!({"scaleUp": {"tolerance": "0.5"}});
    let s = spec(
        json!({"advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
        "triggers": [prom("q", "1", json!({}))]}),
    );
    let m = metric(1400, 1000, MetricType::Value);
    // 1400m / 1000m = 1.4: within 1 + 0.5 on 1.35, outside 1 + 0.1 on 1.34 (ceil(1.4 × 2) = 3).
    let new = HpaConfig::new(
        1,
        10,
        s.behavior.as_ref(),
        0.1,
        300,
        KubernetesVersion::NEWEST,
    );
    let old = HpaConfig::new(
        1,
        10,
        s.behavior.as_ref(),
        0.1,
        300,
        KubernetesVersion {
            major: 1,
            minor: 34,
        },
    );
    assert_eq!(hpa::proposal(&m, 1400, pods(2), &new).0, 2);
    assert_eq!(hpa::proposal(&m, 1400, pods(2), &old).0, 3);
}

#[test]
fn legacy_path_holds_the_highest_recommendation_for_five_minutes_including_the_last_second() {
    let cfg = legacy(1, 20);
    let mut hpa = HpaState::default();
    let mut r = 10;
    // Seeded with 10 at t = 0; every proposal afterwards is 0. The seed still counts at t = 300
    // (exactly W old is not before the cutoff), not at t = 315; then the floor minReplicas 1.
    for t in (0..=300).step_by(15) {
        r = hpa
            .sync(
                t,
                pods(r),
                &[metric(0, 1000, MetricType::AverageValue)],
                &cfg,
            )
            .replicas;
        assert_eq!(r, 10, "t = {t}");
    }
    let d = hpa.sync(
        315,
        pods(r),
        &[metric(0, 1000, MetricType::AverageValue)],
        &cfg,
    );
    assert_eq!(d.replicas, 1, "{}", d.reason);
}

#[test]
fn legacy_path_scales_up_at_most_to_max_of_twice_the_replicas_and_four() {
    let cfg = legacy(1, 20);
    let mut hpa = HpaState::default();
    // Note §7 (a), counterfactual: ceil(1870 / 350) = 6; from 1 the ceiling is max(2, 4) = 4, then
    // max(8, 4) = 8 lets 6 through.
    let m = [metric(1870, 350, MetricType::AverageValue)];
    let first = hpa.sync(0, pods(1), &m, &cfg);
    assert_eq!(first.replicas, 4);
    assert_eq!(
        first.reason,
        "HPA: ceil(1870m / 350m) = 6, capped at max(2×1, 4) = 4"
    );
    assert_eq!(hpa.sync(15, pods(4), &m, &cfg).replicas, 6);
    assert_eq!(hpa.sync(30, pods(6), &m, &cfg).replicas, 6);
}

#[test]
fn behavior_scale_down_window_is_strict() {
    let cfg = with_behavior(
        1,
        20,
        json!({"scaleDown": {"stabilizationWindowSeconds": 60}}),
    );
    let mut hpa = HpaState::default();
    let zero = [metric(0, 1000, MetricType::AverageValue)];
    // Seed 10 at t = 0: inside (t − 60, t] up to t = 45, out at t = 60 (strict). Then the default
    // scale-down policy Percent 100 per 15 s allows ⌊10 × 0⌋ = 0, floored at minReplicas 1.
    for t in [0, 15, 30, 45] {
        assert_eq!(hpa.sync(t, pods(10), &zero, &cfg).replicas, 10, "t = {t}");
    }
    assert_eq!(hpa.sync(60, pods(10), &zero, &cfg).replicas, 1);
}

#[test]
fn scale_up_policies_pick_the_largest_change_with_max_and_the_smallest_with_min() {
    let policies = json!([{"type": "Pods", "value": 4, "periodSeconds": 60},
                          {"type": "Percent", "value": 50, "periodSeconds": 60}]);
    let big = [metric(100_000, 1000, MetricType::AverageValue)];
    // From 10: Pods gives 10 + 4 = 14, Percent ⌈10 × 1.5⌉ = 15. Max → 15, Min → 14.
    for (select, first) in [("Max", 15), ("Min", 14)] {
        let cfg = with_behavior(
            1,
            100,
            json!({"scaleUp": {"policies": policies, "selectPolicy": select}}),
        );
        let mut hpa = HpaState::default();
        let r = hpa.sync(0, pods(10), &big, &cfg).replicas;
        assert_eq!(r, first, "{select}");
        // Within the 60 s period the period starts from 10 again: no further step.
        assert_eq!(hpa.sync(15, pods(r), &big, &cfg).replicas, r, "{select}");
        // At t = 60 the event at 0 is exactly one period old and out: Max from 15 gives
        // max(19, ⌈22.5⌉) = 23; Min from 14 gives min(18, ⌈21⌉) = 18.
        let next = hpa.sync(60, pods(r), &big, &cfg).replicas;
        assert_eq!(next, if select == "Max" { 23 } else { 18 });
    }
    let disabled = with_behavior(1, 100, json!({"scaleUp": {"selectPolicy": "Disabled"}}));
    assert_eq!(
        HpaState::default()
            .sync(0, pods(10), &big, &disabled)
            .replicas,
        10
    );
}

#[test]
fn scale_down_policies_pick_the_largest_change_with_max_and_the_smallest_with_min() {
    let policies = json!([{"type": "Pods", "value": 3, "periodSeconds": 15},
                          {"type": "Percent", "value": 50, "periodSeconds": 15}]);
    let zero = [metric(0, 1000, MetricType::AverageValue)];
    // From 10 with no window: Pods gives 10 − 3 = 7, Percent ⌊10 × 0.5⌋ = 5. Max (largest change)
    // → 5, Min → 7, Disabled → 10.
    for (select, expected) in [("Max", 5), ("Min", 7), ("Disabled", 10)] {
        let cfg = with_behavior(
            1,
            100,
            json!({"scaleDown": {"stabilizationWindowSeconds": 0,
            "policies": policies, "selectPolicy": select}}),
        );
        assert_eq!(
            HpaState::default().sync(0, pods(10), &zero, &cfg).replicas,
            expected,
            "{select}"
        );
    }
}

#[test]
fn the_largest_metric_wins() {
    let cfg = legacy(1, 20);
    // s0: ceil(1870 / 350) = 6; s1: ceil(2000 / 1000) = 2. From 4 the ceiling is 8: 6.
    let metrics = [
        metric(1870, 350, MetricType::AverageValue),
        MetricRead {
            name: "s1-prometheus".to_owned(),
            ..metric(2000, 1000, MetricType::AverageValue)
        },
    ];
    let d = HpaState::default().sync(0, pods(4), &metrics, &cfg);
    assert_eq!(d.replicas, 6, "{}", d.reason);
}

#[test]
fn a_failed_metric_can_hold_or_raise_but_never_lower() {
    let cfg = legacy(1, 20);
    let failed = MetricRead {
        milli: Err("prometheus query q returned multiple elements".to_owned()),
        ..metric(0, 1000, MetricType::AverageValue)
    };
    let other = |u| MetricRead {
        name: "s1-prometheus".to_owned(),
        ..metric(u, 1000, MetricType::AverageValue)
    };
    // The other metric proposes ceil(2000 / 1000) = 2 < 4: the sync aborts, 4 stays.
    let d = HpaState::default().sync(0, pods(4), &[failed.clone(), other(2000)], &cfg);
    assert_eq!(d.replicas, 4, "{}", d.reason);
    // It proposes ceil(9000 / 1000) = 9 ≥ 4: scaling goes on, capped at max(8, 4) = 8.
    assert_eq!(
        HpaState::default()
            .sync(0, pods(4), &[failed.clone(), other(9000)], &cfg)
            .replicas,
        8
    );
    // Every metric failed: no change.
    assert_eq!(
        HpaState::default()
            .sync(0, pods(4), &[failed], &cfg)
            .replicas,
        4
    );
}

#[test]
fn the_hpa_does_nothing_at_zero_and_clamps_outside_its_bounds() {
    let cfg = legacy(2, 5);
    let m = [metric(0, 1000, MetricType::AverageValue)];
    assert_eq!(HpaState::default().sync(0, pods(0), &m, &cfg).replicas, 0);
    assert_eq!(HpaState::default().sync(0, pods(1), &m, &cfg).replicas, 2);
    assert_eq!(HpaState::default().sync(0, pods(9), &m, &cfg).replicas, 5);
}

// ---- worked examples (notes §7) ----

/// §7 (a): `rate(...[1m])` over 1-minute scrapes never has two samples: every read is empty.
#[test]
fn example_a_an_always_empty_query_reads_zero_and_never_scales() {
    let s = spec(
        json!({"minReplicaCount": 0, "maxReplicaCount": 10, "triggers": [prom(
        "histogram_quantile(0.95, sum(rate(x_bucket[1m])) by (le))", "0.350",
        json!({"activationThreshold": "0.200"}))]}),
    );
    for v in ["2.18", "2.20"] {
        let options = ReplayOptions {
            step_seconds: 5,
            hpa_sync_seconds: Some(15),
            keda_poll_offset_seconds: 5,
            ticks: 40,
            keda_version: version(v),
            start_replicas: Some(0),
            ..ReplayOptions::default()
        };
        let run = replay(&s, &one(vec![Sample::Empty; 40]), &options);
        assert_eq!(replicas(&run), vec![0; 40], "{v}");
        assert_eq!(run.summary.reads_zero, 40);
        assert_eq!(run.summary.active_ticks, 0);
        assert_eq!(run.triggers[0].reads.empty, 40);
        assert!(
            run.timeline
                .iter()
                .all(|t| t.reported == [Some(0.0)] && t.raw == [None])
        );
        assert!(
            run.timeline[0]
                .reason
                .starts_with("query empty: read as 0 (ignoreNullValues)"),
            "{}",
            run.timeline[0].reason
        );
    }
}

/// §7 (a), counterfactual: a window holding two scrapes reads 1.87 s, AverageValue 350m.
#[test]
fn example_a_counterfactual_goes_one_four_six() {
    let s = spec(
        json!({"maxReplicaCount": 10, "triggers": [prom("q", "0.350", json!({"activationThreshold": "0.200"}))]}),
    );
    let options = ReplayOptions {
        ticks: 3,
        start_replicas: Some(1),
        ..ReplayOptions::default()
    };
    let run = replay(&s, &one(vec![Sample::Value(1.87); 3]), &options);
    assert_eq!(replicas(&run), [4, 6, 6]);
}

/// §7 (b): the same query with `[5m]`, metricType Value, KEDA 2.18 on amd64: NaN outside the
/// test, 1.87 from τ = 30 to 450; KEDA polls at 5 (mod 30), the HPA at 0 (mod 15), pods Ready 5 s
/// after creation.
fn example_b(readiness: u32) -> Replay {
    let s = spec(
        json!({"minReplicaCount": 0, "maxReplicaCount": 10, "triggers": [{
        "type": "prometheus", "metricType": "Value",
        "metadata": {"serverAddress": "http://prometheus:9090",
            "query": "histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le))",
            "threshold": "0.350", "activationThreshold": "0.200"}}]}),
    );
    let samples = (0..149)
        .map(|i| {
            let tau = i * 5;
            Sample::Value(if (30..450).contains(&tau) {
                1.87
            } else {
                f64::NAN
            })
        })
        .collect();
    let options = ReplayOptions {
        step_seconds: 5,
        hpa_sync_seconds: Some(15),
        keda_poll_offset_seconds: 5,
        ticks: 149,
        keda_version: version("2.18"),
        start_replicas: Some(0),
        readiness_delay_seconds: readiness,
        ..ReplayOptions::default()
    };
    replay(&s, &one(samples), &options)
}

fn at(run: &Replay, t: usize) -> i64 {
    run.timeline[t / 5].replicas
}

#[test]
fn example_b_value_metric_runs_to_max_and_keda_scales_to_zero_after_the_cooldown() {
    let run = example_b(5);
    // The table of §7 (b), row by row.
    assert_eq!(at(&run, 5), 0, "NaN at 5: inactive");
    assert_eq!(at(&run, 30), 0);
    assert_eq!(at(&run, 35), 1, "from zero at 35");
    assert_eq!(at(&run, 40), 1);
    assert_eq!(at(&run, 45), 4, "ceil(5.343 × 1) = 6, ceiling 4");
    assert_eq!(at(&run, 60), 8, "ceil(5.343 × 4) = 22, ceiling 8");
    assert_eq!(at(&run, 75), 10, "ceil(42.74) = 43, ceiling min(10, 16)");
    for t in (75..725).step_by(5) {
        assert_eq!(at(&run, t), 10, "t = {t}");
    }
    assert_eq!(at(&run, 725), 0, "725 − 425 = 300 ≥ cooldown");
    assert_eq!(at(&run, 740), 0);
    assert_eq!(
        run.timeline[45 / 5].reason,
        "HPA: ceil(1870m / 350m × 1 ready) = 6, capped at max(2×1, 4) = 4"
    );
    assert!(
        run.timeline[725 / 5]
            .reason
            .contains("300s since last active at 00:07:05: scaled 10 → 0"),
        "{}",
        run.timeline[725 / 5].reason
    );
    // 2.18 hands the NaN on as MinInt64 milli-units.
    assert_eq!(run.timeline[0].reported, [Some(-9_223_372_036_854_775.808)]);
    assert_eq!(run.summary.max_replicas, 10);
    assert_eq!(run.summary.scale_events, 5);
}

#[test]
fn example_b_with_slow_readiness_waits_for_a_ready_pod() {
    // The pod created at 35 is Ready at 50: at 45 ceil(5.343 × 0) = 0 keeps 1; at 60 one Ready pod
    // gives 6, capped at 4.
    let run = example_b(15);
    assert_eq!(at(&run, 45), 1);
    assert_eq!(at(&run, 60), 4);
}

/// §7 (c): a queue under AverageValue 10, minReplicaCount 1, maxReplicaCount 20, R = 2 at t = 0.
fn example_c(behavior: Option<Value>) -> Vec<i64> {
    let mut body = json!({"minReplicaCount": 1, "maxReplicaCount": 20,
        "triggers": [prom("sum(queue_ready{queue=\"jobs\"})", "10", json!({}))]});
    if let Some(b) = behavior {
        body["advanced"] = json!({"horizontalPodAutoscalerConfig": {"behavior": b}});
    }
    let samples = (0..24)
        .map(|i| {
            Sample::Value(match i {
                0 | 1 => 95.0,
                2 => 40.0,
                _ => 0.0,
            })
        })
        .collect();
    let options = ReplayOptions {
        ticks: 24,
        start_replicas: Some(2),
        ..ReplayOptions::default()
    };
    replicas(&replay(&spec(body), &one(samples), &options))
}

#[test]
fn example_c_default_behavior_steps_up_by_policy_and_holds_until_the_window_passes() {
    let r = example_c(Some(
        json!({"scaleDown": {"stabilizationWindowSeconds": 300}}),
    ));
    // t = 0: 6 (B = 2: max(2 + 4, ⌈4⌉)); 15: 10; 30…300: 10; 315: 4; 330: 1.
    let mut expected = vec![6, 10];
    expected.extend([10; 19]);
    expected.extend([4, 1, 1]);
    assert_eq!(r, expected);
}

#[test]
fn example_c_legacy_path_overshoots_and_keeps_the_recommendation_exactly_w_old() {
    let r = example_c(None);
    // 4 at 0 (ceiling max(4, 4)), 8 at 15, 10 at 30 (max over W), still 10 at 315, 4 at 330, 1 at 345.
    let mut expected = vec![4, 8];
    expected.extend([10; 20]);
    expected.extend([4, 1]);
    assert_eq!(r, expected);
}

// ---- KEDA's scale loop (notes §3) ----

fn queue(extra: Value) -> Value {
    let mut body =
        json!({"pollingInterval": 15, "triggers": [prom("sum(queue)", "10", json!({}))]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

/// The queue trigger (threshold 10, polled every 15 s unless `extra` says otherwise) over `values`,
/// one tick each, starting at `start` replicas (None: `minReplicaCount`).
fn queue_run(extra: Value, start: Option<i64>, created_at: Option<i64>, values: &[f64]) -> Replay {
    let options = ReplayOptions {
        ticks: values.len(),
        start_replicas: start,
        created_at,
        ..ReplayOptions::default()
    };
    replay(&spec(queue(extra)), &values_of(values), &options)
}

#[test]
fn keda_scales_to_zero_once_the_cooldown_has_passed_since_the_last_active_poll() {
    // Active at 0 and 15 (5 > 0): last active 15. Inactive from 30; 75 − 15 = 60 ≥ 60 at t = 75.
    let values = [5.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let run = queue_run(json!({"cooldownPeriod": 60}), Some(1), None, &values);
    assert_eq!(replicas(&run), [1, 1, 1, 1, 1, 0, 0]);
    assert!(
        run.timeline[5]
            .reason
            .contains("60s since last active at 00:00:15: scaled 1 → 0"),
        "{}",
        run.timeline[5].reason
    );
}

#[test]
fn idle_replicas_replace_zero_and_activation_returns_to_min() {
    let extra = json!({"idleReplicaCount": 0, "minReplicaCount": 2, "maxReplicaCount": 10, "cooldownPeriod": 30});
    // t = 0: inactive, never active: 2 → idle 0. t = 30: active → min 2 (the HPA's
    // ceil(5000 / 10000) = 1 is floored at 2). t = 60: 60 − 30 ≥ 30 → idle 0.
    let run = queue_run(extra, None, None, &[0.0, 0.0, 5.0, 0.0, 0.0]);
    assert_eq!(replicas(&run), [0, 0, 2, 2, 0]);
}

#[test]
fn keda_raises_an_inactive_object_to_min_replicas() {
    let run = queue_run(json!({"minReplicaCount": 3}), Some(1), None, &[0.0]);
    assert_eq!(replicas(&run), [3]);
    assert!(
        run.timeline[0].reason.contains("below minReplicaCount"),
        "{}",
        run.timeline[0].reason
    );
}

#[test]
fn initial_cooldown_delays_the_first_scale_to_zero() {
    let extra = json!({"initialCooldownPeriod": 60, "pollingInterval": 30});
    // Created at 0, never active: polls at 0 and 30 are within 60 s of creation; the one at 60 is not.
    let run = queue_run(extra, Some(2), Some(0), &[0.0; 6]);
    assert_eq!(replicas(&run), [2, 2, 2, 2, 0, 0]);
}

#[test]
fn an_erroring_trigger_blocks_scale_to_zero() {
    let s = spec(queue(json!({})));
    let options = ReplayOptions {
        ticks: 4,
        start_replicas: Some(1),
        ..ReplayOptions::default()
    };
    let run = replay(&s, &one(vec![Sample::Multiple(2); 4]), &options);
    assert_eq!(replicas(&run), [1, 1, 1, 1]);
    assert_eq!(
        run.timeline[0].errors,
        [Some(
            "prometheus query sum(queue) returned multiple elements".to_owned()
        )]
    );
    assert_eq!(run.timeline[0].reported, [None]);
    assert_eq!(run.triggers[0].reads.error, 4);
}

// ---- fallback (notes §5) ----

fn fallback_run(metric_type: &str, v: &str) -> Vec<i64> {
    replicas(&fallback_run_full(metric_type, v))
}

fn fallback_run_full(metric_type: &str, v: &str) -> Replay {
    let s = spec(json!({"minReplicaCount": 1, "maxReplicaCount": 10,
        "fallback": {"failureThreshold": 3, "replicas": 6},
        "triggers": [{"type": "prometheus", "metricType": metric_type, "metadata": {
            "serverAddress": "http://prometheus:9090", "query": "q", "threshold": "10"}}]}));
    let options = ReplayOptions {
        ticks: 6,
        start_replicas: Some(2),
        keda_version: version(v),
        ..ReplayOptions::default()
    };
    replay(&s, &one(vec![Sample::Multiple(2); 6]), &options)
}

#[test]
fn fallback_average_value_on_2_18_starts_at_the_fourth_failing_sync() {
    // Syncs at 0, 15, 30 fail (counts 1–3); at 45 the count 4 > 3 gives 10000m × 6 = 60000m:
    // ceil(60000 / 10000) = 6, capped at max(4, 4) = 4; at 60 the ceiling 8 lets 6 through.
    assert_eq!(fallback_run("AverageValue", "2.18"), [2, 2, 2, 4, 6, 6]);
}

#[test]
fn fallback_on_2_20_also_counts_the_scale_loop_and_starts_a_sync_earlier() {
    // Poll 0 (1), sync 0 (2), sync 15 (3), poll 30 (4 > 3: fallback), sync 30 (5): 6, capped at 4.
    assert_eq!(fallback_run("AverageValue", "2.20"), [2, 2, 4, 6, 6, 6]);
}

#[test]
fn fallback_value_metric_divides_by_ready_pods() {
    // 2.18, at 45 with 2 Ready pods: 10000m × 6 / 2 = 30000m; 30000 / 10000 = 3, ceil(3 × 2) = 6,
    // capped at 4. At 60 with 4 Ready: 15000m, ceil(1.5 × 4) = 6. At 75: 10000m, ratio 1: within.
    assert_eq!(fallback_run("Value", "2.18"), [2, 2, 2, 4, 6, 6]);
    assert_eq!(fallback_run("Value", "2.20"), [2, 2, 4, 6, 6, 6]);
}

#[test]
fn ticks_in_fallback_are_marked_and_report_the_fallback_value() {
    let s = spec(json!({"fallback": {"failureThreshold": 0, "replicas": 3},
        "triggers": [prom("q", "10", json!({"ignoreNullValues": "false"}))]}));
    let options = ReplayOptions {
        ticks: 1,
        start_replicas: Some(1),
        keda_version: version("2.18"),
        ..ReplayOptions::default()
    };
    let run = replay(&s, &one(vec![Sample::Empty]), &options);
    let tick = &run.timeline[0];
    assert!(tick.fallback);
    assert_eq!(tick.reported, [Some(30.0)]);
    assert!(
        tick.errors[0]
            .as_deref()
            .is_some_and(|e| e.contains("the result is empty"))
    );
    // ceil(30000 / 10000) = 3, within the ceiling max(2, 4).
    assert_eq!(tick.replicas, 3);
}

// ---- NaN by version (notes §2) ----

fn nan_run(v: &str, kubernetes: u32) -> Replay {
    let s = spec(
        json!({"minReplicaCount": 1, "maxReplicaCount": 10, "triggers": [prom("q", "1", json!({}))]}),
    );
    let options = ReplayOptions {
        ticks: 4,
        start_replicas: Some(2),
        keda_version: version(v),
        kubernetes_version: KubernetesVersion {
            major: 1,
            minor: kubernetes,
        },
        ..ReplayOptions::default()
    };
    replay(&s, &one(vec![Sample::Value(f64::NAN); 4]), &options)
}

#[test]
fn nan_on_2_18_drives_average_value_to_max_from_kubernetes_1_34() {
    // MinInt64 milli-units is a negative sum, taken for an overflow: MaxInt64, proposal MaxInt32;
    // the legacy ceiling steps 2 → 4 → 8 → 10.
    let run = nan_run("2.18", 35);
    assert_eq!(replicas(&run), [4, 8, 10, 10]);
    assert_eq!(run.triggers[0].reads.nan, 4);
    assert_eq!(run.summary.reads_zero, 0);
    assert!(run.notes.iter().any(|n| n.contains("amd64")));
}

#[test]
fn nan_on_2_18_before_kubernetes_1_34_acts_as_zero() {
    // ceil(MinInt64 / 1000) converts to MinInt32: the proposal counts as 0 and the seed 2 holds.
    assert_eq!(replicas(&nan_run("2.18", 33)), [2, 2, 2, 2]);
}

#[test]
fn nan_on_2_20_reads_as_zero() {
    let run = nan_run("2.20", 35);
    assert_eq!(replicas(&run), [2, 2, 2, 2]);
    assert_eq!(run.summary.reads_zero, 4);
    assert!(
        run.timeline[0]
            .reason
            .contains("query returned NaN: read as 0"),
        "{}",
        run.timeline[0].reason
    );
}

#[test]
fn milli_conversion_truncates_before_2_20_and_rounds_after() {
    assert_eq!(read::to_milli(1.8709, version("2.18")), 1870);
    assert_eq!(read::to_milli(1.8709, version("2.20")), 1871);
    assert_eq!(read::to_milli(-0.5, version("2.18")), -500);
    assert_eq!(read::to_milli(-0.5, version("2.20")), 0);
    assert_eq!(read::to_milli(f64::NAN, version("2.19")), i64::MIN);
    assert_eq!(read::to_milli(1e300, version("2.18")), i64::MIN);
}

// ---- scalingModifiers ----

/// Triggers `a` and `b` (threshold 1) under `scalingModifiers`, reading `a` and `b` for two ticks.
fn formula_run(modifiers: Value, a: f64, b: f64, start: i64) -> Replay {
    let trigger = |name: &str| {
        json!({"type": "prometheus", "name": name, "metadata": {
            "serverAddress": "http://p:9090", "query": format!("q{name}"), "threshold": "1"}})
    };
    let s = spec(
        json!({"maxReplicaCount": 20, "advanced": {"scalingModifiers": modifiers},
        "triggers": [trigger("a"), trigger("b")]}),
    );
    let history = [(0, a), (1, b)].map(|(trigger, v)| TriggerHistory {
        trigger,
        samples: vec![Sample::Value(v); 2],
    });
    let options = ReplayOptions {
        ticks: 2,
        start_replicas: Some(start),
        ..ReplayOptions::default()
    };
    replay(&s, &history, &options)
}

#[test]
fn a_formula_becomes_one_composite_metric() {
    let run = formula_run(json!({"formula": "a + b", "target": "10"}), 30.0, 25.0, 1);
    // 30 + 25 = 55 against target 10: ceil(55000 / 10000) = 6, capped at 4 from 1, then 6.
    assert_eq!(replicas(&run), [4, 6]);
}

#[test]
fn a_formula_below_its_activation_target_keeps_zero() {
    let modifiers = json!({"formula": "a - b", "target": "1", "activationTarget": "5"});
    let run = formula_run(modifiers, 3.0, 1.0, 0);
    // a − b = 2 ≤ 5, although each trigger alone is above its activationThreshold 0.
    assert_eq!(replicas(&run), [0, 0]);
    assert_eq!(run.summary.active_ticks, 0);
}

// ---- reading the object ----

#[test]
fn keda_defaults_fill_what_the_object_leaves_out() {
    let s = spec(
        json!({"triggers": [prom("q", "0.350", json!({})), {"type": "cpu", "metadata": {"value": "50"}}]}),
    );
    assert_eq!(
        (s.min_replicas, s.max_replicas, s.idle_replicas),
        (0, 100, None)
    );
    assert_eq!(
        (
            s.polling_interval,
            s.cooldown_period,
            s.initial_cooldown_period
        ),
        (30, 300, 0)
    );
    assert_eq!(
        (
            s.fallback,
            s.behavior.as_ref(),
            s.scaling_modifiers.as_ref()
        ),
        (None, None, None)
    );
    let t = &s.triggers[0];
    assert_eq!(t.metric_name, "s0-prometheus");
    assert_eq!(
        (t.threshold, t.activation_threshold, t.metric_type),
        (Some(0.35), 0.0, MetricType::AverageValue)
    );
    assert!(t.replayable && t.ignore_null_values && !t.use_cached_metrics);
    assert_eq!(s.triggers[1].metric_name, "s1-cpu");
    assert!(!s.triggers[1].replayable);
    assert_eq!(s.hpa_min_replicas(), 1);
}

#[test]
fn metadata_is_read_as_keda_reads_it() {
    let s = spec(
        json!({"fallback": {"failureThreshold": 2, "replicas": 4, "behavior": "currentReplicasIfHigher"},
        "triggers": [prom("q", "1e1", json!({"ignoreNullValues": "F", "activationThreshold": "0.5"}))]}),
    );
    assert!(!s.triggers[0].ignore_null_values);
    assert_eq!(s.triggers[0].threshold, Some(10.0));
    assert_eq!(s.triggers[0].activation_threshold, 0.5);
    assert_eq!(
        s.fallback,
        Some(FallbackSpec {
            failure_threshold: 2,
            replicas: 4,
            behavior: FallbackBehavior::CurrentReplicasIfHigher
        })
    );
}

#[test]
fn objects_the_replay_cannot_run_say_why() {
    let reason = |body: Value| spec_of(body).unwrap_err().reason;
    assert_eq!(
        reason(json!({"triggers": [{"type": "cpu", "metadata": {"value": "50"}}]})),
        "no prometheus trigger"
    );
    assert_eq!(
        reason(json!({"triggers": [prom("q", "one", json!({}))]})),
        "metadata KEDA rejects: threshold \"one\""
    );
    assert_eq!(
        reason(
            json!({"advanced": {"scalingModifiers": {"formula": "count(a)", "target": "1"}},
            "triggers": [{"type": "prometheus", "name": "a", "metadata": {"query": "q", "threshold": "1"}}]})
        ),
        "scalingModifiers formula \"count(a)\" uses count(), which the replay does not evaluate"
    );
    assert!(reason(json!({"minReplicaCount": 5, "maxReplicaCount": 2, "triggers": [prom("q", "1", json!({}))]})).contains("replica bounds"));
}

// ---- output ----

#[test]
fn nan_and_infinities_serialize_as_strings() {
    let tick = Tick {
        t: rfc3339(1_762_941_600),
        raw: vec![
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(1.5),
            None,
        ],
        reported: vec![Some(0.0)],
        errors: vec![None],
        active: false,
        fallback: false,
        desired: 0,
        replicas: 0,
        reason: String::new(),
        keda_poll: true,
        hpa_sync: true,
    };
    let v = serde_json::to_value(&tick).expect("serializes");
    assert_eq!(v["t"], "2025-11-12T10:00:00Z");
    assert_eq!(v["raw"], json!(["NaN", "+Inf", "-Inf", 1.5, null]));
    assert_eq!(v["reported"], json!([0.0]));
}

#[test]
fn any_history_replays_without_panicking() {
    let s = spec(
        json!({"minReplicaCount": 0, "maxReplicaCount": 7, "idleReplicaCount": null,
        "fallback": {"failureThreshold": 1, "replicas": 2, "behavior": "currentReplicas"},
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}}},
        "triggers": [
            {"type": "prometheus", "metricType": "Value", "useCachedMetrics": true, "metadata": {"query": "a", "threshold": "0.5"}},
            prom("b", "3", json!({"ignoreNullValues": "false"})),
            {"type": "cpu", "metadata": {"value": "50"}}]}),
    );
    let pick = [
        Sample::Empty,
        Sample::Value(f64::NAN),
        Sample::Value(f64::INFINITY),
        Sample::Value(-1e30),
        Sample::Value(1e30),
        Sample::Value(0.7),
        Sample::Value(40.0),
        Sample::Multiple(3),
        Sample::Error("timeout".to_owned()),
    ];
    let mut rng = crate::test_rng::Rng(0x00c0_ffee);
    for round in 0..40 {
        let ticks = rng.below(60);
        let history: Vec<TriggerHistory> = (0..2)
            .map(|trigger| TriggerHistory {
                trigger,
                samples: (0..rng.below(70))
                    .map(|_| pick[rng.below(pick.len())].clone())
                    .collect(),
            })
            .collect();
        let options = ReplayOptions {
            ticks,
            step_seconds: u32::try_from(rng.below(40)).unwrap_or(0),
            keda_version: version(if round % 2 == 0 { "2.18" } else { "2.20" }),
            readiness_delay_seconds: u32::try_from(rng.below(50)).unwrap_or(0),
            keda_poll_offset_seconds: u32::try_from(rng.below(50)).unwrap_or(0),
            ..ReplayOptions::default()
        };
        let run = replay(&s, &history, &options);
        assert_eq!(run.timeline.len(), ticks);
        assert!(
            run.timeline
                .iter()
                .all(|t| (0..=7).contains(&t.replicas) && !t.reason.is_empty())
        );
    }
}

#[test]
fn activation_is_strict_and_a_null_read_is_compared_as_zero() {
    let t = |activation: &str| {
        spec(json!({"triggers": [prom("q", "1", json!({"activationThreshold": activation}))]}))
            .triggers[0]
            .clone()
    };
    let v = version("2.20");
    assert!(!read::read(&Sample::Value(0.2), &t("0.2"), v).active);
    assert!(read::read(&Sample::Value(0.21), &t("0.2"), v).active);
    assert!(!read::read(&Sample::Empty, &t("0"), v).active);
    // A negative activationThreshold makes even an empty answer (read as 0) active.
    assert!(read::read(&Sample::Empty, &t("-1"), v).active);
    assert!(!read::read(&Sample::Multiple(2), &t("-1"), v).active);
}

#[test]
fn tick_arrays_follow_the_replayable_triggers() {
    let s = spec(
        json!({"triggers": [{"type": "cpu", "metadata": {"value": "50"}}, prom("q", "1", json!({}))]}),
    );
    let options = ReplayOptions {
        ticks: 1,
        start_replicas: Some(1),
        ..ReplayOptions::default()
    };
    let run = replay(
        &s,
        &[TriggerHistory {
            trigger: 1,
            samples: vec![Sample::Value(2.5)],
        }],
        &options,
    );
    assert_eq!(run.triggers.len(), 1);
    assert_eq!(
        (run.triggers[0].index, run.triggers[0].metric.as_str()),
        (1, "s1-prometheus")
    );
    assert_eq!(run.timeline[0].raw, [Some(2.5)]);
    assert_eq!(run.timeline[0].reported, [Some(2.5)]);
    assert!(
        run.notes
            .iter()
            .any(|n| n.starts_with("s0-cpu is left out of the HPA's max"))
    );
}

#[test]
fn cached_metrics_give_the_hpa_the_last_polls_value() {
    let run = |cached: bool| {
        let s = spec(
            json!({"pollingInterval": 30, "triggers": [{"type": "prometheus", "useCachedMetrics": cached,
            "metadata": {"serverAddress": "http://p:9090", "query": "q", "threshold": "10"}}]}),
        );
        let options = ReplayOptions {
            ticks: 3,
            start_replicas: Some(1),
            ..ReplayOptions::default()
        };
        replicas(&replay(&s, &values_of(&[10.0, 50.0, 50.0]), &options))
    };
    // Cached: the sync at 15 still sees the poll at 0 (10000m / 10000m = 1: within, 1); the poll
    // at 30 brings 50000m: ceil(5) = 5, capped at max(2, 4) = 4.
    assert_eq!(run(true), [1, 1, 4]);
    // Fresh reads: 50000m at 15 gives 5, capped at 4; then 5.
    assert_eq!(run(false), [1, 4, 5]);
}

fn values_of(v: &[f64]) -> Vec<TriggerHistory> {
    one(v.iter().map(|x| Sample::Value(*x)).collect())
}

#[test]
fn the_summary_counts_the_timeline() {
    // Example (a)'s counterfactual from 1: 4, 6, 6. The start count 1 is not a tick's count.
    let s = spec(json!({"triggers": [prom("q", "0.350", json!({}))]}));
    let options = ReplayOptions {
        ticks: 3,
        start_replicas: Some(1),
        ..ReplayOptions::default()
    };
    let run = replay(&s, &one(vec![Sample::Value(1.87); 3]), &options);
    let expected = Summary {
        ticks: 3,
        reads_zero: 0,
        active_ticks: 3,
        min_replicas: 4,
        max_replicas: 6,
        scale_events: 2,
    };
    assert_eq!(run.summary, expected);
    let empty = replay(
        &s,
        &[],
        &ReplayOptions {
            start_replicas: Some(2),
            ..ReplayOptions::default()
        },
    );
    assert_eq!(
        (
            empty.summary.min_replicas,
            empty.summary.max_replicas,
            empty.timeline.len()
        ),
        (2, 2, 0)
    );
}

#[test]
fn a_formula_over_a_trigger_in_fallback_takes_the_fallback_value() {
    // KEDA 2.18, target 10 (an integer, so fallback is valid), failureThreshold 0: `b` fails from
    // the first sync and is past the threshold at once. The composite is the fallback value
    // 10 × 1000 × 3 = 30000m: ceil(30000 / 10000) = 3 from 1 (ceiling 4).
    let s = spec(json!({"fallback": {"failureThreshold": 0, "replicas": 3},
        "advanced": {"scalingModifiers": {"formula": "a + b", "target": "10"}},
        "triggers": [
            {"type": "prometheus", "name": "a", "metadata": {"query": "qa", "threshold": "1"}},
            {"type": "prometheus", "name": "b", "metadata": {"query": "qb", "threshold": "1"}}]}));
    let history = [
        TriggerHistory {
            trigger: 0,
            samples: vec![Sample::Value(1.0)],
        },
        TriggerHistory {
            trigger: 1,
            samples: vec![Sample::Multiple(2)],
        },
    ];
    let options = ReplayOptions {
        ticks: 1,
        start_replicas: Some(1),
        keda_version: version("2.18"),
        ..ReplayOptions::default()
    };
    let run = replay(&s, &history, &options);
    assert_eq!(replicas(&run), [3]);
    assert!(run.timeline[0].fallback);
}
