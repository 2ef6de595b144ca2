use crate::checker::Checker;
use crate::finding::Fix;
use crate::promql::{QueryProblem, format_duration};
use crate::registry::declare_rule;
use crate::rules::promql::{Site, suggested_rate_window};

declare_rule! {
    /// ## What it does
    /// Reports a Grafana or dashboard variable in the query: `$__rate_interval`, `$__interval`,
    /// `$__range`, `$job`, `${var}`, `[[var]]`. For a variable used as a range it suggests a
    /// concrete window: 4 x the scrape interval, rounded up, naming the scrape interval it used.
    ///
    /// ## Why is this bad?
    /// Grafana replaces these variables before it sends a query; KEDA sends the text as is.
    /// Prometheus rejects it (`bad_data`), so the trigger fails on every poll. Queries copied from
    /// a dashboard panel often carry them.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[$__rate_interval]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    /// ```
    pub(crate) struct TemplateVariableInQuery => "KL210", "template-variable-in-query", Error;
}

/// Grafana's range-valued built-in variables.
const RANGE_VARIABLES: &[&str] = &[
    "__rate_interval",
    "__interval",
    "__range",
    "__rate_interval_ms",
    "__interval_ms",
];

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, problem: &QueryProblem) {
    let QueryProblem::TemplateVariable { text, offset } = problem else {
        return;
    };
    let query = site.q.query;
    let range = *offset..offset + text.len();
    let name = text.trim_matches(|c| matches!(c, '$' | '{' | '}' | '[' | ']'));
    let name = name.split(':').next().unwrap_or(name);
    let before = query.get(..*offset).unwrap_or("").trim_end();
    let in_brackets = before.ends_with('[') || before.ends_with(':');
    let is_range = RANGE_VARIABLES.contains(&name) || in_brackets;
    let message = format!(
        "the query holds the dashboard variable `{text}`: KEDA sends it as is, Prometheus rejects the query (bad_data) and the trigger fails"
    );
    let (help, fix) = if is_range {
        let (w, why) = suggested_rate_window(site.q);
        let w = format_duration(w);
        let fix = site.edit(cx, range.clone(), w.clone()).map(|edit| Fix {
            title: format!("write the window {w}"),
            edits: vec![edit],
            changes_behaviour: false,
        });
        (format!("write a concrete window instead: {w} ({why})"), fix)
    } else {
        (
            "write the value the dashboard would substitute, or render the query with a template tool before applying it".to_owned(),
            None,
        )
    };
    cx.report(
        &TemplateVariableInQuery::INFO,
        site.loc(cx, Some(range)),
        message,
    )
    .help(help)
    .fix(fix);
}
