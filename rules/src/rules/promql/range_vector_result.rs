use crate::checker::Checker;
use crate::promql::{Analysis, ValueType};
use crate::registry::declare_rule;
use crate::rules::promql::Site;

declare_rule! {
    /// ## What it does
    /// Reports a query whose result is a range vector: a matrix selector (`x[5m]`) or a subquery
    /// (`rate(x[1m])[10m:1m]`) at the top level, not read by any function.
    ///
    /// ## Why is this bad?
    /// Prometheus answers with `resultType: matrix`, whose series carry `values`, not `value`.
    /// KEDA reads only `value`, finds it empty and reads 0 (with the default
    /// `ignoreNullValues: true`) or fails the trigger (with `"false"`).
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: queue_length{queue="orders"}[5m]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: max(max_over_time(queue_length{queue="orders"}[5m]))
    /// ```
    pub(crate) struct RangeVectorResult => "KL206", "range-vector-result", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    if a.result_type != ValueType::Matrix {
        return;
    }
    // The outermost range closes last.
    let top = a
        .ranges
        .iter()
        .filter(|r| r.consumer.is_none() && r.enclosing_subquery_steps.is_empty())
        .max_by_key(|r| r.span.as_ref().map_or(0, |s| s.end));
    cx.report(
        &RangeVectorResult::INFO,
        site.loc(cx, top.and_then(|r| r.span.clone())),
        format!(
            "the query returns a range vector (resultType matrix), which has no single value: {}",
            site.empty_result_effect()
        ),
    )
    .help("read the range with a function: rate(...) or increase(...) for a counter, avg_over_time(...) or max_over_time(...) for a gauge, and aggregate to one series");
}
