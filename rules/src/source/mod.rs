//! Source trees with byte spans: what every rule reads, whether the input was YAML text or JSON.
//!
//! YAML is read with granit-parser events into a small tree of our own (see docs/yaml.md for why):
//! keys and values keep exact byte spans, duplicate keys are kept (a linter must report them, not
//! lose them), a broken document does not hide the next one, and aliases are expanded only within
//! a budget so a "billion laughs" file fails fast instead of eating memory.

mod json;
mod path;
mod yaml;

pub use json::from_json;
pub use path::{FieldPath, PathSegment};
pub use yaml::{Documents, LoadLimits, MAX_INPUT_BYTES, documents, load_stream, oversized_input};

use std::ops::Range;
use std::sync::OnceLock;

/// How a scalar was written. It decides the scalar's type (a plain `5` is an integer, `"5"` a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// An unquoted YAML scalar: typed by the YAML 1.1 rules Kubernetes uses (`5`, `true`, `no`, `~`).
    Plain,
    /// `'text'`
    SingleQuoted,
    /// `"text"`, also a JSON string read as YAML.
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
    /// A JSON string that came from a parsed JSON value (no source text).
    JsonString,
    /// A JSON number, boolean or null that came from a parsed JSON value (no source text).
    JsonOther,
}

/// The type a scalar has once the YAML/JSON rules are applied: what the API server would see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A floating point number.
    Float,
    /// A boolean.
    Bool,
    /// `null`, `~` or an empty plain value.
    Null,
}

impl ScalarType {
    /// The name the Kubernetes schema uses for this type.
    #[must_use]
    pub fn schema_name(self) -> &'static str {
        match self {
            Self::Str => "string",
            Self::Int => "integer",
            Self::Float => "number",
            Self::Bool => "boolean",
            Self::Null => "null",
        }
    }
}

/// A node of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte range in the source text; `None` when the node came from a JSON value.
    pub span: Option<Range<usize>>,
    /// What the node holds.
    pub kind: NodeKind,
}

/// The kinds of node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar with its value after escape processing.
    Scalar {
        /// The value.
        value: String,
        /// How it was written.
        style: ScalarStyle,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping; entries stay in source order and duplicates are kept.
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key node (a scalar for every manifest we care about).
    pub key: Node,
    /// The value node.
    pub value: Node,
}

impl Entry {
    /// The key as text, when it is a scalar.
    #[must_use]
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_str()
    }
}

impl Node {
    /// The scalar's text, whatever its type.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The scalar's text when it is a string (quoted, block, or a plain scalar that is not a number,
    /// boolean or null).
    #[must_use]
    pub fn as_string(&self) -> Option<&str> {
        match self.scalar_type() {
            Some(ScalarType::Str) => self.as_str(),
            _ => None,
        }
    }

    /// The style of a scalar.
    #[must_use]
    pub fn style(&self) -> Option<ScalarStyle> {
        match &self.kind {
            NodeKind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    /// The mapping's entries.
    #[must_use]
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The sequence's items.
    #[must_use]
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value of the last entry with this key (what a lenient parser keeps), in a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|e| &e.value)
    }

    /// The last entry with this key, in a mapping.
    #[must_use]
    pub fn get_entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?
            .iter()
            .rev()
            .find(|e| e.key_str() == Some(key))
    }

    /// A short name of the node's kind for messages ("a mapping", "a string").
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Map(_) => "a mapping",
            NodeKind::Seq(_) => "a list",
            NodeKind::Scalar { .. } => match self.scalar_type() {
                Some(ScalarType::Str) => "a string",
                Some(ScalarType::Int) => "an integer",
                Some(ScalarType::Float) => "a number",
                Some(ScalarType::Bool) => "a boolean",
                _ => "null",
            },
        }
    }

    /// The type the API server sees for a scalar; `None` for collections.
    #[must_use]
    pub fn scalar_type(&self) -> Option<ScalarType> {
        let NodeKind::Scalar { value, style } = &self.kind else {
            return None;
        };
        Some(match style {
            ScalarStyle::SingleQuoted
            | ScalarStyle::DoubleQuoted
            | ScalarStyle::Literal
            | ScalarStyle::Folded
            | ScalarStyle::JsonString => ScalarType::Str,
            ScalarStyle::Plain | ScalarStyle::JsonOther => resolve_plain(value),
        })
    }
}

/// Types a plain scalar the way go-yaml v2 (behind `kubectl` and sigs.k8s.io/yaml) does: YAML 1.1
/// booleans (`yes`, `off`, `y`), integers (with `0x`, `0o`, `_`), floats (`.5`, `1e3`, `.inf`).
#[must_use]
pub fn resolve_plain(value: &str) -> ScalarType {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarType::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "true" | "True"
        | "TRUE" | "false" | "False" | "FALSE" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => {
            return ScalarType::Bool;
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarType::Float,
        _ => {}
    }
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    if digits.is_empty() {
        return ScalarType::Str;
    }
    let is_int = if let Some(hex) = digits.strip_prefix("0x") {
        !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_')
    } else if let Some(oct) = digits.strip_prefix("0o") {
        !oct.is_empty() && oct.chars().all(|c| ('0'..='7').contains(&c) || c == '_')
    } else {
        digits.starts_with(|c: char| c.is_ascii_digit())
            && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    };
    if is_int {
        return ScalarType::Int;
    }
    if is_yaml_float(digits) {
        return ScalarType::Float;
    }
    ScalarType::Str
}

/// `[0-9][0-9_]*(\.[0-9_]*)?([eE][-+][0-9]+)?` or `\.[0-9_]+([eE][-+][0-9]+)?`, as YAML 1.1 and
/// the YAML 1.2 core schema (which go-yaml also accepts: `1e3`) define a float.
fn is_yaml_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if let Some(exp) = exponent {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if exp.is_empty() || !exp.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits_ok = |p: &str| p.chars().all(|c| c.is_ascii_digit() || c == '_');
    match frac {
        Some(f) => {
            digits_ok(int)
                && digits_ok(f)
                && (int.starts_with(|c: char| c.is_ascii_digit())
                    || f.starts_with(|c: char| c.is_ascii_digit()))
        }
        None => exponent.is_some() && !int.is_empty() && int.chars().all(|c| c.is_ascii_digit()),
    }
}

/// One document of a stream: its tree, or the reason it could not be read.
#[derive(Debug, Clone)]
pub struct Document {
    /// 0-based position in the file.
    pub index: usize,
    /// The root node; `None` for an empty document or one that failed.
    pub root: Option<Node>,
    /// Why the document could not be read.
    pub error: Option<DocumentError>,
}

/// A document that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentError {
    /// What is wrong, lowercase.
    pub message: String,
    /// Where, as a byte offset into the file.
    pub offset: usize,
}

/// A file's text with a line index, to turn byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name to show (a path, or `<stdin>`).
    pub name: String,
    /// The full text.
    pub text: String,
    /// Where each line begins, built on first use: a file no finding is placed in never needs it.
    line_starts: OnceLock<Vec<usize>>,
    /// Set when the input was over [`MAX_INPUT_BYTES`] and not read: its size, when known.
    oversized: Option<Option<u64>>,
}

impl SourceFile {
    /// Wraps a file's text.
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
            oversized: None,
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// An input over [`MAX_INPUT_BYTES`] that was not read in full: linting it gives one `KL001`
    /// naming `size` (when known) and the limit. Lets a reader stop at the limit, so a 1 GB file
    /// costs 32 MiB of memory, not 1 GB, and an endless pipe does not hang.
    #[must_use]
    pub fn oversized(name: impl Into<String>, size: Option<u64>) -> Self {
        Self {
            oversized: Some(size),
            ..Self::new(name, String::new())
        }
    }

    /// For an input made by [`SourceFile::oversized`], its size when known.
    #[must_use]
    pub fn oversized_size(&self) -> Option<Option<u64>> {
        self.oversized
    }

    /// 1-based line and 1-based column (counting characters) of a byte offset.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts();
        let line = starts.partition_point(|&s| s <= offset) - 1;
        let start = starts[line];
        let mut end = offset;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        (line + 1, self.text[start..end].chars().count() + 1)
    }

    /// The text of a 1-based line, without its line break.
    #[must_use]
    pub fn line_text(&self, line: usize) -> Option<&str> {
        let starts = self.line_starts();
        let start = *starts.get(line.checked_sub(1)?)?;
        let end = starts
            .get(line)
            .map_or(self.text.len(), |&e| e.saturating_sub(1));
        Some(self.text[start..end.max(start)].trim_end_matches('\r'))
    }

    /// Number of lines.
    #[must_use]
    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }
}

/// The byte range in the file of the characters `value[range]` of a scalar's value, following
/// how the scalar was written (quotes, escapes, folded lines, block indentation).
///
/// The parsed value of a plain, single-quoted, literal or folded scalar is a subsequence of its
/// source text (only indentation, line breaks and the second `'` of `''` are dropped), so a greedy
/// forward alignment maps every character. In double-quoted text an escape maps to its backslash.
#[must_use]
pub fn span_in_scalar(src: &str, node: &Node, value_range: Range<usize>) -> Option<Range<usize>> {
    let span = node.span.clone()?;
    let NodeKind::Scalar { value, style } = &node.kind else {
        return None;
    };
    if value_range.start > value_range.end || value_range.end > value.len() {
        return None;
    }
    let map = scalar_char_map(src, span, *style, value);
    let start = map.iter().find(|(vb, _, _)| *vb >= value_range.start)?.1;
    let end = if value_range.end == value_range.start {
        start
    } else {
        // Past the source text of the range's last character (a whole escape like `\u00e9`).
        let (_, last, width) = *map.iter().rev().find(|(vb, _, _)| *vb < value_range.end)?;
        last + width
    };
    Some(start..end.max(start))
}

/// One `(byte in value, byte in file, length in file)` for each character of a scalar's value.
fn scalar_char_map(
    src: &str,
    raw: Range<usize>,
    style: ScalarStyle,
    value: &str,
) -> Vec<(usize, usize, usize)> {
    let end = raw.end.min(src.len());
    let mut p = raw.start.min(end);
    if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
        && src[p..].starts_with(['\'', '"'])
    {
        p += 1;
    }
    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
        && src[p..].starts_with(['|', '>'])
    {
        p = src[p..].find('\n').map_or(end, |i| p + i + 1);
    }
    let mut out = Vec::with_capacity(value.len());
    'chars: for (vb, c) in value.char_indices() {
        while p < end {
            let Some(s) = src[p..].chars().next() else {
                break;
            };
            if style == ScalarStyle::DoubleQuoted && s == '\\' {
                let rest = &src[p + 1..];
                if rest.starts_with(['\n', '\r']) {
                    p += if rest.starts_with("\r\n") { 3 } else { 2 };
                    while src[p..].starts_with([' ', '\t']) {
                        p += 1;
                    }
                    continue;
                }
                let len = 1 + escape_len(rest);
                out.push((vb, p, len));
                p += len;
                continue 'chars;
            }
            if s == c || ((c == ' ' || c == '\n') && (s == '\n' || s == '\r')) {
                out.push((vb, p, s.len_utf8()));
                p += s.len_utf8();
                continue 'chars;
            }
            p += s.len_utf8();
        }
        break;
    }
    out
}

/// Length after the backslash of a double-quoted escape.
fn escape_len(rest: &str) -> usize {
    let hex = |n: usize| 1 + rest[1..].chars().take(n).map(char::len_utf8).sum::<usize>();
    match rest.chars().next() {
        Some('x') => hex(2),
        Some('u') => {
            // A surrogate pair is two `\uXXXX` escapes producing one character.
            let first = rest.get(1..5).and_then(|h| u32::from_str_radix(h, 16).ok());
            if first.is_some_and(|v| (0xD800..0xDC00).contains(&v)) && rest[5..].starts_with("\\u")
            {
                11
            } else {
                hex(4)
            }
        }
        Some('U') => hex(8),
        Some(c) => c.len_utf8(),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_are_typed_like_kubectl_does() {
        assert_eq!(resolve_plain("5"), ScalarType::Int);
        assert_eq!(resolve_plain("-5"), ScalarType::Int);
        assert_eq!(resolve_plain("0.350"), ScalarType::Float);
        assert_eq!(resolve_plain(".5"), ScalarType::Float);
        assert_eq!(resolve_plain("1e3"), ScalarType::Float);
        assert_eq!(resolve_plain("false"), ScalarType::Bool);
        assert_eq!(resolve_plain("no"), ScalarType::Bool);
        assert_eq!(resolve_plain("~"), ScalarType::Null);
        assert_eq!(resolve_plain("15s"), ScalarType::Str);
        assert_eq!(resolve_plain("350m"), ScalarType::Str);
        assert_eq!(resolve_plain("1.2.3"), ScalarType::Str);
        assert_eq!(resolve_plain("e3"), ScalarType::Str);
        assert_eq!(resolve_plain("http://x"), ScalarType::Str);
    }

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let f = SourceFile::new("x", "é: 1\nab: →c\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(2), (1, 2));
        let c = f.text.find('c').unwrap();
        assert_eq!(f.line_col(c), (2, 6));
        assert_eq!(f.line_text(2), Some("ab: →c"));
    }

    fn scalar_at<'a>(docs: &'a [Document], key: &str) -> &'a Node {
        docs[0].root.as_ref().unwrap().get(key).unwrap()
    }

    #[test]
    fn offsets_inside_block_and_quoted_scalars_map_to_file_bytes() {
        let src = "a: |\n  sum(rate(x[1m]))\n  / 2\nb: \"t\\u00e9 [5m]\"\nc: >\n  rate(\n  y[2m])\nd: 'it''s [3m]'\n";
        let docs = super::load_stream(src, super::LoadLimits::default());
        for (key, needle) in [("a", "[1m]"), ("b", "[5m]"), ("c", "[2m]"), ("d", "[3m]")] {
            let node = scalar_at(&docs, key);
            let value = node.as_str().unwrap();
            let at = value.find(needle).unwrap();
            let span = span_in_scalar(src, node, at..at + needle.len()).unwrap();
            assert_eq!(&src[span], needle, "{key}");
        }
        // An escape maps to its backslash: the `é` written as `\u00e9`.
        let b = scalar_at(&docs, "b");
        let e = b.as_str().unwrap().find('é').unwrap();
        let span = span_in_scalar(src, b, e..e + 'é'.len_utf8()).unwrap();
        assert!(src[span].starts_with("\\u00e9"));
    }

    #[test]
    fn flow_mappings_keep_spans() {
        let src = "spec: {triggers: [{type: prometheus, metadata: {threshold: 5}}]}\n";
        let docs = super::load_stream(src, super::LoadLimits::default());
        let t = scalar_at(&docs, "spec")
            .get("triggers")
            .unwrap()
            .as_seq()
            .unwrap()[0]
            .get("metadata")
            .unwrap()
            .get("threshold")
            .unwrap();
        assert_eq!(&src[t.span.clone().unwrap()], "5");
        assert_eq!(t.scalar_type(), Some(ScalarType::Int));
    }
}
