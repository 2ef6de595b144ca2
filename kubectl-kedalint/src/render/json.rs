//! JSON output, format version 1 (DESIGN.md): stable for tools and tests.

use kedalint_rules::{Finding, Note, ObjectRef, count_by_severity};
use serde::Serialize;

use super::Linted;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    /// What the run could not check (always present, possibly empty).
    notes: &'a [Note],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    objects: usize,
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    name: &'a str,
    severity: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    document: usize,
    object: Option<&'a ObjectRef>,
    path: String,
}

fn finding<'a>(linted: &'a Linted, f: &'a Finding) -> JsonFinding<'a> {
    let (start, end) = f.span.as_ref().map_or((None, None), |s| {
        (
            Some(linted.file.line_col(s.start)),
            Some(linted.file.line_col(s.end)),
        )
    });
    JsonFinding {
        code: f.code,
        name: f.name,
        severity: f.severity.as_str(),
        message: &f.message,
        help: f.help.as_deref(),
        // Objects read from the cluster have no file.
        file: (!linted.file.name.starts_with(crate::online::CLUSTER_PREFIX))
            .then_some(linted.file.name.as_str()),
        line: start.map(|p| p.0),
        column: start.map(|p| p.1),
        end_line: end.map(|p| p.0),
        end_column: end.map(|p| p.1),
        document: f.document,
        object: f.object.as_ref(),
        path: f.path.to_string(),
    }
}

/// Renders the JSON document of a run with nothing left unchecked.
#[must_use]
pub fn render(files: &[Linted]) -> String {
    render_with_notes(files, &[])
}

/// Renders the JSON document, with what the run could not check as `notes`.
#[must_use]
pub fn render_with_notes(files: &[Linted], notes: &[Note]) -> String {
    let mut findings: Vec<JsonFinding<'_>> = files
        .iter()
        .flat_map(|l| l.report.findings.iter().map(move |f| finding(l, f)))
        .collect();
    findings.sort_by(|a, b| {
        (a.file, a.line, a.column, a.code).cmp(&(b.file, b.line, b.column, b.code))
    });
    let (error, warning, info) = count_by_severity(files.iter().flat_map(|l| &l.report.findings));
    let out = Output {
        version: 1,
        tool: Tool {
            name: "kedalint",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: Summary {
            files: files.len(),
            objects: files.iter().map(|l| l.report.objects).sum(),
            error,
            warning,
            info,
        },
        findings,
        notes,
    };
    let mut s =
        serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
