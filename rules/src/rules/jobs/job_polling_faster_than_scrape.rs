use crate::checker::Checker;
use crate::duration::format_duration;
use crate::model::{JobStrategy, ScaledJob, Trigger};
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::polling_faster_than_scrape::{polling_faster_than_scrape, polling_loc};

declare_rule! {
    /// ## What it does
    /// Reports a ScaledJob with the `accurate` or `eager` scaling strategy whose
    /// `pollingInterval` is shorter than the scrape interval S of a trigger's series. Like
    /// KL315, it needs a stated S (a ServiceMonitor, PodMonitor or Prometheus config in the
    /// input, the `kedalint.io/scrape-interval` annotation, configuration or
    /// `--scrape-interval`).
    ///
    /// ## Why is this bad?
    /// Between two scrapes KEDA re-reads the same queue length. `accurate` creates
    /// `maxScale − pending Jobs` and `eager` up to `maxScale`, neither subtracting the Jobs
    /// that are already running (`scale_jobs.go`): once the Jobs created at the last poll have
    /// started, the stale sample still counts the items they took, and KEDA creates the same
    /// Jobs again. The `default` strategy subtracts running Jobs and only re-reads the value
    /// (KL315).
    ///
    /// ## Example
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   pollingInterval: 5    # Prometheus scrapes the queue every 30s
    ///   scalingStrategy:
    ///     strategy: accurate
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   pollingInterval: 30
    ///   scalingStrategy:
    ///     strategy: accurate
    /// ```
    pub(crate) struct JobPollingFasterThanScrape => "KL323", "job-polling-faster-than-scrape", Warning, ScaledJobs;
}

pub(crate) fn check(
    cx: &mut Checker<'_>,
    job: &ScaledJob<'_>,
    trigger: &Trigger<'_>,
    query: &QueryContext<'_>,
) {
    let strategy = job.strategy();
    let how = match strategy {
        JobStrategy::Accurate => "creates maxScale − pending Jobs",
        JobStrategy::Eager => "fills up to maxScale",
        JobStrategy::Default | JobStrategy::Custom => return,
    };
    let so = &job.scaled;
    let Some((polling, set)) = polling_faster_than_scrape(so, query) else {
        return;
    };
    let s = query.scrape.interval;
    let (loc, what) = polling_loc(so, trigger, query, polling, set);
    cx.report(
        &JobPollingFasterThanScrape::INFO,
        loc,
        format!(
            "{what} is shorter than the scrape interval {} ({}): the {} strategy {how} without subtracting running Jobs, so a poll that re-reads the last sample after its Jobs started creates them again",
            format_duration(s),
            query.scrape.origin,
            strategy.as_str(),
        ),
    )
    .help(format!(
        "set pollingInterval to {} or more, or scrape the queue more often",
        s.as_secs().max(1)
    ));
}
