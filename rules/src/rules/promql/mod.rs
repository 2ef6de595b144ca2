//! KL2xx: the PromQL query, read the way Prometheus will execute it and KEDA will decode it.

pub(crate) mod aggregation_before_rate;
pub(crate) mod counter_as_level;
pub(crate) mod experimental_function;
pub(crate) mod histogram_quantile_without_le;
pub(crate) mod invalid_promql;
pub(crate) mod irate_in_scaling_query;
pub(crate) mod multiple_series_result;
pub(crate) mod nan_unguarded;
pub(crate) mod range_vector_result;
pub(crate) mod rate_window_below_recommended;
pub(crate) mod rate_window_too_short;
pub(crate) mod scalar_result;
pub(crate) mod template_variable_in_query;

pub(crate) use aggregation_before_rate::AggregationBeforeRate;
pub(crate) use counter_as_level::CounterAsLevel;
pub(crate) use experimental_function::ExperimentalFunction;
pub(crate) use histogram_quantile_without_le::HistogramQuantileWithoutLe;
pub(crate) use invalid_promql::InvalidPromql;
pub(crate) use irate_in_scaling_query::IrateInScalingQuery;
pub(crate) use multiple_series_result::MultipleSeriesResult;
pub(crate) use nan_unguarded::NanUnguarded;
pub(crate) use range_vector_result::RangeVectorResult;
pub(crate) use rate_window_below_recommended::RateWindowBelowRecommended;
pub(crate) use rate_window_too_short::RateWindowTooShort;
pub(crate) use scalar_result::ScalarResult;
pub(crate) use template_variable_in_query::TemplateVariableInQuery;

use std::ops::Range;
use std::time::Duration;

use crate::checker::{Checker, Loc};
use crate::finding::Edit;
use crate::keda::parse_go_bool;
use crate::model::ScaledObject;
use crate::promql::{Analysis, RangeKind, RangeUse, ValueType, format_duration};
use crate::rules::query_context::QueryContext;
use crate::source::{FieldPath, span_in_scalar};

/// Prometheus's default `evaluation_interval`: the step of a subquery written without one (`[5m:]`).
pub(crate) const DEFAULT_EVALUATION_INTERVAL: Duration = Duration::from_secs(60);

/// One trigger's query as the KL2xx rules see it: the analysed query plus where it sits.
pub(crate) struct Site<'q, 'a> {
    pub(crate) q: &'q QueryContext<'a>,
    /// Field path of the `query` value.
    pub(crate) path: FieldPath,
    /// `ignoreNullValues` as KEDA reads it (default true; an unparsable value is KL103's).
    pub(crate) ignore_null_values: bool,
}

impl Site<'_, '_> {
    /// Where a finding about `query[range]` points (the whole query text when `range` is `None`:
    /// without the quotes, the block indicator and the trailing newline of the scalar).
    pub(crate) fn loc(&self, cx: &Checker<'_>, range: Option<Range<usize>>) -> Loc {
        let range = range.unwrap_or(0..self.q.query.len());
        Loc {
            path: self.path.clone(),
            span: self.q.span(cx, Some(range)),
        }
    }

    /// The file span of `query[range]`, only when the file holds exactly that text there, so an
    /// edit of it is safe (a folded scalar or an escape in between makes it `None`).
    pub(crate) fn exact_span(&self, cx: &Checker<'_>, range: Range<usize>) -> Option<Range<usize>> {
        let src = cx.source()?;
        let expected = self.q.query.get(range.clone())?;
        let lead = self.q.lead;
        let span = span_in_scalar(src, self.q.node(), range.start + lead..range.end + lead)?;
        (src.get(span.clone())? == expected).then_some(span)
    }

    /// An edit replacing `query[range]`, when it can be placed exactly.
    pub(crate) fn edit(
        &self,
        cx: &Checker<'_>,
        range: Range<usize>,
        replacement: impl Into<String>,
    ) -> Option<Edit> {
        let span = if range.is_empty() {
            // An insertion: place it by the character before or after it.
            if range.start > 0 {
                let prev = self.q.query[..range.start].chars().next_back()?.len_utf8();
                let s = self.exact_span(cx, range.start - prev..range.start)?;
                s.end..s.end
            } else {
                let next = self.q.query.chars().next()?.len_utf8();
                let s = self.exact_span(cx, 0..next)?;
                s.start..s.start
            }
        } else {
            self.exact_span(cx, range)?
        };
        Some(Edit {
            span,
            replacement: replacement.into(),
        })
    }

    /// Edits wrapping the whole query as `before<query>after`.
    pub(crate) fn wrap(&self, cx: &Checker<'_>, before: &str, after: &str) -> Option<Vec<Edit>> {
        let len = self.q.query.len();
        Some(vec![
            self.edit(cx, 0..0, before)?,
            self.edit(cx, len..len, after)?,
        ])
    }

    /// What KEDA makes of an empty result for this trigger.
    pub(crate) fn empty_result_effect(&self) -> &'static str {
        if self.ignore_null_values {
            "KEDA reads 0 without an error"
        } else {
            "the trigger fails (ignoreNullValues is false)"
        }
    }
}

/// Runs the KL2xx rules on one prometheus trigger's query.
pub(crate) fn check_query(cx: &mut Checker<'_>, so: &ScaledObject<'_>, q: &QueryContext<'_>) {
    let Some(trigger) = so.triggers().into_iter().find(|t| {
        t.meta_entry("query")
            .is_some_and(|e| std::ptr::eq(e, q.entry))
    }) else {
        return;
    };
    let site = Site {
        q,
        path: trigger.metadata_path().key("query"),
        ignore_null_values: trigger
            .meta("ignoreNullValues")
            .and_then(parse_go_bool)
            .unwrap_or(true),
    };
    let analysis = match &q.analysis {
        Ok(a) => a.clone(),
        Err(problem) => {
            if cx.enabled(&InvalidPromql::INFO) {
                invalid_promql::check(cx, &site, problem);
            }
            if cx.enabled(&TemplateVariableInQuery::INFO) {
                template_variable_in_query::check(cx, &site, problem);
            }
            return;
        }
    };
    let a = &*analysis;
    if cx.enabled(&RateWindowTooShort::INFO) || cx.enabled(&RateWindowBelowRecommended::INFO) {
        for w in window_checks(a, q) {
            match w.verdict {
                WindowVerdict::TooShort => rate_window_too_short::report(cx, &site, &w),
                WindowVerdict::BelowRecommended => {
                    rate_window_below_recommended::report(cx, &site, &w);
                }
            }
        }
    }
    if cx.enabled(&MultipleSeriesResult::INFO) {
        multiple_series_result::check(cx, &site, a);
    }
    if cx.enabled(&HistogramQuantileWithoutLe::INFO) {
        histogram_quantile_without_le::check(cx, &site, a);
    }
    if cx.enabled(&RangeVectorResult::INFO) {
        range_vector_result::check(cx, &site, a);
    }
    if cx.enabled(&ScalarResult::INFO) {
        scalar_result::check(cx, &site, a);
    }
    if cx.enabled(&CounterAsLevel::INFO) {
        counter_as_level::check(cx, &site, a);
    }
    if cx.enabled(&IrateInScalingQuery::INFO) {
        irate_in_scaling_query::check(cx, &site, a);
    }
    if cx.enabled(&NanUnguarded::INFO) {
        nan_unguarded::check(cx, &site, a);
    }
    if cx.enabled(&ExperimentalFunction::INFO) {
        experimental_function::check(cx, &site, a);
    }
    if cx.enabled(&AggregationBeforeRate::INFO) {
        aggregation_before_rate::check(cx, &site, a);
    }
}

/// Whether the top level is something KEDA can read a value from at all (KL206/KL207 explain the
/// other shapes, so rules about series and values stay quiet there).
pub(crate) fn is_vector(a: &Analysis) -> bool {
    a.result_type == ValueType::Vector
}

/// How a range function reads its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Needs two samples: error below 2 x spacing, warning below 4 x.
    TwoSamples,
    /// Needs one sample (`*_over_time`): error below 1 x spacing, warning below 2 x.
    OneSample,
}

impl Family {
    fn of(function: &str) -> Option<Self> {
        if crate::promql::RATE_FAMILY.contains(&function) {
            Some(Self::TwoSamples)
        } else if function.ends_with("_over_time") {
            Some(Self::OneSample)
        } else {
            None
        }
    }

    /// (error factor, recommended factor) of the spacing.
    pub(crate) fn factors(self) -> (u32, u32) {
        match self {
            Self::TwoSamples => (2, 4),
            Self::OneSample => (1, 2),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowVerdict {
    TooShort,
    BelowRecommended,
}

/// One range that is too short for the function reading it.
#[derive(Debug, Clone)]
pub(crate) struct WindowCheck {
    pub(crate) verdict: WindowVerdict,
    pub(crate) function: String,
    pub(crate) family: Family,
    pub(crate) range: Duration,
    /// The sample spacing the range is compared with.
    pub(crate) spacing: Duration,
    /// The spacing named for a message: "the scrape interval 1m (Prometheus default)".
    pub(crate) spacing_text: String,
    /// Whether the range is a subquery's (its points are `spacing` apart, not scrapes).
    pub(crate) subquery: bool,
    /// Byte range of the whole bracket (`[1m]`, `[10m:1m]`) in the query.
    pub(crate) span: Option<Range<usize>>,
    /// Byte range of the range duration alone (`1m` in `[1m:30s]`), for the fix.
    pub(crate) duration_span: Option<Range<usize>>,
    /// The smallest round window that is at least the recommended factor of the spacing.
    pub(crate) suggestion: Duration,
}

/// Every range read by a rate-like or `*_over_time` function that is shorter than recommended.
///
/// A matrix selector reads raw samples, `S` apart, even inside a subquery body (the subquery only
/// chooses the instants it is evaluated at); a subquery's own range holds points `step` apart.
pub(crate) fn window_checks(a: &Analysis, q: &QueryContext<'_>) -> Vec<WindowCheck> {
    a.ranges.iter().filter_map(|r| window_check(r, q)).collect()
}

fn window_check(r: &RangeUse, q: &QueryContext<'_>) -> Option<WindowCheck> {
    let function = r.consumer.as_deref()?;
    let family = Family::of(function)?;
    let (spacing, spacing_text, subquery) = match r.kind {
        RangeKind::Matrix { .. } => (
            q.scrape.interval,
            format!("the scrape interval {}", q.scrape),
            false,
        ),
        RangeKind::Subquery { step: Some(step) } => (
            step,
            format!("the subquery step {}", format_duration(step)),
            true,
        ),
        RangeKind::Subquery { step: None } => (
            DEFAULT_EVALUATION_INTERVAL,
            format!(
                "the subquery step {} (no step given: Prometheus's default evaluation interval)",
                format_duration(DEFAULT_EVALUATION_INTERVAL)
            ),
            true,
        ),
    };
    if spacing.is_zero() {
        return None;
    }
    let (min, recommended) = family.factors();
    let verdict = if r.range < spacing * min {
        WindowVerdict::TooShort
    } else if r.range < spacing * recommended {
        WindowVerdict::BelowRecommended
    } else {
        return None;
    };
    let duration_span = r.span.clone().and_then(|s| {
        let body = q.query.get(s.clone())?.strip_prefix('[')?;
        let inner = body.split(':').next()?.trim_end_matches(']');
        let start = s.start + 1 + (inner.len() - inner.trim_start().len());
        let end = s.start + 1 + inner.trim_end().len();
        (start < end).then_some(start..end)
    });
    Some(WindowCheck {
        verdict,
        function: function.to_owned(),
        family,
        range: r.range,
        spacing,
        spacing_text,
        subquery,
        span: r.span.clone(),
        duration_span,
        suggestion: round_window(spacing * recommended),
    })
}

/// The smallest window of the usual ladder (30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, then whole hours)
/// that is at least `min`.
pub(crate) fn round_window(min: Duration) -> Duration {
    const LADDER: &[u64] = &[30, 60, 120, 300, 600, 900, 1800, 3600];
    LADDER
        .iter()
        .map(|s| Duration::from_secs(*s))
        .find(|d| *d >= min)
        .unwrap_or_else(|| Duration::from_secs(min.as_secs().div_ceil(3600).max(1) * 3600))
}

/// The window to suggest for a rate over raw samples: 4 x S, rounded up, with the reason.
pub(crate) fn suggested_rate_window(q: &QueryContext<'_>) -> (Duration, String) {
    let w = round_window(q.scrape.interval * 4);
    (
        w,
        format!("4 x the scrape interval {}, rounded up", q.scrape),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_round_up_to_the_usual_ladder() {
        let s = Duration::from_secs;
        assert_eq!(round_window(s(20)), s(30));
        assert_eq!(round_window(s(60)), s(60));
        assert_eq!(round_window(s(240)), s(300));
        assert_eq!(round_window(s(1200)), s(1800));
        assert_eq!(round_window(s(3601)), s(7200));
    }
}

#[cfg(test)]
mod rule_tests;
