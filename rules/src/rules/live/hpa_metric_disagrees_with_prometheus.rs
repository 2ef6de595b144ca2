use crate::checker::{Checker, Loc};
use crate::facts::{QueryOutcome, format_value};
use crate::keda::parse_go_bool;
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;

use super::describe_probe;
use super::state::{ObjectLive, query_url};

declare_rule! {
    /// ## What it does
    /// Cluster and online mode together: compares the value the HPA reads for a trigger's
    /// metric (from `external.metrics.k8s.io`, else the HPA's `currentMetrics`) with what the
    /// trigger's query returns from Prometheus now. Reports a value off by more than the HPA's
    /// 10 % tolerance, and an HPA reading 0 while the query is empty now but returns a value
    /// once its ranges are widened. Names the likely cause when the query says it: an empty
    /// result read as 0, a window shorter than two scrape intervals.
    ///
    /// ## Why is this bad?
    /// This is the "the HPA says 0, Prometheus says 1.87 s" puzzle. KEDA reads an empty result
    /// as 0 with no error (`ignoreNullValues` defaults to true), and `rate(x[1m])` at a 1m scrape
    /// interval is empty at most instants: the HPA sees no load and scales in, while a manual
    /// query over a wider window shows the latency plainly.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[1m])) by (le))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[4m])) by (le))
    ///   ignoreNullValues: "false"
    /// ```
    pub(crate) struct HpaMetricDisagreesWithPrometheus => "KL414", "hpa-metric-disagrees-with-prometheus", Warning, ScaledObjects;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    live: &ObjectLive<'_>,
    trigger: &Trigger<'_>,
    q: &QueryContext<'_>,
) {
    let Some(address) = trigger.meta("serverAddress") else {
        return;
    };
    let Some(server) = cx.facts.server(address) else {
        return;
    };
    let Some(probe) = server.queries.get(q.query) else {
        return;
    };
    let metric = live.metric_of(trigger);
    let Some((hpa, source)) = live.hpa_value(&metric) else {
        return;
    };
    let reads_null_as_zero = trigger
        .meta("ignoreNullValues")
        .and_then(parse_go_bool)
        .unwrap_or(true);
    let short = super::short_range(q)
        .map(|s| format!("{s}: at most instants it holds one sample and the query is empty"));
    let probed = describe_probe(cx, address, server);
    let head = format!(
        "the HPA reads `{metric}` = {} ({source}, {})",
        format_value(hpa),
        live.read
    );
    let mut confirm = vec![
        format!("`{}`", live.raw_command(&metric)),
        query_url(cx, address, q.query),
    ];
    let (message, cause) = match &probe.outcome {
        QueryOutcome::One(p) if p.is_finite() => {
            let diff = (hpa - p).abs();
            if diff < 0.001 || diff <= 0.1 * p.abs().max(hpa.abs()) {
                return;
            }
            let cause = if hpa == 0.0 && reads_null_as_zero {
                Some(short.map_or_else(
                    || "an empty result at KEDA's last poll, read as 0 (ignoreNullValues defaults to true)".to_owned(),
                    |s| format!("an empty result read as 0 (ignoreNullValues defaults to true): {s}"),
                ))
            } else {
                None
            };
            (
                format!(
                    "{head}, but the same query returns {} on {probed}",
                    format_value(*p)
                ),
                cause,
            )
        }
        QueryOutcome::Empty if hpa == 0.0 && reads_null_as_zero => {
            let Some(wide) = &probe.widened else {
                return;
            };
            let QueryOutcome::One(w) = wide.outcome else {
                return;
            };
            if !w.is_finite() || w == 0.0 {
                return;
            }
            confirm.push(query_url(cx, address, &wide.query));
            (
                format!(
                    "{head}: the query returns nothing on {probed}, which KEDA reads as 0 (ignoreNullValues defaults to true), while with every range x4, `{}`, it returns {}",
                    wide.query,
                    format_value(w)
                ),
                Some(short.unwrap_or_else(|| "the window is too short for the data".to_owned())),
            )
        }
        _ => return,
    };
    let help = match cause {
        Some(c) => format!("likely cause: {c}; confirm with {}", confirm.join(" and ")),
        None => format!(
            "the HPA's value is at most one sync period (15s) or pollingInterval old; a gap this large at every read means KEDA reads another query or server; confirm with {}",
            confirm.join(" and ")
        ),
    };
    cx.report(
        &HpaMetricDisagreesWithPrometheus::INFO,
        Loc {
            path: trigger.metadata_path().key("query"),
            span: q.span(cx, None),
        },
        message,
    )
    .help(help);
}
