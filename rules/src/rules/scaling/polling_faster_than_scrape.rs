use crate::checker::{Checker, Loc};
use crate::duration::format_duration;
use crate::model::{ScaledObject, Trigger};
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{analysis, polling_interval, query_loc};

declare_rule! {
    /// ## What it does
    /// Reports a `pollingInterval` shorter than the scrape interval S of the trigger's series.
    /// The rule needs a stated S (a ServiceMonitor, PodMonitor or Prometheus config in the input,
    /// the `kedalint.io/scrape-interval` annotation, configuration or `--scrape-interval`): with
    /// only Prometheus's assumed default of 1m it would fire on most manifests on a guess. It is
    /// also silent for constant queries (`vector(100)`), which read no scraped series.
    ///
    /// ## Why is this bad?
    /// Prometheus has a new sample only every S; polling more often re-reads the same value,
    /// costs queries, and gives a false sense of responsiveness: the reaction time is bounded
    /// by S (and the query window), not by the polling interval.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   pollingInterval: 5
    ///   # Prometheus scrapes this job every 30s
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   pollingInterval: 30
    /// ```
    pub(crate) struct PollingFasterThanScrape => "KL315", "polling-faster-than-scrape", Info;
}

/// `pollingInterval` in seconds and whether it was set, when it is shorter than a stated scrape
/// interval of a query that reads scraped series (a ScaledJob's KL323 asks the same question).
pub(crate) fn polling_faster_than_scrape(
    so: &ScaledObject<'_>,
    query: &QueryContext<'_>,
) -> Option<(i64, bool)> {
    let (polling, set) = polling_interval(so)?;
    // An assumed S is a guess, and a constant query (`vector(100)`) reads no scraped series.
    let reads_series = analysis(Some(query)).is_some_and(|a| !a.selectors.is_empty());
    if query.scrape.assumed || !reads_series || (!set && so.object.fragment) || polling < 1 {
        return None;
    }
    (u128::from(polling.unsigned_abs()) * 1000 < query.scrape.interval.as_millis())
        .then_some((polling, set))
}

/// Where a finding about the polling interval points (the field, or the query when the default
/// applies) and how to name it.
pub(crate) fn polling_loc(
    so: &ScaledObject<'_>,
    trigger: &Trigger<'_>,
    query: &QueryContext<'_>,
    polling: i64,
    set: bool,
) -> (Loc, String) {
    match so.spec_field("pollingInterval") {
        Some(e) if set => (
            Loc::value(so.spec_path().key("pollingInterval"), e),
            format!("pollingInterval {polling}s"),
        ),
        _ => (
            query_loc(trigger, query),
            format!("pollingInterval {polling}s (KEDA's default)"),
        ),
    }
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    so: &ScaledObject<'_>,
    trigger: &Trigger<'_>,
    query: &QueryContext<'_>,
) {
    let Some((polling, set)) = polling_faster_than_scrape(so, query) else {
        return;
    };
    let s = query.scrape.interval;
    let (loc, what) = polling_loc(so, trigger, query, polling, set);
    cx.report(
        &PollingFasterThanScrape::INFO,
        loc,
        format!(
            "{what} is shorter than the scrape interval {} ({}): KEDA polls about {} times per new sample and re-reads the same value",
            format_duration(s),
            query.scrape.origin,
            (s.as_secs_f64() / polling as f64).floor()
        ),
    )
    .help(format!(
        "set pollingInterval to {} or more, or scrape this job more often",
        s.as_secs().max(1)
    ));
}
