//! Human output: one miette diagnostic per finding, with the source line and a caret under the
//! exact key or value, then a summary line.

use std::fmt::Write as _;

use kedalint_rules::{Finding, Severity, count_by_severity};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};

use super::Linted;

/// Rendering options.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Wrap width.
    pub width: usize,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            color: false,
            width: 80,
        }
    }
}

/// Renders one finding of a file.
#[must_use]
pub fn render_finding(linted: &Linted, finding: &Finding, style: Style) -> String {
    let severity = match finding.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    };
    let mut diag = MietteDiagnostic::new(finding.message.clone())
        .with_code(format!("{}/{}", finding.code, finding.name))
        .with_severity(severity);
    if let Some(help) = &finding.help {
        diag = diag.with_help(help.clone());
    }
    let label = if finding.path.segments().is_empty() {
        None
    } else {
        Some(finding.path.to_string())
    };
    if let Some(span) = &finding.span {
        diag = diag.with_label(LabeledSpan::new(
            label,
            span.start,
            span.end.saturating_sub(span.start),
        ));
    }
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let report = Report::new(diag).with_source_code(NamedSource::new(
        linted.file.name.clone(),
        linted.file.text.clone(),
    ));
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        let _ = writeln!(
            out,
            "{}: {} {}: {}",
            linted.file.name, finding.severity, finding.code, finding.message
        );
    }
    if finding.span.is_none() {
        // No text to point at (should not happen for file input): say where in the object.
        let _ = writeln!(out, "  at {} in {}", finding.path, linted.file.name);
    }
    out
}

/// Renders every file's findings and a summary line.
#[must_use]
pub fn render(files: &[Linted], style: Style) -> String {
    let mut out = String::new();
    for linted in files {
        for f in &linted.report.findings {
            out.push_str(&render_finding(linted, f, style));
            out.push('\n');
        }
    }
    let (e, w, i) = count_by_severity(files.iter().flat_map(|l| &l.report.findings));
    let objects: usize = files.iter().map(|l| l.report.objects).sum();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if e + w + i == 0 {
        let _ = writeln!(
            out,
            "No problems found in {} ({}).",
            plural(files.len(), "file"),
            plural(objects, "KEDA object")
        );
    } else {
        let _ = writeln!(
            out,
            "Found {}, {}, {} in {} ({}).",
            plural(e, "error"),
            plural(w, "warning"),
            plural(i, "info"),
            plural(files.len(), "file"),
            plural(objects, "KEDA object")
        );
    }
    out
}
