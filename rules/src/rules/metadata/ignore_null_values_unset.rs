use crate::checker::Checker;
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::rules::metadata_loc;

declare_rule! {
    /// ## What it does
    /// Reports a prometheus trigger that does not set `ignoreNullValues`.
    ///
    /// ## Why is this bad?
    /// The default is `true`: an empty result, NaN or ±Inf becomes a metric of 0 with no error.
    /// A lost target, a label typo or a too-short `rate()` window then reads as "no load", the
    /// workload scales in, and `fallback` never fires because nothing failed. Make the choice
    /// explicit: `"false"` turns an empty result into an error (and lets `fallback` act), `"true"`
    /// keeps reading it as 0 where that is really what an empty result means.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:80
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    ///   threshold: "100"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:80
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    ///   threshold: "100"
    ///   ignoreNullValues: "false"
    /// ```
    pub(crate) struct IgnoreNullValuesUnset => "KL109", "ignore-null-values-unset", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    if trigger.meta_entry("ignoreNullValues").is_some() || trigger.metadata().is_none() {
        return;
    }
    cx.report(
        &IgnoreNullValuesUnset::INFO,
        metadata_loc(trigger),
        "`ignoreNullValues` is not set, so it defaults to true: an empty result (lost target, label typo, too-short window) silently reads as 0 and fallback never fires",
    )
    .help("set `ignoreNullValues: \"false\"` to turn an empty result into an error, or \"true\" if an empty result really means zero load");
}
