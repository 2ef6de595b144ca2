use crate::checker::Checker;
use crate::promql::format_duration;
use crate::registry::declare_rule;
use crate::rules::promql::{Family, Site, WindowCheck, rate_window_too_short};

declare_rule! {
    /// ## What it does
    /// Reports a range read by `rate`, `irate`, `increase`, `delta`, `idelta`, `deriv`,
    /// `predict_linear`, `changes` or `resets` that is at least 2 x but under 4 x the scrape
    /// interval (for a subquery, its step), and a `*_over_time` range of at least 1 x but under
    /// 2 x. The message names the scrape interval it used and where it came from.
    ///
    /// ## Why is this bad?
    /// The window holds just enough samples when every scrape arrives on time. One late or failed
    /// scrape leaves fewer than two samples (Prometheus 3 ranges are left-open, so a 2 x window
    /// holds exactly two), the function returns nothing and KEDA reads 0. Four scrape intervals
    /// is the usual recommendation (Grafana's `$__rate_interval` uses the same factor).
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   # scraped every 1m (Prometheus default)
    ///   query: sum(rate(http_requests_total{job="api"}[2m]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    /// ```
    pub(crate) struct RateWindowBelowRecommended => "KL203", "rate-window-below-recommended", Warning;
}

pub(crate) fn report(cx: &mut Checker<'_>, site: &Site<'_, '_>, w: &WindowCheck) {
    let (_, recommended) = w.family.factors();
    let f = &w.function;
    // Samples (or subquery points) a left-open window holds when every one arrives on time.
    let held = u32::try_from(w.range.as_nanos() / w.spacing.as_nanos().max(1)).unwrap_or(u32::MAX);
    let needs = match w.family {
        Family::TwoSamples => 2,
        Family::OneSample => 1,
    };
    let spare = held.saturating_sub(needs) + 1;
    let message = if w.subquery {
        format!(
            "{f}() subquery range {} is under {recommended} x {}: it holds only {held} points, so {} at which the body returns nothing leave{} {f}() with nothing and {}",
            format_duration(w.range),
            w.spacing_text,
            count(spare, "step"),
            if spare == 1 { "s" } else { "" },
            site.empty_result_effect(),
        )
    } else {
        format!(
            "{f}() window {} is under {recommended} x {}: it holds only {held} sample{} (Prometheus 3 ranges are left-open), so {} leave{} {f}() with nothing and {}",
            format_duration(w.range),
            w.spacing_text,
            if held == 1 { "" } else { "s" },
            count(spare, "late or failed scrape"),
            if spare == 1 { "s" } else { "" },
            site.empty_result_effect(),
        )
    };
    let help = rate_window_too_short::help(w);
    let fix = rate_window_too_short::fix(cx, site, w);
    cx.report(
        &RateWindowBelowRecommended::INFO,
        site.loc(cx, w.span.clone()),
        message,
    )
    .help(help)
    .fix(fix);
}

/// "one late scrape", "two late scrapes in a row".
fn count(n: u32, what: &str) -> String {
    let word = match n {
        1 => return format!("one {what}"),
        2 => "two",
        3 => "three",
        _ => return format!("{n} {what}s in a row"),
    };
    format!("{word} {what}s in a row")
}
