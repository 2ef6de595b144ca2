//! Human output: one miette diagnostic per finding, with the source line and a caret under the
//! exact key or value; per object, a short diagnosis of what KEDA and the HPA report; then a
//! summary line.

use std::fmt::Write as _;
use std::sync::Arc;

use kedalint_rules::{Finding, ObjectRef, Severity, count_by_severity};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, MietteError,
    MietteSpanContents, NamedSource, Report, SourceCode, SourceSpan, SpanContents,
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

/// A file's text as miette reads it, with the line starts miette counts (after `\n`, `\r\n` and a
/// lone `\r`) computed once per file: miette's own reader scans the text from its first byte on
/// every read, which made each diagnostic cost the whole file. Each read hands miette only the
/// lines from a little before the span, so it reports the same lines, columns and snippet.
#[derive(Clone)]
struct Source {
    text: Arc<str>,
    line_starts: Arc<[usize]>,
}

impl Source {
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let lone_cr = b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if b == b'\n' || lone_cr {
                line_starts.push(i + 1);
            }
        }
        Self {
            text: Arc::from(text),
            line_starts: line_starts.into(),
        }
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let line = self
            .line_starts
            .partition_point(|&s| s <= span.offset())
            .saturating_sub(1);
        // One line more than the context, so miette sees whole lines before the span and never a
        // span at the window's first byte: what it counts from there equals a count from the start.
        let first = line.saturating_sub(context_lines_before + 2);
        let base = self.line_starts[first];
        let window = &self.text.as_bytes()[base..];
        let local = SourceSpan::new((span.offset() - base).into(), span.len());
        let c = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new(
            c.data(),
            SourceSpan::new((c.span().offset() + base).into(), c.span().len()),
            c.line() + first,
            c.column(),
            c.line_count() + first,
        )))
    }
}

/// Renders one finding of a file.
#[must_use]
pub fn render_finding(linted: &Linted, finding: &Finding, style: Style) -> String {
    render_with(linted, &Source::new(&linted.file.text), finding, style)
}

fn render_with(linted: &Linted, source: &Source, finding: &Finding, style: Style) -> String {
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
    let report = Report::new(diag)
        .with_source_code(NamedSource::new(linted.file.name.clone(), source.clone()));
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

/// One file's findings, each followed by a blank line; what KEDA and the HPA report about an
/// object is grouped into its diagnosis after the file's other findings.
///
/// # Errors
/// What `emit` returns: each diagnostic is handed to it as it is rendered, so a file of many
/// findings is never held as one text.
pub fn render_file(
    linted: &Linted,
    style: Style,
    emit: &mut dyn FnMut(&[u8]) -> crate::Result<()>,
) -> crate::Result<()> {
    if linted.report.findings.is_empty() {
        return Ok(());
    }
    let source = Source::new(&linted.file.text);
    let (live, other): (Vec<&Finding>, Vec<&Finding>) = linted
        .report
        .findings
        .iter()
        .partition(|f| is_live_state(f.code));
    for f in other {
        let mut text = render_with(linted, &source, f, style);
        text.push('\n');
        emit(text.as_bytes())?;
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
        let mut text = render_diagnosis(linted, &findings);
        text.push('\n');
        emit(text.as_bytes())?;
    }
    Ok(())
}

/// What the summary line counts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    files: usize,
    objects: usize,
    error: usize,
    warning: usize,
    info: usize,
}

impl Totals {
    /// Counts one more file.
    pub fn add(&mut self, linted: &Linted) {
        let (e, w, i) = count_by_severity(&linted.report.findings);
        self.files += 1;
        self.objects += linted.report.objects;
        self.error += e;
        self.warning += w;
        self.info += i;
    }

    /// The summary line.
    #[must_use]
    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let (files, objects) = (
            plural(self.files, "file"),
            plural(self.objects, "KEDA object"),
        );
        if self.error + self.warning + self.info == 0 {
            format!("No problems found in {files} ({objects}).\n")
        } else {
            format!(
                "Found {}, {}, {} in {files} ({objects}).\n",
                plural(self.error, "error"),
                plural(self.warning, "warning"),
                plural(self.info, "info"),
            )
        }
    }
}
