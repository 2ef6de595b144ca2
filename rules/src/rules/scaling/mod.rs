//! KL3xx: scaling behaviour, from the arithmetic the HPA and KEDA really do
//! (notes/keda-semantics.md §2-§4).
//!
//! For External metrics the HPA computes, per trigger:
//! - `AverageValue` (KEDA's default): `desired = ceil(metric / threshold)`, whatever the replica count;
//! - `Value`: `desired ≈ ceil(readyPods × metric / threshold)`.
//!
//! The rules here explain findings with that arithmetic and the manifest's own numbers.

pub(crate) mod activation_ignored;
pub(crate) mod activation_not_below_threshold;
pub(crate) mod average_value_on_non_additive;
pub(crate) mod double_normalisation;
pub(crate) mod duplicate_trigger_name;
pub(crate) mod fallback_never_fires;
pub(crate) mod invalid_metric_type;
pub(crate) mod invalid_replica_bounds;
pub(crate) mod polling_faster_than_scrape;
pub(crate) mod scale_from_zero_deadlock;
pub(crate) mod slow_reaction;
pub(crate) mod threshold_not_positive;
pub(crate) mod threshold_unit_mismatch;
pub(crate) mod unknown_trigger_in_formula;
pub(crate) mod value_on_additive_total;

pub(crate) use activation_ignored::ActivationIgnored;
pub(crate) use activation_not_below_threshold::ActivationNotBelowThreshold;
pub(crate) use average_value_on_non_additive::AverageValueOnNonAdditive;
pub(crate) use double_normalisation::DoubleNormalisation;
pub(crate) use duplicate_trigger_name::DuplicateTriggerName;
pub(crate) use fallback_never_fires::FallbackNeverFires;
pub(crate) use invalid_metric_type::InvalidMetricType;
pub(crate) use invalid_replica_bounds::InvalidReplicaBounds;
pub(crate) use polling_faster_than_scrape::PollingFasterThanScrape;
pub(crate) use scale_from_zero_deadlock::ScaleFromZeroDeadlock;
pub(crate) use slow_reaction::SlowReaction;
pub(crate) use threshold_not_positive::ThresholdNotPositive;
pub(crate) use threshold_unit_mismatch::ThresholdUnitMismatch;
pub(crate) use unknown_trigger_in_formula::UnknownTriggerInFormula;
pub(crate) use value_on_additive_total::ValueOnAdditiveTotal;

use crate::checker::{Checker, Loc};
use crate::keda::is_json_number;
use crate::model::{ScaledObject, Trigger, parse_yaml_int};
use crate::promql::{Analysis, TopOperation, Unit};
use crate::rules::query_context::QueryContext;
use crate::source::{Entry, FieldPath, Node, ScalarType};

/// KEDA's default `pollingInterval`, in seconds.
pub(crate) const DEFAULT_POLLING_INTERVAL: i64 = 30;
/// KEDA's default `maxReplicaCount`.
pub(crate) const DEFAULT_MAX_REPLICAS: i64 = 100;
/// The HPA controller's default sync period (`--horizontal-pod-autoscaler-sync-period`), in seconds.
pub(crate) const HPA_SYNC_PERIOD: i64 = 15;

/// One trigger and, for a prometheus trigger with a query, its analysed query.
pub(crate) type TriggerQuery<'q, 'a> = (Trigger<'a>, Option<QueryContext<'q>>);

/// Runs the KL3xx rules on a ScaledObject, with every trigger and its query context.
pub(crate) fn check_scaled_object(
    cx: &mut Checker<'_>,
    so: &ScaledObject<'_>,
    queries: &[TriggerQuery<'_, '_>],
) {
    for (trigger, query) in queries {
        let query = query.as_ref();
        if cx.enabled(&AverageValueOnNonAdditive::INFO) {
            average_value_on_non_additive::check(cx, so, trigger, query);
        }
        if cx.enabled(&DoubleNormalisation::INFO) {
            double_normalisation::check(cx, so, trigger, query);
        }
        if cx.enabled(&ValueOnAdditiveTotal::INFO) {
            value_on_additive_total::check(cx, so, trigger, query);
        }
        if cx.enabled(&ActivationNotBelowThreshold::INFO) {
            activation_not_below_threshold::check(cx, so, trigger);
        }
        if cx.enabled(&ActivationIgnored::INFO) {
            activation_ignored::check(cx, so, trigger);
        }
        if cx.enabled(&ThresholdUnitMismatch::INFO) {
            threshold_unit_mismatch::check(cx, trigger, query);
        }
        if cx.enabled(&ThresholdNotPositive::INFO) {
            threshold_not_positive::check(cx, trigger);
        }
    }
    if cx.enabled(&ScaleFromZeroDeadlock::INFO) {
        scale_from_zero_deadlock::check(cx, so, queries);
    }
    if cx.enabled(&FallbackNeverFires::INFO) {
        fallback_never_fires::check(cx, so, queries);
    }
    if cx.enabled(&InvalidMetricType::INFO) {
        invalid_metric_type::check(cx, so, queries);
    }
    if cx.enabled(&InvalidReplicaBounds::INFO) {
        invalid_replica_bounds::check(cx, so);
    }
    if cx.enabled(&DuplicateTriggerName::INFO) {
        duplicate_trigger_name::check(cx, queries);
    }
    if cx.enabled(&UnknownTriggerInFormula::INFO) {
        unknown_trigger_in_formula::check(cx, so, queries);
    }
    for (trigger, query) in queries {
        let Some(query) = query else { continue };
        if cx.enabled(&SlowReaction::INFO) {
            slow_reaction::check(cx, so, trigger, query);
        }
        if cx.enabled(&PollingFasterThanScrape::INFO) {
            polling_faster_than_scrape::check(cx, so, trigger, query);
        }
    }
}

/// A number from trigger metadata (`threshold`, `activationThreshold`) that KEDA reads.
pub(crate) struct MetaNumber<'a> {
    /// The value.
    pub(crate) value: f64,
    /// The text as written (trimmed), for messages.
    pub(crate) text: &'a str,
    /// The metadata entry.
    pub(crate) entry: &'a Entry,
}

/// `threshold`, `activationThreshold`, … when KEDA can read it as a number (KL102 reports the rest;
/// an unquoted number is KL004's, but its value is still what the user meant).
pub(crate) fn meta_number<'a>(trigger: &Trigger<'a>, key: &str) -> Option<MetaNumber<'a>> {
    let entry = trigger.meta_entry(key)?;
    let text = trigger.meta(key)?;
    if !is_json_number(text) {
        return None;
    }
    Some(MetaNumber {
        value: text.parse().ok()?,
        text,
        entry,
    })
}

/// The metric type the HPA gets for a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetricType {
    /// `AverageValue`, set or by default.
    AverageValue,
    /// `Value`.
    Value,
    /// Anything else (KL310).
    Invalid,
}

/// A trigger's effective `metricType` (default `AverageValue`).
pub(crate) fn metric_type(trigger: &Trigger<'_>) -> MetricType {
    match trigger.metric_type() {
        None | Some("AverageValue") => MetricType::AverageValue,
        Some("Value") => MetricType::Value,
        Some(_) => MetricType::Invalid,
    }
}

/// How `metricType` was given, for messages.
pub(crate) fn metric_type_origin(trigger: &Trigger<'_>) -> &'static str {
    if trigger.metric_type().is_some() {
        "metricType: AverageValue"
    } else {
        "metricType unset (KEDA's default AverageValue)"
    }
}

/// The analysis of a trigger's query, when it parsed.
pub(crate) fn analysis<'q>(query: Option<&'q QueryContext<'_>>) -> Option<&'q Analysis> {
    query?.analysis.as_deref().ok()
}

/// The location of a trigger's query value.
pub(crate) fn query_loc(trigger: &Trigger<'_>, query: &QueryContext<'_>) -> Loc {
    Loc::node(trigger.metadata_path().key("query"), query.node())
}

/// A metadata entry's value.
pub(crate) fn meta_loc(trigger: &Trigger<'_>, key: &str, entry: &Entry) -> Loc {
    Loc::value(trigger.metadata_path().key(key), entry)
}

/// An integer scalar (`5`, `0x10`), when the node is one.
pub(crate) fn int_of(node: &Node) -> Option<i64> {
    match node.scalar_type()? {
        ScalarType::Int => parse_yaml_int(node.as_str()?),
        _ => None,
    }
}

/// An entry of a mapping node, with its path.
pub(crate) fn child<'n>(
    node: &'n Node,
    path: &FieldPath,
    key: &str,
) -> Option<(&'n Entry, FieldPath)> {
    Some((node.get_entry(key)?, path.key(key)))
}

/// `maxReplicaCount`, with KEDA's default.
pub(crate) fn max_replicas(so: &ScaledObject<'_>) -> i64 {
    so.spec_int("maxReplicaCount")
        .unwrap_or(DEFAULT_MAX_REPLICAS)
}

/// `pollingInterval` in seconds, with KEDA's default, and whether it was set; `None` when it is
/// set to something that is not an integer (KL004 reports that).
pub(crate) fn polling_interval(so: &ScaledObject<'_>) -> Option<(i64, bool)> {
    match (
        so.spec_int("pollingInterval"),
        so.spec_field("pollingInterval"),
    ) {
        (Some(p), _) => Some((p, true)),
        (None, None) => Some((DEFAULT_POLLING_INTERVAL, false)),
        (None, Some(_)) => None,
    }
}

/// True for the `cpu` and `memory` triggers, which read resource metrics, not external ones.
pub(crate) fn is_resource_trigger(trigger: &Trigger<'_>) -> bool {
    matches!(trigger.trigger_type(), Some("cpu" | "memory"))
}

/// True when `advanced.scalingModifiers` sets a formula: the HPA then gets one composite metric
/// and the triggers' own `metricType`s are not what it divides by.
pub(crate) fn uses_formula(so: &ScaledObject<'_>) -> bool {
    so.spec_field("advanced")
        .and_then(|a| a.value.get("scalingModifiers"))
        .and_then(|m| m.get("formula"))
        .and_then(Node::as_str)
        .is_some_and(|f| !f.trim().is_empty())
}

/// A number for messages: at most four decimals, no trailing zeros.
pub(crate) fn num(x: f64) -> String {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        return format!("{}", x as i64);
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "0" || s == "-0" {
        format!("{x:e}")
    } else {
        s.to_owned()
    }
}

/// A value with its unit, for messages (`0.7 s`, `500 ms`, `80%`).
pub(crate) fn with_unit(x: &str, unit: Unit) -> String {
    match unit {
        Unit::Seconds => format!("{x} s"),
        Unit::Milliseconds => format!("{x} ms"),
        Unit::Percent => format!("{x}%"),
        Unit::Cores => format!("{x} cores"),
        Unit::Bytes => format!("{x} bytes"),
        Unit::Ratio | Unit::Unknown => x.to_owned(),
    }
}

/// What the query measures, for messages: "a p95 latency", "an average", "a ratio".
pub(crate) fn describe(a: &Analysis) -> String {
    let noun = match a.unit {
        Unit::Seconds | Unit::Milliseconds => " latency",
        _ => "",
    };
    match a.top_operation {
        TopOperation::Quantile => match a.histogram_quantiles.first().and_then(|h| h.quantile) {
            Some(q) if (0.0..=1.0).contains(&q) => format!("a p{}{noun}", num(q * 100.0)),
            _ => format!("a quantile{noun}"),
        },
        TopOperation::Avg => format!("an average{noun}"),
        TopOperation::Min => format!("a minimum{noun}"),
        TopOperation::Max => format!("a maximum{noun}"),
        TopOperation::Stddev | TopOperation::Stdvar => "a standard deviation".to_owned(),
        TopOperation::Ratio => "a ratio of two aggregations".to_owned(),
        TopOperation::Sum => "a sum".to_owned(),
        TopOperation::Count => "a count".to_owned(),
        _ => "the value".to_owned(),
    }
}

/// True when the query's outermost cross-series operation is not additive across replicas or
/// Jobs: a quantile, an `avg`/`min`/`max`/`stddev`/`stdvar` aggregation, or a ratio.
pub(crate) fn is_non_additive(op: TopOperation) -> bool {
    matches!(
        op,
        TopOperation::Quantile
            | TopOperation::Avg
            | TopOperation::Min
            | TopOperation::Max
            | TopOperation::Stddev
            | TopOperation::Stdvar
            | TopOperation::Ratio
    )
}

/// `ceil(x)` as an integer replica count for messages.
pub(crate) fn ceil_count(x: f64) -> i64 {
    #[allow(clippy::cast_possible_truncation)]
    let c = x.ceil() as i64;
    c
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_print_without_noise() {
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.35), "0.35");
        assert_eq!(num(0.7 / 0.35), "2");
        assert_eq!(num(1.0 / 3.0), "0.3333");
        assert_eq!(num(0.0004), "0.0004");
        assert_eq!(num(0.00004), "4e-5");
    }
}
