use crate::checker::Checker;
use crate::finding::Fix;
use crate::promql::format_duration;
use crate::registry::declare_rule;
use crate::rules::promql::{Family, Site, WindowCheck};

declare_rule! {
    /// ## What it does
    /// Reports a range read by `rate`, `irate`, `increase`, `delta`, `idelta`, `deriv`,
    /// `predict_linear`, `changes` or `resets` that is shorter than 2 x the scrape interval, and a
    /// range read by a `*_over_time` function that is shorter than the scrape interval. For a
    /// subquery `[R:step]` the step takes the place of the scrape interval (a subquery without a
    /// step runs at Prometheus's default evaluation interval, 1m). Ranges inside aggregation
    /// parameters and subquery bodies are checked too; a matrix selector inside a subquery body
    /// still reads raw samples, one per scrape.
    ///
    /// The scrape interval is, in order: a ServiceMonitor, PodMonitor or Prometheus configuration
    /// in the same input, the annotation `kedalint.io/scrape-interval`, the configuration or
    /// `--scrape-interval`, else Prometheus's default of 1m. The message says which one it used.
    ///
    /// ## Why is this bad?
    /// `rate()` needs two samples inside its window. With a 1m scrape, `rate(x[1m])` holds at
    /// most one sample at almost every instant, so it returns nothing; `sum` and
    /// `histogram_quantile` over nothing are nothing, and KEDA reads an empty result as 0 (with
    /// the default `ignoreNullValues: true`) and scales in, whatever the load.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   # scraped every 1m (Prometheus default)
    ///   query: histogram_quantile(0.95, sum(rate(latency_seconds_bucket[1m])) by (le))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum(rate(latency_seconds_bucket[5m])) by (le))
    /// ```
    pub(crate) struct RateWindowTooShort => "KL202", "rate-window-too-short", Error;
}

pub(crate) fn report(cx: &mut Checker<'_>, site: &Site<'_, '_>, w: &WindowCheck) {
    let (min, _) = w.family.factors();
    let times = if min == 1 {
        String::new()
    } else {
        format!("{min} x ")
    };
    let what = if w.subquery {
        "subquery range"
    } else {
        "window"
    };
    let item = if w.subquery { "point" } else { "sample" };
    let f = &w.function;
    let consequence = match w.family {
        Family::TwoSamples if matches!(f.as_str(), "changes" | "resets") => {
            format!("so {f}() can never count anything and reads 0")
        }
        Family::TwoSamples => {
            let held = if w.range <= w.spacing {
                format!("it holds at most one {item}")
            } else {
                format!("at many instants it holds only one {item}")
            };
            format!(
                "{held}, {f}() returns nothing and {}",
                site.empty_result_effect()
            )
        }
        Family::OneSample => format!(
            "at some instants it holds no {item}, {f}() returns nothing and {}",
            site.empty_result_effect()
        ),
    };
    let message = format!(
        "{f}() {what} {} is shorter than {times}{}: {consequence}",
        format_duration(w.range),
        w.spacing_text,
    );
    let help = help(w);
    let fix = fix(cx, site, w);
    cx.report(
        &RateWindowTooShort::INFO,
        site.loc(cx, w.span.clone()),
        message,
    )
    .help(help)
    .fix(fix);
}

/// What to write instead, shared with KL203.
pub(crate) fn help(w: &WindowCheck) -> String {
    let (_, recommended) = w.family.factors();
    let unit = if w.subquery {
        "step"
    } else {
        "scrape interval"
    };
    format!(
        "use a range of at least {recommended} x the {unit}: {} ({recommended} x {}, rounded up)",
        format_duration(w.suggestion),
        format_duration(w.spacing),
    )
}

/// Replaces only the range duration (`1m` in `[1m]` or `[1m:30s]`), shared with KL203.
/// It changes nothing but the number of samples the function sees, so it is a safe fix.
pub(crate) fn fix(cx: &Checker<'_>, site: &Site<'_, '_>, w: &WindowCheck) -> Option<Fix> {
    let new = format_duration(w.suggestion);
    let edit = site.edit(cx, w.duration_span.clone()?, new.clone())?;
    Some(Fix {
        title: format!("widen the range to {new}"),
        edits: vec![edit],
        changes_behaviour: false,
    })
}
