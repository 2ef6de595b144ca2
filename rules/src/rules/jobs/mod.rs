//! KL320–KL339: how KEDA turns a ScaledJob's triggers into Jobs, read from KEDA's own code
//! (`pkg/scaling/scaledjob/metrics.go`, `pkg/scaling/executor/scale_jobs.go`, KEDA 2.20).
//!
//! Per poll, for each trigger: `queueLength` is the metric, `targetAverageValue` the trigger's
//! AverageValue target (its `threshold`), and `maxScale = min(queueLength / targetAverageValue,
//! maxReplicaCount)`; triggers combine by `multipleScalersCalculation` (default `max`). The
//! scaling strategy then decides how many new Jobs to create from `maxScale` and the running and
//! pending Jobs (see [`JobStrategy`](crate::model::JobStrategy)). No HPA is involved: the KL3xx
//! rules about HPA arithmetic do not run on ScaledJobs.

pub(crate) mod custom_strategy_ignored;
pub(crate) mod job_polling_faster_than_scrape;
pub(crate) mod max_replica_count_unset;
pub(crate) mod metric_type_on_scaled_job;
pub(crate) mod non_additive_metric_on_scaled_job;
pub(crate) mod running_jobs_subtracted_in_query;

pub(crate) use custom_strategy_ignored::CustomStrategyIgnored;
pub(crate) use job_polling_faster_than_scrape::JobPollingFasterThanScrape;
pub(crate) use max_replica_count_unset::MaxReplicaCountUnset;
pub(crate) use metric_type_on_scaled_job::MetricTypeOnScaledJob;
pub(crate) use non_additive_metric_on_scaled_job::NonAdditiveMetricOnScaledJob;
pub(crate) use running_jobs_subtracted_in_query::RunningJobsSubtractedInQuery;

use crate::checker::Checker;
use crate::model::ScaledJob;
use crate::rules::scaling::TriggerQuery;

/// KEDA's default `maxReplicaCount` for a ScaledJob (`defaultScaledJobMaxReplicaCount`).
pub(crate) const DEFAULT_MAX_JOBS: i64 = 100;

/// Runs the KL32x rules on a ScaledJob, with every trigger and its query context.
pub(crate) fn check_scaled_job(
    cx: &mut Checker<'_>,
    job: &ScaledJob<'_>,
    queries: &[TriggerQuery<'_, '_>],
) {
    for (trigger, query) in queries {
        if cx.enabled(&MetricTypeOnScaledJob::INFO) {
            metric_type_on_scaled_job::check(cx, trigger);
        }
        let Some(query) = query else { continue };
        if cx.enabled(&NonAdditiveMetricOnScaledJob::INFO) {
            non_additive_metric_on_scaled_job::check(cx, job, trigger, query);
        }
        if cx.enabled(&RunningJobsSubtractedInQuery::INFO) {
            running_jobs_subtracted_in_query::check(cx, job, trigger, query);
        }
        if cx.enabled(&JobPollingFasterThanScrape::INFO) {
            job_polling_faster_than_scrape::check(cx, job, trigger, query);
        }
    }
    if cx.enabled(&MaxReplicaCountUnset::INFO) {
        max_replica_count_unset::check(cx, job);
    }
    if cx.enabled(&CustomStrategyIgnored::INFO) {
        custom_strategy_ignored::check(cx, job);
    }
}

/// The cap on Jobs KEDA applies to `maxScale`, and how it was given, for messages: KEDA's
/// `ScaledJob.MaxReplicaCount()` is `maxReplicaCount − minReplicaCount` when both are set.
pub(crate) fn job_cap(job: &ScaledJob<'_>) -> (i64, String) {
    match job.max_replicas_written() {
        None => (
            DEFAULT_MAX_JOBS,
            format!("{DEFAULT_MAX_JOBS} (KEDA's default maxReplicaCount)"),
        ),
        Some(max) => match job.scaled.spec_int("minReplicaCount").filter(|m| *m > 0) {
            Some(min) if min <= max => (
                max - min,
                format!(
                    "{} (maxReplicaCount {max} − minReplicaCount {min})",
                    max - min
                ),
            ),
            _ => (max, format!("{max} (maxReplicaCount)")),
        },
    }
}
