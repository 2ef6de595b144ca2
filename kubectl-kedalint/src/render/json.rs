//! JSON output, format version 1 (DESIGN.md): stable for tools and tests.

use std::io::Write;
use std::ops::Range;

use kedalint_rules::{Finding, Note, ObjectRef, count_by_severity};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::Linted;
use super::spill::{self, Spill, Spilled};
use crate::Result;

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

/// One file's findings in the held-back text: sorted among themselves, each written as
/// `,\n    {...}` (an element of `findings` with the comma before it).
struct Run {
    /// The file's name; `None` for objects read from the cluster (they have no file).
    file: Option<String>,
    bytes: Range<u64>,
}

/// Where the findings go in the document that [`Output`] writes with none: after the head,
/// before the tail (no string holds a raw line break, so this is the key).
const FINDINGS: &str = "\n  \"findings\": []";

/// The JSON document built a file at a time: the summary comes first, so each file's findings are
/// rendered as they come, sorted, and held back (in memory up to a threshold, then in a temporary
/// file) with only the file's name kept to order them at the end.
pub struct Collect {
    files: usize,
    objects: usize,
    counts: (usize, usize, usize),
    held: Spill,
    runs: Vec<Run>,
}

/// Sort key of a finding within its file: line, column, code.
type Key<C> = (Option<usize>, Option<usize>, C);

impl Collect {
    /// An empty document that holds back up to `threshold` bytes in memory.
    #[must_use]
    pub fn new(threshold: usize) -> Self {
        Self {
            files: 0,
            objects: 0,
            counts: (0, 0, 0),
            held: Spill::new(threshold),
            runs: Vec::new(),
        }
    }

    /// Adds one file's findings.
    ///
    /// # Errors
    /// The temporary file cannot be written.
    pub fn add(&mut self, linted: &Linted) -> Result<()> {
        self.files += 1;
        self.objects += linted.report.objects;
        let (e, w, i) = count_by_severity(&linted.report.findings);
        self.counts = (self.counts.0 + e, self.counts.1 + w, self.counts.2 + i);
        if linted.report.findings.is_empty() {
            return Ok(());
        }
        let mut entries: Vec<(Key<&str>, JsonFinding<'_>)> = linted
            .report
            .findings
            .iter()
            .map(|f| {
                let j = finding(linted, f);
                ((j.line, j.column, f.code), j)
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let start = self.held.len();
        let mut text = Vec::new();
        for (_, j) in &entries {
            // An element of `findings`, two levels into the document.
            text.extend_from_slice(b",\n    ");
            super::fragment(&mut text, j, 2);
            super::spill::pass_on(&mut text, &mut self.held)?;
        }
        self.held.write(&text)?;
        let file = (!linted.file.name.starts_with(crate::online::CLUSTER_PREFIX))
            .then(|| linted.file.name.clone());
        self.runs.push(Run {
            file,
            bytes: start..self.held.len(),
        });
        Ok(())
    }

    /// Writes the whole document to `out` (called `name` in an error), with what the run could not
    /// check as `notes`. Findings are in the order of file name (objects from the cluster first),
    /// line, column, code; a file given twice, or objects from the cluster, have their findings
    /// merged in that order (read back into memory, those files only).
    ///
    /// # Errors
    /// The temporary file cannot be read, or `out` cannot be written.
    pub fn finish(mut self, notes: &[Note], out: &mut dyn Write, name: &str) -> Result<()> {
        let (error, warning, info) = self.counts;
        let document = Output {
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
            findings: Vec::new(),
            notes,
        };
        let mut text = serde_json::to_string_pretty(&document)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        let Some(at) = text.find(FINDINGS) else {
            return spill::write(out, name, text.as_bytes());
        };
        let (head, tail) = text.split_at(at + FINDINGS.len() - 1);
        spill::write(out, name, head.as_bytes())?;
        self.runs.sort_by(|a, b| a.file.cmp(&b.file));
        let held = std::mem::replace(&mut self.held, Spill::new(0)).done()?;
        // The first element has no comma before it.
        let mut skip = 1;
        let mut runs = self.runs.iter().peekable();
        while let Some(run) = runs.next() {
            let mut group = vec![run];
            while let Some(next) = runs.next_if(|r| r.file == run.file) {
                group.push(next);
            }
            if let [one] = group[..] {
                held.copy(one.bytes.start + skip..one.bytes.end, out, name)?;
            } else {
                let merged = merge(&held, &group)?;
                spill::write(
                    out,
                    name,
                    &merged.as_bytes()[usize::try_from(skip).unwrap_or(0)..],
                )?;
            }
            skip = 0;
        }
        if skip == 0 {
            spill::write(out, name, b"\n  ")?;
        }
        spill::write(out, name, tail.as_bytes())
    }
}

/// The findings of several runs of one file name, sorted together (stably: a run's findings
/// before a later run's with the same key), as the runs are written.
fn merge(held: &Spilled, group: &[&Run]) -> Result<String> {
    #[derive(Deserialize)]
    struct Place {
        code: String,
        line: Option<usize>,
        column: Option<usize>,
    }
    let mut entries: Vec<(Key<String>, String)> = Vec::new();
    for run in group {
        let bytes = held.read(run.bytes.clone())?;
        let text = String::from_utf8_lossy(&bytes);
        // Every element begins `,\n    {` and nothing inside one does (it is indented deeper).
        for element in text.split(",\n    {").filter(|e| !e.is_empty()) {
            let element = format!("{{{element}");
            let key = serde_json::from_str::<Place>(&element)
                .map(|p| (p.line, p.column, p.code))
                .unwrap_or_default();
            entries.push((key, element));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries
        .into_iter()
        .map(|(_, e)| format!(",\n    {e}"))
        .collect())
}
