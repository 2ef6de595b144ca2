use crate::checker::Checker;
use crate::finding::Fix;
use crate::promql::Analysis;
use crate::registry::declare_rule;
use crate::rules::promql::{Site, is_vector};

declare_rule! {
    /// ## What it does
    /// Reports a query that can return NaN or ±Inf when there is no traffic and has no guard:
    /// `histogram_quantile` of zero bucket rates (NaN), a division whose denominator can be 0
    /// (`0/0` is NaN, `x/0` is +Inf). A comparison that filters (`>= 0`), a denominator kept
    /// above zero (`clamp_min(…, 1)`, `+ 0.001`, `> 0`) count as guards. The message says which
    /// KEDA version it assumes (`kedaVersion` in the configuration); with `kedaVersion` 2.20 or
    /// later and `ignoreNullValues` true it stays silent, since KEDA then reads NaN as 0 itself.
    ///
    /// ## Why is this bad?
    /// KEDA up to 2.19 passes NaN through: `int64(NaN * 1000)` becomes
    /// `-9223372036854775808m` on x86-64, a huge negative metric, and the trigger is never
    /// active. From 2.20 KEDA reads NaN and ±Inf as 0 (default `ignoreNullValues: true`) or
    /// fails the trigger (`"false"`). Either way "no traffic" and "broken query" look alike.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: histogram_quantile(0.95, sum by (le) (rate(latency_seconds_bucket[5m])))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: (histogram_quantile(0.95, sum by (le) (rate(latency_seconds_bucket[5m]))) >= 0) or vector(0)
    /// ```
    pub(crate) struct NanUnguarded => "KL211", "nan-unguarded", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    if !is_vector(a) {
        return;
    }
    let Some(reason) = &a.nan_risk else {
        return;
    };
    let from_quantile = reason.contains("histogram_quantile");
    // A histogram_quantile without `le` is always empty (KL205): it never gets as far as NaN.
    if from_quantile
        && a.histogram_quantiles
            .iter()
            .any(|h| h.classic && !h.keeps_le)
    {
        return;
    }
    let Some(effect) = effect(cx, site) else {
        return;
    };
    let span = if from_quantile {
        a.histogram_quantiles.first().and_then(|h| h.span.clone())
    } else {
        None
    };
    let fix = site.wrap(cx, "(", ") >= 0 or vector(0)").map(|edits| Fix {
        title: "filter NaN and read no value as 0".to_owned(),
        edits,
        changes_behaviour: true,
    });
    cx.report(
        &NanUnguarded::INFO,
        site.loc(cx, span),
        format!("the query can return NaN or ±Inf: {reason}; {effect}"),
    )
    .help("guard the result, e.g. `(<query>) >= 0 or vector(0)`, or keep the denominator above zero with clamp_min(..., 1)")
    .fix(fix);
}

/// What KEDA does with NaN, by version; `None` when it already does what a guard would do.
fn effect(cx: &Checker<'_>, site: &Site<'_, '_>) -> Option<String> {
    const PASS_THROUGH: &str = "passes NaN through as a huge negative metric (-9223372036854775808m on x86-64), and the trigger is never active";
    let version = cx.settings.keda_version;
    let from_2_20 = if site.ignore_null_values {
        "reads NaN and ±Inf as 0"
    } else {
        "fails the trigger on NaN and ±Inf (ignoreNullValues is false), so an idle workload looks like a broken trigger"
    };
    if !cx.settings.keda_version_explicit {
        return Some(format!(
            "KEDA before 2.20 {PASS_THROUGH}; from 2.20 on it {from_2_20} (`kedaVersion` is not set: kedalint assumes {version} elsewhere, set it to say which KEDA runs)"
        ));
    }
    if !version.at_least(2, 20) {
        return Some(format!("KEDA {version} {PASS_THROUGH}"));
    }
    // 2.20+ with ignoreNullValues true turns NaN into 0, exactly what `or vector(0)` would.
    (!site.ignore_null_values).then(|| format!("KEDA {version} {from_2_20}"))
}
