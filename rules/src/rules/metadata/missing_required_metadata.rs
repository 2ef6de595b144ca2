use crate::checker::{Checker, Loc};
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::rules::metadata_loc;

declare_rule! {
    /// ## What it does
    /// Reports a prometheus trigger whose `serverAddress`, `query` or `threshold` is absent,
    /// empty or only whitespace.
    ///
    /// ## Why is this bad?
    /// KEDA trims every value and treats an empty one as missing; the scaler fails with
    /// `missing required parameter "threshold" in [triggerMetadata]`, the ScaledObject never
    /// becomes Ready, and nothing scales.
    ///
    /// ## Example
    /// ```yaml
    /// - type: prometheus
    ///   metadata:
    ///     serverAddress: http://prometheus.monitoring.svc:9090
    ///     query: sum(rate(http_requests_total[5m]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// - type: prometheus
    ///   metadata:
    ///     serverAddress: http://prometheus.monitoring.svc:9090
    ///     query: sum(rate(http_requests_total[5m]))
    ///     threshold: "100"
    /// ```
    pub(crate) struct MissingRequiredMetadata => "KL101", "missing-required-metadata", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    for key in ["serverAddress", "query", "threshold"] {
        if trigger.meta(key).is_some() {
            continue;
        }
        // A non-string value (a number, a mapping) is KL004's; it is present, just mistyped.
        if trigger
            .meta_entry(key)
            .is_some_and(|e| e.value.as_str().is_none_or(|s| !s.trim().is_empty()))
        {
            continue;
        }
        let (loc, state) = match trigger.meta_entry(key) {
            Some(e) => (Loc::value(trigger.metadata_path().key(key), e), "empty"),
            None => (metadata_loc(trigger), "missing"),
        };
        let example = match key {
            "serverAddress" => "serverAddress: http://prometheus-server.monitoring.svc:80",
            "query" => "query: sum(rate(http_requests_total[5m]))",
            _ => "threshold: \"100\"",
        };
        cx.report(
            &MissingRequiredMetadata::INFO,
            loc,
            format!("required metadata `{key}` is {state}: KEDA fails with `missing required parameter \"{key}\"` and the trigger never works"),
        )
        .help(format!("set it, for example `{example}`"));
    }
}
