use crate::checker::{Checker, Loc};
use crate::facts::ABSENCE_LOOKBACK;
use crate::keda::closest;
use crate::promql::format_duration;
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: checks each series selector of the query against the live server and
    /// reports one that matches no series over the last 10 minutes. When the metric exists but
    /// the label matchers rule it out, it lists the labels the metric does carry.
    ///
    /// ## Why is this bad?
    /// A selector that matches nothing is almost always a typo in a label or metric name (for
    /// example `model=` where the exporter writes `model_name=`). The query returns nothing,
    /// which KEDA reads as 0: the workload never scales out.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(inference_requests_total{model="llama"}[2m]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(inference_requests_total{model_name="llama"}[2m]))
    /// ```
    pub(crate) struct MetricAbsent => "KL407", "metric-absent", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, q: &QueryContext<'_>, live: &Live<'_>) {
    let Some(probe) = live.query else {
        return;
    };
    let analysis = q.analysis.as_ref().ok();
    for absent in &probe.absent_selectors {
        // Point at the selector in the query: the analysis's span whose text is this selector.
        let selector = analysis.and_then(|a| {
            a.selectors
                .iter()
                .find(|s| s.span.as_ref().and_then(|r| q.query.get(r.clone())) == Some(absent))
        });
        let range = selector
            .and_then(|s| s.span.clone())
            .or_else(|| q.query.find(absent.as_str()).map(|i| i..i + absent.len()));
        let mut message = format!(
            "`{absent}` matches no series in the last {} on {}",
            format_duration(ABSENCE_LOOKBACK),
            live.probed
        );
        let mut help = "check the metric and label names against what the exporter writes (the Prometheus UI's metric explorer lists them)".to_owned();
        let metric = selector.and_then(|s| s.metric.clone());
        if let Some(labels) = metric.as_ref().and_then(|m| probe.metric_labels.get(m)) {
            let metric = metric.as_deref().unwrap_or_default();
            message.push_str(&format!(
                "; `{metric}` exists, with the labels {}",
                labels
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            let candidates: Vec<&str> = labels.iter().map(String::as_str).collect();
            let unknown = selector
                .into_iter()
                .flat_map(|s| &s.matchers)
                .find(|m| !candidates.contains(&m.name.as_str()));
            if let Some(m) = unknown {
                let guess = closest(&m.name, &candidates).or_else(|| {
                    candidates
                        .iter()
                        .copied()
                        .find(|c| c.starts_with(m.name.as_str()) || m.name.starts_with(c))
                });
                help = match guess {
                    Some(g) => format!("`{metric}` has no label `{}`; did you mean `{g}`?", m.name),
                    None => format!("`{metric}` has no label `{}`", m.name),
                };
            } else {
                help = format!(
                    "the label values of `{metric}` do not match; check them against the live data"
                );
            }
        }
        cx.report(
            &MetricAbsent::INFO,
            Loc {
                path: live.query_path.clone(),
                span: q.span(cx, range),
            },
            message,
        )
        .help(help);
    }
}
