use crate::checker::{Checker, Loc};
use crate::registry::declare_rule;
use crate::source::{DocumentError, FieldPath, SourceFile};

declare_rule! {
    /// ## What it does
    /// Reports a document that does not parse as YAML (or JSON), pointing at the line and column
    /// where reading stopped. The other documents of the same file are still linted.
    ///
    /// ## Why is this bad?
    /// `kubectl apply` rejects the whole file, and a manifest pipeline that templates or merges
    /// it may drop the document silently. Hostile input (an alias "billion laughs", nesting
    /// thousands of levels deep) is reported here too instead of exhausting memory.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       query: sum(rate(http_requests_total[5m])
    ///       threshold: "100"
    ///     metadata: {serverAddress: http://prometheus:9090
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       serverAddress: http://prometheus:9090
    ///       query: sum(rate(http_requests_total[5m]))
    ///       threshold: "100"
    /// ```
    pub(crate) struct InvalidYaml => "KL001", "invalid-yaml", Error;
}

pub(crate) fn report(cx: &mut Checker<'_>, file: &SourceFile, error: &DocumentError) {
    let text = &file.text;
    let start = error.offset.min(text.len());
    // Underline one character (or the end of the line) where the parser stopped.
    let end = text[start..]
        .chars()
        .next()
        .filter(|c| *c != '\n')
        .map_or(start, |c| start + c.len_utf8());
    let (line, column) = file.line_col(start);
    cx.report(
        &InvalidYaml::INFO,
        Loc {
            path: FieldPath::root(),
            span: Some(start..end),
        },
        format!(
            "document {} is not valid YAML: {} (line {line}, column {column})",
            cx.document + 1,
            error.message
        ),
    )
    .help("fix the syntax here; the other documents of this file were still checked");
}
