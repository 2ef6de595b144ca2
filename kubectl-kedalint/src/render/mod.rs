//! Renderers: the same findings as a user reads them (miette) or as tools read them (JSON, SARIF,
//! GitHub workflow commands, JUnit XML).

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod plot;
pub mod replay;
pub mod sarif;

use kedalint_rules::{FileReport, Note, Severity, SourceFile};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::cli::Format;

/// What renderers get: each file's text (for positions and source lines) and its findings.
#[derive(Debug)]
pub struct Linted {
    /// The file as read.
    pub file: SourceFile,
    /// Its findings.
    pub report: FileReport,
}

/// `value` as pretty-printed JSON to place `depth` levels into a pretty-printed document: the
/// same text `serde_json::to_string_pretty` writes there (a string never holds a raw line break,
/// so indenting after each one only indents lines).
fn fragment(value: &impl Serialize, depth: usize) -> Box<RawValue> {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| {
        serde_json::to_string(&format!("cannot render: {e}")).unwrap_or_default()
    });
    let text = text.replace('\n', &format!("\n{}", "  ".repeat(depth)));
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// One output fed a file at a time in the documented order, so no run holds every file: the human
/// and GitHub formats give each file's text at once; JSON, SARIF and JUnit begin with totals, so
/// they keep each finding rendered (never a file or its tree) until [`Stream::finish`].
pub enum Stream {
    /// Diagnostics, then a summary line from these totals: files, KEDA objects, findings by
    /// severity.
    Human(human::Style, human::Totals),
    /// Workflow commands.
    Github,
    /// The JSON document.
    Json(json::Collect),
    /// The SARIF log.
    Sarif(sarif::Collect),
    /// The JUnit report.
    Junit(junit::Collect),
}

impl Stream {
    /// An output of `format`; `fail_at` is the `--fail-on` threshold (`None` for `never`).
    #[must_use]
    pub fn new(format: Format, style: human::Style, fail_at: Option<Severity>) -> Self {
        match format {
            Format::Human => Self::Human(style, human::Totals::default()),
            Format::Github => Self::Github,
            Format::Json => Self::Json(json::Collect::default()),
            Format::Sarif => Self::Sarif(sarif::Collect::default()),
            Format::Junit => Self::Junit(junit::Collect::new(fail_at)),
        }
    }

    /// Takes the next file; returns what can be written now.
    #[must_use]
    pub fn file(&mut self, linted: &Linted) -> String {
        match self {
            Self::Human(style, totals) => {
                totals.add(linted);
                human::render_file(linted, *style)
            }
            Self::Github => github::render(std::slice::from_ref(linted)),
            Self::Json(c) => {
                c.add(linted);
                String::new()
            }
            Self::Sarif(c) => {
                c.add(linted);
                String::new()
            }
            Self::Junit(c) => {
                c.add(linted);
                String::new()
            }
        }
    }

    /// What is left to write after the last file; `notes` (what the run could not check) go
    /// into the formats that carry them.
    #[must_use]
    pub fn finish(self, notes: &[Note]) -> String {
        match self {
            Self::Human(_, totals) => totals.summary(),
            Self::Github => String::new(),
            Self::Json(c) => c.finish(notes),
            Self::Sarif(c) => c.finish(notes),
            Self::Junit(c) => c.finish(notes),
        }
    }
}
