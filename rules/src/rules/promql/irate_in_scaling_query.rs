use crate::checker::Checker;
use crate::finding::Fix;
use crate::promql::{Analysis, FunctionKind};
use crate::registry::declare_rule;
use crate::rules::promql::Site;

declare_rule! {
    /// ## What it does
    /// Reports `irate` in a scaling query.
    ///
    /// ## Why is this bad?
    /// `irate` looks only at the last two samples of its window, however long the window is: the
    /// value jumps with every scrape, and the HPA scales on noise (out on one busy scrape, in on
    /// one quiet one). `rate` averages over the whole window.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(irate(nginx_ingress_controller_requests{ingress="web"}[2m]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(nginx_ingress_controller_requests{ingress="web"}[2m]))
    /// ```
    pub(crate) struct IrateInScalingQuery => "KL209", "irate-in-scaling-query", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    for f in &a.functions {
        if f.kind != FunctionKind::Function || f.name != "irate" {
            continue;
        }
        let fix = f
            .span
            .clone()
            .and_then(|s| site.edit(cx, s, "rate"))
            .map(|edit| Fix {
                title: "use rate()".to_owned(),
                edits: vec![edit],
                changes_behaviour: true,
            });
        cx.report(
            &IrateInScalingQuery::INFO,
            site.loc(cx, f.span.clone()),
            "irate() uses only the last two samples of its window: as a scaling signal it jumps with every scrape",
        )
        .help("use rate() over the same window: it averages over all samples in it")
        .fix(fix);
    }
}
