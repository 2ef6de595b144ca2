use std::ops::Range;

use crate::checker::Checker;
use crate::finding::Severity;
use crate::promql::QueryProblem;
use crate::registry::declare_rule;
use crate::rules::promql::Site;

declare_rule! {
    /// ## What it does
    /// Reports a query that is not PromQL, underlining where the parser stopped when it can say.
    /// Syntax that newer Prometheus versions accept but the parser cannot read (duration
    /// arithmetic `x[5m+1m]`, `anchored`/`smoothed` ranges, the `</` and `>/` operators) is
    /// reported as *unsupported*, at severity info, since the query may be fine for the server
    /// it runs against; nothing else in such a query is checked. A severity set for KL201 in the
    /// configuration applies to both.
    ///
    /// Dashboard variables such as `$__rate_interval` are KL210's; an empty query is KL101's.
    ///
    /// ## Why is this bad?
    /// Prometheus answers HTTP 400 `bad_data`; KEDA logs `prometheus query api returned error`
    /// and the trigger never produces a metric.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m])
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    /// ```
    pub(crate) struct InvalidPromql => "KL201", "invalid-promql", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, problem: &QueryProblem) {
    let (message, unsupported) = match problem {
        QueryProblem::Invalid { message, .. } => (
            format!(
                "the query is not valid PromQL: {message}; Prometheus rejects it and the trigger fails"
            ),
            false,
        ),
        QueryProblem::Unsupported { message, .. } => (
            format!("unsupported PromQL syntax, the query was not checked further: {message}"),
            true,
        ),
        QueryProblem::Empty | QueryProblem::TemplateVariable { .. } => return,
    };
    let range = problem.offset().map(|o| token_at(site.q.query, o));
    let help = if unsupported {
        "make sure the Prometheus behind serverAddress is recent enough (and has the feature flag), or write the query without this syntax"
    } else {
        "check the query with `promtool check rules` or the Prometheus UI; the underlined part is where parsing stopped"
    };
    let at = site.loc(cx, range);
    let configured = cx.settings.rules.contains_key(InvalidPromql::INFO.code);
    let before = cx.findings.len();
    cx.report(&InvalidPromql::INFO, at, message).help(help);
    // Unsupported is not invalid: info, unless the configuration chose a severity for KL201.
    if unsupported
        && !configured
        && cx.findings.len() > before
        && let Some(f) = cx.findings.last_mut()
    {
        f.severity = Severity::Info;
    }
}

/// The token starting at `offset` (an identifier, number or duration), or the one character there.
fn token_at(query: &str, offset: usize) -> Range<usize> {
    let Some(rest) = query.get(offset..) else {
        let last = query.char_indices().next_back().map_or(0, |(i, _)| i);
        return last..query.len();
    };
    let word = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '.'))
        .map_or(rest.len(), |(i, _)| i);
    let len = if word > 0 {
        word
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    };
    if len == 0 {
        let last = query.char_indices().next_back().map_or(0, |(i, _)| i);
        return last..query.len();
    }
    offset..offset + len
}
