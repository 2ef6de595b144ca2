use crate::checker::Checker;
use crate::promql::{Analysis, format_duration};
use crate::registry::declare_rule;
use crate::rules::promql::{Site, is_vector, suggested_rate_window};

declare_rule! {
    /// ## What it does
    /// Reports a counter-like series (a name ending in `_total`, `_count`, `_sum` or `_bucket`)
    /// whose value is used as a level: not under `rate`, `increase`, `irate`, `delta`, `resets`
    /// or `changes`, nor under something that ignores the value (`count`, `absent`). The help
    /// suggests a window of 4 x the scrape interval and names the interval it used.
    ///
    /// ## Why is this bad?
    /// A counter only grows (until the process restarts). As a scaling signal it can push the
    /// target up but never lets it come back down, and after a restart it drops to near zero and
    /// scales in under load.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(http_requests_total{job="api"})
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    /// ```
    pub(crate) struct CounterAsLevel => "KL208", "counter-as-level", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    if !is_vector(a) {
        return;
    }
    for &i in &a.counter_without_rate {
        let Some(sel) = a.selectors.get(i) else {
            continue;
        };
        let Some(metric) = sel.metric.as_deref() else {
            continue;
        };
        let suffix = ["_total", "_count", "_sum", "_bucket"]
            .into_iter()
            .find(|s| metric.ends_with(s))
            .unwrap_or("_total");
        let (w, why) = suggested_rate_window(site.q);
        let text = sel
            .span
            .clone()
            .and_then(|s| site.q.query.get(s))
            .unwrap_or(metric);
        cx.report(
            &CounterAsLevel::INFO,
            site.loc(cx, sel.span.clone()),
            format!(
                "`{metric}` is a counter (its name ends in `{suffix}`) used as a level, without rate() or increase(): it only grows, so the target can scale out but never back in"
            ),
        )
        .help(format!(
            "scale on its per-second rate: rate({text}[{}]) ({why})",
            format_duration(w)
        ));
    }
}
