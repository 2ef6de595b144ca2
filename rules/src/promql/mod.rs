//! PromQL analysis for the KL2xx and KL3xx rules: one parse per distinct query, and the facts the rules need.
//!
//! [`analyze`] turns a query into an [`Analysis`] (ranges with their byte spans, selectors, functions, and
//! judgements such as "returns at most one series" or "can return NaN") or a [`QueryProblem`].
//! It never panics, whatever the input, and caches results by query text, since many ScaledObjects share
//! queries and parsing a regex matcher alone costs tens of microseconds.
//!
//! The parser (`promql-parser`) reports no positions, so byte spans come from a small tokenizer of our own,
//! matched against the syntax tree in source order. A span is `None` when that matching is not certain.

mod duration;
mod lex;
mod parse;
pub(crate) use parse::{Parsed, parse};
mod screen;
mod shape;
pub(crate) use shape::RATE_FAMILY;
pub(crate) use shape::{constant_value, selectors_under};
mod walk;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

pub use duration::{format_duration, parse_prom_duration};

/// Number of distinct queries kept in the cache before it is emptied and starts again.
const CACHE_CAPACITY: usize = 4096;

/// Why a query could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryProblem {
    /// The query is empty or whitespace only (a query of `#` comments only is
    /// [`QueryProblem::Invalid`]: Prometheus answers `no expression found in input`).
    Empty,
    /// A dashboard variable (`$__rate_interval`, `$job`, `${var}`, `[[var]]`) that Prometheus does not expand.
    TemplateVariable {
        /// The variable as written, such as `$__rate_interval`.
        text: String,
        /// Byte offset of the variable in the query.
        offset: usize,
    },
    /// The query is not PromQL.
    Invalid {
        /// What is wrong, in the parser's words or ours.
        message: String,
        /// Byte offset of the problem in the query, when we could locate it.
        offset: Option<usize>,
    },
    /// Syntax that newer Prometheus versions accept but the parser cannot read, so nothing can be checked.
    Unsupported {
        /// Which syntax, and which Prometheus version accepts it.
        message: String,
        /// Byte offset of the syntax in the query, when we could locate it.
        offset: Option<usize>,
    },
}

impl QueryProblem {
    /// Byte offset in the query that the problem points at, if any.
    #[must_use]
    pub fn offset(&self) -> Option<usize> {
        match self {
            QueryProblem::Empty => None,
            QueryProblem::TemplateVariable { offset, .. } => Some(*offset),
            QueryProblem::Invalid { offset, .. } | QueryProblem::Unsupported { offset, .. } => {
                *offset
            }
        }
    }
}

impl fmt::Display for QueryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryProblem::Empty => f.write_str("the query is empty"),
            QueryProblem::TemplateVariable { text, .. } => {
                write!(
                    f,
                    "the query holds the dashboard variable `{text}`, which Prometheus does not expand"
                )
            }
            QueryProblem::Invalid { message, .. } => write!(f, "invalid PromQL: {message}"),
            QueryProblem::Unsupported { message, .. } => {
                write!(f, "unsupported PromQL syntax: {message}")
            }
        }
    }
}

impl std::error::Error for QueryProblem {}

/// The type of a PromQL expression's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// An instant vector: what KEDA expects.
    Vector,
    /// A range vector (`x[5m]`): KEDA reads no value from it.
    Matrix,
    /// A scalar (`scalar(…)`, `1 + 1`, `time()`): KEDA cannot decode it.
    Scalar,
    /// A string literal.
    String,
}

/// Everything the rules need to know about a query that parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Type of the top-level expression.
    pub result_type: ValueType,
    /// Every range in the expression, matrix selectors (`x[5m]`) and subqueries (`…[10m:1m]`), in the source
    /// order of their opening bracket. Includes ranges inside aggregation parameters and subquery bodies.
    pub ranges: Vec<RangeUse>,
    /// Every series selector, in source order.
    pub selectors: Vec<Selector>,
    /// Every function call and aggregation, in source order of their names.
    pub functions: Vec<FunctionUse>,
    /// Whether the top level returns at most one series (KEDA fails on more than one).
    pub single_series: SeriesShape,
    /// The outermost cross-series operation, looking through time functions, parentheses and arithmetic with
    /// constants.
    pub top_operation: TopOperation,
    /// Indices into `selectors` of counter-like series (`_total`, `_count`, `_sum`, `_bucket`) whose value is
    /// used as a level: not under `rate`, `increase`, `irate`, `delta`, `idelta`, `deriv`, `resets`, `changes`,
    /// nor under something that ignores the value (`count`, `absent`, `count_over_time`, …).
    pub counter_without_rate: Vec<usize>,
    /// The unit of the result, as far as metric names and arithmetic tell.
    pub unit: Unit,
    /// The product of the constant factors applied to the result (`* 1000` gives 1000, `/ 60` gives 1/60);
    /// `None` when there is none, or when the arithmetic is not a plain scaling.
    pub scale: Option<f64>,
    /// Every `histogram_quantile` call, in source order.
    pub histogram_quantiles: Vec<HistogramQuantile>,
    /// Why the query can return NaN or ±Inf when there is no traffic and nothing filters it out; `None` if it
    /// cannot, or if a guard (`>= 0`, `> 0` in the denominator, `clamp_min(denominator, 1)`, …) is in place.
    pub nan_risk: Option<String>,
    /// `rate`/`increase`/`irate` applied to a subquery whose body aggregates first (`rate(sum(x)[5m:])`).
    pub aggregation_before_rate: Vec<AggregationBeforeRate>,
    /// Whether the signal exists without the scaled workload (queue length) or only while it serves (latency).
    pub signal: Signal,
}

/// One range in the query: a matrix selector's `[5m]` or a subquery's `[10m:1m]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeUse {
    /// The range duration.
    pub range: Duration,
    /// The function whose argument the range is, such as `rate` or `avg_over_time`; `None` at the top level.
    pub consumer: Option<String>,
    /// A matrix selector or a subquery.
    pub kind: RangeKind,
    /// Steps of the subqueries this range sits in, innermost last; `None` is a subquery without a step, which
    /// runs at the default evaluation interval.
    pub enclosing_subquery_steps: Vec<Option<Duration>>,
    /// Byte range of the bracket expression in the query text: `[1m]` in `rate(x[1m])`, `[10m:1m]` for a subquery.
    pub span: Option<Range<usize>>,
}

/// What a range belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeKind {
    /// A matrix selector, `x[5m]`.
    Matrix {
        /// Metric name of the selector, if it has one.
        metric: Option<String>,
        /// Index of the selector in [`Analysis::selectors`].
        selector: usize,
    },
    /// A subquery, `expr[10m:1m]`.
    Subquery {
        /// The step; `None` when omitted (`[10m:]`), meaning the default evaluation interval.
        step: Option<Duration>,
    },
}

/// A series selector such as `http_requests_total{job="api"}` or `x_total[5m]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    /// Metric name, from the name before the braces or a `__name__="…"` matcher.
    pub metric: Option<String>,
    /// Label matchers, without the metric name.
    pub matchers: Vec<LabelMatcher>,
    /// Byte range of the selector (name and braces, without range, `offset` or `@`) in the query text.
    pub span: Option<Range<usize>>,
    /// Whether the selector carries a range (`x[5m]`), as opposed to an instant selector.
    pub in_range: bool,
    /// Whether the selector sits inside a subquery body.
    pub in_subquery: bool,
    /// The nearest enclosing function call, such as `rate`, `increase`, `histogram_quantile` or `absent`.
    /// Aggregations (`sum`, …) are not functions here; see `path` for them.
    pub consumer: Option<String>,
    /// Enclosing function calls and aggregations, outermost first, such as `["histogram_quantile", "sum", "rate"]`.
    pub path: Vec<String>,
}

/// One label matcher, `name op "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatcher {
    /// Label name.
    pub name: String,
    /// Match operator.
    pub op: MatchOp,
    /// Value or regular expression, unescaped.
    pub value: String,
}

/// Label match operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        })
    }
}

/// A function call or an aggregation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUse {
    /// Name as the parser knows it (lowercase for aggregations): `rate`, `sum`, `limitk`.
    pub name: String,
    /// A function or an aggregation operator.
    pub kind: FunctionKind,
    /// Whether Prometheus only enables it with `--enable-feature=promql-experimental-functions`
    /// (`limitk` and `limit_ratio` included).
    pub experimental: bool,
    /// Byte range of the name in the query text.
    pub span: Option<Range<usize>>,
}

/// Whether a [`FunctionUse`] is a function call or an aggregation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// `rate(…)`, `histogram_quantile(…)`.
    Function,
    /// `sum(…)`, `topk(…)`.
    Aggregation,
}

/// How many series the top level can return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeriesShape {
    /// At most one series (or a scalar).
    AtMostOne,
    /// Possibly more than one.
    Many {
        /// Why, naming the part of the query that keeps several series.
        reason: String,
    },
}

impl SeriesShape {
    /// Whether the query returns at most one series.
    #[must_use]
    pub fn is_at_most_one(&self) -> bool {
        matches!(self, SeriesShape::AtMostOne)
    }
}

/// The outermost operation across series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopOperation {
    /// `sum`
    Sum,
    /// `count` or `count_values`
    Count,
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `histogram_quantile` or the `quantile` aggregation.
    Quantile,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// A division of two non-constant vectors.
    Ratio,
    /// A division by a replica or pod count (`/ count(kube_pod_info…)`, `/ kube_deployment_status_replicas`).
    DivisionByReplicaCount,
    /// Constants only (`vector(1)`, `2 * 3`).
    Constant,
    /// No cross-series operation: a selector, possibly under per-series functions (`rate(x[5m])`).
    Selector,
    /// Anything else.
    Other,
}

/// The unit of a query's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds: a `_seconds` metric or `histogram_quantile` over `_seconds_bucket`, not rescaled.
    Seconds,
    /// Milliseconds: a `_milliseconds`/`_ms` metric, or seconds times 1000.
    Milliseconds,
    /// A 0..1 ratio: part divided by whole of the same kind, or a `_ratio` metric.
    Ratio,
    /// A percentage: a ratio times 100, or a `_percent` metric.
    Percent,
    /// CPU cores: the rate of a `_seconds_total` counter (seconds per second).
    Cores,
    /// Bytes: a `_bytes` metric.
    Bytes,
    /// Not known.
    Unknown,
}

/// One `histogram_quantile(q, buckets)` call.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramQuantile {
    /// `q` when it is a number literal.
    pub quantile: Option<f64>,
    /// Metric names read as buckets (the `_bucket` selectors under the call, or every selector if none is).
    pub bucket_metrics: Vec<String>,
    /// Whether the `le` label survives the aggregation under the call (`sum by (le)`, no aggregation), as
    /// classic histograms need.
    pub keeps_le: bool,
    /// Whether the input is classic `_bucket` series (as opposed to native histograms).
    pub classic: bool,
    /// Byte range of the `histogram_quantile` name in the query text.
    pub span: Option<Range<usize>>,
}

/// `rate(sum(x)[5m:])`: the range function sees an aggregate, so counter resets of single series are lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregationBeforeRate {
    /// The range function: `rate`, `increase` or `irate`.
    pub function: String,
    /// The aggregation inside the subquery body, such as `sum`.
    pub aggregation: String,
    /// Index of the subquery in [`Analysis::ranges`].
    pub range: usize,
    /// Byte range of the subquery brackets (`[5m:]`) in the query text.
    pub span: Option<Range<usize>>,
}

/// Whether the query's signal exists while the workload has no replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// The classification.
    pub kind: SignalKind,
    /// A short reason naming the metrics behind it.
    pub reason: String,
}

/// See [`Signal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    /// Only the workload itself produces it (latency histograms, per-pod series): at zero replicas it is empty.
    WorkloadOnly,
    /// At least one input exists without the workload (queue length, consumer lag, backlog).
    External,
    /// Cannot tell.
    Unknown,
}

/// The names a query spells: its identifiers and the contents of its strings, among which is
/// every metric name its [`Analysis`] can find; `None` when an escape or an unterminated string
/// could hide one.
pub(crate) fn spelled_names(query: &str) -> Option<Vec<&str>> {
    if query.contains('\\') {
        return None;
    }
    lex::tokenize(query)
        .iter()
        .filter_map(|t| {
            let text = t.text(query);
            match t.kind {
                lex::Kind::Ident => Some(Some(text)),
                lex::Kind::Str { terminated: true } => Some(text.get(1..text.len() - 1)),
                lex::Kind::Str { terminated: false } => Some(None),
                _ => None,
            }
        })
        .collect()
}

/// Analyses a query, from the cache when the same text was seen before.
///
/// # Errors
///
/// A [`QueryProblem`] when the query is empty, holds a dashboard variable, does not parse, or uses syntax the
/// parser cannot read.
pub fn analyze(query: &str) -> Result<Arc<Analysis>, QueryProblem> {
    type Cache = Mutex<HashMap<String, Result<Arc<Analysis>, QueryProblem>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    if let Some(hit) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(query)
    {
        return hit.clone();
    }
    // Analyse outside the lock: other threads keep going, and two threads may do the same work once.
    let result = analyze_uncached(query).map(Arc::new);
    let mut map = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= CACHE_CAPACITY {
        map.clear();
    }
    map.insert(query.to_owned(), result.clone());
    result
}

/// Analyses a query without the cache (what the first sight of a query costs; for benchmarks).
///
/// # Errors
///
/// As [`analyze`].
pub fn analyze_uncached(query: &str) -> Result<Analysis, QueryProblem> {
    let tokens = lex::tokenize(query);
    if tokens.is_empty() {
        // Whatever is left is comments: Prometheus parses them away and finds nothing.
        return Err(match query.find('#') {
            Some(offset) => QueryProblem::Invalid {
                message: "no expression found in input (every line of the query is a `#` comment)"
                    .to_owned(),
                offset: Some(offset),
            },
            None => QueryProblem::Empty,
        });
    }
    if let Some((text, offset)) = screen::find_template_variable(query, &tokens) {
        return Err(QueryProblem::TemplateVariable { text, offset });
    }
    if let Some((message, offset)) = screen::find_unsupported(query, &tokens) {
        return Err(QueryProblem::Unsupported { message, offset });
    }
    if let Some((message, offset)) = screen::find_out_of_range_duration(query, &tokens) {
        return Err(QueryProblem::Invalid {
            message,
            offset: Some(offset),
        });
    }
    let expr = match parse::parse(query) {
        parse::Parsed::Ok(expr) => expr,
        parse::Parsed::Err(message) => {
            if let Some((message, offset)) =
                screen::unsupported_after_failure(query, &tokens, &message)
            {
                return Err(QueryProblem::Unsupported { message, offset });
            }
            let offset = screen::locate_error(query, &tokens, &message);
            return Err(QueryProblem::Invalid { message, offset });
        }
        parse::Parsed::Panicked => {
            return Err(QueryProblem::Invalid {
                message: "the parser failed on this query".to_owned(),
                offset: None,
            });
        }
    };
    walk::analyze_expr(query, &tokens, &expr)
}

/// The duration a number token inside a range or after `offset` stands for, read the way the parser reads it
/// (units, plain seconds, and hexadecimal seconds).
pub(crate) fn duration_token_value(text: &str) -> Option<Duration> {
    parse_prom_duration(text)
        .or_else(|| screen::plain_number(text).and_then(|s| Duration::try_from_secs_f64(s).ok()))
}
