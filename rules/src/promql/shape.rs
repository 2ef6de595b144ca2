//! Judgements about a whole expression: how many series, which cross-series operation, which unit, whether it
//! can produce NaN, and whether its signal exists without the workload.

use std::collections::BTreeSet;

use promql_parser::label::MatchOp as ParserMatchOp;
use promql_parser::parser::ast::{LabelModifier, VectorMatchCardinality};
use promql_parser::parser::value::ValueType as ParserValueType;
use promql_parser::parser::{AggregateExpr, BinaryExpr, Call, Expr, VectorSelector};

use super::{SeriesShape, Signal, SignalKind, TopOperation, Unit};

/// Functions over a range that need at least two samples in it (the window rules' family).
pub(crate) const RATE_FAMILY: [&str; 9] = [
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "predict_linear",
    "changes",
    "resets",
];

/// Functions that take a range and return one value per series.
fn is_range_function(name: &str) -> bool {
    RATE_FAMILY.contains(&name) || matches!(name, "holt_winters" | "double_exponential_smoothing")
}

/// Functions whose result keeps the value's meaning and unit (looked through for unit and top operation).
const VALUE_PRESERVING: [&str; 11] = [
    "abs",
    "ceil",
    "floor",
    "round",
    "clamp",
    "clamp_min",
    "clamp_max",
    "label_replace",
    "label_join",
    "sort",
    "sort_desc",
];

/// The metric name of a selector: the name before the braces, or an equality `__name__` matcher.
pub(crate) fn metric_name(vs: &VectorSelector) -> Option<&str> {
    vs.name.as_deref().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == "__name__" && m.op == ParserMatchOp::Equal)
            .map(|m| m.value.as_str())
    })
}

/// Counter-like by naming convention.
pub(crate) fn is_counter_like(metric: &str) -> bool {
    ["_total", "_count", "_sum", "_bucket"]
        .iter()
        .any(|s| metric.ends_with(s))
}

/// Every vector selector under `e` (matrix selectors included), in no particular order.
pub(crate) fn selectors_under(e: &Expr) -> Vec<&VectorSelector> {
    fn go<'a>(e: &'a Expr, out: &mut Vec<&'a VectorSelector>) {
        match e {
            Expr::VectorSelector(vs) => out.push(vs),
            Expr::MatrixSelector(ms) => out.push(&ms.vs),
            Expr::Paren(p) => go(&p.expr, out),
            Expr::Unary(u) => go(&u.expr, out),
            Expr::Subquery(s) => go(&s.expr, out),
            Expr::Binary(b) => {
                go(&b.lhs, out);
                go(&b.rhs, out);
            }
            Expr::Call(c) => c.args.args.iter().for_each(|a| go(a, out)),
            Expr::Aggregate(a) => {
                if let Some(p) = &a.param {
                    go(p, out);
                }
                go(&a.expr, out);
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }
    let mut out = Vec::new();
    go(e, &mut out);
    out
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        _ => e,
    }
}

/// The value of a constant expression: `0.95`, `-(1)`, `60 * 1000`, `vector(0)`.
pub(crate) fn constant_value(e: &Expr) -> Option<f64> {
    match strip(e) {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Unary(u) => constant_value(&u.expr).map(|v| -v),
        Expr::Binary(b) => {
            let (l, r) = (constant_value(&b.lhs)?, constant_value(&b.rhs)?);
            match b.op.to_string().as_str() {
                "+" => Some(l + r),
                "-" => Some(l - r),
                "*" => Some(l * r),
                "/" => Some(l / r),
                _ => None,
            }
        }
        Expr::Call(c) if matches!(c.func.name, "vector" | "scalar") => {
            c.args.args.first().and_then(|a| constant_value(a))
        }
        _ => None,
    }
}

fn is_constant(e: &Expr) -> bool {
    constant_value(e).is_some() || matches!(strip(e), Expr::StringLiteral(_))
}

/// The first vector or range argument of a call: the series it works on.
fn series_arg(c: &Call) -> Option<&Expr> {
    c.args.args.iter().map(AsRef::as_ref).find(|a| {
        matches!(
            a.value_type(),
            ParserValueType::Vector | ParserValueType::Matrix
        )
    })
}

fn short(text: &str) -> String {
    const MAX: usize = 80;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

// ---------------------------------------------------------------------------------------------------------
// How many series

/// Series count of an expression; `One` carries the result's label names when known.
enum Card {
    Scalar,
    One(Option<BTreeSet<String>>),
    Many(String),
}

pub(crate) fn single_series(e: &Expr) -> SeriesShape {
    match card(e, &[]) {
        Card::Scalar | Card::One(_) => SeriesShape::AtMostOne,
        Card::Many(reason) => SeriesShape::Many { reason },
    }
}

/// `consumed` are labels a caller collapses anyway (`le` under `histogram_quantile`).
fn card(e: &Expr, consumed: &[&str]) -> Card {
    match e {
        Expr::Paren(p) => card(&p.expr, consumed),
        Expr::Unary(u) => card(&u.expr, consumed),
        Expr::Subquery(s) => card(&s.expr, consumed),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Card::Scalar,
        Expr::VectorSelector(vs) => Card::Many(unaggregated(vs)),
        Expr::MatrixSelector(ms) => Card::Many(unaggregated(&ms.vs)),
        Expr::Call(c) => call_card(c, consumed),
        Expr::Aggregate(a) => aggregate_card(a, consumed),
        Expr::Binary(b) => binary_card(b, consumed),
        Expr::Extension(_) => Card::Many("an expression kedalint does not know".to_owned()),
    }
}

fn unaggregated(vs: &VectorSelector) -> String {
    format!(
        "`{}` is not aggregated: it returns one series per label set",
        short(&vs.to_string())
    )
}

fn call_card(c: &Call, consumed: &[&str]) -> Card {
    let name = c.func.name;
    match name {
        "vector" => return Card::One(Some(BTreeSet::new())),
        "absent" | "absent_over_time" => return Card::One(None),
        _ => {}
    }
    if matches!(
        c.func.return_type,
        ParserValueType::Scalar | ParserValueType::String
    ) {
        return Card::Scalar;
    }
    if name == "histogram_quantile" {
        let Some(inner) = c.args.args.get(1) else {
            return Card::One(None);
        };
        let mut with_le = consumed.to_vec();
        with_le.push("le");
        return match card(inner, &with_le) {
            Card::One(labels) => Card::One(labels.map(|mut l| {
                l.remove("le");
                l
            })),
            other => other,
        };
    }
    if name == "histogram_quantiles" && c.args.args.len() > 3 {
        return Card::Many("`histogram_quantiles` returns one series per quantile".to_owned());
    }
    let Some(arg) = series_arg(c) else {
        return Card::One(Some(BTreeSet::new()));
    };
    match card(arg, consumed) {
        // These may add a label, so the label set is no longer known.
        Card::One(_) if matches!(name, "label_replace" | "label_join" | "info") => Card::One(None),
        other => other,
    }
}

fn aggregate_card(a: &AggregateExpr, consumed: &[&str]) -> Card {
    let op = a.op.to_string();
    let inner = card(&a.expr, &[]);
    if let Card::One(labels) = &inner {
        let labels = match &a.modifier {
            None => Some(BTreeSet::new()),
            Some(LabelModifier::Include(l))
                if matches!(op.as_str(), "topk" | "bottomk" | "limitk") =>
            {
                labels.clone().filter(|_| l.labels.is_empty())
            }
            Some(LabelModifier::Include(l)) => Some(l.labels.iter().cloned().collect()),
            Some(LabelModifier::Exclude(_)) => None,
        };
        return Card::One(labels);
    }
    match op.as_str() {
        "count_values" => {
            Card::Many("`count_values` returns one series per distinct value".to_owned())
        }
        "limit_ratio" => Card::Many("`limit_ratio` keeps a share of its input series".to_owned()),
        "topk" | "bottomk" | "limitk" => match a.param.as_deref().and_then(constant_value) {
            Some(k) if k <= 1.0 => match grouping(a, &op, consumed) {
                Card::One(_) => Card::One(None),
                many => many,
            },
            Some(k) => Card::Many(format!("`{op}({k}, …)` returns up to {k} series")),
            None => Card::Many(format!(
                "`{op}` with a computed k can return several series"
            )),
        },
        _ => grouping(a, &op, consumed),
    }
}

/// One series per group: at most one when no grouping label can take several values.
fn grouping(a: &AggregateExpr, op: &str, consumed: &[&str]) -> Card {
    match &a.modifier {
        None => Card::One(Some(BTreeSet::new())),
        Some(LabelModifier::Include(labels)) => {
            let selectors = selectors_under(&a.expr);
            let free: Vec<&str> = labels
                .labels
                .iter()
                .map(String::as_str)
                .filter(|l| !consumed.contains(l) && !pinned(l, &selectors))
                .collect();
            if free.is_empty() {
                Card::One(Some(labels.labels.iter().cloned().collect()))
            } else {
                Card::Many(format!(
                    "`{op} by ({})` keeps one series per value of {}",
                    labels.labels.join(", "),
                    free.iter()
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        Some(LabelModifier::Exclude(labels)) => Card::Many(format!(
            "`{op} without ({})` keeps every other label",
            labels.labels.join(", ")
        )),
    }
}

/// Whether every selector fixes `label` to one value (`label="v"`, or a regex without metacharacters).
fn pinned(label: &str, selectors: &[&VectorSelector]) -> bool {
    selectors.iter().all(|vs| {
        vs.matchers.matchers.iter().any(|m| {
            m.name == label
                && match m.op {
                    ParserMatchOp::Equal => true,
                    ParserMatchOp::Re(_) => {
                        !m.value.is_empty()
                            && !m.value.contains(|c: char| ".^$|?*+()[]{}\\".contains(c))
                    }
                    _ => false,
                }
        })
    })
}

fn binary_card(b: &BinaryExpr, consumed: &[&str]) -> Card {
    let op = b.op.to_string();
    let lhs = card(&b.lhs, consumed);
    if matches!(op.as_str(), "and" | "unless") {
        return lhs;
    }
    let rhs = card(&b.rhs, consumed);
    let matching = b.modifier.as_ref().and_then(|m| m.matching.as_ref());
    if op == "or" {
        return match (lhs, rhs) {
            (Card::Many(r), _) | (_, Card::Many(r)) => Card::Many(r),
            (Card::One(l), Card::One(r)) => {
                let project = |set: &BTreeSet<String>| -> BTreeSet<String> {
                    match matching {
                        Some(LabelModifier::Include(on)) => set
                            .iter()
                            .filter(|x| on.labels.contains(x))
                            .cloned()
                            .collect(),
                        Some(LabelModifier::Exclude(ign)) => set
                            .iter()
                            .filter(|x| !ign.labels.contains(x))
                            .cloned()
                            .collect(),
                        None => set.clone(),
                    }
                };
                match (&l, &r) {
                    (Some(ls), Some(rs)) if project(ls) != project(rs) => Card::Many(format!(
                        "`or` returns both sides when their labels differ ({} on the left, {} on the right)",
                        label_set(ls),
                        label_set(rs)
                    )),
                    _ => Card::One(l.or(r)),
                }
            }
            (l, _) => l,
        };
    }
    let card_kind = b.modifier.as_ref().map(|m| &m.card);
    match (lhs, rhs) {
        (Card::Scalar, other) | (other, Card::Scalar) => other,
        (l, r) => match card_kind {
            Some(VectorMatchCardinality::ManyToOne(_)) => l,
            Some(VectorMatchCardinality::OneToMany(_)) => r,
            _ => match (l, r) {
                // One-to-one matching: each result pairs one series from each side.
                (Card::One(labels), _) => Card::One(match matching {
                    Some(LabelModifier::Include(on)) => Some(on.labels.iter().cloned().collect()),
                    _ => labels,
                }),
                (_, Card::One(_)) => Card::One(None),
                (many, _) => many,
            },
        },
    }
}

fn label_set(set: &BTreeSet<String>) -> String {
    format!("{{{}}}", set.iter().cloned().collect::<Vec<_>>().join(", "))
}

// ---------------------------------------------------------------------------------------------------------
// `le` under histogram_quantile

/// Whether the `le` label survives down to the result of `e`.
pub(crate) fn keeps_le(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => keeps_le(&p.expr),
        Expr::Unary(u) => keeps_le(&u.expr),
        Expr::Subquery(s) => keeps_le(&s.expr),
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => true,
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => false,
        Expr::Aggregate(a) => match &a.modifier {
            None => false,
            Some(LabelModifier::Include(by)) => {
                by.labels.iter().any(|l| l == "le") && keeps_le(&a.expr)
            }
            Some(LabelModifier::Exclude(without)) => {
                !without.labels.iter().any(|l| l == "le") && keeps_le(&a.expr)
            }
        },
        Expr::Binary(b) => {
            let right_side = matches!(
                b.modifier.as_ref().map(|m| &m.card),
                Some(VectorMatchCardinality::OneToMany(_))
            ) || b.lhs.value_type() == ParserValueType::Scalar;
            if right_side {
                keeps_le(&b.rhs)
            } else {
                keeps_le(&b.lhs)
            }
        }
        Expr::Call(c) if c.func.name == "vector" => false,
        Expr::Call(c) => series_arg(c).is_none_or(keeps_le),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Outermost cross-series operation

pub(crate) fn top_operation(e: &Expr) -> TopOperation {
    match e {
        Expr::Paren(p) => top_operation(&p.expr),
        Expr::Unary(u) => top_operation(&u.expr),
        Expr::Subquery(s) => top_operation(&s.expr),
        Expr::NumberLiteral(_) => TopOperation::Constant,
        Expr::StringLiteral(_) | Expr::Extension(_) => TopOperation::Other,
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => TopOperation::Selector,
        Expr::Aggregate(a) => match a.op.to_string().as_str() {
            "sum" => TopOperation::Sum,
            "count" | "count_values" => TopOperation::Count,
            "avg" => TopOperation::Avg,
            "min" => TopOperation::Min,
            "max" => TopOperation::Max,
            "stddev" => TopOperation::Stddev,
            "stdvar" => TopOperation::Stdvar,
            "quantile" => TopOperation::Quantile,
            "topk" => TopOperation::Topk,
            "bottomk" => TopOperation::Bottomk,
            _ => TopOperation::Other,
        },
        Expr::Call(c) => {
            let name = c.func.name;
            if name == "histogram_quantile" {
                TopOperation::Quantile
            } else if matches!(name, "vector" | "scalar") {
                if is_constant(e) {
                    TopOperation::Constant
                } else {
                    c.args
                        .args
                        .first()
                        .map_or(TopOperation::Other, |a| top_operation(a))
                }
            } else if name.ends_with("_over_time") && !name.starts_with("absent")
                || is_range_function(name)
                || VALUE_PRESERVING.contains(&name)
            {
                series_arg(c).map_or(TopOperation::Other, top_operation)
            } else {
                TopOperation::Other
            }
        }
        Expr::Binary(b) => binary_top(b),
    }
}

fn binary_top(b: &BinaryExpr) -> TopOperation {
    let op = b.op.to_string();
    let (l_const, r_const) = (is_constant(&b.lhs), is_constant(&b.rhs));
    if l_const && r_const {
        return TopOperation::Constant;
    }
    let same_or_other = || {
        let (l, r) = (top_operation(&b.lhs), top_operation(&b.rhs));
        if l == r { l } else { TopOperation::Other }
    };
    match op.as_str() {
        "and" | "unless" => top_operation(&b.lhs),
        "or" if r_const => top_operation(&b.lhs),
        "or" if l_const => top_operation(&b.rhs),
        "or" => same_or_other(),
        "==" | "!=" | "<" | ">" | "<=" | ">=" if b.return_bool() => TopOperation::Other,
        "==" | "!=" | "<" | ">" | "<=" | ">=" if l_const => top_operation(&b.rhs),
        "==" | "!=" | "<" | ">" | "<=" | ">=" => top_operation(&b.lhs),
        "/" if is_replica_count(&b.rhs) => TopOperation::DivisionByReplicaCount,
        "*" | "/" | "+" | "-" if r_const => top_operation(&b.lhs),
        "*" | "+" | "-" if l_const => top_operation(&b.rhs),
        "/" if l_const => TopOperation::Other,
        "/" => TopOperation::Ratio,
        "+" | "-" => same_or_other(),
        _ => TopOperation::Other,
    }
}

/// A count of the scaled pods or replicas: `count(kube_pod_info{…})`, `count(up{…})`,
/// `kube_deployment_status_replicas{…}`, `count(sum by (pod) (…))`.
fn is_replica_count(e: &Expr) -> bool {
    const POD_METRICS: [&str; 8] = [
        "kube_pod_info",
        "up",
        "kube_pod_status_ready",
        "kube_pod_status_phase",
        "kube_pod_container_status_ready",
        "kube_pod_container_status_running",
        "kube_pod_container_info",
        "kube_pod_labels",
    ];
    match strip(e) {
        Expr::Call(c) if c.func.name == "scalar" => {
            c.args.args.first().is_some_and(|a| is_replica_count(a))
        }
        // Guards against an empty count keep it a count: `(count(…) or vector(1))`, `clamp_min(count(…), 1)`.
        Expr::Binary(b) if b.op.to_string() == "or" && is_constant(&b.rhs) => {
            is_replica_count(&b.lhs)
        }
        Expr::Call(c) if c.func.name == "clamp_min" => {
            c.args.args.first().is_some_and(|a| is_replica_count(a))
        }
        Expr::Aggregate(a) if a.op.to_string() == "count" => {
            let per_pod = match strip(&a.expr) {
                Expr::Aggregate(inner) => {
                    matches!(&inner.modifier, Some(LabelModifier::Include(by))
                    if by.labels.iter().any(|l| matches!(l.as_str(), "pod" | "pod_name" | "instance")))
                }
                _ => false,
            };
            per_pod
                || selectors_under(&a.expr)
                    .iter()
                    .any(|vs| metric_name(vs).is_some_and(|m| POD_METRICS.contains(&m)))
        }
        Expr::Aggregate(a)
            if matches!(a.op.to_string().as_str(), "sum" | "max" | "min" | "avg") =>
        {
            is_replica_count_metric(&a.expr)
        }
        other => is_replica_count_metric(other),
    }
}

fn is_replica_count_metric(e: &Expr) -> bool {
    match strip(e) {
        Expr::VectorSelector(vs) => metric_name(vs).is_some_and(|m| {
            m.starts_with("kube_")
                && m.contains("replicas")
                && [
                    "deployment",
                    "statefulset",
                    "replicaset",
                    "horizontalpodautoscaler",
                ]
                .iter()
                .any(|k| m.contains(k))
        }),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Unit

/// What a value measures, before constant scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dim {
    Seconds,
    Milliseconds,
    Ratio,
    Percent,
    Bytes,
    /// Seconds per second, the rate of a `_seconds_total` counter.
    Cores,
    /// A number of events.
    Count,
    /// Events per second.
    CountRate,
    /// A constant.
    Number,
    Unknown,
}

pub(crate) fn unit(e: &Expr) -> (Unit, Option<f64>) {
    let (dim, scale) = dim(e);
    let near = |x: f64| (scale - x).abs() <= x.abs() * 1e-9;
    let unit = match dim {
        Dim::Seconds if near(1.0) => Unit::Seconds,
        Dim::Seconds if near(1000.0) => Unit::Milliseconds,
        Dim::Milliseconds if near(1.0) => Unit::Milliseconds,
        Dim::Milliseconds if near(0.001) => Unit::Seconds,
        Dim::Ratio if near(1.0) => Unit::Ratio,
        Dim::Ratio if near(100.0) => Unit::Percent,
        Dim::Percent if near(1.0) => Unit::Percent,
        Dim::Percent if near(0.01) => Unit::Ratio,
        Dim::Cores if near(1.0) => Unit::Cores,
        Dim::Bytes if near(1.0) => Unit::Bytes,
        _ => Unit::Unknown,
    };
    (unit, (scale.is_finite() && !near(1.0)).then_some(scale))
}

/// The unit a metric name announces, and whether it is a cumulative counter of that unit.
fn metric_dim(name: &str) -> Dim {
    if name.ends_with("_count") {
        return Dim::Count;
    }
    let base = ["_bucket", "_sum", "_total"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    let counter = base.len() != name.len();
    if base.ends_with("_seconds") {
        Dim::Seconds
    } else if base.ends_with("_milliseconds") || base.ends_with("_ms") {
        Dim::Milliseconds
    } else if base.ends_with("_ratio") {
        Dim::Ratio
    } else if base.ends_with("_percent") || base.ends_with("_percentage") {
        Dim::Percent
    } else if base.ends_with("_bytes") {
        Dim::Bytes
    } else if counter {
        Dim::Count
    } else {
        Dim::Unknown
    }
}

/// Unit and constant factor of an expression.
fn dim(e: &Expr) -> (Dim, f64) {
    match e {
        Expr::Paren(p) => dim(&p.expr),
        Expr::Subquery(s) => dim(&s.expr),
        Expr::Unary(u) => dim(&u.expr),
        Expr::NumberLiteral(_) => (Dim::Number, 1.0),
        Expr::StringLiteral(_) | Expr::Extension(_) => (Dim::Unknown, 1.0),
        Expr::VectorSelector(vs) => (metric_name(vs).map_or(Dim::Unknown, metric_dim), 1.0),
        Expr::MatrixSelector(ms) => (metric_name(&ms.vs).map_or(Dim::Unknown, metric_dim), 1.0),
        Expr::Aggregate(a) => match a.op.to_string().as_str() {
            "count" | "count_values" | "group" => (Dim::Count, 1.0),
            _ => dim(&a.expr),
        },
        Expr::Call(c) => call_dim(c),
        Expr::Binary(b) => binary_dim(b),
    }
}

fn call_dim(c: &Call) -> (Dim, f64) {
    let name = c.func.name;
    let arg = series_arg(c);
    let inner = || arg.map_or((Dim::Unknown, 1.0), dim);
    match name {
        "vector" | "scalar" if c.args.args.first().is_some_and(|a| is_constant(a)) => {
            (Dim::Number, 1.0)
        }
        "vector" | "scalar" => c.args.args.first().map_or((Dim::Unknown, 1.0), |a| dim(a)),
        "rate" | "irate" | "deriv" => match inner() {
            (Dim::Seconds, s) => (Dim::Cores, s),
            (Dim::Count, s) => (Dim::CountRate, s),
            _ => (Dim::Unknown, 1.0),
        },
        "count_over_time" | "changes" | "resets" => (Dim::Count, 1.0),
        "histogram_quantile" | "histogram_avg" | "histogram_stddev" | "histogram_stdvar" => {
            // The unit of the observed values: the histogram's base name, whatever rate was taken of it.
            let metrics: Vec<Dim> = arg
                .map(selectors_under)
                .unwrap_or_default()
                .iter()
                .filter_map(|vs| metric_name(vs))
                .map(metric_dim)
                .collect();
            match metrics.first() {
                Some(first) if metrics.iter().all(|d| d == first) && *first != Dim::Count => {
                    (*first, 1.0)
                }
                _ => (Dim::Unknown, 1.0),
            }
        }
        "histogram_fraction" => (Dim::Ratio, 1.0),
        "histogram_count" => (Dim::Count, 1.0),
        _ if name.starts_with("absent") || name == "present_over_time" || name == "timestamp" => {
            (Dim::Unknown, 1.0)
        }
        _ if name.ends_with("_over_time")
            || is_range_function(name)
            || VALUE_PRESERVING.contains(&name) =>
        {
            inner()
        }
        _ => (Dim::Unknown, 1.0),
    }
}

fn binary_dim(b: &BinaryExpr) -> (Dim, f64) {
    let op = b.op.to_string();
    let (l, ls) = dim(&b.lhs);
    let (r, rs) = dim(&b.rhs);
    let l_const = constant_value(&b.lhs);
    let r_const = constant_value(&b.rhs);
    match op.as_str() {
        "and" | "unless" => (l, ls),
        "or" if r_const.is_some() => (l, ls),
        "or" if l_const.is_some() => (r, rs),
        "or" | "+" | "-" if l == r => (l, ls),
        "or" | "+" | "-" if r_const.is_some() && op != "or" => (l, ls),
        "or" | "+" | "-" if l_const.is_some() && op != "or" => (r, rs),
        "==" | "!=" | "<" | ">" | "<=" | ">=" if !b.return_bool() => {
            if l_const.is_some() {
                (r, rs)
            } else {
                (l, ls)
            }
        }
        "*" => match (l_const, r_const) {
            (_, Some(c)) => (l, ls * c),
            (Some(c), _) => (r, rs * c),
            _ => (Dim::Unknown, 1.0),
        },
        "/" => match (l_const, r_const) {
            (_, Some(c)) if c != 0.0 => (l, ls / c),
            (Some(_), _) | (_, Some(_)) => (Dim::Unknown, 1.0),
            _ if is_replica_count(&b.rhs) => (l, ls),
            _ => (divide(l, r), ls / rs),
        },
        _ => (Dim::Unknown, 1.0),
    }
}

/// The unit of `l / r` for two series.
fn divide(l: Dim, r: Dim) -> Dim {
    match (l, r) {
        (Dim::Cores, Dim::CountRate) | (Dim::Seconds, Dim::Count) => Dim::Seconds,
        (Dim::Milliseconds, Dim::Count) => Dim::Milliseconds,
        (Dim::Bytes, Dim::Count) => Dim::Bytes,
        (Dim::Unknown | Dim::Number, _) | (_, Dim::Unknown | Dim::Number) => Dim::Unknown,
        (l, r) if l == r => Dim::Ratio,
        _ => Dim::Unknown,
    }
}

// ---------------------------------------------------------------------------------------------------------
// NaN and ±Inf

/// Functions that can be zero with no traffic (the reason a denominator can be 0).
const ZERO_WITHOUT_TRAFFIC: [&str; 6] = ["rate", "irate", "increase", "delta", "idelta", "deriv"];

pub(crate) fn nan_risk(e: &Expr) -> Option<String> {
    match e {
        Expr::Paren(p) => nan_risk(&p.expr),
        Expr::Unary(u) => nan_risk(&u.expr),
        Expr::Subquery(s) => nan_risk(&s.expr),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => None,
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => None,
        Expr::Aggregate(a) => match a.op.to_string().as_str() {
            // These look at which series exist, not at their values.
            "count" | "group" => None,
            _ => nan_risk(&a.expr),
        },
        Expr::Call(c) => {
            let name = c.func.name;
            if matches!(
                name,
                "absent"
                    | "absent_over_time"
                    | "present_over_time"
                    | "count_over_time"
                    | "timestamp"
            ) {
                return None;
            }
            if name == "histogram_quantile" {
                return Some(
                    "`histogram_quantile` returns NaN when no observation falls in the window (every bucket rate is 0)"
                        .to_owned(),
                );
            }
            c.args.args.iter().find_map(|a| nan_risk(a))
        }
        Expr::Binary(b) => {
            let op = b.op.to_string();
            let filter =
                matches!(op.as_str(), "==" | "!=" | "<" | ">" | "<=" | ">=") && !b.return_bool();
            if filter {
                // A comparison that filters drops NaN samples (NaN compares false), whichever side they are on.
                return None;
            }
            if matches!(op.as_str(), "and" | "unless") {
                return nan_risk(&b.lhs);
            }
            if matches!(op.as_str(), "/" | "%") && may_be_zero(&b.rhs) {
                return Some(format!(
                    "divides by `{}`, which is 0 when there is no traffic (0/0 is NaN, x/0 is +Inf)",
                    short(&b.rhs.to_string())
                ));
            }
            nan_risk(&b.lhs).or_else(|| nan_risk(&b.rhs))
        }
    }
}

/// Whether a denominator can be exactly 0 with no traffic, and nothing keeps it away from 0.
fn may_be_zero(e: &Expr) -> bool {
    match strip(e) {
        Expr::NumberLiteral(n) => n.val == 0.0,
        Expr::Unary(u) => may_be_zero(&u.expr),
        Expr::Subquery(s) => may_be_zero(&s.expr),
        Expr::VectorSelector(_) | Expr::MatrixSelector(_) => is_replica_count_metric(e),
        Expr::Aggregate(a) => match a.op.to_string().as_str() {
            "count" | "count_values" | "group" => false,
            _ => may_be_zero(&a.expr),
        },
        Expr::Call(c) => {
            let name = c.func.name;
            match name {
                _ if ZERO_WITHOUT_TRAFFIC.contains(&name) => true,
                // `clamp_min(d, 1)` keeps the denominator away from 0.
                "clamp_min" | "clamp" => {
                    c.args
                        .args
                        .get(1)
                        .and_then(|m| constant_value(m))
                        .is_none_or(|m| m <= 0.0)
                        && series_arg(c).is_some_and(may_be_zero)
                }
                "vector" | "scalar" => c.args.args.first().is_some_and(|a| may_be_zero(a)),
                _ if name.ends_with("_over_time") || VALUE_PRESERVING.contains(&name) => {
                    series_arg(c).is_some_and(may_be_zero)
                }
                _ => false,
            }
        }
        Expr::Binary(b) => {
            let op = b.op.to_string();
            match op.as_str() {
                // `d > 0` removes the zero samples; the division then has nothing to divide by.
                "==" | "!=" | "<" | ">" | "<=" | ">=" if !b.return_bool() => false,
                "+" => {
                    let positive = |x: &Expr| constant_value(x).is_some_and(|v| v > 0.0);
                    !(positive(&b.lhs) || positive(&b.rhs))
                        && (may_be_zero(&b.lhs) || may_be_zero(&b.rhs))
                }
                "*" | "-" | "/" => may_be_zero(&b.lhs) || may_be_zero(&b.rhs),
                "or" | "and" | "unless" => may_be_zero(&b.lhs),
                _ => false,
            }
        }
        Expr::Paren(_) | Expr::StringLiteral(_) | Expr::Extension(_) => false,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Signal kind (KL308)

/// Words in metric names of signals that exist without the workload: queue length, lag, backlog.
const EXTERNAL_WORDS: [&str; 13] = [
    "queue",
    "queued",
    "queues",
    "lag",
    "backlog",
    "pending",
    "messages",
    "message",
    "depth",
    "undelivered",
    "unacked",
    "waiting",
    "outstanding",
];
/// Words in metric names of signals only a serving workload produces.
const LATENCY_WORDS: [&str; 4] = ["seconds", "duration", "latency", "bucket"];
/// Labels that tie a selector to the workload's own pods.
const POD_LABELS: [&str; 3] = ["pod", "pod_name", "container"];

pub(crate) fn signal(e: &Expr, selectors: &[super::Selector]) -> Signal {
    let words = |m: &str| -> Vec<String> {
        m.to_ascii_lowercase()
            .split(['_', ':', '.'])
            .map(str::to_owned)
            .collect()
    };
    let named: Vec<&str> = selectors
        .iter()
        .filter_map(|s| s.metric.as_deref())
        .collect();
    if let Some(m) = named.iter().find(|m| {
        words(m)
            .iter()
            .any(|w| EXTERNAL_WORDS.contains(&w.as_str()))
    }) {
        return Signal {
            kind: SignalKind::External,
            reason: format!(
                "`{m}` looks like a queue or backlog, which exists without the workload"
            ),
        };
    }
    let has_quantile = contains_call(e, "histogram_quantile");
    let workload_only = |s: &super::Selector| {
        s.metric
            .as_deref()
            .is_some_and(|m| words(m).iter().any(|w| LATENCY_WORDS.contains(&w.as_str())))
            || s.matchers
                .iter()
                .any(|m| POD_LABELS.contains(&m.name.as_str()) && m.op != super::MatchOp::NotEqual)
    };
    if !selectors.is_empty() && selectors.iter().all(workload_only) {
        let what = if has_quantile {
            "a latency quantile"
        } else {
            "latency or per-pod series"
        };
        return Signal {
            kind: SignalKind::WorkloadOnly,
            reason: format!(
                "reads only {what} ({}), which the workload produces only while it serves traffic",
                named
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    Signal {
        kind: SignalKind::Unknown,
        reason: "the metrics do not say whether they exist without the workload".to_owned(),
    }
}

fn contains_call(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Call(c) => c.func.name == name || c.args.args.iter().any(|a| contains_call(a, name)),
        Expr::Paren(p) => contains_call(&p.expr, name),
        Expr::Unary(u) => contains_call(&u.expr, name),
        Expr::Subquery(s) => contains_call(&s.expr, name),
        Expr::Binary(b) => contains_call(&b.lhs, name) || contains_call(&b.rhs, name),
        Expr::Aggregate(a) => {
            a.param.as_deref().is_some_and(|p| contains_call(p, name))
                || contains_call(&a.expr, name)
        }
        _ => false,
    }
}
