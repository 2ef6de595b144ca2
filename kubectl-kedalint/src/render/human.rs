//! Human output: one miette diagnostic per finding, with the source line and a caret under the
//! exact key or value, then a summary line.

use std::fmt::Write as _;
use std::sync::Arc;

use kedalint_rules::{Finding, Severity, count_by_severity};
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

/// One file's findings, each followed by a blank line.
#[must_use]
pub fn render_file(linted: &Linted, style: Style) -> String {
    let mut out = String::new();
    if linted.report.findings.is_empty() {
        return out;
    }
    let source = Source::new(&linted.file.text);
    for f in &linted.report.findings {
        out.push_str(&render_with(linted, &source, f, style));
        out.push('\n');
    }
    out
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

/// Renders every file's findings and a summary line.
#[must_use]
pub fn render(files: &[Linted], style: Style) -> String {
    let mut out = String::new();
    let mut totals = Totals::default();
    for linted in files {
        totals.add(linted);
        out.push_str(&render_file(linted, style));
    }
    out.push_str(&totals.summary());
    out
}
