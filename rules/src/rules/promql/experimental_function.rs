use crate::checker::Checker;
use crate::promql::{Analysis, FunctionKind};
use crate::registry::declare_rule;
use crate::rules::promql::Site;

declare_rule! {
    /// ## What it does
    /// Reports a function or aggregation that Prometheus only enables with
    /// `--enable-feature=promql-experimental-functions`: `mad_over_time`, `sort_by_label`,
    /// `limitk`, `limit_ratio`, `double_exponential_smoothing`, `info`, `ts_of_*_over_time`, …
    ///
    /// ## Why is this bad?
    /// Without the flag Prometheus rejects the query, and the trigger fails. Managed Prometheus
    /// services often do not let you set the flag, and an experimental function can change or
    /// disappear in a later release.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(mad_over_time(queue_length{queue="orders"}[10m]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(stddev_over_time(queue_length{queue="orders"}[10m]))
    /// ```
    pub(crate) struct ExperimentalFunction => "KL212", "experimental-function", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    for f in a.functions.iter().filter(|f| f.experimental) {
        let what = match f.kind {
            FunctionKind::Function => "function",
            FunctionKind::Aggregation => "aggregation",
        };
        cx.report(
            &ExperimentalFunction::INFO,
            site.loc(cx, f.span.clone()),
            format!(
                "`{}` is an experimental {what}: Prometheus rejects the query unless it runs with --enable-feature=promql-experimental-functions, and the trigger fails",
                f.name
            ),
        )
        .help("make sure the Prometheus behind serverAddress enables promql-experimental-functions, or use a stable function");
    }
}
