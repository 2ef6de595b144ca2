use crate::checker::Checker;
use crate::finding::Fix;
use crate::promql::{Analysis, ValueType};
use crate::registry::declare_rule;
use crate::rules::promql::Site;

declare_rule! {
    /// ## What it does
    /// Reports a query whose result is a scalar or a string: `scalar(…)`, arithmetic on numbers
    /// alone (`1 + 1`), `time()`, a string literal. `vector(…)` is fine.
    ///
    /// ## Why is this bad?
    /// Prometheus answers with `resultType: scalar` and `result: [time, "value"]`. KEDA decodes
    /// `result` as a list of series and fails (`cannot unmarshal number`), so the trigger errors
    /// on every poll.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: scalar(sum(queue_length{queue="orders"}))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(queue_length{queue="orders"})
    /// ```
    pub(crate) struct ScalarResult => "KL207", "scalar-result", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    let kind = match a.result_type {
        ValueType::Scalar => "a scalar",
        ValueType::String => "a string",
        ValueType::Vector | ValueType::Matrix => return,
    };
    // vector(scalar) yields the same number as one series without labels: KEDA can read it.
    let fix = (a.result_type == ValueType::Scalar)
        .then(|| site.wrap(cx, "vector(", ")"))
        .flatten()
        .map(|edits| Fix {
            title: "wrap the query in vector(...)".to_owned(),
            edits,
            changes_behaviour: false,
        });
    cx.report(
        &ScalarResult::INFO,
        site.loc(cx, None),
        format!(
            "the query returns {kind} (resultType {}), which KEDA cannot decode: the trigger fails on every poll",
            if a.result_type == ValueType::Scalar { "scalar" } else { "string" }
        ),
    )
    .help("return an instant vector: wrap a scalar in vector(...), or drop an outer scalar(...)")
    .fix(fix);
}
