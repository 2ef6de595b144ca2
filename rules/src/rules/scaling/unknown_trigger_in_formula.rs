use std::collections::BTreeSet;

use crate::checker::{Checker, Loc};
use crate::model::ScaledObject;
use crate::registry::declare_rule;
use crate::rules::scaling::{TriggerQuery, is_resource_trigger};

declare_rule! {
    /// ## What it does
    /// Reports an `advanced.scalingModifiers` that KEDA's webhook refuses: a `formula` naming
    /// something that is not the `name` of a trigger (an unnamed trigger cannot be referred
    /// to; `cpu` and `memory` triggers are not available to the formula), a `formula` without
    /// a `target`, a `target` that is not a positive number, or modifiers without a `formula`.
    ///
    /// Identifiers are read from the formula the way `expr` reads it: numbers, strings,
    /// keywords (`and`, `or`, `not`, `in`, `true`, `false`, `nil`, …), function calls
    /// (`max(…)`) and member accesses (`.x`) are not trigger names.
    ///
    /// ## Why is this bad?
    /// The formula is compiled against the named triggers' values; an unknown name fails
    /// compilation and the webhook rejects the ScaledObject (or, without the webhook, the
    /// composite metric is never computed and nothing scales).
    ///
    /// ## Example
    /// ```yaml
    /// advanced:
    ///   scalingModifiers:
    ///     formula: "queue + latency"
    ///     target: "10"
    /// triggers:
    ///   - type: prometheus
    ///     name: queue
    ///   - type: prometheus
    ///     metadata: {}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// advanced:
    ///   scalingModifiers:
    ///     formula: "queue + latency"
    ///     target: "10"
    /// triggers:
    ///   - type: prometheus
    ///     name: queue
    ///   - type: prometheus
    ///     name: latency
    /// ```
    pub(crate) struct UnknownTriggerInFormula => "KL313", "unknown-trigger-in-formula", Error, ScaledObjects;
}

/// Words `expr` reserves, and constants it knows.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "true",
    "false",
    "nil",
    "let",
    "if",
    "else",
    "NaN",
    "Inf",
];

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>, queries: &[TriggerQuery<'_, '_>]) {
    let Some((modifiers, path)) = so.spec_field("advanced").and_then(|a| {
        let e = a.value.get_entry("scalingModifiers")?;
        Some((e, so.spec_path().key("advanced").key("scalingModifiers")))
    }) else {
        return;
    };
    let Some(map) = modifiers.value.as_map() else {
        return;
    };
    if map.is_empty() {
        return;
    }
    let formula = modifiers.value.get_entry("formula");
    let Some(formula) = formula.filter(|f| f.value.as_str().is_some_and(|s| !s.trim().is_empty()))
    else {
        cx.report(
            &UnknownTriggerInFormula::INFO,
            Loc::key(path, modifiers),
            "scalingModifiers is set without a formula: KEDA's webhook rejects it (ScalingModifiers.Formula is mandatory)",
        )
        .help("add a `formula` over the named triggers (e.g. \"a + b\") and a `target`, or remove scalingModifiers");
        return;
    };
    match modifiers.value.get_entry("target") {
        None => {
            cx.report(
                &UnknownTriggerInFormula::INFO,
                Loc::key(path.key("formula"), formula),
                "the formula has no `target`: KEDA's webhook rejects it (formula is given but target is empty)",
            )
            .help("add `target`, the value of the formula per replica (a positive number as a string, e.g. \"10\")");
        }
        Some(t) => {
            let text = t.value.as_str().map(str::trim).unwrap_or("");
            if !text.parse::<f64>().is_ok_and(|v| v > 0.0) {
                cx.report(
                    &UnknownTriggerInFormula::INFO,
                    Loc::value(path.key("target"), t),
                    format!("scalingModifiers.target {text:?} is not a positive number: KEDA's webhook rejects it"),
                )
                .help("write a positive number as a string, e.g. target: \"10\"");
            }
        }
    }
    let named: BTreeSet<&str> = queries
        .iter()
        .filter(|(t, _)| !is_resource_trigger(t))
        .filter_map(|(t, _)| t.name())
        .collect();
    let resource: BTreeSet<&str> = queries
        .iter()
        .filter(|(t, _)| is_resource_trigger(t))
        .filter_map(|(t, _)| t.name())
        .collect();
    let unnamed = queries.iter().filter(|(t, _)| t.name().is_none()).count();
    let text = formula.value.as_str().unwrap_or("");
    let mut seen = BTreeSet::new();
    for (word, range) in identifiers(text) {
        if named.contains(word) || !seen.insert(word) {
            continue;
        }
        let why = if resource.contains(word) {
            format!("{word:?} is a cpu or memory trigger, which the formula cannot use")
        } else if unnamed > 0 {
            format!(
                "no trigger is named {word:?} ({unnamed} trigger(s) have no name, and a formula can only refer to triggers by name)"
            )
        } else {
            format!("no trigger is named {word:?}")
        };
        let known = if named.is_empty() {
            "none".to_owned()
        } else {
            named
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let span = cx.span_within(&formula.value, range);
        cx.report(
            &UnknownTriggerInFormula::INFO,
            Loc {
                path: path.key("formula"),
                span,
            },
            format!("the formula names `{word}`, but {why}: KEDA's webhook rejects the ScaledObject (the formula does not compile)"),
        )
        .help(format!("use the `name` of a non-cpu/memory trigger (named triggers: {known}), or give the trigger that name"));
    }
}

/// The identifiers of an `expr` formula that refer to variables, with their byte ranges.
fn identifiers(text: &str) -> Vec<(&str, std::ops::Range<usize>)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_dot = false;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' || c == b'`' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            prev_dot = false;
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            prev_dot = false;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c == b'#' {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] == b'#')
            {
                i += 1;
            }
            let word = &text[start..i];
            let call = text[i..].trim_start().starts_with('(');
            if !prev_dot
                && !call
                && !KEYWORDS.contains(&word)
                && !word.starts_with('#')
                && !word.starts_with('$')
            {
                out.push((word, start..i));
            }
            prev_dot = false;
        } else {
            if !c.is_ascii_whitespace() {
                prev_dot = c == b'.' || (c == b'?' && b.get(i + 1) == Some(&b'.'));
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::identifiers;

    fn names(t: &str) -> Vec<&str> {
        identifiers(t).into_iter().map(|(w, _)| w).collect()
    }

    #[test]
    fn formula_identifiers_skip_numbers_keywords_calls_and_members() {
        assert_eq!(names("queue + latency * 2"), ["queue", "latency"]);
        assert_eq!(names("max(a, b) / 1e3"), ["a", "b"]);
        assert_eq!(names("a > 5 ? b : c"), ["a", "b", "c"]);
        assert_eq!(names("x.y + 'str' + true"), ["x"]);
        assert_eq!(names("float(a) and not b"), ["a", "b"]);
    }
}
