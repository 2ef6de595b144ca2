//! SARIF 2.1.0 output, for code scanning (GitHub, GitLab, Azure DevOps) and any SARIF viewer.
//!
//! Regions use SARIF's default column unit, UTF-16 code units, so a viewer underlines the same
//! characters the human output does even after a non-ASCII character on the line. Paths are
//! relative URIs against `%SRCROOT%`, the directory the command ran in (`originalUriBaseIds`).

use std::io::Write;
use std::ops::Range;

use kedalint_rules::{Finding, Fix, Note, RuleInfo, Severity, SourceFile, registry};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::Linted;
use super::spill::{self, Spill};
use crate::Result;

/// Where the rule pages live; `helpUri` of each rule.
pub const RULE_DOCS: &str = "https://github.com/kedalint/kedalint/blob/main/docs/rules";
const INFORMATION_URI: &str = "https://github.com/kedalint/kedalint";
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encodes a path into a URI reference: unreserved characters and `/` stay as they are.
#[must_use]
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn artifact(name: &str) -> Value {
    if name.starts_with('/') {
        json!({ "uri": format!("file://{}", uri_path(name)) })
    } else {
        json!({ "uri": uri_path(name), "uriBaseId": SRCROOT })
    }
}

/// 1-based line and 1-based column in UTF-16 code units of a byte offset.
#[must_use]
pub fn utf16_line_col(file: &SourceFile, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(file.text.len());
    while !file.text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (line, _) = file.line_col(offset);
    let start = file.text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line, file.text[start..offset].encode_utf16().count() + 1)
}

fn region(file: &SourceFile, span: &Range<usize>) -> Value {
    let (start_line, start_column) = utf16_line_col(file, span.start);
    let (end_line, end_column) = utf16_line_col(file, span.end);
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

/// The whole lines a span is on, with their text: what a viewer shows around the finding.
fn context_region(file: &SourceFile, span: &Range<usize>) -> Value {
    let (first, _) = file.line_col(span.start);
    let (last, _) = file.line_col(span.end);
    let text: Vec<&str> = (first..=last).filter_map(|l| file.line_text(l)).collect();
    json!({
        "startLine": first,
        "endLine": last,
        "snippet": { "text": format!("{}\n", text.join("\n")) },
    })
}

/// The Markdown of one `## Heading` section of a rule's documentation.
fn section(rule: &RuleInfo, heading: &str) -> String {
    let doc: Vec<&str> = rule
        .doc
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let mut out = Vec::new();
    let mut inside = false;
    for line in doc {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.trim() == heading;
            continue;
        }
        if inside {
            out.push(line);
        }
    }
    out.join("\n").trim().to_owned()
}

fn sentence(s: &str) -> String {
    let s = s.trim();
    if s.ends_with(['.', '!', '?']) {
        s.to_owned()
    } else {
        format!("{s}.")
    }
}

fn rule(r: &RuleInfo) -> Value {
    let what = section(r, "What it does");
    let why = section(r, "Why is this bad?");
    let full = format!("{what}\n\n{why}");
    let help_uri = format!("{RULE_DOCS}/{}.md", r.code);
    json!({
        "id": r.code,
        "name": r.name,
        "shortDescription": { "text": sentence(&r.summary()) },
        "fullDescription": { "text": full.trim(), "markdown": full.trim() },
        "help": {
            "text": format!("{} See {help_uri}", sentence(&r.summary())),
            "markdown": registry::markdown_page(r),
        },
        "helpUri": help_uri,
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": { "tags": ["keda", r.group().title()] },
    })
}

fn fix(file: &SourceFile, fix: &Fix) -> Value {
    let replacements: Vec<Value> = fix
        .edits
        .iter()
        .map(|e| {
            json!({
                "deletedRegion": region(file, &e.span),
                "insertedContent": { "text": e.replacement },
            })
        })
        .collect();
    json!({
        "description": { "text": sentence(&fix.title) },
        "artifactChanges": [{
            "artifactLocation": artifact(&file.name),
            "replacements": replacements,
        }],
        "properties": { "changesBehaviour": fix.changes_behaviour },
    })
}

fn result(linted: &Linted, f: &Finding) -> Value {
    let file = &linted.file;
    let mut physical = json!({ "artifactLocation": artifact(&file.name) });
    if let Some(span) = &f.span {
        let mut r = region(file, span);
        if let Some(text) = file.text.get(span.clone()).filter(|t| !t.is_empty()) {
            r["snippet"] = json!({ "text": text });
        }
        physical["region"] = r;
        physical["contextRegion"] = context_region(file, span);
    }
    let mut location = json!({ "physicalLocation": physical });
    let path = f.path.to_string();
    if !path.is_empty() {
        let qualified = match &f.object {
            Some(o) => format!("{o}: {path}"),
            None => path.clone(),
        };
        location["logicalLocations"] = json!([{
            "name": path,
            "fullyQualifiedName": qualified,
            "kind": "property",
        }]);
    }
    let text = match &f.help {
        Some(help) => format!("{}\nhelp: {help}", sentence(&f.message)),
        None => sentence(&f.message),
    };
    let mut out = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [location],
        "properties": {
            "name": f.name,
            "document": f.document,
            "object": f.object,
            "path": path,
        },
    });
    if let Some(i) = registry::RULES.iter().position(|r| r.code == f.code) {
        out["ruleIndex"] = json!(i);
    }
    if let Some(x) = &f.fix
        && f.span.is_some()
        && !x.edits.is_empty()
    {
        out["fixes"] = json!([fix(file, x)]);
    }
    out
}

/// The working directory as a `file://` URI ending in `/`, the base of every relative path.
fn srcroot() -> Option<String> {
    let dir = std::env::current_dir().ok()?;
    let dir = dir.to_str()?.trim_end_matches('/');
    Some(format!("file://{}/", uri_path(dir)))
}

/// A note as a SARIF `notification` at level `warning`: the object and field as a logical
/// location, the server as a property.
fn notification(n: &Note) -> Value {
    let mut out = json!({
        "level": "warning",
        "message": { "text": sentence(&n.message) },
    });
    if let Some(place) = n.place() {
        out["locations"] = json!([{ "logicalLocations": [{
            "name": n.path.clone().unwrap_or_else(|| place.clone()),
            "fullyQualifiedName": place,
            "kind": if n.path.is_some() { "property" } else { "object" },
        }]}]);
    }
    out["properties"] = json!({ "object": n.object, "path": n.path, "server": n.server });
    out
}

/// Where the results go in the log that [`Log`] writes with none: after the head, before the
/// tail (no string holds a raw line break, so this is the key).
const RESULTS: &str = "\n      \"results\": []";

/// The SARIF log built a file at a time: the notes come first (as notifications of the
/// invocation), so each result is rendered as it comes and held back as text (in memory up to a
/// threshold, then in a temporary file). A log of `Value`s, a map node per object for every region
/// of every finding, took hundreds of megabytes for ten thousand findings.
pub struct Collect {
    held: Spill,
}

impl Collect {
    /// An empty log that holds back up to `threshold` bytes in memory.
    #[must_use]
    pub fn new(threshold: usize) -> Self {
        Self {
            held: Spill::new(threshold),
        }
    }

    /// Adds one file's results.
    ///
    /// # Errors
    /// The temporary file cannot be written.
    pub fn add(&mut self, linted: &Linted) -> Result<()> {
        let mut text = Vec::new();
        for f in &linted.report.findings {
            // An element of `runs[0].results`, four levels into the log, with the comma before it.
            text.extend_from_slice(b",\n        ");
            super::fragment(&mut text, &result(linted, f), 4);
            super::spill::pass_on(&mut text, &mut self.held)?;
        }
        self.held.write(&text)
    }

    /// Writes the whole log to `out` (called `name` in an error); what the run could not check
    /// goes to `invocations[0].toolExecutionNotifications`.
    ///
    /// # Errors
    /// The temporary file cannot be read, or `out` cannot be written.
    pub fn finish(self, notes: &[Note], out: &mut dyn Write, name: &str) -> Result<()> {
        let log = Log {
            schema: SCHEMA,
            runs: [Run {
                column_kind: "utf16CodeUnits",
                invocations: json!([{
                    "executionSuccessful": true,
                    "toolExecutionNotifications": notes.iter().map(notification).collect::<Vec<_>>(),
                }]),
                original_uri_base_ids: srcroot().map(|root| json!({ SRCROOT: { "uri": root } })),
                results: Vec::new(),
                tool: json!({
                    "driver": {
                        "name": "kedalint",
                        "version": env!("CARGO_PKG_VERSION"),
                        "semanticVersion": env!("CARGO_PKG_VERSION"),
                        "informationUri": INFORMATION_URI,
                        "rules": registry::RULES.iter().map(rule).collect::<Vec<_>>(),
                    }
                }),
            }],
            version: "2.1.0",
        };
        let mut text = serde_json::to_string_pretty(&log)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        let Some(at) = text.find(RESULTS) else {
            return spill::write(out, name, text.as_bytes());
        };
        let (head, tail) = text.split_at(at + RESULTS.len() - 1);
        spill::write(out, name, head.as_bytes())?;
        let len = self.held.len();
        if len > 0 {
            // The first result has no comma before it.
            self.held.done()?.copy(1..len, out, name)?;
            spill::write(out, name, b"\n      ")?;
        }
        spill::write(out, name, tail.as_bytes())
    }
}

/// The log: fields in the order a `Value` map writes them (sorted), so the output is the same.
#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run; 1],
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    column_kind: &'static str,
    invocations: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<Value>,
    results: Vec<Box<RawValue>>,
    tool: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_code_units() {
        let f = SourceFile::new("x", "a: \"é😀x\"\n");
        let x = f.text.find('x').unwrap();
        // é is one UTF-16 unit, 😀 two: `a: "` (4) + 1 + 2 = column 8 for x.
        assert_eq!(utf16_line_col(&f, x), (1, 8));
        assert_eq!(f.line_col(x), (1, 7));
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri_path("deploy/a b%.yaml"), "deploy/a%20b%25.yaml");
        assert_eq!(uri_path("<stdin>"), "%3Cstdin%3E");
    }
}
