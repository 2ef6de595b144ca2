use crate::checker::{Checker, Loc};
use crate::model::ScaledJob;
use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports `scalingStrategy.strategy: custom` whose `customScalingRunningJobPercentage` is
    /// missing or is not a number Go's `strconv.ParseFloat` reads (`"50%"`, `"half"`).
    ///
    /// ## Why is this bad?
    /// KEDA selects the custom strategy only when that percentage parses; otherwise it logs at
    /// debug level and uses the `default` strategy (`NewScalingStrategy` in `scale_jobs.go`).
    /// `customScalingQueueLengthDeduction` and the intended share of running Jobs are then
    /// ignored without any visible error.
    ///
    /// ## Example
    /// ```yaml
    /// scalingStrategy:
    ///   strategy: custom
    ///   customScalingQueueLengthDeduction: 1
    ///   customScalingRunningJobPercentage: "50%"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// scalingStrategy:
    ///   strategy: custom
    ///   customScalingQueueLengthDeduction: 1
    ///   customScalingRunningJobPercentage: "0.5"
    /// ```
    pub(crate) struct CustomStrategyIgnored => "KL325", "custom-strategy-ignored", Warning, ScaledJobs;
}

pub(crate) fn check(cx: &mut Checker<'_>, job: &ScaledJob<'_>) {
    let Some(strategy) = job.strategy_field("strategy") else {
        return;
    };
    if strategy.value.as_str() != Some("custom") || job.custom_percentage().is_some() {
        return;
    }
    let path = job.scaled.spec_path().key("scalingStrategy");
    let (loc, why) = match job.strategy_field("customScalingRunningJobPercentage") {
        Some(e) => (
            Loc::value(path.key("customScalingRunningJobPercentage"), e),
            format!(
                "customScalingRunningJobPercentage {} is not a number KEDA can parse",
                e.value
                    .as_str()
                    .map_or_else(|| e.value.kind_name().to_owned(), |v| format!("{v:?}"))
            ),
        ),
        None => (
            Loc::value(path.key("strategy"), strategy),
            "customScalingRunningJobPercentage is not set".to_owned(),
        ),
    };
    cx.report(
        &CustomStrategyIgnored::INFO,
        loc,
        format!(
            "{why}: KEDA falls back to the default strategy without an error, ignoring the custom settings"
        ),
    )
    .help("set customScalingRunningJobPercentage to a fraction written as a string, e.g. \"0.5\" for half of the running Jobs");
}
