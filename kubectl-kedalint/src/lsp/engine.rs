//! Linting one editor document with the CLI's engine, and turning findings into diagnostics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use kedalint_rules::facts::Facts;
use kedalint_rules::lint::ParsedFile;
use kedalint_rules::source::MAX_INPUT_BYTES;
use kedalint_rules::{Finding, Note, Settings, Severity, SourceFile};
use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Range, Uri,
};

use super::text::{Encoding, LineIndex};
use crate::render::sarif::RULE_DOCS;
use crate::run::{lint_parsed_all, parse_all};

/// What the server calls itself in diagnostics (`source`).
pub const SOURCE: &str = "kedalint";

/// A document's text as linted, and what linting found.
#[derive(Debug)]
pub struct Outcome {
    /// The text as linted (offsets of findings point into it).
    pub file: SourceFile,
    /// The findings (a crash becomes [`Outcome::crash`] instead).
    pub findings: Vec<Finding>,
    /// Why linting did not finish: a panic's message.
    pub crash: Option<String>,
    /// Notes from online checks (what could not be checked).
    pub notes: Vec<Note>,
}

/// Whether `text` can hold anything the engine reports on: a KEDA object (`keda.sh`,
/// `keda.k8s.io`), a suppression comment (`kedalint`), or a bare trigger fragment (`triggers`, or
/// `type` with `metadata`). Anything else gets an empty diagnostic list without waiting.
#[must_use]
pub fn may_hold_keda(text: &str) -> bool {
    text.contains("keda")
        || text.contains("triggers")
        || (text.contains("type") && text.contains("metadata"))
}

/// The file the engine reads for a document: over the CLI's input limit it is not parsed, and
/// the engine reports one `KL001` naming the size, as the CLI does for such a file.
#[must_use]
pub fn source_file(name: &str, text: &str) -> SourceFile {
    if text.len() > MAX_INPUT_BYTES {
        SourceFile::oversized(name, Some(text.len() as u64))
    } else {
        SourceFile::new(name, text)
    }
}

/// Lints one document as `kubectl kedalint FILE` would (the document is its own inventory),
/// probing Prometheus first when `online`. A panic anywhere in it is caught and returned as
/// [`Outcome::crash`], so one document can never take the server down.
#[must_use]
pub fn lint(name: &str, text: &str, settings: &Settings, online: bool) -> Outcome {
    let file = source_file(name, text);
    let run = || {
        let parsed: Vec<ParsedFile> = parse_all(vec![file.clone()]);
        let (facts, notes) = if online {
            let inputs = kedalint_probe::inputs_of_files(&parsed, settings);
            crate::online::probe(&inputs, settings, false)
                .unwrap_or_else(|e| (Facts::default(), vec![Note::new(e.to_string())]))
        } else {
            (Facts::default(), Vec::new())
        };
        let findings = lint_parsed_all(parsed, settings, facts)
            .pop()
            .map(|l| l.report.findings)
            .unwrap_or_default();
        (findings, notes)
    };
    match guarded(run) {
        Ok((findings, notes)) => Outcome {
            file,
            findings,
            crash: None,
            notes,
        },
        Err(crash) => Outcome {
            file,
            findings: Vec::new(),
            crash: Some(crash),
            notes: Vec::new(),
        },
    }
}

/// Runs `f`, turning a panic into its message.
///
/// # Errors
/// The panic's message when `f` panicked.
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// The link to a rule's page (the `helpUri` SARIF output gives it).
#[must_use]
pub fn rule_page(code: &str) -> Option<Uri> {
    Uri::from_str(&format!("{RULE_DOCS}/{code}.md")).ok()
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// One finding as a diagnostic: the range of its span (the document's start when it has none),
/// code and rule page, and its help as related information at the same place.
#[must_use]
pub fn diagnostic(uri: &Uri, index: &LineIndex<'_>, f: &Finding, encoding: Encoding) -> Diagnostic {
    let range = f
        .span
        .as_ref()
        .map_or_else(Range::default, |s| index.range(s, encoding));
    let related = f.help.as_ref().map(|help| {
        vec![DiagnosticRelatedInformation {
            location: Location {
                uri: uri.clone(),
                range,
            },
            message: help.clone(),
        }]
    });
    let message = match (&f.object, f.span.is_none()) {
        (Some(o), true) => format!("{} (at {} in {o})", f.message, f.path),
        _ => f.message.clone(),
    };
    Diagnostic {
        range,
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.code.to_owned())),
        code_description: rule_page(f.code).map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_owned()),
        message,
        related_information: related,
        tags: None,
        data: None,
    }
}

/// A diagnostic at the start of the document that is not a rule's finding (a crash, a
/// configuration that cannot be used).
#[must_use]
pub fn note(code: &str, severity: DiagnosticSeverity, message: String) -> Diagnostic {
    Diagnostic {
        range: Range::default(),
        severity: Some(severity),
        code: Some(NumberOrString::String(code.to_owned())),
        source: Some(SOURCE.to_owned()),
        message,
        ..Diagnostic::default()
    }
}

/// Every diagnostic of an outcome.
#[must_use]
pub fn diagnostics(uri: &Uri, outcome: &Outcome, encoding: Encoding) -> Vec<Diagnostic> {
    let index = LineIndex::new(&outcome.file.text);
    let mut out: Vec<Diagnostic> = outcome
        .findings
        .iter()
        .map(|f| diagnostic(uri, &index, f, encoding))
        .collect();
    if let Some(crash) = &outcome.crash {
        out.push(note(
            "internal-error",
            DiagnosticSeverity::ERROR,
            format!(
                "kedalint crashed while linting this document ({crash}); the other documents are \
                 still linted. Please report it with the document at \
                 https://github.com/kedalint/kedalint/issues"
            ),
        ));
    }
    out.extend(outcome.notes.iter().map(|n| {
        note(
            "online",
            DiagnosticSeverity::HINT,
            format!("online checks: {n}"),
        )
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_the_engine_becomes_its_message() {
        let caught = guarded(|| -> usize { panic!("index out of bounds") });
        assert_eq!(caught, Err("index out of bounds".to_owned()));
        let formatted = guarded(|| -> usize { panic!("bad span {}", 7) });
        assert_eq!(formatted, Err("bad span 7".to_owned()));
        assert_eq!(guarded(|| 3), Ok(3));
    }

    #[test]
    fn a_crash_is_reported_as_one_error_diagnostic_naming_it() {
        let uri = Uri::from_str("file:///so.yaml").unwrap();
        let outcome = Outcome {
            file: SourceFile::new("so.yaml", "a: 1\n"),
            findings: Vec::new(),
            crash: Some("bad span 7".to_owned()),
            notes: Vec::new(),
        };
        let d = diagnostics(&uri, &outcome, Encoding::Utf16);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, Some(DiagnosticSeverity::ERROR));
        assert!(d[0].message.contains("crashed") && d[0].message.contains("bad span 7"));
    }

    #[test]
    fn a_document_over_the_input_limit_gets_one_diagnostic_naming_its_size() {
        let text = "#".repeat(MAX_INPUT_BYTES + 1);
        let outcome = lint("big.yaml", &text, &Settings::default(), false);
        assert_eq!(outcome.findings.len(), 1, "{:?}", outcome.findings);
        assert_eq!(outcome.findings[0].code, "KL001");
        assert!(
            outcome.findings[0]
                .message
                .contains(&(MAX_INPUT_BYTES + 1).to_string()),
            "{}",
            outcome.findings[0].message
        );
    }

    #[test]
    fn plain_kubernetes_yaml_cannot_hold_keda_but_a_scaled_object_or_trigger_can() {
        assert!(!may_hold_keda(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n"
        ));
        assert!(may_hold_keda(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\n"
        ));
        assert!(may_hold_keda("- type: prometheus\n  metadata: {}\n"));
    }
}
