//! Findings: what a rule reports, with a symbolic location (field path) and an optional byte span.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::source::FieldPath;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Very likely wrong.
    Warning,
    /// KEDA or the API server rejects it, or scaling is broken.
    Error,
}

impl Severity {
    /// The lowercase name used in output and configuration.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// Parses `error`, `warning` or `info`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "error" => Some(Self::Error),
            "warning" => Some(Self::Warning),
            "info" => Some(Self::Info),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Kubernetes object a finding belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ObjectRef {
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, when set.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => write!(f, " {ns}/{n}"),
            (None, Some(n)) => write!(f, " {n}"),
            _ => Ok(()),
        }
    }
}

/// A machine-applicable edit that fixes a finding: replace `span` of the file with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Byte range in the file.
    pub span: Range<usize>,
    /// The new text.
    pub replacement: String,
}

/// A suggested fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What the fix does, in a few words.
    pub title: String,
    /// The edits; applied together or not at all.
    pub edits: Vec<Edit>,
    /// Whether the fix can change how the workload scales (applied only with `--unsafe-fixes`).
    pub changes_behaviour: bool,
}

/// One problem found by one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's code, e.g. `KL202`.
    pub code: &'static str,
    /// The rule's name, e.g. `rate-window-too-short`.
    pub name: &'static str,
    /// Severity after configuration.
    pub severity: Severity,
    /// What is wrong, with the numbers that make it wrong.
    pub message: String,
    /// What to do instead.
    pub help: Option<String>,
    /// Field path from the document root.
    pub path: FieldPath,
    /// Byte span in the file, when the input was text.
    pub span: Option<Range<usize>>,
    /// 0-based document index in the file.
    pub document: usize,
    /// The object, when the document was one.
    pub object: Option<ObjectRef>,
    /// A fix, when one is mechanical.
    pub fix: Option<Fix>,
}

impl serde::Serialize for FieldPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
