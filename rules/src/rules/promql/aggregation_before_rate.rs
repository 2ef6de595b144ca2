use crate::checker::Checker;
use crate::promql::Analysis;
use crate::registry::declare_rule;
use crate::rules::promql::Site;

declare_rule! {
    /// ## What it does
    /// Reports `rate`, `increase` or `irate` applied to a subquery whose body aggregates first,
    /// such as `rate(sum(http_requests_total)[5m:])`.
    ///
    /// ## Why is this bad?
    /// Counter resets are detected per series. Once the series are summed, a restart of one pod
    /// lowers the sum; `rate` takes the drop for a counter reset and counts the whole sum as new
    /// increase, a spike that scales out for no load. Taking the rate of each series first
    /// handles resets correctly.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: rate(sum(http_requests_total{job="api"})[5m:30s])
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    /// ```
    pub(crate) struct AggregationBeforeRate => "KL213", "aggregation-before-rate", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    for abr in &a.aggregation_before_rate {
        let (f, agg) = (&abr.function, &abr.aggregation);
        cx.report(
            &AggregationBeforeRate::INFO,
            site.loc(cx, abr.span.clone()),
            format!(
                "{f}() reads a subquery of {agg}(...): the aggregate hides counter resets, so one restarting series lowers the {agg} and {f}() counts it as a huge increase"
            ),
        )
        .help(format!(
            "take the rate of each series first, then aggregate: {agg}({f}(<counter>[<range>]))"
        ));
    }
}
