//! A small PromQL tokenizer of our own, used only to find byte positions that the parser does not report.
//!
//! It is deliberately forgiving: it never fails, keeps every token on char boundaries, and knows just enough
//! (strings, comments, brackets, numbers) to tell a range bracket from a `[` inside a label value.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Identifiers, keywords, metric and label names. Inside range brackets `:` is not part of a name.
    Ident,
    /// Numbers and durations: starts with a digit, or `.` followed by a digit (`5m`, `1e3`, `0x1f`, `.5`).
    Number,
    /// A quoted string (`"…"`, `'…'`, `` `…` ``); `terminated` is false when the input ends inside it.
    Str { terminated: bool },
    /// Operators and delimiters, one or two characters (`=~`, `!=`, `==`, `<=`, `>=`).
    Punct,
    /// Any other character, such as `$`, `;` or a stray non-ASCII letter.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) span: Range<usize>,
}

impl Token {
    pub(crate) fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.span.clone()]
    }

    pub(crate) fn is_punct(&self, src: &str, p: &str) -> bool {
        self.kind == Kind::Punct && self.text(src) == p
    }

    pub(crate) fn is_ident(&self, src: &str, name: &str) -> bool {
        self.kind == Kind::Ident && self.text(src).eq_ignore_ascii_case(name)
    }
}

/// Splits `src` into tokens, dropping whitespace and `#` comments.
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut bracket_depth = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = match b {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'`' => {
                let (end, terminated) = string_end(bytes, i);
                i = end;
                Kind::Str { terminated }
            }
            b'0'..=b'9' => {
                i = number_end(bytes, i);
                Kind::Number
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = number_end(bytes, i);
                Kind::Number
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                i = ident_end(bytes, i, bracket_depth == 0);
                Kind::Ident
            }
            b':' if bracket_depth == 0 => {
                i = ident_end(bytes, i, true);
                Kind::Ident
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = bytes.get(i + 1).copied();
                let pair = matches!(
                    (b, two),
                    (b'=' | b'!', Some(b'~')) | (b'=' | b'!' | b'<' | b'>', Some(b'='))
                );
                i += if pair { 2 } else { 1 };
                Kind::Punct
            }
            b'(' | b')' | b'{' | b'}' | b',' | b':' | b'@' | b'+' | b'-' | b'*' | b'/' | b'%'
            | b'^' => {
                i += 1;
                Kind::Punct
            }
            b'[' => {
                bracket_depth += 1;
                i += 1;
                Kind::Punct
            }
            b']' => {
                bracket_depth = bracket_depth.saturating_sub(1);
                i += 1;
                Kind::Punct
            }
            _ => {
                i += utf8_len(b);
                Kind::Other
            }
        };
        // Never split a character, whatever the input.
        while i < bytes.len() && !src.is_char_boundary(i) {
            i += 1;
        }
        let end = i.min(bytes.len());
        tokens.push(Token {
            kind,
            span: start..end,
        });
        i = end;
    }
    tokens
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Returns the end of the string starting at `start` and whether its closing quote was found.
/// Backtick strings have no escapes; the others skip the character after a backslash.
fn string_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            c if c == quote => return (i + 1, true),
            _ => i += 1,
        }
    }
    (bytes.len(), false)
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let hex = bytes[start] == b'0' && matches!(bytes.get(start + 1), Some(b'x' | b'X'));
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' {
            i += 1;
        } else if !hex
            && matches!(c, b'+' | b'-')
            && matches!(bytes[i - 1], b'e' | b'E')
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && bytes[start..i - 1]
                .iter()
                .all(|b| b.is_ascii_digit() || *b == b'.')
        {
            // The sign of an exponent (`1e-3`), but not the minus in `5m-1m`.
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn ident_end(bytes: &[u8], start: usize, colon_allowed: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric()
            || bytes[i] == b'_'
            || (colon_allowed && bytes[i] == b':'))
    {
        i += 1;
    }
    i
}

/// Words the PromQL grammar reserves outside label braces; never a metric name in a query the parser accepted.
pub(crate) fn is_keyword(word: &str) -> bool {
    const KEYWORDS: [&str; 17] = [
        "and",
        "or",
        "unless",
        "atan2",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "fill",
        "fill_left",
        "fill_right",
        "anchored",
        "smoothed",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Aggregation operators, which may be followed by `by`/`without` before their parenthesis.
pub(crate) fn is_aggregator(word: &str) -> bool {
    const AGGREGATORS: [&str; 14] = [
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "limitk",
        "limit_ratio",
    ];
    AGGREGATORS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Keywords that open a parenthesised list of label names rather than an expression.
pub(crate) fn opens_label_list(word: &str) -> bool {
    [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(word))
}

/// Pairs of `[` … `]` in source order (outside strings and comments). Unbalanced brackets are left out.
pub(crate) fn range_brackets(tokens: &[Token], src: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct(src, "[") {
            open = Some(i);
        } else if t.is_punct(src, "]")
            && let Some(o) = open.take()
        {
            out.push((o, i));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<&str> {
        tokenize(src).iter().map(|t| t.text(src)).collect()
    }

    #[test]
    fn strings_and_comments_hide_their_brackets() {
        let src = "x{a=\"[5m]\", b='}'} # rate(y[1m])\n + z[`]`]";
        assert_eq!(
            texts(src),
            [
                "x", "{", "a", "=", "\"[5m]\"", ",", "b", "=", "'}'", "}", "+", "z", "[", "`]`",
                "]"
            ]
        );
    }

    #[test]
    fn durations_and_exponents_are_single_tokens() {
        assert_eq!(
            texts("x[1h30m:1e-3]"),
            ["x", "[", "1h30m", ":", "1e-3", "]"]
        );
        assert_eq!(texts("x[5m-1m]"), ["x", "[", "5m", "-", "1m", "]"]);
        assert_eq!(texts("a:b:c[5m]"), ["a:b:c", "[", "5m", "]"]);
    }

    #[test]
    fn two_character_operators_stay_together() {
        assert_eq!(
            texts("a=~\"x\"!=b!~c==d<=e>=f</g"),
            [
                "a", "=~", "\"x\"", "!=", "b", "!~", "c", "==", "d", "<=", "e", ">=", "f", "<",
                "/", "g"
            ]
        );
    }

    #[test]
    fn unterminated_strings_and_multibyte_text_stay_on_char_boundaries() {
        let src = "x{a=\"é…\u{1F600}";
        for t in tokenize(src) {
            assert!(src.is_char_boundary(t.span.start) && src.is_char_boundary(t.span.end));
        }
        let src = "é\u{1F600}x";
        assert_eq!(texts(src), ["é", "\u{1F600}", "x"]);
    }
}
