//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, which
//! the runner turns into an annotation on the file and line of the pull request.

use std::fmt::Write as _;

use kedalint_rules::{Finding, Severity};

use super::Linted;

/// Escapes a command's message: `%`, CR and LF (the runner decodes them).
#[must_use]
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: like the message, plus `:` and `,`, which separate properties.
#[must_use]
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command for a finding.
#[must_use]
pub fn command(linted: &Linted, f: &Finding) -> String {
    let level = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = format!("file={}", escape_property(&linted.file.name));
    if let Some(span) = &f.span {
        let (line, col) = linted.file.line_col(span.start);
        let (end_line, end_col) = linted.file.line_col(span.end);
        let _ = write!(props, ",line={line},endLine={end_line}");
        // Annotations take columns only on a single line (GitHub drops them otherwise).
        if line == end_line {
            let _ = write!(props, ",col={col},endColumn={end_col}");
        }
    }
    let _ = write!(
        props,
        ",title={}",
        escape_property(&format!("{} {}", f.code, f.name))
    );
    let message = match &f.help {
        Some(help) => format!("{}\nhelp: {help}", f.message),
        None => f.message.clone(),
    };
    format!("::{level} {props}::{}\n", escape_data(&message))
}

/// Renders every finding as a workflow command, in file and position order.
#[must_use]
pub fn render(files: &[Linted]) -> String {
    files
        .iter()
        .flat_map(|l| l.report.findings.iter().map(move |f| command(l, f)))
        .collect()
}
