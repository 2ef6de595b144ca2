use crate::checker::Checker;
use crate::finding::{Edit, Fix};
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
    /// A query that reads no series at all (`vector(100)`) cannot come back empty and is not
    /// reported.
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
    // A query that reads no series (`vector(100)`, a number) can never come back empty.
    let constant = trigger
        .meta("query")
        // Trimmed, as every other rule asks for it: one analysis (one parse) per query.
        .and_then(|q| crate::promql::analyze(q.trim()).ok())
        .is_some_and(|a| a.selectors.is_empty());
    if constant {
        return;
    }
    let fix = insert_fix(cx.source(), trigger);
    cx.report(
        &IgnoreNullValuesUnset::INFO,
        metadata_loc(trigger),
        "`ignoreNullValues` is not set, so it defaults to true: an empty result (lost target, label typo, too-short window) silently reads as 0 and fallback never fires",
    )
    .help("set `ignoreNullValues: \"false\"` to turn an empty result into an error, or \"true\" if an empty result really means zero load")
    .fix(fix);
}

/// Adds `ignoreNullValues: "false"` as its own line right below `metadata:`, indented like the
/// keys under it. Only for a block mapping whose first key starts its own line; never next to a
/// misspelt `ignoreNullValue…` key (the user meant to set it, maybe to "true"). It changes
/// behaviour: an empty result becomes an error instead of 0, so it is an unsafe fix.
fn insert_fix(src: Option<&str>, trigger: &Trigger<'_>) -> Option<Fix> {
    let src = src?;
    let meta = trigger.node.get_entry("metadata")?;
    let entries = meta.value.as_map()?;
    if entries.iter().any(|e| {
        e.key_str()
            .is_some_and(|k| k.to_ascii_lowercase().starts_with("ignorenull"))
    }) {
        return None;
    }
    let meta_end = meta.key.span.as_ref()?.end;
    let first = entries.first()?.key.span.as_ref()?.start;
    let line_start = src.get(..first)?.rfind('\n')? + 1;
    let indent = &src[line_start..first];
    if line_start <= meta_end
        || src[meta_end..first].contains(['{', '[', '*'])
        || indent.is_empty()
        || !indent.bytes().all(|b| b == b' ')
    {
        return None;
    }
    let at = meta_end + src[meta_end..].find('\n')? + 1;
    let nl = if src[..at].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    Some(Fix {
        title: "set `ignoreNullValues: \"false\"`".to_owned(),
        edits: vec![Edit {
            span: at..at,
            replacement: format!("{indent}ignoreNullValues: \"false\"{nl}"),
        }],
        changes_behaviour: true,
    })
}
