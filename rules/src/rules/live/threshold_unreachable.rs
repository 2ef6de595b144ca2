use crate::checker::{Checker, Loc};
use crate::model::Trigger;
use crate::promql::TopOperation;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: for a query whose result is a `histogram_quantile`, reads the histogram's
    /// bucket bounds from the live server and reports a `threshold` above the largest finite
    /// `le` bound.
    ///
    /// ## Why is this bad?
    /// `histogram_quantile` interpolates inside buckets and returns the largest finite bound
    /// when the quantile falls into the `+Inf` bucket: it can never exceed that bound. A
    /// threshold above it can never be reached, so the trigger never scales out, however slow
    /// the service gets.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   # buckets: 0.1, 0.25, 0.5, 1, +Inf
    ///   query: histogram_quantile(0.95, sum(rate(request_duration_seconds_bucket[2m])) by (le))
    ///   threshold: "2"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum(rate(request_duration_seconds_bucket[2m])) by (le))
    ///   threshold: "0.5"
    /// ```
    pub(crate) struct ThresholdUnreachable => "KL409", "threshold-unreachable", Warning;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    trigger: &Trigger<'_>,
    q: &QueryContext<'_>,
    live: &Live<'_>,
) {
    let Some(probe) = live.query else {
        return;
    };
    let Ok(analysis) = &q.analysis else {
        return;
    };
    if analysis.top_operation != TopOperation::Quantile || analysis.histogram_quantiles.len() != 1 {
        return;
    }
    let Some(entry) = trigger.meta_entry("threshold") else {
        return;
    };
    let Some(threshold) = trigger
        .meta("threshold")
        .and_then(|t| t.parse::<f64>().ok())
    else {
        return;
    };
    let hq = &analysis.histogram_quantiles[0];
    let Some((metric, le)) = hq
        .bucket_metrics
        .iter()
        .filter_map(|m| Some((m, *probe.largest_le.get(m)?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return;
    };
    let scale = analysis.scale.unwrap_or(1.0);
    let bound = le * scale;
    if threshold.partial_cmp(&bound) != Some(std::cmp::Ordering::Greater) {
        return;
    }
    let scaled = if (scale - 1.0).abs() > f64::EPSILON {
        format!(" ({le} x {scale} = {bound} after the query's scaling)")
    } else {
        String::new()
    };
    cx.report(
        &ThresholdUnreachable::INFO,
        Loc::value(trigger.metadata_path().key("threshold"), entry),
        format!(
            "threshold {threshold} is above the largest finite bucket bound of `{metric}`, le=\"{le}\"{scaled}, on {}: histogram_quantile never exceeds it, so the trigger never scales out",
            live.probed
        ),
    )
    .help(format!(
        "use a threshold below {bound}, or add buckets above {le} to the histogram"
    ));
}
