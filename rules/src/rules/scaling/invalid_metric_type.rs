use crate::checker::{Checker, Loc};
use crate::finding::{Edit, Fix};
use crate::model::ScaledObject;
use crate::registry::declare_rule;
use crate::rules::scaling::{TriggerQuery, is_resource_trigger};
use crate::source::{Entry, FieldPath};

declare_rule! {
    /// ## What it does
    /// Reports a trigger `metricType` (or `advanced.scalingModifiers.metricType`) that is not
    /// exactly `Value` or `AverageValue`. `cpu` and `memory` triggers may also use
    /// `Utilization`. A spelling that differs only in case (`value`, `averagevalue`) comes with
    /// a fix.
    ///
    /// ## Why is this bad?
    /// `Utilization` is refused for external metrics (`'Utilization' metric type is unsupported
    /// for external metrics, allowed values are 'Value' or 'AverageValue'`), so the scaler does
    /// not start. In KEDA 2.18 the CRD field is a free string: `value` or `averagevalue` pass
    /// admission and then fail when the HPA is written (`must be either Utilization, Value, or
    /// AverageValue`), and the ScaledObject never becomes Ready.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metricType: value
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metricType: Value
    /// ```
    pub(crate) struct InvalidMetricType => "KL310", "invalid-metric-type", Error, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>, queries: &[TriggerQuery<'_, '_>]) {
    for (trigger, _) in queries {
        if let Some(e) = trigger.node.get_entry("metricType") {
            let allow_utilization = is_resource_trigger(trigger);
            report(
                cx,
                e,
                trigger.path.key("metricType"),
                allow_utilization,
                "the trigger's",
            );
        }
    }
    if let Some(e) = so
        .spec_field("advanced")
        .and_then(|a| a.value.get("scalingModifiers"))
        .and_then(|m| m.get_entry("metricType"))
    {
        let path = so
            .spec_path()
            .key("advanced")
            .key("scalingModifiers")
            .key("metricType");
        report(cx, e, path, false, "scalingModifiers'");
    }
}

fn report(cx: &mut Checker<'_>, e: &Entry, path: FieldPath, allow_utilization: bool, whose: &str) {
    let Some(text) = e.value.as_str() else { return };
    if matches!(text, "Value" | "AverageValue") || (allow_utilization && text == "Utilization") {
        return;
    }
    let fixed = ["Value", "AverageValue", "Utilization"]
        .into_iter()
        .filter(|k| allow_utilization || *k != "Utilization")
        .find(|k| k.eq_ignore_ascii_case(text.trim()));
    let fix = fixed.and_then(|f| {
        cx.source()?;
        let span = cx.span_within(&e.value, 0..text.len())?;
        Some(Fix {
            title: format!("write `{f}`"),
            edits: vec![Edit {
                span,
                replacement: f.to_owned(),
            }],
            changes_behaviour: false,
        })
    });
    let why = if text == "Utilization" {
        "Utilization is only for cpu and memory triggers; KEDA refuses it for external metrics, so the scaler does not start".to_owned()
    } else if fixed.is_some() {
        format!(
            "the value is case-sensitive; KEDA passes {text:?} to the HPA (the 2.18 CRD does not restrict it), which rejects it (must be Utilization, Value or AverageValue), and the ScaledObject never becomes Ready"
        )
    } else {
        format!(
            "{text:?} is not a metric type; KEDA passes it to the HPA, which rejects it, and the ScaledObject never becomes Ready"
        )
    };
    let help = match fixed {
        Some(f) => format!("write `{f}`"),
        None => "use `AverageValue` for a total the pods share (queue length, request rate) or `Value` for a level every pod sees (latency, utilisation)".to_owned(),
    };
    cx.report(
        &InvalidMetricType::INFO,
        Loc::value(path, e),
        format!("{whose} metricType {text:?} is not exactly Value or AverageValue: {why}"),
    )
    .help(help)
    .fix(fix);
}
