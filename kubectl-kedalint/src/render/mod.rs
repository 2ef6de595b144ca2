//! Renderers: the same findings as a user reads them (miette) or as tools read them (JSON, SARIF,
//! GitHub workflow commands, JUnit XML).

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod plot;
pub mod replay;
pub mod sarif;

use kedalint_rules::{FileReport, SourceFile};

/// What renderers get: each file's text (for positions and source lines) and its findings.
#[derive(Debug)]
pub struct Linted {
    /// The file as read.
    pub file: SourceFile,
    /// Its findings.
    pub report: FileReport,
}
