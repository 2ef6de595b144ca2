//! Suppressions: the `kedalint.io/ignore` annotation (every mode) and `# kedalint: ignore[KL203]`
//! comments (text input), with KL901/KL902 for suppressions that do nothing.

use std::ops::Range;
use std::sync::LazyLock;

use crate::checker::{Checker, Loc};
use crate::model::Object;
use crate::registry;
use crate::rules::suppressions::{UnknownRuleInSuppression, UnusedSuppression};
use crate::source::{Document, FieldPath, SourceFile};

/// The annotation that lists codes to ignore for one object.
pub const IGNORE_ANNOTATION: &str = "kedalint.io/ignore";

/// Splits a comma-separated list of codes into `(code, byte range in the list)`.
#[must_use]
pub fn codes(list: &str) -> Vec<(&str, Range<usize>)> {
    let mut out = Vec::new();
    let mut start = 0;
    for part in list.split(',') {
        let lead = part.len() - part.trim_start().len();
        let code = part.trim();
        if !code.is_empty() {
            out.push((code, start + lead..start + lead + code.len()));
        }
        start += part.len() + 1;
    }
    out
}

/// Applies an object's ignore annotation to the findings reported for it.
pub(crate) fn apply_annotation(cx: &mut Checker<'_>, object: &Object<'_>) {
    let Some(node) = object.annotation(IGNORE_ANNOTATION) else {
        return;
    };
    let Some(list) = node.as_str() else {
        return;
    };
    let path = object
        .base_path()
        .key("metadata")
        .key("annotations")
        .key(IGNORE_ANNOTATION);
    let reference = object.reference();
    for (code, range) in codes(list) {
        let span = cx.span_within(node, range);
        let Some(rule) = registry::find(code) else {
            cx.report(
                &UnknownRuleInSuppression::INFO,
                Loc {
                    path: path.clone(),
                    span,
                },
                format!("`{code}` in the `{IGNORE_ANNOTATION}` annotation is not a kedalint rule"),
            )
            .help("see `kubectl kedalint rules` for the codes; remove it or fix the typo");
            continue;
        };
        let before = cx.findings.len();
        cx.findings
            .retain(|f| !(f.code == rule.code && f.object.as_ref() == Some(&reference)));
        if cx.findings.len() == before {
            cx.report(
                &UnusedSuppression::INFO,
                Loc {
                    path: path.clone(),
                    span,
                },
                format!(
                    "`{}` ({}) is ignored for this object but reports nothing here",
                    rule.code, rule.name
                ),
            )
            .help("remove it from the annotation so a real finding is not hidden later");
        }
    }
}

static COMMENT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"#\s*kedalint:\s*ignore\[([^\]]*)\]").expect("valid regex")
});

/// The byte range, within `line`, of the code list of the `# kedalint: ignore[…]` comment the
/// line holds (the first one: only it is read). Editors use it to extend or explain a comment.
#[must_use]
pub fn comment_list(line: &str) -> Option<Range<usize>> {
    COMMENT.captures(line)?.get(1).map(|m| m.range())
}

/// Where a document's root starts, with the document's index: what [`apply_comments`] needs of
/// each document to place a comment in one (`None` for an empty or failed document).
pub(crate) fn document_start(document: &Document) -> Option<(usize, usize)> {
    Some((document.index, document.root.as_ref()?.span.as_ref()?.start))
}

/// Applies `# kedalint: ignore[…]` comments: on the line of a finding, or alone on the line above.
/// `starts` are the [`document_start`]s of the file's documents, in order.
pub(crate) fn apply_comments(cx: &mut Checker<'_>, file: &SourceFile, starts: &[(usize, usize)]) {
    // One search of the whole text first: most files hold no comment at all.
    if !file.text.contains("kedalint") {
        return;
    }
    let mut line_start = 0;
    let mut comments = Vec::new();
    for (i, line) in file.text.split_inclusive('\n').enumerate() {
        // The literal first: a regex search on every line of a large rendered manifest (a
        // `# Source:` comment per document) cost more than the rest of its lint.
        if line.contains("kedalint")
            && let Some(c) = COMMENT.captures(line)
        {
            let whole = c.get(0).map_or(0..0, |m| m.range());
            let own_line = line[..whole.start].trim().is_empty();
            let list = c.get(1).map_or(0..0, |m| m.range());
            comments.push((i + 1, own_line, line_start + list.start, &line[list]));
        }
        line_start += line.len();
    }
    for (line, own_line, offset, list) in comments {
        let document = document_at(starts, offset);
        for (code, range) in codes(list) {
            let span = Some(offset + range.start..offset + range.end);
            let Some(rule) = registry::find(code) else {
                cx.document = document;
                cx.report(
                    &UnknownRuleInSuppression::INFO,
                    Loc {
                        path: FieldPath::root(),
                        span,
                    },
                    format!("`{code}` in a `kedalint: ignore` comment is not a kedalint rule"),
                )
                .help("see `kubectl kedalint rules` for the codes; remove it or fix the typo");
                continue;
            };
            let before = cx.findings.len();
            cx.findings.retain(|f| {
                let Some(s) = &f.span else { return true };
                let fl = file.line_col(s.start).0;
                !(f.code == rule.code && (fl == line || (own_line && fl == line + 1)))
            });
            if cx.findings.len() == before {
                cx.document = document;
                cx.report(
                    &UnusedSuppression::INFO,
                    Loc {
                        path: FieldPath::root(),
                        span,
                    },
                    format!(
                        "`{}` ({}) is ignored here but reports nothing on this line{}",
                        rule.code,
                        rule.name,
                        if own_line { " or the next" } else { "" }
                    ),
                )
                .help("remove the comment so a real finding is not hidden later");
            }
        }
    }
}

/// The document a byte offset falls in.
fn document_at(starts: &[(usize, usize)], offset: usize) -> usize {
    starts
        .iter()
        .filter(|(_, start)| *start <= offset)
        .map(|&(i, _)| i)
        .next_back()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_their_offsets() {
        let list = "KL203, KL109";
        let c = codes(list);
        assert_eq!(c[0], ("KL203", 0..5));
        assert_eq!(&list[c[1].1.clone()], "KL109");
    }
}
