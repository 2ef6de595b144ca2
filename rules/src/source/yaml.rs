//! The YAML reader: granit-parser events into [`Node`] trees, one [`Document`] per `---`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use granit_parser::{Event, Options, Parser};

use super::{Document, DocumentError, Entry, Node, NodeKind, ScalarStyle};

/// Bounds that keep hostile input from costing unbounded time, memory or stack.
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    /// Deepest nesting of collections, before and after alias expansion.
    pub max_depth: usize,
    /// How many nodes alias expansion may add to a stream (all its documents together) beyond
    /// those written in it. Per stream, not per document: a file of many small bombs is one bomb.
    pub max_alias_expansion: usize,
    /// How many bytes of scalar text alias expansion may copy in a stream: a node budget alone
    /// lets `[*x, *x, ...]` copy a 1 MB scalar 100,000 times.
    pub max_alias_bytes: usize,
    /// Largest input in bytes.
    pub max_bytes: usize,
}

/// The largest input read, in bytes (32 MiB): [`LoadLimits::max_bytes`] by default, and what a
/// reader of files or stdin needs to hold in memory at most before it can say a file is too large.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

impl Default for LoadLimits {
    fn default() -> Self {
        Self {
            max_depth: 256,
            max_alias_expansion: 100_000,
            max_alias_bytes: 4 * 1024 * 1024,
            max_bytes: MAX_INPUT_BYTES,
        }
    }
}

/// The one document of an input over `limit` bytes: an error naming its size when known (a
/// regular file's length), or only that it is over the limit (a pipe read no further).
#[must_use]
pub fn oversized_input(size: Option<u64>, limit: usize) -> Document {
    let message = match size {
        Some(size) => format!("input is {size} bytes, more than the limit of {limit} bytes"),
        None => format!("input is more than the limit of {limit} bytes"),
    };
    Document {
        index: 0,
        root: None,
        error: Some(DocumentError { message, offset: 0 }),
    }
}

/// A node as written, aliases not yet followed.
#[derive(Debug)]
enum Raw {
    Scalar(String, ScalarStyle, Option<Range<usize>>),
    Seq(Vec<Raw>, Option<Range<usize>>),
    Map(Vec<(Raw, Raw)>, Option<Range<usize>>),
    Alias(usize, Option<Range<usize>>),
    /// Where an anchored node was written; the node itself lives in the anchor table. Moving it
    /// there instead of copying keeps nested anchors (`&a [&b [&c [...]]]`) linear in the input:
    /// a copy per anchor is quadratic.
    Anchored(usize),
}

/// What alias expansion may still add in the rest of the stream.
#[derive(Debug, Clone, Copy)]
struct Budget {
    nodes: usize,
    bytes: usize,
}

/// Reads every document of a YAML (or JSON) stream. A document that does not parse is returned
/// with its error and reading goes on at the next `---`; nothing here panics on any input.
#[must_use]
pub fn load_stream(src: &str, limits: LoadLimits) -> Vec<Document> {
    documents(src, limits).collect()
}

/// The documents of a YAML (or JSON) stream one at a time, each built when asked for, so a caller
/// that drops each document before asking for the next holds one tree at a time. The same
/// documents as [`load_stream`], under the same limits: the alias budget is shared by the whole
/// stream.
#[must_use]
pub fn documents(src: &str, limits: LoadLimits) -> Documents<'_> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    options.block_nesting_limit = limits.max_depth;
    options.flow_nesting_limit = limits.max_depth;
    Documents {
        src,
        oversized: src.len() > limits.max_bytes,
        parser: Parser::new_from_str_with_options(src, options),
        limits,
        budget: Budget {
            nodes: limits.max_alias_expansion,
            bytes: limits.max_alias_bytes,
        },
        index: 0,
        done: false,
    }
}

/// The iterator [`documents`] returns.
pub struct Documents<'a> {
    src: &'a str,
    /// Over [`LoadLimits::max_bytes`]: one document saying so, nothing parsed.
    oversized: bool,
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    limits: LoadLimits,
    /// What alias expansion may still add in the rest of the stream.
    budget: Budget,
    /// The index of the next document.
    index: usize,
    done: bool,
}

impl Iterator for Documents<'_> {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        if self.done {
            return None;
        }
        if self.oversized {
            self.done = true;
            return Some(oversized_input(
                Some(self.src.len() as u64),
                self.limits.max_bytes,
            ));
        }
        let mut builder = Builder::default();
        while let Some(next) = self.parser.next() {
            let (event, span) = match next {
                Ok(x) => x,
                Err(e) => {
                    let offset = e.marker().byte_offset().unwrap_or(0).min(self.src.len());
                    let doc = Document {
                        index: self.index,
                        root: None,
                        error: Some(DocumentError {
                            message: first_line(&e.info()),
                            offset,
                        }),
                    };
                    self.index += 1;
                    self.done = !matches!(self.parser.proceed_next_document(), Ok(true));
                    return Some(doc);
                }
            };
            let range = span.byte_range();
            match event {
                Event::DocumentEnd => {
                    let raw = builder.root.take();
                    let doc = finish_document(
                        self.index,
                        raw,
                        &builder.anchors,
                        self.limits,
                        &mut self.budget,
                    );
                    self.index += 1;
                    return Some(doc);
                }
                Event::Scalar(value, style, anchor, _) => {
                    let node = Raw::Scalar(value.into_owned(), style_of(style), range);
                    builder.add(node, anchor);
                }
                Event::Alias(id) => builder.add(Raw::Alias(id, range), 0),
                Event::SequenceStart(_, anchor, _) => {
                    builder.open(Raw::Seq(Vec::new(), range), anchor);
                }
                Event::MappingStart(_, anchor, _) => {
                    builder.open(Raw::Map(Vec::new(), range), anchor);
                }
                Event::SequenceEnd | Event::MappingEnd => builder.close(range),
                _ => {}
            }
        }
        self.done = true;
        None
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_owned()
}

fn style_of(style: granit_parser::ScalarStyle) -> ScalarStyle {
    match style {
        granit_parser::ScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
        granit_parser::ScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
        granit_parser::ScalarStyle::Literal => ScalarStyle::Literal,
        granit_parser::ScalarStyle::Folded => ScalarStyle::Folded,
        _ => ScalarStyle::Plain,
    }
}

#[derive(Default)]
struct Builder {
    root: Option<Raw>,
    /// Open collections, each with its anchor id and a pending mapping key.
    stack: Vec<(Raw, usize, Option<Raw>)>,
    anchors: HashMap<usize, Raw>,
}

impl Builder {
    fn open(&mut self, node: Raw, anchor: usize) {
        self.stack.push((node, anchor, None));
    }

    fn close(&mut self, end: Option<Range<usize>>) {
        let Some((mut node, anchor, _)) = self.stack.pop() else {
            return;
        };
        if let (Raw::Seq(_, Some(span)) | Raw::Map(_, Some(span)), Some(end)) = (&mut node, end) {
            span.end = span.end.max(end.end);
        }
        self.add(node, anchor);
    }

    fn add(&mut self, mut node: Raw, anchor: usize) {
        if anchor != 0 {
            // granit gives every anchor definition its own id, so a redefined name never
            // overwrites a node still referred to by a placeholder.
            self.anchors.insert(anchor, node);
            node = Raw::Anchored(anchor);
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some((Raw::Seq(items, _), _, _)) => items.push(node),
            Some((Raw::Map(entries, _), _, pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
            Some(_) => {}
        }
    }
}

fn finish_document(
    index: usize,
    raw: Option<Raw>,
    anchors: &HashMap<usize, Raw>,
    limits: LoadLimits,
    budget: &mut Budget,
) -> Document {
    let Some(raw) = raw else {
        return Document {
            index,
            root: None,
            error: None,
        };
    };
    let mut expander = Expander {
        anchors,
        budget: *budget,
        limits,
        max_depth: limits.max_depth * 2,
        error: None,
    };
    let root = expander.expand_owned(raw, 0);
    *budget = expander.budget;
    match expander.error {
        Some(error) => Document {
            index,
            root: None,
            error: Some(error),
        },
        None => Document {
            index,
            root: Some(root),
            error: None,
        },
    }
}

/// Follows aliases and applies `<<` merge keys, within a budget of added nodes.
struct Expander<'a> {
    anchors: &'a HashMap<usize, Raw>,
    budget: Budget,
    limits: LoadLimits,
    max_depth: usize,
    error: Option<DocumentError>,
}

impl<'a> Expander<'a> {
    fn fail(&mut self, message: String, span: Option<&Range<usize>>) -> Node {
        if self.error.is_none() {
            self.error = Some(DocumentError {
                message,
                offset: span.map_or(0, |s| s.start),
            });
        }
        Node {
            span: None,
            kind: NodeKind::Seq(Vec::new()),
        }
    }

    /// Charges one node of alias expansion; false when the budget is spent.
    fn charge(&mut self, aliased: bool) -> bool {
        if !aliased {
            return true;
        }
        if self.budget.nodes == 0 {
            return false;
        }
        self.budget.nodes -= 1;
        true
    }

    /// Charges the text of a scalar copied by an alias; false when the budget is spent.
    fn charge_bytes(&mut self, aliased: bool, bytes: usize) -> bool {
        if !aliased {
            return true;
        }
        match self.budget.bytes.checked_sub(bytes) {
            Some(left) => {
                self.budget.bytes = left;
                true
            }
            None => false,
        }
    }

    /// The node to return instead of expanding `raw`: an empty one after an error, an error
    /// when nesting is too deep.
    fn stop(&mut self, raw: &Raw, depth: usize) -> Option<Node> {
        if self.error.is_some() {
            return Some(Node {
                span: None,
                kind: NodeKind::Seq(Vec::new()),
            });
        }
        (depth > self.max_depth).then(|| {
            self.fail(
                format!(
                    "nesting deeper than {} levels after following aliases",
                    self.max_depth
                ),
                raw_span(raw),
            )
        })
    }

    /// Expands a tree as written, moving its scalars and collections into the result instead of
    /// copying them: only what an alias or an anchor placeholder refers to (in the anchor table)
    /// is copied. The same result, errors and budget as [`Expander::expand_in`] on `&raw`.
    fn expand_owned(&mut self, raw: Raw, depth: usize) -> Node {
        if matches!(raw, Raw::Anchored(_) | Raw::Alias(..)) {
            return self.expand_in(&raw, depth, false);
        }
        if let Some(stop) = self.stop(&raw, depth) {
            return stop;
        }
        match raw {
            Raw::Scalar(value, style, span) => Node {
                span,
                kind: NodeKind::Scalar { value, style },
            },
            Raw::Seq(items, span) => Node {
                span,
                kind: NodeKind::Seq(
                    items
                        .into_iter()
                        .map(|i| self.expand_owned(i, depth + 1))
                        .collect(),
                ),
            },
            Raw::Map(entries, span) => map_node(
                entries.into_iter().map(|(k, v)| {
                    (
                        self.expand_owned(k, depth + 1),
                        self.expand_owned(v, depth + 1),
                    )
                }),
                span,
            ),
            // Handled by reference above.
            other @ (Raw::Anchored(_) | Raw::Alias(..)) => self.expand_in(&other, depth, false),
        }
    }

    fn expand_in<'r>(&mut self, raw: &'r Raw, depth: usize, aliased: bool) -> Node
    where
        'a: 'r,
    {
        // A placeholder stands where its anchored node was written: the same node, same depth.
        let raw: &'r Raw = match raw {
            Raw::Anchored(id) => match self.anchors.get(id) {
                Some(node) => node,
                None => return self.fail("anchor without a node".to_owned(), None),
            },
            other => other,
        };
        if let Some(stop) = self.stop(raw, depth) {
            return stop;
        }
        if !self.charge(aliased) {
            return self.fail(
                format!(
                    "aliases expand to too many nodes (more than {} added in this input): refusing \
                     a possible \"billion laughs\" document",
                    self.limits.max_alias_expansion
                ),
                raw_span(raw),
            );
        }
        match raw {
            Raw::Scalar(value, _, span) if !self.charge_bytes(aliased, value.len()) => self.fail(
                format!(
                    "aliases copy more than {} bytes of text in this input: refusing a possible \
                     \"billion laughs\" document",
                    self.limits.max_alias_bytes
                ),
                span.as_ref(),
            ),
            Raw::Scalar(value, style, span) => Node {
                span: span.clone(),
                kind: NodeKind::Scalar {
                    value: value.clone(),
                    style: *style,
                },
            },
            // The anchor table holds written nodes, never placeholders.
            Raw::Anchored(_) => self.fail("anchor refers to an anchor".to_owned(), None),
            Raw::Alias(id, span) => match self.anchors.get(id) {
                // The alias node itself stands for the anchored node, so it is not charged again.
                Some(target) => self.expand_in(target, depth + 1, true),
                None => self.fail(
                    "alias refers to an unknown anchor".to_owned(),
                    span.as_ref(),
                ),
            },
            Raw::Seq(items, span) => Node {
                span: span.clone(),
                kind: NodeKind::Seq(
                    items
                        .iter()
                        .map(|i| self.expand_in(i, depth + 1, aliased))
                        .collect(),
                ),
            },
            Raw::Map(entries, span) => map_node(
                entries.iter().map(|(k, v)| {
                    (
                        self.expand_in(k, depth + 1, aliased),
                        self.expand_in(v, depth + 1, aliased),
                    )
                }),
                span.clone(),
            ),
        }
    }
}

/// Adds the entries of `<<` merge sources to a mapping: keys written in the mapping win, then
/// earlier merge sources. A set, not a scan per key: a merge of 50,000 keys into 50,000 is
/// otherwise quadratic.
fn merge_into(out: &mut Vec<Entry>, merged: Vec<Entry>) {
    if merged.is_empty() {
        return;
    }
    let mut seen: HashSet<Option<String>> =
        out.iter().map(|o| o.key_str().map(str::to_owned)).collect();
    for e in merged {
        if seen.insert(e.key_str().map(str::to_owned)) {
            out.push(e);
        }
    }
}

/// A mapping of expanded entries, with its `<<` merge keys applied.
fn map_node(
    entries: impl ExactSizeIterator<Item = (Node, Node)>,
    span: Option<Range<usize>>,
) -> Node {
    let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut merged: Vec<Entry> = Vec::new();
    for (key, value) in entries {
        if key.as_str() == Some("<<") && key.style() == Some(ScalarStyle::Plain) {
            merge_sources(value, &mut merged);
            continue;
        }
        out.push(Entry { key, value });
    }
    merge_into(&mut out, merged);
    Node {
        span,
        kind: NodeKind::Map(out),
    }
}

/// The entries a `<<` value contributes, in order: a mapping, or a list of mappings (the caller
/// keeps the first of each key, so earlier ones win).
fn merge_sources(value: Node, merged: &mut Vec<Entry>) {
    match value.kind {
        NodeKind::Map(m) => merged.extend(m),
        NodeKind::Seq(items) => {
            for item in items {
                if let NodeKind::Map(m) = item.kind {
                    merged.extend(m);
                }
            }
        }
        NodeKind::Scalar { .. } => {}
    }
}

fn raw_span(raw: &Raw) -> Option<&Range<usize>> {
    match raw {
        Raw::Scalar(_, _, s) | Raw::Seq(_, s) | Raw::Map(_, s) | Raw::Alias(_, s) => s.as_ref(),
        Raw::Anchored(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> Vec<Document> {
        load_stream(src, LoadLimits::default())
    }

    #[test]
    fn key_and_value_spans_are_exact_bytes() {
        let src = "a: é\nmetadata:\n  ignoreNullValue: \"true\"\n";
        let docs = load(src);
        let root = docs[0].root.as_ref().unwrap();
        let e = root
            .get("metadata")
            .unwrap()
            .get_entry("ignoreNullValue")
            .unwrap();
        assert_eq!(&src[e.key.span.clone().unwrap()], "ignoreNullValue");
        assert_eq!(&src[e.value.span.clone().unwrap()], "\"true\"");
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let docs = load("type: a\ntype: b\n");
        let m = docs[0].root.as_ref().unwrap().as_map().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            docs[0].root.as_ref().unwrap().get("type").unwrap().as_str(),
            Some("b")
        );
    }

    #[test]
    fn a_broken_middle_document_does_not_hide_the_next_one() {
        let docs = load("a: 1\n---\nb: [1, 2\n---\nc: 3\n");
        assert_eq!(docs.len(), 3);
        assert!(docs[0].error.is_none());
        assert!(docs[1].error.is_some());
        assert_eq!(
            docs[2].root.as_ref().unwrap().get("c").unwrap().as_str(),
            Some("3")
        );
    }

    #[test]
    fn billion_laughs_fails_fast_with_a_clear_error() {
        let mut src = String::from(
            "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for i in 1..10 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
            ));
        }
        let start = std::time::Instant::now();
        let docs = load(&src);
        let err = docs[0].error.as_ref().expect("must fail");
        assert!(err.message.contains("billion laughs"), "{}", err.message);
        // Not a timing assertion on speed, only a guard against the expansion actually running.
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn alias_copies_of_scalar_text_are_bounded_in_bytes() {
        let limits = LoadLimits {
            max_alias_bytes: 1000,
            ..LoadLimits::default()
        };
        let src = format!("a: &x \"{}\"\nb: [*x, *x]\n", "x".repeat(600));
        let err = load_stream(&src, limits)[0]
            .error
            .clone()
            .expect("must fail");
        assert!(
            err.message.contains("1000 bytes of text"),
            "{}",
            err.message
        );
        assert!(load_stream(&src, LoadLimits::default())[0].error.is_none());
    }

    #[test]
    fn the_alias_budget_is_shared_by_every_document_of_a_stream() {
        let limits = LoadLimits {
            max_alias_expansion: 10,
            ..LoadLimits::default()
        };
        let doc = "a: &x [1, 2, 3]\nb: [*x, *x]\n"; // 8 nodes added
        let docs = load_stream(&format!("{doc}---\n{doc}"), limits);
        assert!(docs[0].error.is_none());
        let err = docs[1]
            .error
            .as_ref()
            .expect("second document over the budget");
        assert!(
            err.message.contains("more than 10 added"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_redefined_anchor_name_refers_to_its_latest_node() {
        let docs = load("a: &x 1\nb: *x\nc: &x 2\nd: *x\ne: [&y {k: v}, *y]\n");
        let root = docs[0].root.as_ref().unwrap();
        assert_eq!(root.get("b").unwrap().as_str(), Some("1"));
        assert_eq!(root.get("c").unwrap().as_str(), Some("2"));
        assert_eq!(root.get("d").unwrap().as_str(), Some("2"));
        let NodeKind::Seq(e) = &root.get("e").unwrap().kind else {
            panic!("e is a list")
        };
        assert_eq!(e[0].get("k").unwrap().as_str(), Some("v"));
        assert_eq!(e[0].kind, e[1].kind);
    }

    #[test]
    fn aliases_and_merge_keys_are_followed() {
        let docs = load("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nref: *b\n");
        let root = docs[0].root.as_ref().unwrap();
        let u = root.get("use").unwrap();
        assert_eq!(u.get("x").unwrap().as_str(), Some("1"));
        assert_eq!(u.get("y").unwrap().as_str(), Some("3"));
        assert_eq!(
            root.get("ref").unwrap().get("y").unwrap().as_str(),
            Some("2")
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = "[".repeat(10_000);
        let docs = load(&src);
        assert!(docs[0].error.is_some());
    }

    #[test]
    fn self_referencing_anchor_is_an_error() {
        let docs = load("a: &x [1, *x]\n");
        assert!(docs[0].error.is_some(), "{docs:?}");
    }

    #[test]
    fn json_reads_as_yaml_with_spans() {
        let src = r#"{"spec": {"pollingInterval": "15s"}}"#;
        let docs = load(src);
        let v = docs[0]
            .root
            .as_ref()
            .unwrap()
            .get("spec")
            .unwrap()
            .get("pollingInterval")
            .unwrap();
        assert_eq!(&src[v.span.clone().unwrap()], "\"15s\"");
    }
}
