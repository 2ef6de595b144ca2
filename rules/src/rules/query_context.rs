//! What the KL2xx and KL3xx rules share about one prometheus trigger: its query text and node,
//! the analysis of the query, and the scrape interval behind its series.

use std::sync::Arc;

use crate::checker::Checker;
use crate::model::{ScaledObject, Trigger};
use crate::promql::{Analysis, MatchOp, QueryProblem, analyze};
use crate::scrape::{ScrapeInterval, SeriesHint, resolve};
use crate::source::{Entry, Node};

/// What a query's selectors say about the series they read: `job` values, metric names, and
/// the other equality matchers.
pub(crate) fn series_hint(a: &Analysis) -> SeriesHint<'_> {
    let equal = || {
        a.selectors
            .iter()
            .flat_map(|s| s.matchers.iter())
            .filter(|m| m.op == MatchOp::Equal && m.name != "__name__")
    };
    SeriesHint {
        jobs: equal()
            .filter(|m| m.name == "job")
            .map(|m| m.value.as_str())
            .collect(),
        metrics: a
            .selectors
            .iter()
            .filter_map(|s| s.metric.as_deref())
            .collect(),
        labels: equal()
            .filter(|m| m.name != "job")
            .map(|m| (m.name.as_str(), m.value.as_str()))
            .collect(),
    }
}

/// The query of one trigger, analysed once for every rule.
pub(crate) struct QueryContext<'a> {
    /// The `query` metadata entry.
    pub(crate) entry: &'a Entry,
    /// The query text as KEDA sends it (trimmed).
    pub(crate) query: &'a str,
    /// Byte offset of `query` inside the scalar's value (leading whitespace that was trimmed).
    pub(crate) lead: usize,
    /// The analysis, or why there is none.
    pub(crate) analysis: Result<Arc<Analysis>, QueryProblem>,
    /// The scrape interval behind the query's series, and where it came from.
    pub(crate) scrape: ScrapeInterval,
    /// The trigger's `serverAddress`, to find what online checks learned about its server.
    pub(crate) server_address: Option<&'a str>,
}

impl<'a> QueryContext<'a> {
    /// Builds the context for a trigger with a non-empty string `query`.
    pub(crate) fn new(
        cx: &Checker<'_>,
        so: &ScaledObject<'_>,
        trigger: &Trigger<'a>,
    ) -> Option<Self> {
        let entry = trigger.meta_entry("query")?;
        let raw = entry.value.as_string()?;
        let query = raw.trim();
        if query.is_empty() {
            return None;
        }
        let lead = raw.len() - raw.trim_start().len();
        let analysis = analyze(query);
        let hint = analysis.as_deref().map(series_hint).unwrap_or_default();
        // The analysis lives in an Arc owned by `analysis`; the hint borrows it only here.
        let server_address = trigger.meta("serverAddress");
        let live = server_address.and_then(|a| cx.facts.server(a));
        let scrape = resolve(
            live,
            &cx.inventory.scrape_sources,
            &cx.inventory.monitor_index,
            &cx.inventory.selectables,
            so,
            &hint,
            cx.settings,
        );
        Some(Self {
            entry,
            query,
            lead,
            analysis,
            scrape,
            server_address,
        })
    }

    /// What online checks learned about the trigger's server, if they ran.
    pub(crate) fn server<'f>(&self, cx: &Checker<'f>) -> Option<&'f crate::facts::ServerProbe> {
        self.server_address.and_then(|a| cx.facts.server(a))
    }

    /// The query's value node.
    pub(crate) fn node(&self) -> &'a Node {
        &self.entry.value
    }

    /// The file span of `query[range]` (a range inside the trimmed query text), or the whole
    /// value's span when the text cannot be aligned (JSON input has no spans at all).
    pub(crate) fn span(
        &self,
        cx: &Checker<'_>,
        range: Option<std::ops::Range<usize>>,
    ) -> Option<std::ops::Range<usize>> {
        match range {
            Some(r) => cx.span_within(self.node(), r.start + self.lead..r.end + self.lead),
            None => self.node().span.clone(),
        }
    }
}
