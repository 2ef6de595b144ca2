//! Tests for the PromQL analysis, one fact per test, positive and negative examples.

use std::sync::Arc;
use std::time::Duration;

use super::*;

const SEED: &str =
    "histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[1m])) by (le))";

#[track_caller]
fn ok(query: &str) -> Arc<Analysis> {
    match analyze(query) {
        Ok(a) => a,
        Err(e) => panic!("{query:?} should analyse, got {e:?}"),
    }
}

#[track_caller]
fn problem(query: &str) -> QueryProblem {
    match analyze(query) {
        Ok(a) => panic!("{query:?} should fail, got {a:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn invalid_at(query: &str) -> Option<usize> {
    match problem(query) {
        QueryProblem::Invalid { offset, .. } => offset,
        other => panic!("{query:?} should be invalid, got {other:?}"),
    }
}

#[track_caller]
fn unsupported(query: &str) -> (String, Option<usize>) {
    match problem(query) {
        QueryProblem::Unsupported { message, offset } => (message, offset),
        other => panic!("{query:?} should be unsupported, got {other:?}"),
    }
}

fn span_text(query: &str, span: Option<std::ops::Range<usize>>) -> Option<&str> {
    span.map(|s| &query[s])
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ----- the seed query ------------------------------------------------------------------------------------

#[test]
fn seed_query_has_one_rate_range_pointing_at_its_bracket() {
    let a = ok(SEED);
    assert_eq!(a.ranges.len(), 1);
    let r = &a.ranges[0];
    assert_eq!(r.range, secs(60));
    assert_eq!(r.consumer.as_deref(), Some("rate"));
    assert_eq!(span_text(SEED, r.span.clone()), Some("[1m]"));
    assert_eq!(r.span, Some(66..70));
    assert!(r.enclosing_subquery_steps.is_empty());
    assert_eq!(
        r.kind,
        RangeKind::Matrix {
            metric: Some("inference_latency_seconds_bucket".to_owned()),
            selector: 0
        }
    );
}

#[test]
fn seed_query_is_one_series_quantile_in_seconds_that_can_be_nan() {
    let a = ok(SEED);
    assert_eq!(a.result_type, ValueType::Vector);
    assert_eq!(a.single_series, SeriesShape::AtMostOne);
    assert_eq!(a.top_operation, TopOperation::Quantile);
    assert_eq!(a.unit, Unit::Seconds);
    assert_eq!(a.scale, None);
    assert!(
        a.nan_risk
            .as_deref()
            .is_some_and(|r| r.contains("histogram_quantile"))
    );
    assert!(a.counter_without_rate.is_empty());
    assert_eq!(a.signal.kind, SignalKind::WorkloadOnly);
    let hq = &a.histogram_quantiles[0];
    assert_eq!(hq.quantile, Some(0.95));
    assert_eq!(hq.bucket_metrics, ["inference_latency_seconds_bucket"]);
    assert!(hq.keeps_le && hq.classic);
    assert_eq!(span_text(SEED, hq.span.clone()), Some("histogram_quantile"));
}

// ----- problems before and after parsing -------------------------------------------------------------------

#[test]
fn empty_queries_are_empty_and_comment_only_queries_are_invalid_as_prometheus_says() {
    assert_eq!(problem(""), QueryProblem::Empty);
    assert_eq!(problem("  \n\t"), QueryProblem::Empty);
    // Prometheus: `no expression found in input`.
    assert_eq!(
        problem("# just a comment\n  # another"),
        QueryProblem::Invalid {
            message: "no expression found in input (every line of the query is a `#` comment)"
                .to_owned(),
            offset: Some(0),
        }
    );
}

#[test]
fn grafana_rate_interval_is_a_template_variable_with_its_offset() {
    let q = "sum(rate(x_total[$__rate_interval]))";
    assert_eq!(
        problem(q),
        QueryProblem::TemplateVariable {
            text: "$__rate_interval".to_owned(),
            offset: 17
        }
    );
}

#[test]
fn every_dashboard_variable_form_is_reported_where_it_starts() {
    for (q, text) in [
        ("rate(x[$__interval])", "$__interval"),
        ("increase(x[$__range])", "$__range"),
        ("up{job=\"$job\"}", "$job"),
        ("up{job=~\"${job:regex}\"}", "${job:regex}"),
        ("rate(x[${window}])", "${window}"),
        ("rate(x[[[window]]])", "[[window]]"),
        ("rate(x[[window]])", "[[window]]"),
        ("up{job=\"[[job]]\"}", "[[job]]"),
        ("sum(rate(x[5m])) by ($group)", "$group"),
    ] {
        match problem(q) {
            QueryProblem::TemplateVariable { text: t, offset } => {
                assert_eq!(t, text, "{q}");
                assert_eq!(&q[offset..offset + t.len()], text, "{q}");
            }
            other => panic!("{q}: {other:?}"),
        }
    }
}

#[test]
fn regex_anchors_and_label_replace_groups_are_not_template_variables() {
    ok("up{job=~\"api$\"}");
    ok("up{job=~\"^(a|b)$\"}");
    ok("label_replace(up, \"x\", \"$1\", \"job\", \"(.*)\")");
    ok("label_replace(up, \"x\", \"${1}-${name}\", \"job\", \"(?P<name>.*)\")");
    ok("up # a comment with $job in it");
}

#[test]
fn huge_numeric_durations_are_invalid_instead_of_panicking() {
    for q in [
        "x[1e20]",
        "x[1e400]",
        "x[5m:1e30]",
        "x offset 1e30",
        "x offset -1e30",
        "x offset Inf",
        "x offset -NaN",
        "x[1.9e19]",
    ] {
        let offset = invalid_at(q);
        assert!(offset.is_some(), "{q}");
    }
    assert_eq!(invalid_at("rate(x[1e20])"), Some(7));
}

#[test]
fn zero_ranges_are_invalid() {
    assert!(matches!(problem("x[0s]"), QueryProblem::Invalid { .. }));
    assert!(matches!(problem("x[1e-20]"), QueryProblem::Invalid { .. }));
}

#[test]
fn newer_prometheus_syntax_is_unsupported_not_invalid() {
    let (message, offset) = unsupported("rate(x[5m+1m])");
    assert!(message.contains("3.4"), "{message}");
    assert_eq!(offset, Some(9));
    unsupported("rate(x[(5m)])");
    unsupported("rate(x[5m:step()])");
    unsupported("x[5m * 2]");
    let (_, offset) = unsupported("x offset (1m+30s)");
    assert_eq!(offset, Some(9));
    unsupported("x offset -(1m)");
    unsupported("x offset (5)");
    let (message, offset) = unsupported("rate(x[5m] anchored)");
    assert!(message.contains("3.7"), "{message}");
    assert_eq!(offset, Some(11));
    unsupported("increase(x[5m] smoothed)");
    let (message, offset) = unsupported("a </ b");
    assert!(message.contains("3.11"), "{message}");
    assert_eq!(offset, Some(2));
    unsupported("a >/ b");
    unsupported("x{a=~`\\d+`}");
}

#[test]
fn holt_winters_from_prometheus_2_is_valid() {
    let a = ok("holt_winters(x[10m], 0.5, 0.5)");
    assert_eq!(a.functions[0].name, "holt_winters");
    assert!(!a.functions[0].experimental);
    assert_eq!(a.ranges[0].consumer.as_deref(), Some("holt_winters"));
}

#[test]
fn or_between_label_matchers_is_invalid() {
    let q = "x{a=\"b\" or c=\"d\"}";
    assert_eq!(invalid_at(q), Some(8));
}

#[test]
fn parse_errors_point_at_the_offending_text() {
    assert_eq!(invalid_at("sum(rate(x[5m])"), Some(3));
    assert_eq!(invalid_at("rate(x[5m]))"), Some(11));
    assert_eq!(invalid_at("rate(x[5m)"), Some(9));
    assert_eq!(invalid_at("x[5m"), Some(1));
    assert_eq!(invalid_at("x{a=\"b\""), Some(1));
    assert_eq!(invalid_at("sum(x) }"), Some(7));
    assert_eq!(invalid_at("rate(x[5x])"), Some(7));
    assert_eq!(invalid_at("rate(x[5 m])"), Some(9));
    assert_eq!(invalid_at("sum(foo(x))"), Some(4));
    assert_eq!(invalid_at("rate(x)"), Some(0));
    assert_eq!(invalid_at("foo bar"), Some(4));
    assert_eq!(invalid_at("x{a=\"b\" c=\"d\"}"), Some(8));
    assert_eq!(invalid_at("x == == y"), Some(5));
    assert_eq!(invalid_at("sum(x) +"), Some(7));
    assert_eq!(invalid_at("x offset 1m offset 2m"), Some(12));
    assert_eq!(invalid_at("x{a=\"\\q\"}"), Some(5));
}

#[test]
fn plain_numbers_as_durations_are_valid() {
    let a = ok("rate(x[300])");
    assert_eq!(a.ranges[0].range, secs(300));
    assert_eq!(
        span_text("rate(x[300])", a.ranges[0].span.clone()),
        Some("[300]")
    );
}

#[test]
fn the_same_query_text_is_analysed_once() {
    let q = "sum(rate(cache_probe_total{job=~\"a|b\"}[5m]))";
    let first = ok(q);
    let second = ok(q);
    assert!(Arc::ptr_eq(&first, &second));
}

// ----- ranges ------------------------------------------------------------------------------------------

#[test]
fn rate_window_inside_topk_parameter_is_found() {
    let q = "topk(scalar(max(irate(y_total[20s]))), rate(z_total[1m]))";
    let a = ok(q);
    let found: Vec<_> = a
        .ranges
        .iter()
        .map(|r| (r.range, r.consumer.as_deref(), span_text(q, r.span.clone())))
        .collect();
    assert_eq!(
        found,
        [
            (secs(20), Some("irate"), Some("[20s]")),
            (secs(60), Some("rate"), Some("[1m]"))
        ]
    );
}

#[test]
fn subquery_ranges_follow_their_bodies_in_source_order() {
    let q = "max_over_time(rate(x_total[45s])[10m:1m])";
    let a = ok(q);
    assert_eq!(a.ranges.len(), 2);
    assert_eq!(a.ranges[0].range, secs(45));
    assert_eq!(a.ranges[0].consumer.as_deref(), Some("rate"));
    assert_eq!(a.ranges[0].enclosing_subquery_steps, [Some(secs(60))]);
    assert_eq!(span_text(q, a.ranges[0].span.clone()), Some("[45s]"));
    assert_eq!(a.ranges[1].range, secs(600));
    assert_eq!(
        a.ranges[1].kind,
        RangeKind::Subquery {
            step: Some(secs(60))
        }
    );
    assert_eq!(a.ranges[1].consumer.as_deref(), Some("max_over_time"));
    assert!(a.ranges[1].enclosing_subquery_steps.is_empty());
    assert_eq!(span_text(q, a.ranges[1].span.clone()), Some("[10m:1m]"));
}

#[test]
fn nested_subqueries_list_enclosing_steps_innermost_last() {
    let q = "max_over_time(avg_over_time(rate(x_total[1m])[10m:30s])[1h:])";
    let a = ok(q);
    let texts: Vec<_> = a
        .ranges
        .iter()
        .map(|r| span_text(q, r.span.clone()).unwrap())
        .collect();
    assert_eq!(texts, ["[1m]", "[10m:30s]", "[1h:]"]);
    assert_eq!(a.ranges[0].enclosing_subquery_steps, [None, Some(secs(30))]);
    assert_eq!(a.ranges[1].enclosing_subquery_steps, [None]);
    assert_eq!(a.ranges[2].kind, RangeKind::Subquery { step: None });
}

#[test]
fn offsets_and_at_modifiers_do_not_disturb_range_spans() {
    let q = "increase(q_total[1h30m] @ end()) / ignoring(x) group_left deriv(g[10m:2m] offset -1m) + rate(z[5m] offset 1m @ 100)";
    let a = ok(q);
    let texts: Vec<_> = a
        .ranges
        .iter()
        .map(|r| span_text(q, r.span.clone()).unwrap())
        .collect();
    assert_eq!(texts, ["[1h30m]", "[10m:2m]", "[5m]"]);
    assert_eq!(a.ranges[0].range, secs(5400));
    assert_eq!(
        a.ranges[1].kind,
        RangeKind::Subquery {
            step: Some(secs(120))
        }
    );
    assert_eq!(a.ranges[1].consumer.as_deref(), Some("deriv"));
}

#[test]
fn a_top_level_range_has_no_consumer_and_a_matrix_result() {
    let a = ok("x[5m]");
    assert_eq!(a.result_type, ValueType::Matrix);
    assert_eq!(a.ranges[0].consumer, None);
    assert_eq!(ok("sum(x)[5m:1m]").result_type, ValueType::Matrix);
}

#[test]
fn string_literals_with_brackets_do_not_shift_range_spans() {
    let q =
        "sum(rate(x{path=\"/a[1]\", q='[5m]'}[2m])) + count(count_over_time(y{z=`]`}[30s:10s]))";
    let a = ok(q);
    let texts: Vec<_> = a
        .ranges
        .iter()
        .map(|r| span_text(q, r.span.clone()).unwrap())
        .collect();
    assert_eq!(texts, ["[2m]", "[30s:10s]"]);
    assert_eq!(a.selectors.len(), 2);
    assert_eq!(
        span_text(q, a.selectors[0].span.clone()),
        Some("x{path=\"/a[1]\", q='[5m]'}")
    );
}

#[test]
fn block_scalar_queries_with_newlines_and_comments_get_spans() {
    let q = "histogram_quantile(0.95,\n  # p95 over all pods [not a range]\n  sum by (le) (\n    rate(http_request_duration_seconds_bucket{job=\"api\"}[5m])  # window\n  )\n)\n";
    let a = ok(q);
    assert_eq!(span_text(q, a.ranges[0].span.clone()), Some("[5m]"));
    assert_eq!(
        span_text(q, a.selectors[0].span.clone()),
        Some("http_request_duration_seconds_bucket{job=\"api\"}")
    );
    let names: Vec<_> = a
        .functions
        .iter()
        .map(|f| span_text(q, f.span.clone()).unwrap())
        .collect();
    assert_eq!(names, ["histogram_quantile", "sum", "rate"]);
    assert!(a.single_series.is_at_most_one());
}

#[test]
fn many_ranges_agree_with_their_brackets_in_source_order() {
    let q = "(sum(rate(a_total[1m])) + sum(increase(b_total[2m]))) / sum(delta(c[3m])) * avg(avg_over_time(d[4m:5s])) - max(predict_linear(e[6m], 60))";
    let a = ok(q);
    let got: Vec<_> = a
        .ranges
        .iter()
        .map(|r| {
            (
                span_text(q, r.span.clone()).unwrap(),
                r.range,
                r.consumer.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("[1m]", secs(60), "rate".to_owned()),
            ("[2m]", secs(120), "increase".to_owned()),
            ("[3m]", secs(180), "delta".to_owned()),
            ("[4m:5s]", secs(240), "avg_over_time".to_owned()),
            ("[6m]", secs(360), "predict_linear".to_owned()),
        ]
    );
}

// ----- selectors and functions -----------------------------------------------------------------------------

#[test]
fn selectors_carry_matchers_spans_and_their_consumer() {
    let q = "sum by (job) (rate(http_requests_total{job=\"api\", code!~\"5..\"}[5m])) / on(job) group_left up{job=\"api\"}";
    let a = ok(q);
    assert_eq!(a.selectors.len(), 2);
    let s = &a.selectors[0];
    assert_eq!(s.metric.as_deref(), Some("http_requests_total"));
    assert_eq!(
        s.matchers,
        [
            LabelMatcher {
                name: "job".to_owned(),
                op: MatchOp::Equal,
                value: "api".to_owned()
            },
            LabelMatcher {
                name: "code".to_owned(),
                op: MatchOp::RegexNoMatch,
                value: "5..".to_owned()
            },
        ]
    );
    assert!(s.in_range);
    assert_eq!(s.consumer.as_deref(), Some("rate"));
    assert_eq!(s.path, ["sum", "rate"]);
    assert_eq!(
        span_text(q, s.span.clone()),
        Some("http_requests_total{job=\"api\", code!~\"5..\"}")
    );
    let up = &a.selectors[1];
    assert!(!up.in_range);
    assert_eq!(up.consumer, None);
    assert_eq!(span_text(q, up.span.clone()), Some("up{job=\"api\"}"));
}

#[test]
fn metric_name_comes_from_a_name_matcher_too() {
    let q = "sum(rate({__name__=\"x_total\", job=\"a\"}[5m]))";
    let a = ok(q);
    assert_eq!(a.selectors[0].metric.as_deref(), Some("x_total"));
    assert_eq!(a.selectors[0].matchers.len(), 1);
    assert_eq!(
        span_text(q, a.selectors[0].span.clone()),
        Some("{__name__=\"x_total\", job=\"a\"}")
    );
}

#[test]
fn selectors_in_subqueries_and_under_absent_say_so() {
    let a = ok("absent(up{job=\"a\"}) or max_over_time(x[10m:1m])");
    assert_eq!(a.selectors[0].consumer.as_deref(), Some("absent"));
    assert!(!a.selectors[0].in_subquery);
    assert!(a.selectors[1].in_subquery);
    assert!(!a.selectors[1].in_range);
}

#[test]
fn experimental_functions_and_limit_aggregations_are_flagged() {
    let q = "sum(mad_over_time(x[5m])) + limitk(2, y) + sort_by_label(z, \"a\") + rate(w[5m])";
    let a = ok(q);
    let flagged: Vec<_> = a
        .functions
        .iter()
        .filter(|f| f.experimental)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(flagged, ["mad_over_time", "limitk", "sort_by_label"]);
    let limitk = a.functions.iter().find(|f| f.name == "limitk").unwrap();
    assert_eq!(limitk.kind, FunctionKind::Aggregation);
    assert_eq!(span_text(q, limitk.span.clone()), Some("limitk"));
    assert!(ok("limit_ratio(0.5, x)").functions[0].experimental);
    assert!(!ok("rate(x[5m])").functions[0].experimental);
}

#[test]
fn function_spans_skip_modifiers_and_label_lists() {
    let q = "SUM BY (le) (rate(x[5m] @ start())) * on (le) group_left (a) count without (b) (y)";
    let a = ok(q);
    let names: Vec<_> = a
        .functions
        .iter()
        .map(|f| (f.name.as_str(), span_text(q, f.span.clone()).unwrap()))
        .collect();
    assert_eq!(
        names,
        [("sum", "SUM"), ("rate", "rate"), ("count", "count")]
    );
    let sels: Vec<_> = a
        .selectors
        .iter()
        .map(|s| span_text(q, s.span.clone()).unwrap())
        .collect();
    assert_eq!(sels, ["x", "y"]);
}

// ----- one series or many ----------------------------------------------------------------------------------

#[track_caller]
fn assert_one(q: &str) {
    assert_eq!(ok(q).single_series, SeriesShape::AtMostOne, "{q}");
}

#[track_caller]
fn assert_many(q: &str, reason_part: &str) {
    match &ok(q).single_series {
        SeriesShape::Many { reason } => assert!(reason.contains(reason_part), "{q}: {reason}"),
        SeriesShape::AtMostOne => panic!("{q} should be Many"),
    }
}

#[test]
fn aggregations_without_grouping_return_one_series() {
    for q in [
        "sum(x)",
        "max(rate(x[5m]))",
        "count(up)",
        "avg(x) * 100",
        "sum(x) by ()",
        "quantile(0.9, x)",
        "group(x)",
    ] {
        assert_one(q);
    }
}

#[test]
fn grouping_by_a_free_label_returns_many_series() {
    assert_many("sum by (pod) (rate(x_total[5m]))", "`pod`");
    assert_many("sum(rate(x_total[5m])) by (pod, job)", "`pod`, `job`");
    assert_many("sum without (pod) (x)", "without");
    assert_many("count_values(\"v\", x)", "count_values");
}

#[test]
fn grouping_labels_pinned_by_every_selector_return_one_series() {
    assert_one("sum by (job) (rate(x_total{job=\"api\"}[5m]))");
    assert_one("sum by (job) (rate(x_total{job=~\"api\"}[5m]))");
    assert_one("sum by (job) (a{job=\"x\"}) / sum by (job) (b{job=\"x\"})");
    assert_many(
        "sum by (job) (rate(x_total{job=~\"api|web\"}[5m]))",
        "`job`",
    );
    assert_many("sum by (job) (a{job=\"x\"} + b)", "`job`");
}

#[test]
fn histogram_quantile_consumes_the_le_grouping() {
    assert_one(SEED);
    assert_one("histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))");
    assert_one("histogram_quantile(0.9, sum by (le, job) (rate(x_bucket{job=\"a\"}[5m])))");
    assert_many(
        "histogram_quantile(0.9, sum by (le, pod) (rate(x_bucket[5m])))",
        "`pod`",
    );
    assert_many("histogram_quantile(0.9, rate(x_bucket[5m]))", "x_bucket");
    assert_many("sum by (le) (rate(x_bucket[5m]))", "`le`");
}

#[test]
fn bare_selectors_and_unaggregated_rates_return_many_series() {
    assert_many("x", "`x`");
    assert_many("rate(x_total{job=\"a\"}[5m])", "x_total");
    assert_many("abs(x)", "`x`");
    assert_many("max_over_time(x[5m])", "`x`");
}

#[test]
fn constants_absent_and_one_sided_arithmetic_return_one_series() {
    for q in [
        "vector(1)",
        "absent(up{job=\"a\"})",
        "absent_over_time(up[5m])",
        "sum(x) / 60",
        "1 - sum(x)",
        "sum(a) / sum(b)",
        "sum(a) * on() group_left sum(b)",
        "sum(a) or vector(0)",
        "(sum(rate(x[5m])) >= 0) or on() vector(0)",
        "clamp_min(sum(x), 0)",
        "round(max(x))",
        "max_over_time(sum(rate(x[1m]))[10m:])",
        "topk(1, x)",
        "bottomk(1, rate(x[5m]))",
        "topk(1, x) by (job)",
        "scalar(sum(x))",
        "time()",
        "sum(a) / on() group_left x",
        "x / on() group_left sum(b)",
    ] {
        if q == "topk(1, x) by (job)" {
            assert_many(q, "`job`");
        } else if q == "x / on() group_left sum(b)" {
            assert_many(q, "`x`");
        } else {
            assert_one(q);
        }
    }
}

#[test]
fn topk_of_more_than_one_returns_many_series() {
    assert_many("topk(3, x)", "3");
    assert_many("topk(scalar(y), x)", "computed");
}

#[test]
fn or_with_differing_label_sets_returns_both_sides() {
    assert_many("sum by (job) (x{job=\"a\"}) or vector(0)", "labels differ");
    assert_one("sum by (job) (x{job=\"a\"}) or on() vector(0)");
    assert_many("sum(x) or sum by (pod) (y)", "`pod`");
}

// ----- top operation -----------------------------------------------------------------------------------

#[test]
fn top_operation_looks_through_time_functions_parens_and_constants() {
    for (q, op) in [
        (
            "quantile_over_time(0.95, sum(rate(x[1m]))[15m:])",
            TopOperation::Sum,
        ),
        ("(sum(rate(x[5m])) * 1000)", TopOperation::Sum),
        ("sum(x) / 60", TopOperation::Sum),
        ("count(up{job=\"a\"})", TopOperation::Count),
        ("avg(x)", TopOperation::Avg),
        ("min(x)", TopOperation::Min),
        ("max_over_time(max(x)[5m:])", TopOperation::Max),
        ("stddev(x)", TopOperation::Stddev),
        ("stdvar(x)", TopOperation::Stdvar),
        (SEED, TopOperation::Quantile),
        ("quantile(0.9, x)", TopOperation::Quantile),
        ("topk(1, x)", TopOperation::Topk),
        ("bottomk(1, x)", TopOperation::Bottomk),
        (
            "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))",
            TopOperation::Ratio,
        ),
        ("vector(1)", TopOperation::Constant),
        ("2 * 3", TopOperation::Constant),
        ("x", TopOperation::Selector),
        ("rate(x[5m])", TopOperation::Selector),
        ("(sum(x) >= 0) or vector(0)", TopOperation::Sum),
        ("ceil(avg(x))", TopOperation::Avg),
        ("sum(a) + sum(b)", TopOperation::Sum),
        ("sum(a) + avg(b)", TopOperation::Other),
        ("time()", TopOperation::Other),
        ("60 / sum(x)", TopOperation::Other),
    ] {
        assert_eq!(ok(q).top_operation, op, "{q}");
    }
}

#[test]
fn division_by_a_replica_count_is_recognised() {
    for q in [
        "sum(rate(x[5m])) / count(kube_pod_info{namespace=\"a\", pod=~\"app-.*\"})",
        "sum(x) / count(up{job=\"app\"})",
        "sum(x) / kube_deployment_status_replicas{deployment=\"app\"}",
        "sum(x) / sum(kube_statefulset_status_replicas_ready{statefulset=\"db\"})",
        "sum(x) / scalar(count(count by (pod) (x)))",
        "(sum(x) / count(sum by (pod) (rate(y[5m])))) * 100",
        "sum(rate(x[5m]))/(count(kube_pod_info{pod=~\"app-.*\"}) or vector(1))",
        "sum(x) / clamp_min(count(up{job=\"app\"}), 1)",
    ] {
        assert_eq!(
            ok(q).top_operation,
            TopOperation::DivisionByReplicaCount,
            "{q}"
        );
    }
    assert_eq!(ok("sum(x) / count(y)").top_operation, TopOperation::Ratio);
}

// ----- counters used as levels -------------------------------------------------------------------------

#[track_caller]
fn counters(q: &str) -> Vec<String> {
    let a = ok(q);
    a.counter_without_rate
        .iter()
        .map(|&i| a.selectors[i].metric.clone().unwrap())
        .collect()
}

#[test]
fn raw_counters_are_levels() {
    assert_eq!(
        counters("sum(http_requests_total)"),
        ["http_requests_total"]
    );
    assert_eq!(counters("x_count / y_sum"), ["x_count", "y_sum"]);
    assert_eq!(counters("max_over_time(jobs_total[5m])"), ["jobs_total"]);
    assert_eq!(
        counters("histogram_quantile(0.9, sum by (le) (x_bucket))"),
        ["x_bucket"]
    );
    assert_eq!(counters("avg_over_time(sum(x_total)[5m:])"), ["x_total"]);
}

#[test]
fn rated_or_counted_counters_are_not_levels() {
    for q in [
        "sum(rate(x_total[5m]))",
        "increase(x_total[1h])",
        "irate(x_total[1m])",
        "delta(x_count[5m])",
        "resets(x_total[1h])",
        "changes(x_total[1h])",
        "deriv(x_sum[5m])",
        "count(x_total)",
        "absent(x_total)",
        "count_over_time(x_total[5m])",
        "max_over_time(rate(x_total[1m])[10m:])",
        "x_total - x_total offset 1h",
        "queue_depth",
        SEED,
    ] {
        assert!(counters(q).is_empty(), "{q}");
    }
}

// ----- units -----------------------------------------------------------------------------------------------

#[test]
fn units_follow_metric_names_and_scaling() {
    for (q, unit, scale) in [
        (SEED, Unit::Seconds, None),
        (
            "histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[5m]))) * 1000",
            Unit::Milliseconds,
            Some(1000.0),
        ),
        (
            "avg(request_latency_milliseconds)",
            Unit::Milliseconds,
            None,
        ),
        ("max(x_ms) / 1000", Unit::Seconds, Some(0.001)),
        (
            "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))",
            Unit::Ratio,
            None,
        ),
        (
            "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m])) * 100",
            Unit::Percent,
            Some(100.0),
        ),
        ("100 * avg(cache_hit_ratio)", Unit::Percent, Some(100.0)),
        ("max(cpu_percent)", Unit::Percent, None),
        (
            "sum(rate(container_cpu_usage_seconds_total[5m]))",
            Unit::Cores,
            None,
        ),
        (
            "sum(rate(x_seconds_sum[5m])) / sum(rate(x_seconds_count[5m]))",
            Unit::Seconds,
            None,
        ),
        ("sum(container_memory_working_set_bytes)", Unit::Bytes, None),
        ("avg(node_load1)", Unit::Unknown, None),
        ("sum(rate(x_total[5m]))", Unit::Unknown, None),
        ("sum(x_seconds) / 60", Unit::Unknown, Some(1.0 / 60.0)),
        (
            "increase(process_cpu_seconds_total[5m])",
            Unit::Seconds,
            None,
        ),
    ] {
        let a = ok(q);
        assert_eq!((a.unit, a.scale), (unit, scale), "{q}");
    }
}

#[test]
fn dividing_by_replica_count_keeps_the_numerator_unit() {
    let a = ok(
        "sum(rate(container_cpu_usage_seconds_total{pod=~\"app-.*\"}[2m])) / count(kube_pod_info{pod=~\"app-.*\"})",
    );
    assert_eq!(a.unit, Unit::Cores);
}

// ----- histogram_quantile and le ---------------------------------------------------------------------------

#[track_caller]
fn keeps_le(q: &str) -> bool {
    let a = ok(q);
    assert_eq!(a.histogram_quantiles.len(), 1, "{q}");
    a.histogram_quantiles[0].keeps_le
}

#[test]
fn aggregations_that_keep_le_are_recognised() {
    assert!(keeps_le(
        "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))"
    ));
    assert!(keeps_le(
        "histogram_quantile(0.9, sum by (le, job) (rate(x_bucket[5m])))"
    ));
    assert!(keeps_le("histogram_quantile(0.9, rate(x_bucket[5m]))"));
    assert!(keeps_le(
        "histogram_quantile(0.9, sum without (pod) (rate(x_bucket[5m])))"
    ));
    assert!(keeps_le(
        "histogram_quantile(0.9, sum by (le) (rate(a_bucket[5m])) / ignoring(x) group_left vector(1))"
    ));
}

#[test]
fn aggregations_that_drop_le_are_recognised() {
    assert!(!keeps_le(
        "histogram_quantile(0.9, sum by (pod) (rate(x_bucket[5m])))"
    ));
    assert!(!keeps_le(
        "histogram_quantile(0.9, sum without (le) (rate(x_bucket[5m])))"
    ));
    assert!(!keeps_le(
        "histogram_quantile(0.9, sum(rate(x_bucket[5m])))"
    ));
    assert!(!keeps_le(
        "histogram_quantile(0.9, sum by (le) (max by (pod) (rate(x_bucket[5m]))))"
    ));
}

#[test]
fn native_histograms_are_not_classic_buckets() {
    let a = ok("histogram_quantile(0.9, sum(rate(http_request_duration_seconds[5m])))");
    let hq = &a.histogram_quantiles[0];
    assert!(!hq.classic);
    assert_eq!(hq.bucket_metrics, ["http_request_duration_seconds"]);
    assert_eq!(a.unit, Unit::Seconds);
    assert_eq!(
        ok("histogram_quantile(scalar(q), sum by (le) (rate(x_bucket[5m])))").histogram_quantiles
            [0]
        .quantile,
        None
    );
}

// ----- NaN ---------------------------------------------------------------------------------------------

#[test]
fn unguarded_quantiles_and_divisions_by_rates_can_be_nan() {
    for (q, part) in [
        (SEED, "histogram_quantile"),
        (
            "sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))",
            "sum(rate(requests_total[5m]))",
        ),
        (
            "sum(rate(a_sum[5m])) / sum(rate(a_count[5m])) or vector(0)",
            "a_count",
        ),
        (
            "sum(x) / sum(kube_deployment_status_replicas{deployment=\"a\"})",
            "replicas",
        ),
        (
            "(sum(increase(a_total[5m])) / sum(increase(b_total[5m]))) * 100",
            "increase",
        ),
    ] {
        let risk = ok(q).nan_risk.clone();
        assert!(
            risk.as_deref().is_some_and(|r| r.contains(part)),
            "{q}: {risk:?}"
        );
    }
}

#[test]
fn guarded_or_safe_queries_cannot_be_nan() {
    for q in [
        "(histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) >= 0) or vector(0)",
        "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) > 0",
        "sum(rate(a_total[5m])) / (sum(rate(b_total[5m])) > 0)",
        "sum(rate(a_total[5m])) / clamp_min(sum(rate(b_total[5m])), 1)",
        "(sum(rate(a[5m])) / sum(rate(b[5m]))) == (sum(rate(a[5m])) / sum(rate(b[5m])))",
        "sum(rate(a_total[5m])) / (sum(rate(b_total[5m])) + 1)",
        "sum(x) / count(up)",
        "sum(rate(x_total[5m]))",
        "sum(x) / 60",
        "count(histogram_quantile(0.9, rate(x_bucket[5m])))",
    ] {
        assert_eq!(ok(q).nan_risk, None, "{q}");
    }
}

// ----- aggregation before rate -------------------------------------------------------------------------

#[test]
fn rate_of_an_aggregated_subquery_is_found_with_its_span() {
    let q = "rate(sum(x_total)[5m:])";
    let a = ok(q);
    assert_eq!(a.aggregation_before_rate.len(), 1);
    let abr = &a.aggregation_before_rate[0];
    assert_eq!(
        (abr.function.as_str(), abr.aggregation.as_str(), abr.range),
        ("rate", "sum", 0)
    );
    assert_eq!(span_text(q, abr.span.clone()), Some("[5m:]"));
    assert_eq!(
        ok("increase((sum by (job) (x_total))[1h:1m])").aggregation_before_rate[0].function,
        "increase"
    );
}

#[test]
fn rate_before_aggregation_is_fine() {
    for q in [
        "sum(rate(x_total[5m]))",
        "max_over_time(sum(rate(x_total[1m]))[10m:])",
        "rate(x_total[5m:1m])",
        "rate(rate(x[1m])[5m:])",
    ] {
        assert!(ok(q).aggregation_before_rate.is_empty(), "{q}");
    }
}

// ----- signal kind -------------------------------------------------------------------------------------

#[test]
fn latency_and_per_pod_queries_are_workload_only() {
    for q in [
        SEED,
        "avg(rate(http_request_duration_seconds_sum[5m])) / avg(rate(http_request_duration_seconds_count[5m]))",
        "sum(rate(http_requests_total{pod=~\"web-.*\"}[2m]))",
        "max(request_latency_ms)",
    ] {
        assert_eq!(ok(q).signal.kind, SignalKind::WorkloadOnly, "{q}");
    }
}

#[test]
fn queue_and_lag_queries_are_external() {
    for q in [
        "sum(kafka_consumergroup_lag{topic=\"orders\"})",
        "rabbitmq_queue_messages_ready{queue=\"jobs\"}",
        "sum(stackdriver_pubsub_subscription_num_undelivered_messages)",
        "max(celery_tasks_pending) + histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
    ] {
        let s = &ok(q).signal;
        assert_eq!(s.kind, SignalKind::External, "{q}");
        assert!(s.reason.contains('`'), "{}", s.reason);
    }
}

#[test]
fn other_queries_have_an_unknown_signal() {
    for q in [
        "sum(rate(nginx_ingress_controller_requests[5m]))",
        "vector(1)",
        "avg(node_load1)",
    ] {
        assert_eq!(ok(q).signal.kind, SignalKind::Unknown, "{q}");
    }
}

// ----- robustness --------------------------------------------------------------------------------------

/// Queries the mutation test starts from: the shapes KEDA users write, and the tricky corners.
const CORPUS: [&str; 32] = [
    SEED,
    "sum by (pod) (rate(x_total[5m]))",
    "histogram_quantile(0.9, sum by (pod) (rate(x_bucket[5m])))",
    "topk(scalar(max(irate(y_total[20s]))), rate(z_total[1m]))",
    "max_over_time(rate(x_total[45s])[10m:1m])",
    "increase(q_total[1h30m] @ end()) / ignoring(x) group_left deriv(g[10m:2m] offset -1m)",
    "quantile_over_time(0.95, sum(rate(x[1m]))[15m:])",
    "sum(rate(errors_total{code=~\"5..\"}[5m])) / sum(rate(requests_total[5m])) * 100",
    "sum(rate(container_cpu_usage_seconds_total{pod=~\"app-.*\"}[2m])) / count(kube_pod_info{pod=~\"app-.*\"})",
    "rate(sum(x_total)[5m:])",
    "sum(kafka_consumergroup_lag{topic=\"a\", group='b'})",
    "x{a=\"[5m]\", b=`]`}[5m] offset 1m",
    "(histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) >= 0) or on() vector(0)",
    "label_replace(up, \"x\", \"$1\", \"job\", \"(.*)\")",
    "holt_winters(x[10m], 0.5, 0.5)",
    "absent(up{job=\"a\"}) or max_over_time(x[10m:1m])",
    "count_values(\"v\", x) + limitk(2, y) unless bottomk(1, z)",
    "sum by (le) (rate(x_bucket[5m] @ start())) * on (le) group_left (a) count without (b) (y)",
    "histogram_quantile(0.95,\n  # comment [x]\n  sum by (le) (rate(h_seconds_bucket{job=\"api\"}[5m]))\n)\n",
    "{__name__=\"x_total\", job=\"a\"}",
    "rate(x[300])",
    "x[0x10]",
    "rate(x[$__rate_interval])",
    "rate(x[5m+1m])",
    "rate(x[5m] anchored)",
    "a </ b",
    "vector(1) - scalar(time()) % 60 ^ 2 == bool 3",
    "-x offset 5m",
    "sum(a) / on() group_left sum(b) > 0",
    "avg_over_time(x[5m:30s] offset 1h)",
    "x{a=\"é\u{1F600}\"} # ünïcode [5m]",
    "max(rate(a_total[1m])) atan2 min(b)",
];

use crate::test_rng::Rng;

fn mutate(rng: &mut Rng, query: &str) -> String {
    const INSERTS: [&str; 12] = [
        "[", "]", "(", ")", "1e20", "{", "}", "\"", "[5m]", "[1m:]", "$", "#",
    ];
    let mut text = query.to_owned();
    for _ in 0..=rng.below(2) {
        let mut at = rng.below(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        match rng.below(4) {
            0 if !text.is_empty() => {
                let mut end = (at + 1 + rng.below(3)).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                if at < end {
                    text.replace_range(at..end, "");
                }
            }
            1 | 0 => text.insert_str(at, INSERTS[rng.below(INSERTS.len())]),
            2 => {
                let mut end = (at + 1 + rng.below(12)).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                let piece = text[at..end].to_owned();
                text.insert_str(end, &piece);
            }
            _ => {
                let mut end = (at + 1).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, INSERTS[rng.below(INSERTS.len())]);
            }
        }
    }
    text
}

#[track_caller]
fn assert_span(query: &str, span: &Option<std::ops::Range<usize>>, what: &str) {
    if let Some(s) = span {
        assert!(
            s.start <= s.end
                && s.end <= query.len()
                && query.is_char_boundary(s.start)
                && query.is_char_boundary(s.end),
            "{what} span {s:?} out of {query:?}"
        );
    }
}

#[test]
fn mutated_queries_never_panic_and_spans_stay_inside_the_text() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut analysed = 0;
    for round in 0..21_000 {
        let seed = CORPUS[round % CORPUS.len()];
        let query = mutate(&mut rng, seed);
        match analyze_uncached(&query) {
            Ok(a) => {
                analysed += 1;
                for r in &a.ranges {
                    assert_span(&query, &r.span, "range");
                    if let Some(s) = &r.span {
                        assert!(
                            query[s.clone()].starts_with('[') && query[s.clone()].ends_with(']'),
                            "{query:?}"
                        );
                    }
                }
                for s in &a.selectors {
                    assert_span(&query, &s.span, "selector");
                }
                for f in &a.functions {
                    assert_span(&query, &f.span, "function");
                    if let Some(s) = &f.span {
                        assert!(query[s.clone()].eq_ignore_ascii_case(&f.name), "{query:?}");
                    }
                }
                for h in &a.histogram_quantiles {
                    assert_span(&query, &h.span, "histogram_quantile");
                }
                for x in &a.aggregation_before_rate {
                    assert_span(&query, &x.span, "aggregation before rate");
                }
                for &i in &a.counter_without_rate {
                    assert!(i < a.selectors.len());
                }
            }
            Err(p) => {
                if let Some(o) = p.offset() {
                    assert!(
                        o <= query.len() && query.is_char_boundary(o),
                        "offset {o} out of {query:?}: {p:?}"
                    );
                }
            }
        }
    }
    // The mutations must leave enough valid queries for the span checks to mean something.
    assert!(analysed > 2_000, "only {analysed} mutated queries parsed");
}

#[test]
fn every_corpus_query_that_parses_has_all_its_spans() {
    for q in CORPUS {
        let Ok(a) = analyze(q) else { continue };
        assert!(
            a.ranges.iter().all(|r| r.span.is_some()),
            "range spans missing in {q:?}"
        );
        assert!(
            a.selectors.iter().all(|s| s.span.is_some()),
            "selector spans missing in {q:?}"
        );
        assert!(
            a.functions.iter().all(|f| f.span.is_some()),
            "function spans missing in {q:?}"
        );
        for r in &a.ranges {
            let text = &q[r.span.clone().unwrap()];
            let inner = &text[1..text.len() - 1];
            let range_text = inner.split(':').next().unwrap();
            assert_eq!(duration_token_value(range_text), Some(r.range), "{q:?}");
        }
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let deep = format!("{}x{}", "(".repeat(5000), ")".repeat(5000));
    assert!(matches!(problem(&deep), QueryProblem::Unsupported { .. }));
    let long = vec!["x"; 2000].join(" + ");
    assert!(matches!(problem(&long), QueryProblem::Unsupported { .. }));
    ok(&vec!["x"; 100].join(" + "));
}
