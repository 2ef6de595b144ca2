use crate::checker::Checker;
use crate::promql::Analysis;
use crate::registry::declare_rule;
use crate::rules::promql::Site;

declare_rule! {
    /// ## What it does
    /// Reports `histogram_quantile` over classic `_bucket` series whose aggregation drops the
    /// `le` label: `sum by (pod) (rate(x_bucket[5m]))`, `sum without (le) (…)`, or an aggregation
    /// with no `by` at all.
    ///
    /// ## Why is this bad?
    /// A classic histogram is one series per bucket, told apart by `le`. Without `le`,
    /// `histogram_quantile` has no buckets to interpolate and returns nothing, always, so KEDA
    /// reads 0 (or fails with `ignoreNullValues: "false"`) whatever the latency.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum by (pod) (rate(latency_seconds_bucket[5m])))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum by (le) (rate(latency_seconds_bucket[5m])))
    /// ```
    pub(crate) struct HistogramQuantileWithoutLe => "KL205", "histogram-quantile-without-le", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    for hq in &a.histogram_quantiles {
        if !hq.classic || hq.keeps_le {
            continue;
        }
        let metric = hq
            .bucket_metrics
            .first()
            .map_or_else(String::new, |m| format!(" over `{m}`"));
        cx.report(
            &HistogramQuantileWithoutLe::INFO,
            site.loc(cx, hq.span.clone()),
            format!(
                "histogram_quantile(){metric} gets buckets whose `le` label was aggregated away: it returns nothing, always, and {}",
                site.empty_result_effect()
            ),
        )
        .help("keep `le` in the aggregation under histogram_quantile: `sum by (le) (...)`, or `sum by (le, <label>) (...)`");
    }
}
