//! JSON output, format version 1 (DESIGN.md): stable for tools and tests.

use kedalint_rules::{Finding, Note, ObjectRef, count_by_severity};
use serde::Serialize;
use serde_json::value::RawValue;

use super::Linted;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    summary: Summary,
    findings: Vec<&'a RawValue>,
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

/// A finding kept for the end: (index in `names` of its file, line, column, code, its JSON).
type Entry = (
    Option<usize>,
    Option<usize>,
    Option<usize>,
    &'static str,
    Box<RawValue>,
);

/// The JSON document built a file at a time: each finding is rendered as it comes and kept as
/// text with its sort key (never the file or its tree), since the summary comes first.
#[derive(Default)]
pub struct Collect {
    files: usize,
    objects: usize,
    counts: (usize, usize, usize),
    names: Vec<String>,
    /// (index in `names` of the file, line, column, code, the finding's JSON).
    findings: Vec<Entry>,
}

impl Collect {
    /// Adds one file's findings.
    pub fn add(&mut self, linted: &Linted) {
        self.files += 1;
        self.objects += linted.report.objects;
        let (e, w, i) = count_by_severity(&linted.report.findings);
        self.counts = (self.counts.0 + e, self.counts.1 + w, self.counts.2 + i);
        if linted.report.findings.is_empty() {
            return;
        }
        let name = self.names.len();
        self.names.push(linted.file.name.clone());
        for f in &linted.report.findings {
            let j = finding(linted, f);
            // An element of `findings`, two levels into the document.
            let raw = super::fragment(&j, 2);
            let file = j.file.map(|_| name);
            self.findings.push((file, j.line, j.column, f.code, raw));
        }
    }

    /// The whole document, with what the run could not check as `notes`.
    #[must_use]
    pub fn finish(mut self, notes: &[Note]) -> String {
        let names = &self.names;
        let key = |k: &Entry| (k.0.map(|i| names[i].as_str()), k.1, k.2, k.3);
        self.findings.sort_by(|a, b| key(a).cmp(&key(b)));
        let (error, warning, info) = self.counts;
        let out = Output {
            version: 1,
            tool: Tool {
                name: "kedalint",
                version: env!("CARGO_PKG_VERSION"),
            },
            summary: Summary {
                files: self.files,
                objects: self.objects,
                error,
                warning,
                info,
            },
            findings: self.findings.iter().map(|f| &*f.4).collect(),
            notes,
        };
        let mut s = serde_json::to_string_pretty(&out)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}
