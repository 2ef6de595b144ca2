use crate::checker::{Checker, Loc};
use crate::keda::parse_go_bool;
use crate::model::ScaledObject;
use crate::registry::declare_rule;
use crate::rules::scaling::TriggerQuery;

declare_rule! {
    /// ## What it does
    /// Reports a ScaledObject with `fallback` configured and a prometheus trigger whose
    /// `ignoreNullValues` is unset (default `true`) or `true`.
    ///
    /// ## Why is this bad?
    /// `fallback` engages only when a scaler returns an **error** for more than
    /// `failureThreshold` consecutive reads. With `ignoreNullValues` true, an empty result (a
    /// lost target, Prometheus returning nothing during an incident) and ±Inf are not errors:
    /// KEDA reads them as 0 and scales in, exactly when the fallback replicas were meant to
    /// hold the line. Only unreachable servers, timeouts and HTTP errors reach the fallback.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   fallback:
    ///     failureThreshold: 3
    ///     replicas: 6
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         query: sum(rate(http_requests_total{app="web"}[5m]))
    ///         threshold: "100"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   fallback:
    ///     failureThreshold: 3
    ///     replicas: 6
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         query: sum(rate(http_requests_total{app="web"}[5m]))
    ///         threshold: "100"
    ///         ignoreNullValues: "false"
    /// ```
    pub(crate) struct FallbackNeverFires => "KL309", "fallback-never-fires", Warning, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>, queries: &[TriggerQuery<'_, '_>]) {
    let Some(fallback) = so.fallback().filter(|f| f.value.as_map().is_some()) else {
        return;
    };
    let version = cx.settings.keda_version;
    let nulls = if version.at_least(2, 20) {
        format!("an empty result, NaN and ±Inf are read as 0 without an error (KEDA {version})")
    } else {
        format!(
            "an empty result and ±Inf are read as 0 without an error (KEDA {version}; NaN passes through as a value)"
        )
    };
    for (trigger, _) in queries {
        if !trigger.is_prometheus() || trigger.metadata().is_none() {
            continue;
        }
        let (loc, how) = match trigger.meta_entry("ignoreNullValues") {
            None => (
                Loc::key(so.spec_path().key("fallback"), fallback),
                "unset (default true)",
            ),
            Some(e) => match trigger.meta("ignoreNullValues").and_then(parse_go_bool) {
                Some(true) => (
                    Loc::value(trigger.metadata_path().key("ignoreNullValues"), e),
                    "true",
                ),
                _ => continue,
            },
        };
        cx.report(
            &FallbackNeverFires::INFO,
            loc,
            format!(
                "fallback is configured but trigger {} has ignoreNullValues {how}: {nulls}, so a lost target reads as no load and scales in instead of engaging the fallback",
                trigger_label(trigger)
            ),
        )
        .help("set `ignoreNullValues: \"false\"` on the trigger so an empty result is an error and the fallback replicas take over");
    }
}

/// `spec.triggers[1] (name "latency")`.
pub(crate) fn trigger_label(trigger: &crate::model::Trigger<'_>) -> String {
    match trigger.name() {
        Some(n) => format!("{} ({n:?})", trigger.path),
        None => trigger.path.to_string(),
    }
}
