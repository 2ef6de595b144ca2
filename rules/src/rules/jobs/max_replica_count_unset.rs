use crate::checker::{Checker, Loc};
use crate::model::ScaledJob;
use crate::registry::declare_rule;
use crate::rules::jobs::DEFAULT_MAX_JOBS;

declare_rule! {
    /// ## What it does
    /// Reports a ScaledJob without `maxReplicaCount`.
    ///
    /// ## Why is this bad?
    /// KEDA then allows up to 100 Jobs at once (`defaultScaledJobMaxReplicaCount`). A burst of
    /// work, a query that reads too high, or a metric in the wrong unit creates a hundred Jobs
    /// in one poll: pods that exhaust a namespace quota, a node pool, the database the Jobs
    /// write to, or the API server. The bound is a decision about capacity, better written down.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   jobTargetRef:
    ///     template:
    ///       spec:
    ///         containers:
    ///           - name: render
    ///             image: example.com/render:1.4
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   maxReplicaCount: 20
    ///   jobTargetRef:
    ///     template:
    ///       spec:
    ///         containers:
    ///           - name: render
    ///             image: example.com/render:1.4
    /// ```
    pub(crate) struct MaxReplicaCountUnset => "KL324", "max-replica-count-unset", Warning, ScaledJobs;
}

pub(crate) fn check(cx: &mut Checker<'_>, job: &ScaledJob<'_>) {
    let so = &job.scaled;
    let Some(spec) = so.object.root.get_entry("spec") else {
        return;
    };
    if spec.value.as_map().is_none() || spec.value.get_entry("maxReplicaCount").is_some() {
        return;
    }
    cx.report(
        &MaxReplicaCountUnset::INFO,
        Loc::key(so.spec_path(), spec),
        format!(
            "maxReplicaCount is not set: KEDA allows up to {DEFAULT_MAX_JOBS} Jobs at once (its default), all of which one poll can create"
        ),
    )
    .help("set maxReplicaCount to the number of Jobs the cluster and the systems they use can run at the same time");
}
