//! Human output: one miette diagnostic per finding, with the source line and a caret under the
//! exact key or value; per object, a short diagnosis of what KEDA and the HPA report; then a
//! summary line.

use std::fmt::Write as _;

use kedalint_rules::{Finding, ObjectRef, Severity, count_by_severity};
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

/// What KEDA and the HPA report (KL412-KL439), most likely cause of "it does not scale" first:
/// a pause overrides everything; a not-Ready object feeds the HPA nothing; a value that differs
/// from Prometheus comes with its cause; KEDA's own error and a failing scaler explain a metric
/// the HPA cannot get; a wrong target feeds it the wrong threshold; an HPA that cannot scale or
/// sits at its maximum is where the chain ends.
const DIAGNOSIS_ORDER: &[&str] = &[
    "KL417", "KL412", "KL414", "KL419", "KL413", "KL418", "KL416", "KL415",
];

/// Whether a finding reports live KEDA or HPA state (the KL412-KL439 range).
fn is_live_state(code: &str) -> bool {
    ("KL412"..="KL439").contains(&code)
}

/// The short diagnosis of one object: its live-state findings, most likely cause first, each
/// with where it points and the commands that confirm it (unwrapped, to copy and paste).
fn render_diagnosis(linted: &Linted, findings: &[&Finding]) -> String {
    let mut sorted = findings.to_vec();
    sorted.sort_by_key(|f| {
        DIAGNOSIS_ORDER
            .iter()
            .position(|c| *c == f.code)
            .unwrap_or(DIAGNOSIS_ORDER.len())
    });
    let object = sorted.first().and_then(|f| f.object.as_ref()).map_or_else(
        || linted.file.name.clone(),
        |o| {
            format!(
                "{} {}/{}",
                o.kind,
                o.namespace.as_deref().unwrap_or("default"),
                o.name.as_deref().unwrap_or("?")
            )
        },
    );
    let mut out = format!("Diagnosis of {object}, most likely cause first:\n");
    for (i, f) in sorted.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} {} ({}): {}",
            i + 1,
            f.severity,
            f.code,
            f.name,
            f.message
        );
        let _ = writeln!(out, "     at {}", f.path);
        if let Some(help) = &f.help {
            let _ = writeln!(out, "     {help}");
        }
    }
    out
}

/// Renders every file's findings and a summary line; what KEDA and the HPA report about an
/// object is grouped into its diagnosis after its other findings.
#[must_use]
pub fn render(files: &[Linted], style: Style) -> String {
    let mut out = String::new();
    for linted in files {
        let (live, other): (Vec<&Finding>, Vec<&Finding>) = linted
            .report
            .findings
            .iter()
            .partition(|f| is_live_state(f.code));
        for f in other {
            out.push_str(&render_finding(linted, f, style));
            out.push('\n');
        }
        // One diagnosis per object: a file may hold several.
        let mut groups: Vec<(Option<&ObjectRef>, Vec<&Finding>)> = Vec::new();
        for f in live {
            match groups.iter_mut().find(|(o, _)| *o == f.object.as_ref()) {
                Some(g) => g.1.push(f),
                None => groups.push((f.object.as_ref(), vec![f])),
            }
        }
        for (_, findings) in groups {
            out.push_str(&render_diagnosis(linted, &findings));
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
