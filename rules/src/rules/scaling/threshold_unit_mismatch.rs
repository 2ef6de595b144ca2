use crate::checker::Checker;
use crate::model::Trigger;
use crate::promql::{SignalKind, Unit};
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{analysis, meta_loc, meta_number, num};

declare_rule! {
    /// ## What it does
    /// Reports a `threshold` whose magnitude does not fit the unit of the query's result:
    /// - a query in seconds (a `_seconds` metric, a quantile of a `_seconds_bucket` histogram,
    ///   no `* 1000`) with a threshold of 10 or more: milliseconds written against seconds;
    /// - a query scaled to milliseconds (`* 1000`, or a `_milliseconds` / `_ms` metric) with a
    ///   threshold below 1;
    /// - a 0..1 ratio with a threshold above 1 (it can never be exceeded);
    /// - a percentage (a ratio `* 100`, or a `_percent` metric) with a threshold of 1 or less.
    ///
    /// The rate of a `_seconds_total` counter (CPU seconds per second) is a number of cores,
    /// not a duration, and is not checked. Signals that exist without the workload (a queue's
    /// age in seconds, consumer lag) are not checked against the seconds rule: tens of seconds
    /// are plausible there.
    ///
    /// ## Why is this bad?
    /// KEDA compares the number as is. A p95 latency in seconds against `threshold: "500"`
    /// waits for 500 s (8 minutes) of latency; a millisecond query against `"0.5"` fires on any
    /// traffic at all. Either way the trigger does not do what its numbers suggest.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))
    ///   threshold: "500"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le))
    ///   threshold: "0.5"
    /// ```
    pub(crate) struct ThresholdUnitMismatch => "KL306", "threshold-unit-mismatch", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>, query: Option<&QueryContext<'_>>) {
    let Some(a) = analysis(query) else { return };
    let Some(t) = meta_number(trigger, "threshold").filter(|t| t.value > 0.0) else {
        return;
    };
    let v = t.value;
    let (message, help) = match a.unit {
        Unit::Seconds if v >= 10.0 && a.signal.kind != SignalKind::External => (
            format!(
                "threshold {} for a query in seconds means {} ({}); a latency target of that size is unusual, milliseconds written against seconds?",
                t.text,
                human_seconds(v),
                unit_evidence(a)
            ),
            format!(
                "write the threshold in seconds (\"{}\" for {} ms), or multiply the query by 1000 to compare milliseconds",
                num(v / 1000.0),
                t.text
            ),
        ),
        Unit::Milliseconds if v < 1.0 => (
            format!(
                "threshold {} for a query in milliseconds ({}) means {} ms, under a millisecond: any traffic exceeds it; a threshold written in seconds?",
                t.text,
                unit_evidence(a),
                t.text
            ),
            format!(
                "write the threshold in milliseconds (\"{}\" for {} s), or drop the `* 1000` from the query",
                num(v * 1000.0),
                t.text
            ),
        ),
        Unit::Ratio if v > 1.0 => (
            format!(
                "threshold {} for a 0..1 ratio ({}): the value can never exceed it, so the trigger never scales out; a percentage?",
                t.text,
                unit_evidence(a)
            ),
            format!(
                "write the threshold as a fraction (\"{}\" for {}%), or multiply the query by 100",
                num(v / 100.0),
                t.text
            ),
        ),
        Unit::Percent if v <= 1.0 => (
            format!(
                "threshold {} for a percentage ({}) means {}%; a 0..1 fraction written against a percentage?",
                t.text,
                unit_evidence(a),
                t.text
            ),
            format!(
                "write the threshold in percent (\"{}\" for a fraction of {}), or drop the `* 100` from the query",
                num(v * 100.0),
                t.text
            ),
        ),
        _ => return,
    };
    cx.report(
        &ThresholdUnitMismatch::INFO,
        meta_loc(trigger, "threshold", t.entry),
        message,
    )
    .help(help);
}

fn unit_evidence(a: &crate::promql::Analysis) -> String {
    let metric = a
        .selectors
        .iter()
        .find_map(|s| s.metric.as_deref())
        .map_or(String::new(), |m| format!("`{m}`"));
    let scale = a.scale.map_or(String::new(), |s| format!(" × {}", num(s)));
    let what = match a.unit {
        Unit::Seconds => "seconds",
        Unit::Milliseconds => "milliseconds",
        Unit::Ratio => "a ratio",
        Unit::Percent => "a percentage",
        _ => "its unit",
    };
    if metric.is_empty() {
        format!("the query reads {what}")
    } else {
        format!("{metric}{scale} is {what}")
    }
}

fn human_seconds(v: f64) -> String {
    if v >= 120.0 {
        format!("{} s, about {} minutes", num(v), num((v / 60.0).round()))
    } else {
        format!("{} s", num(v))
    }
}
