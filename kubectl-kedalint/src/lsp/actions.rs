//! Code actions (a finding's fix, "suppress KLxxx on this line") and hover on suppressed codes.

use std::collections::HashMap;

use kedalint_rules::model::objects_of;
use kedalint_rules::source::{LoadLimits, Node, NodeKind, ScalarStyle, load_stream};
use kedalint_rules::suppression::{codes, comment_list};
use kedalint_rules::{Finding, IGNORE_ANNOTATION, registry};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Hover, HoverContents, MarkupContent,
    MarkupKind, Position, Range, TextEdit, Uri, WorkspaceEdit,
};

use super::engine::{Outcome, diagnostic, rule_page};
use super::text::{Encoding, LineIndex};

/// What an unsafe fix's title gets: it changes how the workload scales.
pub const UNSAFE_MARK: &str = " (unsafe: changes scaling)";

fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn edit(uri: &Uri, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

/// The code actions for the findings whose range touches `range`: each fix as a `quickfix`
/// (preferred unless it changes scaling), then "suppress KLxxx on this line" for every finding
/// a comment can suppress.
#[must_use]
pub fn code_actions(
    uri: &Uri,
    outcome: &Outcome,
    range: Range,
    encoding: Encoding,
    json: bool,
) -> Vec<CodeActionOrCommand> {
    let text = &outcome.file.text;
    let index = LineIndex::new(text);
    // Parsed again only when asked: code actions are rare next to diagnostics.
    let documents = if json {
        Vec::new()
    } else {
        load_stream(text, LoadLimits::default())
    };
    let mut fixes = Vec::new();
    let mut suppressions = Vec::new();
    for f in &outcome.findings {
        let diag = diagnostic(uri, &index, f, encoding);
        if !overlaps(diag.range, range) {
            continue;
        }
        if let Some(fix) = &f.fix {
            let edits = fix
                .edits
                .iter()
                .map(|e| TextEdit {
                    range: index.range(&e.span, encoding),
                    new_text: e.replacement.clone(),
                })
                .collect();
            let title = if fix.changes_behaviour {
                format!("{}{UNSAFE_MARK}", fix.title)
            } else {
                fix.title.clone()
            };
            fixes.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diag.clone()]),
                edit: Some(edit(uri, edits)),
                is_preferred: Some(!fix.changes_behaviour),
                ..CodeAction::default()
            }));
        }
        if json {
            continue;
        }
        let (title, found) = match suppress_edit(text, &index, &documents, f) {
            Some(e) => (format!("suppress {} on this line", f.code), Some(e)),
            // No comment can reach the finding's line: the object's annotation can.
            None => (
                format!("suppress {} for this object ({IGNORE_ANNOTATION})", f.code),
                annotation_edit(text, &documents, f),
            ),
        };
        if let Some((at, insert)) = found {
            let point = index.position(at, encoding);
            suppressions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diag]),
                edit: Some(edit(
                    uri,
                    vec![TextEdit {
                        range: Range::new(point, point),
                        new_text: insert,
                    }],
                )),
                is_preferred: Some(false),
                ..CodeAction::default()
            }));
        }
    }
    fixes.append(&mut suppressions);
    fixes
}

/// Where to insert what so that `# kedalint: ignore[CODE]` suppresses `finding`: the code added
/// to the line's comment when it has one, else a comment at the end of the finding's first line.
/// `None` when that line ends inside a multi-line scalar (a `#` there would be part of the value,
/// not a comment) or the finding has no place in the text.
#[must_use]
pub fn suppress_edit(
    text: &str,
    index: &LineIndex<'_>,
    documents: &[kedalint_rules::source::Document],
    finding: &Finding,
) -> Option<(usize, String)> {
    let span = finding.span.as_ref()?;
    let line = index.position(span.start, Encoding::Utf8).line as usize;
    let start = index.line_start(line)?;
    let end = index.line_end(line);
    let line_text = text[start..end].trim_end_matches('\r');
    if let Some(list) = comment_list(line_text) {
        let listed = codes(&line_text[list.clone()]);
        if listed
            .iter()
            .any(|(c, _)| c.eq_ignore_ascii_case(finding.code))
        {
            return None;
        }
        let sep = if listed.is_empty() { "" } else { ", " };
        let at = start + listed.last().map_or(list.end, |(_, r)| list.start + r.end);
        return Some((at, format!("{sep}{}", finding.code)));
    }
    let at = start + line_text.len();
    let inside = documents
        .iter()
        .filter_map(|d| d.root.as_ref())
        .any(|root| inside_scalar(root, at));
    (!inside).then(|| (at, format!(" # kedalint: ignore[{}]", finding.code)))
}

/// Where to insert what so that the `kedalint.io/ignore` annotation of the finding's object lists
/// its code: added to the annotation's value, else the annotation added to `annotations`, else
/// `annotations` added to `metadata`. Only for block mappings and a one-line annotation value;
/// `None` otherwise (the edit would have to rewrite flow style or a multi-line value).
#[must_use]
pub fn annotation_edit(
    text: &str,
    documents: &[kedalint_rules::source::Document],
    finding: &Finding,
) -> Option<(usize, String)> {
    let wanted = finding.object.as_ref()?;
    let root = documents.get(finding.document)?.root.as_ref()?;
    let object = objects_of(root, finding.document)
        .into_iter()
        .find(|o| o.reference() == *wanted)?;
    let metadata = object.root.get("metadata")?;
    // The first key of a block mapping, with the indentation every key of the mapping has.
    let block_start = |map: &Node| -> Option<(usize, &str)> {
        let key = map.as_map()?.first()?.key.span.as_ref()?.start;
        let line_start = text[..key].rfind('\n').map_or(0, |i| i + 1);
        let indent = &text[line_start..key];
        indent
            .chars()
            .all(|c| c == ' ')
            .then_some((line_start, indent))
    };
    let Some(annotations) = metadata.get("annotations") else {
        let (at, indent) = block_start(metadata)?;
        return Some((
            at,
            format!(
                "{indent}annotations:\n{indent}  {IGNORE_ANNOTATION}: \"{}\"\n",
                finding.code
            ),
        ));
    };
    let Some(value) = annotations.get(IGNORE_ANNOTATION) else {
        let (at, indent) = block_start(annotations)?;
        return Some((
            at,
            format!("{indent}{IGNORE_ANNOTATION}: \"{}\"\n", finding.code),
        ));
    };
    let list = value.as_str()?;
    let span = value.span.as_ref()?;
    if text[span.clone()].contains('\n')
        || codes(list)
            .iter()
            .any(|(c, _)| c.eq_ignore_ascii_case(finding.code))
    {
        return None;
    }
    let sep = if list.trim().is_empty() { "" } else { ", " };
    let at = match value.style()? {
        ScalarStyle::Plain => span.end,
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => span.end - 1,
        _ => return None,
    };
    Some((at, format!("{sep}{}", finding.code)))
}

/// Whether `offset` lies strictly inside a scalar's source text (a multi-line value).
fn inside_scalar(node: &Node, offset: usize) -> bool {
    match &node.kind {
        NodeKind::Scalar { .. } => node
            .span
            .as_ref()
            .is_some_and(|s| s.start < offset && offset < s.end),
        NodeKind::Seq(items) => items.iter().any(|n| inside_scalar(n, offset)),
        NodeKind::Map(entries) => entries
            .iter()
            .any(|e| inside_scalar(&e.key, offset) || inside_scalar(&e.value, offset)),
    }
}

/// Hover on a rule code (or name) listed in a `# kedalint: ignore[…]` comment or in the
/// `kedalint.io/ignore` annotation: the rule's summary and a link to its page.
#[must_use]
pub fn hover(text: &str, position: Position, encoding: Encoding) -> Option<Hover> {
    let index = LineIndex::new(text);
    let line = position.line as usize;
    let start = index.line_start(line)?;
    let line_text = &text[start..index.line_end(line)];
    let at = index.offset(position, encoding) - start;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-';
    let from = line_text[..at]
        .rfind(|c: char| !word(c))
        .map_or(0, |i| i + 1);
    let to = line_text[at..]
        .find(|c: char| !word(c))
        .map_or(line_text.len(), |i| at + i);
    let token = &line_text[from..to];
    let listed = comment_list(line_text).is_some_and(|r| r.start <= from && to <= r.end)
        || line_text
            .find(IGNORE_ANNOTATION)
            .is_some_and(|k| from >= k + IGNORE_ANNOTATION.len());
    if !listed || token.is_empty() {
        return None;
    }
    let rule = registry::find(token)?;
    let page = rule_page(rule.code).map_or_else(String::new, |u| {
        format!("\n\n[{} documentation]({})", rule.code, u.as_str())
    });
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!(
                "**{}** `{}` ({})\n\n{}{page}",
                rule.code,
                rule.name,
                rule.severity,
                rule.summary()
            ),
        }),
        range: Some(index.range(&(start + from..start + to), encoding)),
    })
}

#[cfg(test)]
mod tests {
    use kedalint_rules::{Settings, lint_text};

    use super::*;

    const SEED: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\nspec:\n  scaleTargetRef:\n    name: app\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://prometheus:9090\n        query: sum(rate(http_requests_total[1m]))\n        threshold: \"10\"\n";

    fn suppressed(text: &str, code: &str) -> Option<String> {
        let report = lint_text("so.yaml", text, &Settings::default());
        let finding = report.findings.iter().find(|f| f.code == code)?;
        let index = LineIndex::new(text);
        let docs = load_stream(text, LoadLimits::default());
        let (at, insert) = suppress_edit(text, &index, &docs, finding)?;
        let mut out = text.to_owned();
        out.insert_str(at, &insert);
        Some(out)
    }

    #[test]
    fn suppressing_a_finding_adds_a_comment_that_the_engine_then_honours() {
        let out = suppressed(SEED, "KL202").expect("a suppression for KL202");
        assert!(out.contains("[1m])) # kedalint: ignore[KL202]\n"), "{out}");
        let report = lint_text("so.yaml", &out, &Settings::default());
        assert!(
            report.findings.iter().all(|f| f.code != "KL202"),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn suppressing_on_a_line_with_a_comment_extends_its_list() {
        let text = SEED.replace("[1m]))\n", "[1m])) # kedalint: ignore[KL901]\n");
        let out = suppressed(&text, "KL202").expect("a suppression for KL202");
        assert!(out.contains("# kedalint: ignore[KL901, KL202]\n"), "{out}");
    }

    #[test]
    fn no_comment_is_offered_inside_a_multi_line_query() {
        let text = SEED.replace(
            "query: sum(rate(http_requests_total[1m]))\n",
            "query: |\n          sum(\n            rate(http_requests_total[1m])\n          )\n",
        );
        let report = lint_text("so.yaml", &text, &Settings::default());
        assert!(report.findings.iter().any(|f| f.code == "KL202"));
        assert_eq!(suppressed(&text, "KL202"), None);
    }

    fn annotated(text: &str, code: &str) -> String {
        let report = lint_text("so.yaml", text, &Settings::default());
        let finding = report
            .findings
            .iter()
            .find(|f| f.code == code)
            .expect("the finding");
        let docs = load_stream(text, LoadLimits::default());
        let (at, insert) = annotation_edit(text, &docs, finding).expect("an annotation edit");
        let mut out = text.to_owned();
        out.insert_str(at, &insert);
        let after = lint_text("so.yaml", &out, &Settings::default());
        assert!(
            after.findings.iter().all(|f| f.code != code),
            "{out}\n{:?}",
            after.findings
        );
        out
    }

    #[test]
    fn a_finding_no_comment_can_reach_is_suppressed_by_the_object_annotation() {
        let block = SEED.replace(
            "query: sum(rate(http_requests_total[1m]))\n",
            "query: |\n          sum(\n            rate(http_requests_total[1m])\n          )\n",
        );
        let out = annotated(&block, "KL202");
        assert!(
            out.contains(
                "metadata:\n  annotations:\n    kedalint.io/ignore: \"KL202\"\n  name: so\n"
            ),
            "{out}"
        );
        let with_annotations =
            block.replace("  name: so\n", "  name: so\n  annotations:\n    team: a\n");
        let out = annotated(&with_annotations, "KL202");
        assert!(
            out.contains("  annotations:\n    kedalint.io/ignore: \"KL202\"\n    team: a\n"),
            "{out}"
        );
        let listed = block.replace(
            "  name: so\n",
            "  name: so\n  annotations:\n    kedalint.io/ignore: \"KL203\"\n",
        );
        let out = annotated(&listed, "KL202");
        assert!(
            out.contains("kedalint.io/ignore: \"KL203, KL202\"\n"),
            "{out}"
        );
    }

    #[test]
    fn hover_on_a_code_in_a_comment_or_the_annotation_shows_its_summary() {
        let text = "a: 1 # kedalint: ignore[KL901, KL202]\nmetadata:\n  annotations:\n    kedalint.io/ignore: \"KL203\"\n";
        let summary = |h: Hover| match h.contents {
            HoverContents::Markup(m) => m.value,
            other => panic!("{other:?}"),
        };
        let h = hover(text, Position::new(0, 33), Encoding::Utf16).expect("hover on KL202");
        let rule = registry::find("KL202").unwrap();
        assert!(summary(h).contains(&rule.summary()));
        let h = hover(text, Position::new(3, 30), Encoding::Utf16).expect("hover on KL203");
        assert!(summary(h).starts_with("**KL203**"));
        assert!(hover(text, Position::new(0, 1), Encoding::Utf16).is_none());
    }
}
