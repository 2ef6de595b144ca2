use crate::checker::Checker;
use crate::facts::MetricReading;
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::source::FieldPath;

use super::state::{ObjectLive, quote};

declare_rule! {
    /// ## What it does
    /// Cluster mode: reports a trigger whose metric KEDA reports as failing: `status.health`
    /// shows consecutive failures or `Failing`, the external metrics API answers the HPA with
    /// an error, or the `Fallback` condition is on.
    ///
    /// ## Why is this bad?
    /// A failing scaler means the HPA gets no metric: it keeps the current replica count, or
    /// scales to `fallback.replicas` once the failures pass `fallback.failureThreshold`. The
    /// error the HPA sees, `error when getting metric values metric:s0-prometheus encountered
    /// error`, hides the real one, which KEDA writes to the keda-operator log and to
    /// `KEDAScalerFailed` Events (KL419 quotes them).
    ///
    /// ## Example
    /// ```yaml
    /// status:
    ///   health:
    ///     s0-prometheus:
    ///       numberOfFailures: 12
    ///       status: Failing
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// status:
    ///   health:
    ///     s0-prometheus:
    ///       numberOfFailures: 0
    ///       status: Happy
    /// ```
    pub(crate) struct TriggerFailing => "KL413", "trigger-failing", Error, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, live: &ObjectLive<'_>, triggers: &[Trigger<'_>]) {
    let state = live.state;
    let mut metrics: Vec<&String> = state
        .health
        .keys()
        .chain(state.external_metrics.keys())
        .collect();
    metrics.sort();
    metrics.dedup();
    for metric in metrics {
        let mut said = Vec::new();
        if let Some(h) = state.health.get(metric) {
            let failures = h.number_of_failures.unwrap_or(0);
            if failures > 0 || h.status.as_deref() == Some("Failing") {
                said.push(format!(
                    "KEDA's health of `{metric}` is {} with {failures} consecutive failure{}",
                    h.status.as_deref().unwrap_or("unknown"),
                    if failures == 1 { "" } else { "s" }
                ));
            }
        }
        if let Some(MetricReading::Error { status, message }) = state.external_metrics.get(metric) {
            said.push(format!(
                "the external metrics API answers HTTP {status} for `{metric}`: \"{}\"",
                quote(message)
            ));
        }
        if said.is_empty() {
            continue;
        }
        let loc = live.trigger_of(metric, triggers).map_or_else(
            || live.loc(FieldPath::root().key("status").key("health").key(metric)),
            |t| live.at(t.path.clone()),
        );
        cx.report(
            &TriggerFailing::INFO,
            loc,
            format!("{} ({})", said.join("; "), live.read),
        )
        .help(format!(
            "the real error is in `{}` (reason KEDAScalerFailed) and the keda-operator log; confirm with `{}`",
            live.events_command(),
            live.raw_command(metric)
        ));
    }
    if let Some((i, c)) = live
        .state
        .condition("Fallback")
        .filter(|(_, c)| c.is_true())
    {
        cx.report(
            &TriggerFailing::INFO,
            live.condition_loc(i),
            format!(
                "KEDA's Fallback condition is on ({}){}: the HPA scales on `fallback.replicas`, not on the metric",
                live.read,
                c.message
                    .as_deref()
                    .map(|m| format!(": \"{}\"", quote(m)))
                    .unwrap_or_default()
            ),
        )
        .help(format!(
            "find the failing scaler's error in `{}`; fallback ends once a read succeeds",
            live.events_command()
        ));
    }
}
