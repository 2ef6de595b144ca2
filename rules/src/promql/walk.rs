//! Walks the syntax tree by hand (the parser's own walker skips aggregation parameters), collecting ranges,
//! selectors and functions in source order, then gives them byte spans from our tokenizer.

use std::ops::Range;
use std::time::Duration;

use promql_parser::label::MatchOp as ParserMatchOp;
use promql_parser::parser::{Expr, VectorSelector};

use super::lex::{self, Kind, Token};
use super::{
    AggregationBeforeRate, Analysis, FunctionKind, FunctionUse, HistogramQuantile, LabelMatcher,
    MatchOp, QueryProblem, RangeKind, RangeUse, Selector, ValueType, duration_token_value, shape,
};

/// Functions that turn a counter into something other than its running total, or ignore its value.
const COUNTER_CONSUMERS: [&str; 15] = [
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "predict_linear",
    "resets",
    "changes",
    "count_over_time",
    "present_over_time",
    "absent_over_time",
    "absent",
    "timestamp",
    "histogram_count",
];

/// Range functions for which aggregating first loses counter resets (KL213).
const RESET_AWARE: [&str; 3] = ["rate", "increase", "irate"];

/// Where in the tree the walker is.
#[derive(Clone, Default)]
struct Cx {
    /// The call whose direct argument (through parentheses) the current node is.
    consumer: Option<&'static str>,
    /// The nearest enclosing call, however deep.
    nearest_call: Option<&'static str>,
    /// Enclosing calls and aggregations, outermost first.
    path: Vec<String>,
    /// Steps of the enclosing subqueries, innermost last.
    sub_steps: Vec<Option<Duration>>,
    /// Under something that does not read a counter's running total (`rate`, `count`, …).
    counter_consumed: bool,
}

impl Cx {
    /// Context for an operand that is not a direct function argument.
    fn operand(&self) -> Cx {
        Cx {
            consumer: None,
            ..self.clone()
        }
    }
}

#[derive(Default)]
struct Walker {
    ranges: Vec<RangeUse>,
    selectors: Vec<Selector>,
    functions: Vec<FunctionUse>,
    counter_without_rate: Vec<usize>,
    /// Each `histogram_quantile` with the index of its [`FunctionUse`].
    histogram_quantiles: Vec<(usize, HistogramQuantile)>,
    aggregation_before_rate: Vec<AggregationBeforeRate>,
    or_matchers: bool,
    zero_range: bool,
}

pub(crate) fn analyze_expr(
    src: &str,
    tokens: &[Token],
    expr: &Expr,
) -> Result<Analysis, QueryProblem> {
    let mut w = Walker::default();
    w.walk(expr, &Cx::default());
    if w.or_matchers {
        let offset = or_inside_braces(src, tokens);
        return Err(QueryProblem::Invalid {
            message: "`or` between label matchers (`{a=\"b\" or c=\"d\"}`) is not PromQL; no Prometheus version accepts it"
                .to_owned(),
            offset,
        });
    }
    if w.zero_range {
        return Err(QueryProblem::Invalid {
            message: "range duration must be greater than 0".to_owned(),
            offset: tokens
                .iter()
                .find(|t| t.is_punct(src, "["))
                .map(|t| t.span.start),
        });
    }
    assign_range_spans(src, tokens, &mut w.ranges);
    assign_selector_spans(src, tokens, &mut w.selectors);
    assign_function_spans(src, tokens, &mut w.functions);
    let histogram_quantiles = w
        .histogram_quantiles
        .into_iter()
        .map(|(function, mut hq)| {
            hq.span.clone_from(&w.functions[function].span);
            hq
        })
        .collect();
    for abr in &mut w.aggregation_before_rate {
        abr.span.clone_from(&w.ranges[abr.range].span);
    }
    let (unit, scale) = shape::unit(expr);
    Ok(Analysis {
        result_type: match expr.value_type() {
            promql_parser::parser::value::ValueType::Vector => ValueType::Vector,
            promql_parser::parser::value::ValueType::Matrix => ValueType::Matrix,
            promql_parser::parser::value::ValueType::Scalar => ValueType::Scalar,
            promql_parser::parser::value::ValueType::String => ValueType::String,
        },
        single_series: shape::single_series(expr),
        top_operation: shape::top_operation(expr),
        unit,
        scale,
        nan_risk: shape::nan_risk(expr),
        signal: shape::signal(expr, &w.selectors),
        ranges: w.ranges,
        selectors: w.selectors,
        functions: w.functions,
        counter_without_rate: w.counter_without_rate,
        histogram_quantiles,
        aggregation_before_rate: w.aggregation_before_rate,
    })
}

impl Walker {
    /// Visits `e` so that each list grows in source order: calls before their arguments (names come first),
    /// subquery brackets after their bodies (the bracket follows the body).
    fn walk(&mut self, e: &Expr, cx: &Cx) {
        match e {
            Expr::Paren(p) => self.walk(&p.expr, cx),
            Expr::Unary(u) => self.walk(&u.expr, &cx.operand()),
            Expr::Binary(b) => {
                let mut inner = cx.operand();
                // `x_total - x_total offset 1h` is a hand-written increase, not a level.
                if b.op.to_string() == "-" && shares_counter(&b.lhs, &b.rhs) {
                    inner.counter_consumed = true;
                }
                self.walk(&b.lhs, &inner);
                self.walk(&b.rhs, &inner);
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
            Expr::VectorSelector(vs) => {
                self.selector(vs, cx, false);
            }
            Expr::MatrixSelector(ms) => {
                let selector = self.selector(&ms.vs, cx, true);
                self.zero_range |= ms.range.is_zero();
                self.ranges.push(RangeUse {
                    range: ms.range,
                    consumer: cx.consumer.map(str::to_owned),
                    kind: RangeKind::Matrix {
                        metric: self.selectors[selector].metric.clone(),
                        selector,
                    },
                    enclosing_subquery_steps: cx.sub_steps.clone(),
                    span: None,
                });
            }
            Expr::Subquery(sq) => {
                let mut inner = cx.operand();
                inner.sub_steps.push(sq.step);
                self.walk(&sq.expr, &inner);
                self.zero_range |= sq.range.is_zero();
                let index = self.ranges.len();
                self.ranges.push(RangeUse {
                    range: sq.range,
                    consumer: cx.consumer.map(str::to_owned),
                    kind: RangeKind::Subquery { step: sq.step },
                    enclosing_subquery_steps: cx.sub_steps.clone(),
                    span: None,
                });
                if let Some(function) = cx.consumer.filter(|f| RESET_AWARE.contains(f))
                    && let Some(aggregation) = aggregation_on_top(&sq.expr)
                {
                    self.aggregation_before_rate.push(AggregationBeforeRate {
                        function: function.to_owned(),
                        aggregation,
                        range: index,
                        span: None,
                    });
                }
            }
            Expr::Call(call) => {
                let name = call.func.name;
                let function = self.functions.len();
                self.functions.push(FunctionUse {
                    name: name.to_owned(),
                    kind: FunctionKind::Function,
                    experimental: call.func.experimental,
                    span: None,
                });
                let mut inner = cx.clone();
                inner.consumer = Some(name);
                inner.nearest_call = Some(name);
                inner.path.push(name.to_owned());
                inner.counter_consumed |= COUNTER_CONSUMERS.contains(&name);
                let first_selector = self.selectors.len();
                for arg in &call.args.args {
                    self.walk(arg, &inner);
                }
                if name == "histogram_quantile" {
                    let hq = self.histogram_quantile(&call.args.args, first_selector);
                    self.histogram_quantiles.push((function, hq));
                }
            }
            Expr::Aggregate(agg) => {
                let name = agg.op.to_string();
                self.functions.push(FunctionUse {
                    name: name.clone(),
                    kind: FunctionKind::Aggregation,
                    experimental: matches!(name.as_str(), "limitk" | "limit_ratio"),
                    span: None,
                });
                let mut inner = cx.operand();
                inner.path.push(name.clone());
                if let Some(param) = &agg.param {
                    self.walk(param, &inner);
                }
                // `count` and `group` look at which series exist, not at their values.
                inner.counter_consumed |= matches!(name.as_str(), "count" | "group");
                self.walk(&agg.expr, &inner);
            }
        }
    }

    fn selector(&mut self, vs: &VectorSelector, cx: &Cx, in_range: bool) -> usize {
        self.or_matchers |= !vs.matchers.or_matchers.is_empty();
        let metric = shape::metric_name(vs).map(str::to_owned);
        let matchers = vs
            .matchers
            .matchers
            .iter()
            .filter(|m| !(m.name == "__name__" && m.op == ParserMatchOp::Equal))
            .map(|m| LabelMatcher {
                name: m.name.clone(),
                op: match m.op {
                    ParserMatchOp::Equal => MatchOp::Equal,
                    ParserMatchOp::NotEqual => MatchOp::NotEqual,
                    ParserMatchOp::Re(_) => MatchOp::RegexMatch,
                    ParserMatchOp::NotRe(_) => MatchOp::RegexNoMatch,
                },
                value: m.value.clone(),
            })
            .collect();
        let index = self.selectors.len();
        if !cx.counter_consumed && metric.as_deref().is_some_and(shape::is_counter_like) {
            self.counter_without_rate.push(index);
        }
        self.selectors.push(Selector {
            metric,
            matchers,
            span: None,
            in_range,
            in_subquery: !cx.sub_steps.is_empty(),
            consumer: cx.nearest_call.map(str::to_owned),
            path: cx.path.clone(),
        });
        index
    }

    fn histogram_quantile(&self, args: &[Box<Expr>], first_selector: usize) -> HistogramQuantile {
        let mut all = Vec::new();
        let mut buckets = Vec::new();
        for s in &self.selectors[first_selector..] {
            if let Some(m) = &s.metric {
                if m.ends_with("_bucket") && !buckets.contains(m) {
                    buckets.push(m.clone());
                }
                if !all.contains(m) {
                    all.push(m.clone());
                }
            }
        }
        let classic = !buckets.is_empty();
        HistogramQuantile {
            quantile: args.first().and_then(|q| shape::constant_value(q)),
            bucket_metrics: if classic { buckets } else { all },
            keeps_le: args.get(1).is_none_or(|inner| shape::keeps_le(inner)),
            classic,
            span: None,
        }
    }
}

/// Whether both sides of a subtraction read the same counter (`x_total - x_total offset 1h`).
fn shares_counter(lhs: &Expr, rhs: &Expr) -> bool {
    let left = shape::selectors_under(lhs);
    let right = shape::selectors_under(rhs);
    left.iter()
        .filter_map(|s| shape::metric_name(s))
        .filter(|m| shape::is_counter_like(m))
        .any(|m| right.iter().any(|r| shape::metric_name(r) == Some(m)))
}

/// The aggregation a subquery body computes before any range function: `sum` in `sum(x)[5m:]`.
fn aggregation_on_top(e: &Expr) -> Option<String> {
    match e {
        Expr::Paren(p) => aggregation_on_top(&p.expr),
        Expr::Unary(u) => aggregation_on_top(&u.expr),
        Expr::Aggregate(a) => Some(a.op.to_string()),
        Expr::Binary(b) => aggregation_on_top(&b.lhs).or_else(|| aggregation_on_top(&b.rhs)),
        Expr::Call(c)
            if c.args
                .args
                .iter()
                .any(|a| a.value_type() == promql_parser::parser::value::ValueType::Matrix) =>
        {
            None
        }
        Expr::Call(c) => c.args.args.iter().find_map(|a| aggregation_on_top(a)),
        _ => None,
    }
}

fn or_inside_braces(src: &str, tokens: &[Token]) -> Option<usize> {
    let mut depth = 0usize;
    for t in tokens {
        if t.is_punct(src, "{") {
            depth += 1;
        } else if t.is_punct(src, "}") {
            depth = depth.saturating_sub(1);
        } else if depth > 0 && t.is_ident(src, "or") {
            return Some(t.span.start);
        }
    }
    None
}

/// Gives each range the span of its bracket, pairing the k-th bracket in the text with the k-th range in
/// the tree. Any disagreement in count or duration leaves every span `None` rather than risk a wrong caret.
fn assign_range_spans(src: &str, tokens: &[Token], ranges: &mut [RangeUse]) {
    let brackets = lex::range_brackets(tokens, src);
    if brackets.len() != ranges.len() {
        return;
    }
    let agrees = brackets
        .iter()
        .zip(ranges.iter())
        .all(|(&(open, close), r)| {
            let inside: Vec<&Token> = tokens[open + 1..close].iter().collect();
            let value = |t: &&Token| {
                (t.kind == Kind::Number)
                    .then(|| duration_token_value(t.text(src)))
                    .flatten()
            };
            match (&r.kind, inside.as_slice()) {
                (RangeKind::Matrix { .. }, [d]) => value(d) == Some(r.range),
                (RangeKind::Subquery { step }, [d, colon]) => {
                    colon.is_punct(src, ":") && value(d) == Some(r.range) && step.is_none()
                }
                (RangeKind::Subquery { step: Some(step) }, [d, colon, s]) => {
                    colon.is_punct(src, ":") && value(d) == Some(r.range) && value(s) == Some(*step)
                }
                _ => false,
            }
        });
    if agrees {
        for (&(open, close), r) in brackets.iter().zip(ranges.iter_mut()) {
            r.span = Some(tokens[open].span.start..tokens[close].span.end);
        }
    }
}

/// Selector-looking places in the text, in source order: `name`, `name{…}` or `{…}`, with the name if any.
fn selector_candidates(src: &str, tokens: &[Token]) -> Vec<(Range<usize>, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let next = tokens.get(i + 1);
        let next_is = |p: &str| next.is_some_and(|n| n.is_punct(src, p));
        if t.kind == Kind::Ident {
            let text = t.text(src);
            if lex::opens_label_list(text) && next_is("(") {
                // Label names in `by (…)`, `on (…)`: jump past the list.
                i = tokens[i..]
                    .iter()
                    .position(|n| n.is_punct(src, ")"))
                    .map_or(tokens.len(), |p| i + p + 1);
                continue;
            }
            let aggregator_with_modifier = lex::is_aggregator(text)
                && next.is_some_and(|n| n.is_ident(src, "by") || n.is_ident(src, "without"));
            let number = text.eq_ignore_ascii_case("inf") || text.eq_ignore_ascii_case("nan");
            if next_is("(") || lex::is_keyword(text) || aggregator_with_modifier || number {
                i += 1;
                continue;
            }
            if next_is("{") {
                let close = closing_brace(src, tokens, i + 1);
                out.push((t.span.start..tokens[close].span.end, Some(text.to_owned())));
                i = close + 1;
            } else {
                out.push((t.span.clone(), Some(text.to_owned())));
                i += 1;
            }
        } else if t.is_punct(src, "{") {
            let close = closing_brace(src, tokens, i);
            out.push((t.span.start..tokens[close].span.end, None));
            i = close + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Index of the `}` closing the `{` at `open` (the last token if there is none).
fn closing_brace(src: &str, tokens: &[Token], open: usize) -> usize {
    tokens[open..]
        .iter()
        .position(|t| t.is_punct(src, "}"))
        .map_or(tokens.len() - 1, |p| open + p)
}

fn assign_selector_spans(src: &str, tokens: &[Token], selectors: &mut [Selector]) {
    let candidates = selector_candidates(src, tokens);
    if candidates.len() != selectors.len() {
        return;
    }
    // The AST keeps the name written before the braces; a bare `{…}` has none (quoted names live inside).
    let agrees = candidates
        .iter()
        .zip(selectors.iter())
        .all(|((_, name), s)| match name {
            Some(name) => s.metric.as_deref() == Some(name.as_str()),
            None => true,
        });
    if agrees {
        for ((span, _), s) in candidates.into_iter().zip(selectors.iter_mut()) {
            s.span = Some(span);
        }
    }
}

/// Names of calls and aggregations in the text, in source order.
fn function_candidates(src: &str, tokens: &[Token]) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Ident || lex::is_keyword(t.text(src)) {
            continue;
        }
        let text = t.text(src);
        let next = tokens.get(i + 1);
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let called = next.is_some_and(|n| n.is_punct(src, "("));
        // `@ start()` and `@ end()` are modifiers, not calls.
        let at_modifier = prev.is_some_and(|p| p.is_punct(src, "@"));
        let aggregator_with_modifier = lex::is_aggregator(text)
            && next.is_some_and(|n| n.is_ident(src, "by") || n.is_ident(src, "without"));
        if (called && !at_modifier) || aggregator_with_modifier {
            out.push((t.span.clone(), text.to_owned()));
        }
    }
    out
}

fn assign_function_spans(src: &str, tokens: &[Token], functions: &mut [FunctionUse]) {
    let candidates = function_candidates(src, tokens);
    if candidates.len() != functions.len()
        || !candidates
            .iter()
            .zip(functions.iter())
            .all(|((_, name), f)| name.eq_ignore_ascii_case(&f.name))
    {
        return;
    }
    for ((span, _), f) in candidates.into_iter().zip(functions.iter_mut()) {
        f.span = Some(span);
    }
}
