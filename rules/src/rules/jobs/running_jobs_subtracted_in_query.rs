use promql_parser::parser::Expr;

use crate::checker::{Checker, Loc};
use crate::model::{JobStrategy, ScaledJob, Trigger};
use crate::promql::{Parsed, constant_value, parse, selectors_under};
use crate::registry::declare_rule;
use crate::rules::query_context::QueryContext;
use crate::rules::scaling::{analysis, query_loc};

declare_rule! {
    /// ## What it does
    /// Reports a ScaledJob trigger whose query subtracts a count of Jobs or their pods
    /// (`kube_job_status_active`, `kube_job_info`, `kube_pod_status_phase`, …) from the work it
    /// measures: `sum(queue_messages) - sum(kube_job_status_active{job_name=~"render-.*"})`.
    ///
    /// ## Why is this bad?
    /// KEDA already takes the Jobs it created into account, and the scaling strategy says how
    /// (`pkg/scaling/executor/scale_jobs.go`): `default` creates `maxScale − running Jobs`,
    /// `custom` subtracts a share of the running Jobs, `accurate` subtracts the pending Jobs
    /// (and caps at `maxReplicaCount − running`) for a queue that already leaves out the items
    /// in progress, `eager` fills up to `maxReplicaCount − running − pending`. Subtracting them
    /// in the query as well counts them twice: with 10 messages waiting and 5 Jobs running, the
    /// default strategy creates `(10 − 5) − 5 = 0` Jobs, and the backlog waits for the running
    /// Jobs to finish.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   scalingStrategy:
    ///     strategy: accurate
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         query: sum(queue_messages{queue="renders"}) - sum(kube_job_status_active{job_name=~"render-.*"})
    ///         threshold: "1"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// kind: ScaledJob
    /// spec:
    ///   scalingStrategy:
    ///     strategy: accurate   # the queue length leaves out messages being processed
    ///   triggers:
    ///     - type: prometheus
    ///       metadata:
    ///         query: sum(queue_messages_ready{queue="renders"})
    ///         threshold: "1"
    /// ```
    pub(crate) struct RunningJobsSubtractedInQuery => "KL322", "running-jobs-subtracted-in-query", Warning, ScaledJobs;
}

/// kube-state-metrics series that count Jobs, or the pods of Jobs, that have not finished.
const JOB_COUNTS: &[&str] = &[
    "kube_job_status_active",
    "kube_job_status_ready",
    "kube_job_status_start_time",
    "kube_job_info",
    "kube_job_owner",
    "kube_job_spec_parallelism",
    "kube_pod_status_phase",
    "kube_pod_status_ready",
    "kube_pod_info",
    "kube_pod_container_status_running",
];

pub(crate) fn check(
    cx: &mut Checker<'_>,
    job: &ScaledJob<'_>,
    trigger: &Trigger<'_>,
    query: &QueryContext<'_>,
) {
    let Parsed::Ok(expr) = parse(query.query) else {
        return;
    };
    let mut subtracted = Vec::new();
    subtractions(&expr, &mut subtracted);
    let Some(metric) = subtracted.first() else {
        return;
    };
    let loc = analysis(Some(query))
        .and_then(|a| {
            a.selectors
                .iter()
                .find(|s| s.metric.as_deref() == Some(metric.as_str()))
        })
        .map_or_else(
            || query_loc(trigger, query),
            |s| Loc {
                path: trigger.metadata_path().key("query"),
                span: query.span(cx, s.span.clone()),
            },
        );
    let strategy = job.strategy();
    let keda = match strategy {
        JobStrategy::Default => {
            "the default strategy already creates maxScale − running Jobs, so running Jobs are subtracted twice"
        }
        JobStrategy::Custom => {
            "the custom strategy already subtracts customScalingRunningJobPercentage × running Jobs, so they are subtracted twice"
        }
        JobStrategy::Accurate => {
            "the accurate strategy subtracts the pending Jobs itself and expects a queue length that already leaves out the items in progress, so pending Jobs are subtracted twice, and running ones too when the queue already leaves their items out"
        }
        JobStrategy::Eager => {
            "the eager strategy already subtracts running and pending Jobs from maxReplicaCount, so they are subtracted twice"
        }
    };
    cx.report(
        &RunningJobsSubtractedInQuery::INFO,
        loc,
        format!(
            "the query subtracts `{metric}`, a count of Jobs or their pods, from the work it measures; {keda}: fewer Jobs start than items wait"
        ),
    )
    .help(match strategy {
        JobStrategy::Accurate => {
            "drop the subtraction and measure only the items nobody has picked up yet (accurate), or keep the full queue length and use the default strategy"
        }
        _ => "drop the subtraction: let the scaling strategy account for the Jobs KEDA already started",
    });
}

/// Job-count metrics in the subtrahend of a top-level subtraction, looking through
/// parentheses, guards (`>= 0`, `or vector(0)`, `clamp_min(…, 0)`), rounding and aggregations.
fn subtractions(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Paren(p) => subtractions(&p.expr, out),
        Expr::Aggregate(a) => subtractions(&a.expr, out),
        Expr::Call(c)
            if matches!(
                c.func.name,
                "clamp_min" | "clamp_max" | "clamp" | "ceil" | "floor" | "round" | "abs"
            ) =>
        {
            if let Some(arg) = c.args.args.first() {
                subtractions(arg, out);
            }
        }
        Expr::Binary(b) => {
            let op = b.op.to_string();
            let constant = |e: &Expr| constant_value(e).is_some();
            match op.as_str() {
                "-" => {
                    out.extend(
                        selectors_under(&b.rhs)
                            .into_iter()
                            .filter_map(metric_name)
                            .filter(|m| JOB_COUNTS.contains(&m.as_str())),
                    );
                    subtractions(&b.lhs, out);
                }
                "+" => {
                    subtractions(&b.lhs, out);
                    subtractions(&b.rhs, out);
                }
                _ if constant(&b.rhs) => subtractions(&b.lhs, out),
                "*" | "or" if constant(&b.lhs) => subtractions(&b.rhs, out),
                _ => {}
            }
        }
        _ => {}
    }
}

fn metric_name(vs: &promql_parser::parser::VectorSelector) -> Option<String> {
    vs.name.clone().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == "__name__")
            .map(|m| m.value.clone())
    })
}
