//! Checks that run on the raw query text: before parsing (template variables, syntax the parser lacks, inputs
//! that crash it) and after a failed parse (where in the text the error is).

use super::lex::{self, Kind, Token};

/// Prometheus keeps durations in an `int64` of milliseconds; the parser panics on far larger numbers.
const MAX_DURATION_SECONDS: f64 = 9.2e15;
/// Nesting of `(`, `[`, `{` beyond which we refuse to analyse (the AST and our walkers recurse).
pub(crate) const MAX_NESTING: usize = 100;
/// Binary operators beyond which we refuse to analyse (each one is a level of AST recursion).
pub(crate) const MAX_OPERATORS: usize = 500;

/// A dashboard variable (`$job`, `${var}`, `$__rate_interval`, `[[var]]`), with its text and byte offset.
pub(crate) fn find_template_variable(src: &str, tokens: &[Token]) -> Option<(String, usize)> {
    // Calls whose parenthesis is still open, innermost last: `label_replace` strings may hold `${1}`-style
    // references, which are regex expansions and not dashboard variables.
    let mut calls: Vec<bool> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let text = t.text(src);
        match t.kind {
            Kind::Other if text == "$" => {
                if let Some(var) = variable_at(src, t.span.start) {
                    return Some((var.to_owned(), t.span.start));
                }
            }
            Kind::Punct if text == "[" => {
                if let Some(len) = double_bracket_variable(&src[t.span.start..]) {
                    return Some((
                        src[t.span.start..t.span.start + len].to_owned(),
                        t.span.start,
                    ));
                }
            }
            Kind::Punct if text == "(" => {
                let prev = i.checked_sub(1).map(|p| &tokens[p]);
                calls.push(prev.is_some_and(|p| {
                    p.is_ident(src, "label_replace") || p.is_ident(src, "label_join")
                }));
            }
            Kind::Punct if text == ")" => {
                calls.pop();
            }
            Kind::Str { .. } => {
                let in_label_replace = calls.last().copied().unwrap_or(false);
                if let Some((var, offset)) = variable_in_string(src, t, in_label_replace) {
                    return Some((var, offset));
                }
            }
            _ => {}
        }
    }
    None
}

/// The variable starting at the `$` at `at`, if one does: `${…}` or `$name`.
fn variable_at(src: &str, at: usize) -> Option<&str> {
    let rest = &src[at + 1..];
    if rest.starts_with('{') {
        let end = rest
            .find(['}', '\n', '"', '\''])
            .filter(|&e| rest.as_bytes()[e] == b'}');
        let end = end.map_or_else(
            || {
                rest.bytes()
                    .take_while(|b| is_word(*b) || *b == b'{')
                    .count()
            },
            |e| e + 1,
        );
        return (end > 1).then(|| &src[at..at + 1 + end]);
    }
    let len = rest.bytes().take_while(|b| is_word(*b)).count();
    let starts_like_name = rest
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    (len > 0 && starts_like_name).then(|| &src[at..at + 1 + len])
}

/// Length of a Grafana `[[name]]` (optionally `[[name:format]]`) at the start of `text`.
fn double_bracket_variable(text: &str) -> Option<usize> {
    let inner = text.strip_prefix("[[")?;
    let name_len = inner
        .bytes()
        .take_while(|b| is_word(*b) || *b == b':')
        .count();
    let starts_like_name = inner
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    (starts_like_name && inner[name_len..].starts_with("]]")).then_some(2 + name_len + 2)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn variable_in_string(src: &str, t: &Token, in_label_replace: bool) -> Option<(String, usize)> {
    let text = t.text(src);
    for (i, c) in text.char_indices() {
        let at = t.span.start + i;
        if c == '$' {
            let Some(var) = variable_at(src, at) else {
                continue;
            };
            let var = trim_to(var, t.span.end - at);
            let builtin = var.starts_with("$__") || var.starts_with("${__");
            let looks_like_group = var[1..]
                .trim_start_matches('{')
                .starts_with(|c: char| c.is_ascii_digit());
            if builtin || (!in_label_replace && !looks_like_group && var.len() > 1) {
                return Some((var.to_owned(), at));
            }
        } else if c == '['
            && let Some(len) = double_bracket_variable(&text[i..])
        {
            return Some((text[i..i + len].to_owned(), at));
        }
    }
    None
}

/// Cuts `s` to at most `max` bytes, on a char boundary (the variable must not run past its string).
fn trim_to(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let end = if s[..end].ends_with(['"', '\'', '`']) {
        end - 1
    } else {
        end
    };
    &s[..end]
}

/// Syntax that some Prometheus accepts but the parser cannot read: `(message, offset)`.
pub(crate) fn find_unsupported(src: &str, tokens: &[Token]) -> Option<(String, Option<usize>)> {
    if let Some(found) = find_too_complex(src, tokens) {
        return Some(found);
    }
    for (open, close) in lex::range_brackets(tokens, src) {
        let inside = &tokens[open + 1..close];
        for (k, t) in inside.iter().enumerate() {
            let prev = k.checked_sub(1).map(|p| &inside[p]);
            let text = t.text(src);
            let arithmetic = t.kind == Kind::Punct
                && matches!(text, "+" | "-" | "*" | "/" | "%" | "^")
                && prev.is_some_and(|p| p.kind == Kind::Number || p.is_punct(src, ")"));
            let grouping = t.is_punct(src, "(");
            let function = t.kind == Kind::Ident
                && [
                    "step", "min", "max", "min_of", "max_of", "range", "start", "end",
                ]
                .iter()
                .any(|f| t.is_ident(src, f));
            if arithmetic || grouping || function {
                return Some((
                    "duration expressions inside a range (such as `[5m+1m]`) need Prometheus 3.4 or later \
                     (feature flag `promql-duration-expr` before 3.14); the parser cannot read them"
                        .to_owned(),
                    Some(t.span.start),
                ));
            }
        }
    }
    let mut brace_depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1);
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        if t.is_punct(src, "{") {
            brace_depth += 1;
        } else if t.is_punct(src, "}") {
            brace_depth = brace_depth.saturating_sub(1);
        }
        if t.is_ident(src, "offset") && brace_depth == 0 {
            let mut after = next;
            if after.is_some_and(|n| n.is_punct(src, "-") || n.is_punct(src, "+")) {
                after = tokens.get(i + 2);
            }
            if let Some(a) = after
                && (a.is_punct(src, "(")
                    || ["step", "min", "max", "min_of", "max_of"]
                        .iter()
                        .any(|f| a.is_ident(src, f)))
            {
                return Some((
                    "an expression after `offset` (such as `offset (1m+30s)`) needs Prometheus 3.4 or later; \
                     the parser cannot read it"
                        .to_owned(),
                    Some(a.span.start),
                ));
            }
        }
        if t.is_ident(src, "anchored") || t.is_ident(src, "smoothed") {
            let modifier = prev.is_some_and(|p| p.is_punct(src, "]") || p.kind == Kind::Number);
            let message = if modifier {
                format!(
                    "the `{}` range modifier needs Prometheus 3.7 or later (feature flag \
                     `promql-extended-range-selectors`); the parser cannot read it",
                    t.text(src)
                )
            } else {
                format!(
                    "the parser cannot read `{}` as a name (it reserves the word; Prometheus 3.8 and later accept it)",
                    t.text(src)
                )
            };
            return Some((message, Some(t.span.start)));
        }
        if (t.is_punct(src, "<") || t.is_punct(src, ">"))
            && next.is_some_and(|n| n.is_punct(src, "/") && n.span.start == t.span.end)
        {
            return Some((
                format!(
                    "the histogram trim operator `{}/` needs Prometheus 3.11 or later; the parser cannot read it",
                    t.text(src)
                ),
                Some(t.span.start),
            ));
        }
    }
    None
}

/// Refuses inputs whose nesting or length would make the recursive AST (and our walkers) too deep.
fn find_too_complex(src: &str, tokens: &[Token]) -> Option<(String, Option<usize>)> {
    let mut depth = 0usize;
    let mut operators = 0usize;
    for t in tokens {
        let text = t.text(src);
        match t.kind {
            Kind::Punct if matches!(text, "(" | "[" | "{") => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((
                        format!(
                            "the query nests parentheses and brackets more than {MAX_NESTING} levels deep; kedalint does not analyse it"
                        ),
                        Some(t.span.start),
                    ));
                }
            }
            Kind::Punct if matches!(text, ")" | "]" | "}") => depth = depth.saturating_sub(1),
            Kind::Punct if !matches!(text, "," | ":" | "@" | "=" | "=~" | "!~") => {
                operators += 1;
            }
            Kind::Ident if matches!(text, "and" | "or" | "unless" | "atan2") => operators += 1,
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Some((
                format!(
                    "the query has more than {MAX_OPERATORS} operators; kedalint does not analyse it"
                ),
                Some(t.span.start),
            ));
        }
    }
    None
}

/// A plain number used as a duration that the parser cannot hold (it panics): `x[1e20]`, `x offset Inf`.
pub(crate) fn find_out_of_range_duration(src: &str, tokens: &[Token]) -> Option<(String, usize)> {
    let mut bracket_depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct(src, "[") {
            bracket_depth += 1;
        } else if t.is_punct(src, "]") {
            bracket_depth = bracket_depth.saturating_sub(1);
        }
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        let before_prev = i.checked_sub(2).map(|p| &tokens[p]);
        let after_offset = prev.is_some_and(|p| p.is_ident(src, "offset"))
            || (prev.is_some_and(|p| p.is_punct(src, "-") || p.is_punct(src, "+"))
                && before_prev.is_some_and(|p| p.is_ident(src, "offset")));
        let in_range =
            bracket_depth > 0 && prev.is_some_and(|p| p.is_punct(src, "[") || p.is_punct(src, ":"));
        if !(after_offset || in_range) {
            continue;
        }
        let text = t.text(src);
        let out_of_range = match t.kind {
            Kind::Number => {
                plain_number(text).is_some_and(|v| !v.is_finite() || v > MAX_DURATION_SECONDS)
            }
            Kind::Ident => text.eq_ignore_ascii_case("inf") || text.eq_ignore_ascii_case("nan"),
            _ => false,
        };
        if out_of_range {
            return Some((format!("duration out of range: {text}"), t.span.start));
        }
    }
    None
}

/// The value of a number token without a unit (`300`, `1e20`, `0x1f`); `None` for durations like `5m`.
pub(crate) fn plain_number(text: &str) -> Option<f64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !numeric {
        return None;
    }
    text.parse::<f64>().ok()
}

/// A syntax the parser rejects although Prometheus accepts it, recognised from the parser's error message.
pub(crate) fn unsupported_after_failure(
    src: &str,
    tokens: &[Token],
    message: &str,
) -> Option<(String, Option<usize>)> {
    if !message.contains("escape sequence") {
        return None;
    }
    tokens
        .iter()
        .find(|t| matches!(t.kind, Kind::Str { .. }) && t.text(src).starts_with('`') && t.text(src).contains('\\'))
        .map(|t| {
            (
                "the parser cannot read a backslash inside a backtick string, although Prometheus can; \
                 write it as a double-quoted string with the backslash doubled"
                    .to_owned(),
                Some(t.span.start),
            )
        })
}

/// Best-effort byte offset of a parse error, from the parser's message and our own token scan.
pub(crate) fn locate_error(src: &str, tokens: &[Token], message: &str) -> Option<usize> {
    let balance = Balance::scan(src, tokens);
    for (needle, closer) in [
        ("unexpected right parenthesis", ")"),
        ("unexpected right bracket", "]"),
        ("unexpected right brace", "}"),
    ] {
        if message.contains(needle) {
            return balance
                .first_bad_closer(closer)
                .or_else(|| first_punct(src, tokens, closer));
        }
    }
    for (needles, opener) in [
        (
            &[
                "unclosed left parenthesis",
                "end of input inside parentheses",
            ][..],
            "(",
        ),
        (
            &["unclosed left bracket", "end of input inside brackets"][..],
            "[",
        ),
        (
            &["unclosed left brace", "end of input inside braces"][..],
            "{",
        ),
    ] {
        if needles.iter().any(|n| message.contains(n))
            && let Some(offset) = balance.innermost_unclosed(opener)
        {
            return Some(offset);
        }
    }
    if let Some(c) = quoted_char_after(message, "unexpected character") {
        let region = if message.contains("inside brackets") {
            Some(("[", "]"))
        } else if message.contains("inside braces") {
            Some(("{", "}"))
        } else {
            None
        };
        return first_token_starting_with(src, tokens, c, region);
    }
    if let Some(text) = message.split("bad number or duration syntax: ").nth(1) {
        let text = text.trim();
        return tokens
            .iter()
            .find(|t| t.kind == Kind::Number && !text.is_empty() && t.text(src).starts_with(text))
            .or_else(|| {
                tokens
                    .iter()
                    .find(|t| t.kind == Kind::Number && text.starts_with(t.text(src)))
            })
            .map(|t| t.span.start);
    }
    if message.contains("duration must be greater than 0") {
        return zero_duration(src, tokens);
    }
    if let Some(c) = quoted_char_after(message, "escape sequence") {
        return tokens
            .iter()
            .filter(|t| matches!(t.kind, Kind::Str { .. }))
            .find_map(|t| {
                let text = t.text(src);
                text.find(&format!("\\{c}")).map(|i| t.span.start + i)
            });
    }
    if let Some(pattern) = message.split("illegal regex for ").nth(1) {
        return tokens
            .iter()
            .find(|t| matches!(t.kind, Kind::Str { .. }) && t.text(src).contains(pattern.trim()))
            .map(|t| t.span.start);
    }
    for (needle, word, nth) in [
        ("offset may not be set multiple times", "offset", 1),
        ("no offset modifiers allowed before range", "offset", 0),
    ] {
        if message.contains(needle) {
            return tokens
                .iter()
                .filter(|t| t.is_ident(src, word))
                .nth(nth)
                .map(|t| t.span.start);
        }
    }
    for (needle, nth) in [
        ("may not be set multiple times", 1),
        ("no @ modifiers allowed before range", 0),
    ] {
        if message.contains(needle) {
            return tokens
                .iter()
                .filter(|t| t.is_punct(src, "@"))
                .nth(nth)
                .map(|t| t.span.start);
        }
    }
    if let Some(name) = quoted_word(message) {
        let called = tokens.iter().enumerate().find(|(i, t)| {
            t.kind == Kind::Ident
                && t.text(src) == name
                && tokens.get(i + 1).is_some_and(|n| n.is_punct(src, "("))
        });
        if let Some((_, t)) = called.or_else(|| {
            tokens
                .iter()
                .enumerate()
                .find(|(_, t)| t.kind == Kind::Ident && t.text(src) == name)
        }) {
            return Some(t.span.start);
        }
    }
    balance
        .first_problem()
        .or_else(|| first_misplaced_token(src, tokens))
}

/// The character in `… 'c'` after `prefix` in a parser message.
fn quoted_char_after(message: &str, prefix: &str) -> Option<char> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    let start = rest.find('\'')?;
    rest[start + 1..].chars().next()
}

/// A word in single quotes (`function 'foo'`, `aggregate expression 'sum'`), when it looks like a name.
fn quoted_word(message: &str) -> Option<&str> {
    let start = message.find('\'')? + 1;
    let len = message[start..].find('\'')?;
    let word = &message[start..start + len];
    (!word.is_empty() && word.bytes().all(|b| is_word(b) || b == b':')).then_some(word)
}

fn first_punct(src: &str, tokens: &[Token], p: &str) -> Option<usize> {
    tokens
        .iter()
        .find(|t| t.is_punct(src, p))
        .map(|t| t.span.start)
}

fn first_token_starting_with(
    src: &str,
    tokens: &[Token],
    c: char,
    region: Option<(&str, &str)>,
) -> Option<usize> {
    let mut inside = region.is_none();
    let mut fallback = None;
    for t in tokens {
        if let Some((open, close)) = region {
            if t.is_punct(src, open) {
                inside = true;
                continue;
            }
            if t.is_punct(src, close) && !t.text(src).starts_with(c) {
                inside = false;
                continue;
            }
        }
        if t.text(src).starts_with(c) {
            if inside {
                return Some(t.span.start);
            }
            fallback.get_or_insert(t.span.start);
        }
    }
    fallback
}

fn zero_duration(src: &str, tokens: &[Token]) -> Option<usize> {
    for (open, close) in lex::range_brackets(tokens, src) {
        for t in &tokens[open + 1..close] {
            if t.kind == Kind::Number
                && super::duration_token_value(t.text(src)).is_some_and(|d| d.is_zero())
            {
                return Some(t.span.start);
            }
        }
    }
    None
}

/// Result of matching `(`/`)`, `[`/`]`, `{`/`}` over the tokens.
struct Balance<'a> {
    /// Closers that match no opener: (closer text, offset), in source order.
    bad_closers: Vec<(&'a str, usize)>,
    /// Openers never closed, outermost first.
    unclosed: Vec<(&'a str, usize)>,
}

impl<'a> Balance<'a> {
    fn scan(src: &'a str, tokens: &[Token]) -> Self {
        let mut stack: Vec<(&'a str, usize)> = Vec::new();
        let mut bad_closers = Vec::new();
        for t in tokens {
            let text = t.text(src);
            let wanted = match text {
                "(" | "[" | "{" if t.kind == Kind::Punct => {
                    stack.push((text, t.span.start));
                    continue;
                }
                ")" if t.kind == Kind::Punct => "(",
                "]" if t.kind == Kind::Punct => "[",
                "}" if t.kind == Kind::Punct => "{",
                _ => continue,
            };
            if stack.last().is_some_and(|(o, _)| *o == wanted) {
                stack.pop();
            } else {
                bad_closers.push((text, t.span.start));
            }
        }
        Balance {
            bad_closers,
            unclosed: stack,
        }
    }

    fn first_bad_closer(&self, closer: &str) -> Option<usize> {
        self.bad_closers
            .iter()
            .find(|(c, _)| *c == closer)
            .map(|(_, o)| *o)
    }

    fn innermost_unclosed(&self, opener: &str) -> Option<usize> {
        self.unclosed
            .iter()
            .rev()
            .find(|(o, _)| *o == opener)
            .map(|(_, o)| *o)
    }

    fn first_problem(&self) -> Option<usize> {
        self.bad_closers
            .first()
            .or_else(|| self.unclosed.last())
            .map(|(_, o)| *o)
    }
}

/// A token that cannot follow the one before it: two operands in a row (`foo bar`, `{a="b" c="d"}`),
/// two binary operators in a row (`x == == y`), or a binary operator with no right operand (`x +`).
fn first_misplaced_token(src: &str, tokens: &[Token]) -> Option<usize> {
    let mut brace_depth = 0usize;
    // For each open parenthesis: whether it holds a label list (`by (…)`, `on (…)`), not an expression.
    let mut parens: Vec<bool> = Vec::new();
    let mut prev: Option<(&Token, bool)> = None; // (token, that token ends an operand)
    for (i, t) in tokens.iter().enumerate() {
        let text = t.text(src);
        let is_binop = is_binary_operator(t, src);
        let starts_operand = match t.kind {
            Kind::Ident => !lex::is_keyword(text),
            Kind::Number | Kind::Str { .. } => true,
            _ => false,
        };
        if brace_depth > 0 {
            // Inside a selector: a value directly followed by another label name lacks a comma.
            if let Some((p, _)) = prev
                && matches!(p.kind, Kind::Str { .. })
                && t.kind == Kind::Ident
            {
                return Some(t.span.start);
            }
        } else if let Some((p, p_ends)) = prev {
            if p_ends && starts_operand {
                return Some(t.span.start);
            }
            let p_is_binop = is_binary_operator(p, src);
            let unary = matches!(text, "+" | "-");
            if is_binop && !unary && (p_is_binop || p.is_punct(src, "(") || p.is_punct(src, ",")) {
                return Some(t.span.start);
            }
            if p_is_binop && (t.is_punct(src, ")") || t.is_punct(src, ",") || t.is_punct(src, "]"))
            {
                return Some(p.span.start);
            }
        } else if is_binop && !matches!(text, "+" | "-") {
            return Some(t.span.start);
        }
        let mut ends_operand = match t.kind {
            Kind::Ident => {
                !lex::is_keyword(text) && !tokens.get(i + 1).is_some_and(|n| n.is_punct(src, "("))
            }
            Kind::Number | Kind::Str { .. } => true,
            Kind::Punct => matches!(text, "]" | "}"),
            Kind::Other => false,
        };
        match text {
            "{" if t.kind == Kind::Punct => brace_depth += 1,
            "}" if t.kind == Kind::Punct => brace_depth = brace_depth.saturating_sub(1),
            "(" if t.kind == Kind::Punct => {
                let opener = i.checked_sub(1).map(|p| tokens[p].text(src));
                parens.push(opener.is_some_and(|o| {
                    lex::opens_label_list(o)
                        || ["fill", "fill_left", "fill_right"]
                            .iter()
                            .any(|f| f.eq_ignore_ascii_case(o))
                }));
            }
            ")" if t.kind == Kind::Punct => ends_operand = !parens.pop().unwrap_or(false),
            _ => {}
        }
        prev = Some((t, ends_operand));
    }
    match prev {
        Some((p, _)) if is_binary_operator(p, src) => Some(p.span.start),
        _ => None,
    }
}

fn is_binary_operator(t: &Token, src: &str) -> bool {
    let text = t.text(src);
    match t.kind {
        Kind::Punct => matches!(
            text,
            "+" | "-" | "*" | "/" | "%" | "^" | "==" | "!=" | "<" | ">" | "<=" | ">="
        ),
        Kind::Ident => ["and", "or", "unless", "atan2"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(text)),
        _ => false,
    }
}
