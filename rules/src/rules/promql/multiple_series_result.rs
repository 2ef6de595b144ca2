use crate::checker::Checker;
use crate::promql::{Analysis, SeriesShape};
use crate::registry::declare_rule;
use crate::rules::promql::{Site, is_vector};

declare_rule! {
    /// ## What it does
    /// Reports a query that can return more than one series: a selector or a per-series function
    /// at the top, an aggregation `by` or `without` labels that can take several values, or a
    /// binary operation that keeps several series. `histogram_quantile` over `sum … by (le)` is
    /// one series, and so is a `by` label pinned to one value by an equality matcher (or a regex
    /// without metacharacters) in the selectors.
    ///
    /// ## Why is this bad?
    /// KEDA reads exactly one value. When Prometheus returns two or more series the scaler fails
    /// with `prometheus query … returned multiple elements`, and the HPA logs only
    /// `error when getting metric values … encountered error`. A query that returns one series
    /// today (one replica, one pod) starts failing the day the workload scales out.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum by (pod) (rate(http_requests_total{job="api"}[5m]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    /// ```
    pub(crate) struct MultipleSeriesResult => "KL204", "multiple-series-result", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    // A range vector or scalar result is KL206's or KL207's: the shape is wrong either way.
    if !is_vector(a) {
        return;
    }
    let SeriesShape::Many { reason } = &a.single_series else {
        return;
    };
    cx.report(
        &MultipleSeriesResult::INFO,
        site.loc(cx, None),
        format!(
            "the query can return more than one series ({reason}); KEDA then fails with \"returned multiple elements\""
        ),
    )
    .help("reduce the result to one series: aggregate without `by` (`sum(...)`, `max(...)`), or pin every `by` label to one value with an equality matcher");
}
