//! JUnit XML: a `<testsuite>` per file and a `<testcase>` per KEDA object (`kind namespace/name`),
//! so CI systems that read test reports (GitLab, Jenkins, Azure DevOps) show one line per object.
//!
//! Findings at or above the `--fail-on` threshold are `<failure>` elements (the test fails exactly
//! when the exit code says so); the rest are lines of the case's `<system-out>`. Findings that
//! belong to no object (a document that does not parse) get a case named after their document.
//! What the run could not check (notes) is the `<system-err>` of a last suite, `kedalint notes`,
//! present only when there are notes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

use kedalint_rules::model::objects_of;
use kedalint_rules::source::{LoadLimits, documents};
use kedalint_rules::{Finding, Note, ObjectRef, Severity};

use super::Linted;
use super::spill::{self, Spill};
use crate::Result;

/// Escapes text for XML 1.0 content and attribute values; characters XML 1.0 cannot carry at
/// all (control characters other than tab, LF, CR) become U+FFFD.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value: escaped, with line breaks kept as character references (a parser would
/// otherwise turn them into spaces).
fn attr(s: &str) -> String {
    escape(s).replace('\n', "&#10;").replace('\r', "&#13;")
}

struct Case<'a> {
    name: String,
    key: (usize, Option<ObjectRef>),
    findings: Vec<&'a Finding>,
}

fn line(linted: &Linted, f: &Finding) -> String {
    let at = f.span.as_ref().map_or_else(
        || linted.file.name.clone(),
        |s| {
            let (l, c) = linted.file.line_col(s.start);
            format!("{}:{l}:{c}", linted.file.name)
        },
    );
    let mut out = format!("{at}: {} {} {}: {}", f.severity, f.code, f.name, f.message);
    if let Some(help) = &f.help {
        let _ = write!(out, "\n  help: {help}");
    }
    out
}

fn cases(linted: &Linted) -> Vec<Case<'_>> {
    let mut cases: Vec<Case<'_>> = Vec::new();
    // One document's tree at a time, as the lint pass reads them.
    for doc in documents(&linted.file.text, LoadLimits::default()) {
        let Some(root) = &doc.root else { continue };
        for o in objects_of(root, doc.index).iter().filter(|o| o.is_keda()) {
            let r = o.reference();
            cases.push(Case {
                name: r.to_string(),
                key: (doc.index, Some(r)),
                findings: Vec::new(),
            });
        }
    }
    // The first case with each key, found by hashing: a scan per finding was quadratic in a file
    // of many objects.
    let mut index: HashMap<(usize, Option<ObjectRef>), usize> = HashMap::new();
    for (i, c) in cases.iter().enumerate() {
        index.entry(c.key.clone()).or_insert(i);
    }
    for f in &linted.report.findings {
        let key = (f.document, f.object.clone());
        if let Some(&i) = index.get(&key) {
            cases[i].findings.push(f);
        } else {
            index.insert(key.clone(), cases.len());
            cases.push(Case {
                name: match &f.object {
                    Some(o) => o.to_string(),
                    None => format!("document {}", f.document + 1),
                },
                key,
                findings: vec![f],
            });
        }
    }
    cases
}

/// The suite that carries notes: no test cases, one `<system-err>` line per note.
fn notes_suite(notes: &[Note]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = notes
        .iter()
        .map(|n| {
            let mut l = format!("note: {n}");
            if let Some(server) = &n.server {
                let _ = write!(l, " [server {server}]");
            }
            escape(&l)
        })
        .collect();
    format!(
        "  <testsuite name=\"kedalint notes\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\">\n    <system-err>{}</system-err>\n  </testsuite>\n",
        lines.join("\n")
    )
}

/// The report built a file at a time: the totals come first, so each file's suite is rendered as
/// it comes and held back (in memory up to a threshold, then in a temporary file).
pub struct Collect {
    fail_at: Option<Severity>,
    held: Spill,
    tests: usize,
    failures: usize,
}

impl Collect {
    /// An empty report; `fail_at` is the `--fail-on` threshold (`None` for `never`); up to
    /// `threshold` bytes are held back in memory.
    #[must_use]
    pub fn new(fail_at: Option<Severity>, threshold: usize) -> Self {
        Self {
            fail_at,
            held: Spill::new(threshold),
            tests: 0,
            failures: 0,
        }
    }

    /// Adds one file's suite.
    ///
    /// # Errors
    /// The temporary file cannot be written.
    pub fn add(&mut self, linted: &Linted) -> Result<()> {
        let fail_at = self.fail_at;
        let fails = |f: &Finding| fail_at.is_some_and(|t| f.severity >= t);
        // Handed on as it grows (see `spill::pass_on`): one file may hold thousands of cases.
        let mut suite: Vec<u8> = Vec::new();
        let cases = cases(linted);
        let failed = cases
            .iter()
            .filter(|c| c.findings.iter().any(|f| fails(f)))
            .count();
        self.tests += cases.len();
        self.failures += failed;
        let name = attr(&linted.file.name);
        let _ = writeln!(
            suite,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">",
            cases.len()
        );
        for case in &cases {
            spill::pass_on(&mut suite, &mut self.held)?;
            let _ = write!(
                suite,
                "    <testcase classname=\"{name}\" name=\"{}\"",
                attr(&case.name)
            );
            if case.findings.is_empty() {
                suite.extend_from_slice(b"/>\n");
                continue;
            }
            suite.extend_from_slice(b">\n");
            let mut out = Vec::new();
            for f in &case.findings {
                if fails(f) {
                    let _ = writeln!(
                        suite,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        f.code,
                        attr(&format!("{} {}: {}", f.code, f.name, f.message)),
                        escape(&line(linted, f))
                    );
                } else {
                    out.push(escape(&line(linted, f)));
                }
            }
            if !out.is_empty() {
                let _ = writeln!(suite, "      <system-out>{}</system-out>", out.join("\n"));
            }
            suite.extend_from_slice(b"    </testcase>\n");
        }
        suite.extend_from_slice(b"  </testsuite>\n");
        self.held.write(&suite)
    }

    /// Writes the whole report to `out` (called `name` in an error), with what the run could not
    /// check as the `<system-err>` of a last suite.
    ///
    /// # Errors
    /// The temporary file cannot be read, or `out` cannot be written.
    pub fn finish(self, notes: &[Note], out: &mut dyn std::io::Write, name: &str) -> Result<()> {
        let head = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kedalint\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n",
            self.tests, self.failures,
        );
        spill::write(out, name, head.as_bytes())?;
        let len = self.held.len();
        self.held.done()?.copy(0..len, out, name)?;
        let tail = format!("{}</testsuites>\n", notes_suite(notes));
        spill::write(out, name, tail.as_bytes())
    }
}
