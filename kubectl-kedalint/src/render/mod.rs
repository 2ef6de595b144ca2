//! Renderers: the same findings as a user reads them (miette) or as tools read them (JSON, SARIF,
//! GitHub workflow commands, JUnit XML).

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod plot;
pub mod replay;
pub mod sarif;
pub mod spill;

use std::io::Write;

use kedalint_rules::{FileReport, Note, Severity, SourceFile};
use serde::Serialize;

use crate::Result;
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
fn fragment(out: &mut Vec<u8>, value: &impl Serialize, depth: usize) {
    /// Writes what it is given, indenting after each line break.
    struct Indented<'a> {
        out: &'a mut Vec<u8>,
        depth: usize,
    }
    impl Write for Indented<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut lines = buf.split(|&b| b == b'\n');
            if let Some(first) = lines.next() {
                self.out.extend_from_slice(first);
            }
            for line in lines {
                self.out.push(b'\n');
                self.out.resize(self.out.len() + 2 * self.depth, b' ');
                self.out.extend_from_slice(line);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let start = out.len();
    if let Err(e) = serde_json::to_writer_pretty(Indented { out, depth }, value) {
        out.truncate(start);
        let message = serde_json::to_string(&format!("cannot render: {e}")).unwrap_or_default();
        out.extend_from_slice(message.as_bytes());
    }
}

/// One output fed a file at a time in the documented order, so no run holds every file: the human
/// format writes each diagnostic as it is rendered and GitHub each file's commands; JSON, SARIF
/// and JUnit begin with totals or notes, so they hold each finding rendered back (never a file or its tree; beyond a threshold in
/// a temporary file, see [`spill`]) until [`Stream::finish`].
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
    /// An output of `format`; `fail_at` is the `--fail-on` threshold (`None` for `never`);
    /// `threshold` is how many bytes held back for the end stay in memory ([`spill::THRESHOLD`]
    /// in a run).
    #[must_use]
    pub fn new(
        format: Format,
        style: human::Style,
        fail_at: Option<Severity>,
        threshold: usize,
    ) -> Self {
        match format {
            Format::Human => Self::Human(style, human::Totals::default()),
            Format::Github => Self::Github,
            Format::Json => Self::Json(json::Collect::new(threshold)),
            Format::Sarif => Self::Sarif(sarif::Collect::new(threshold)),
            Format::Junit => Self::Junit(junit::Collect::new(fail_at, threshold)),
        }
    }

    /// Takes the next file, handing what can be written now to `emit`, piece by piece.
    ///
    /// # Errors
    /// What `emit` returns, or the temporary file of what is held back cannot be written.
    pub fn file(
        &mut self,
        linted: &Linted,
        emit: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        match self {
            Self::Human(style, totals) => {
                totals.add(linted);
                human::render_file(linted, *style, emit)
            }
            Self::Github => emit(github::render(std::slice::from_ref(linted)).as_bytes()),
            Self::Json(c) => c.add(linted),
            Self::Sarif(c) => c.add(linted),
            Self::Junit(c) => c.add(linted),
        }
    }

    /// Writes what is left after the last file to `out` (called `name` in an error); `notes`
    /// (what the run could not check) go into the formats that carry them.
    ///
    /// # Errors
    /// The temporary file of what is held back cannot be read, or `out` cannot be written.
    pub fn finish(self, notes: &[Note], out: &mut dyn Write, name: &str) -> Result<()> {
        match self {
            Self::Human(_, totals) => spill::write(out, name, totals.summary().as_bytes()),
            Self::Github => Ok(()),
            Self::Json(c) => c.finish(notes, out, name),
            Self::Sarif(c) => c.finish(notes, out, name),
            Self::Junit(c) => c.finish(notes, out, name),
        }
    }
}

#[cfg(test)]
mod tests {
    use kedalint_rules::{Settings, SourceFile};

    use super::*;

    /// Files with many findings, named out of order, one name twice, and two objects from the
    /// cluster: every way the held-back findings are ordered at the end.
    fn linted() -> Vec<Linted> {
        let example = |name: &str| {
            let path = format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"));
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
        };
        let files = [
            ("b.yaml", "inference-p95-latency.yaml"),
            ("a.yaml", "typos-and-types.yaml"),
            ("b.yaml", "typos-and-types.yaml"),
            ("cluster:default/one", "inference-p95-latency.yaml"),
            ("cluster:default/two", "typos-and-types.yaml"),
            ("c.yaml", "clean-queue-backlog.yaml"),
        ]
        .map(|(name, example_name)| SourceFile::new(name, example(example_name)));
        crate::run::lint_all(files.into(), &Settings::default())
    }

    fn render(format: Format, threshold: usize, linted: &[Linted]) -> String {
        let mut stream = Stream::new(format, human::Style::default(), None, threshold);
        let mut out = Vec::new();
        for l in linted {
            stream
                .file(l, &mut |text| {
                    out.extend_from_slice(text);
                    Ok(())
                })
                .unwrap();
        }
        let notes = [Note::new("a note")];
        stream.finish(&notes, &mut out, "out").unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn output_held_back_in_a_temporary_file_is_byte_for_byte_the_output_held_in_memory() {
        let linted = linted();
        for format in [Format::Json, Format::Sarif, Format::Junit] {
            let memory = render(format, spill::THRESHOLD, &linted);
            assert_eq!(render(format, 0, &linted), memory, "{format:?}");
            assert_eq!(render(format, 100, &linted), memory, "{format:?}");
        }
    }

    #[test]
    fn json_findings_are_ordered_by_file_with_the_cluster_first_then_line_column_code() {
        let linted = linted();
        let all = linted
            .iter()
            .map(|l| l.report.findings.len())
            .sum::<usize>();
        let json: serde_json::Value =
            serde_json::from_str(&render(Format::Json, 0, &linted)).unwrap();
        let keys: Vec<_> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["file"].as_str().map(str::to_owned),
                    f["line"].as_u64(),
                    f["column"].as_u64(),
                    f["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(keys.len(), all);
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(keys[0].0.is_none(), "objects from the cluster come first");
        let files: std::collections::BTreeSet<_> = keys.iter().map(|k| k.0.clone()).collect();
        assert!(files.contains(&Some("a.yaml".to_owned())) && files.len() >= 3);
    }

    #[test]
    fn an_empty_run_writes_empty_lists() {
        let json = render(Format::Json, 0, &[]);
        assert!(json.contains("\"findings\": [],\n"), "{json}");
        let sarif = render(Format::Sarif, 0, &[]);
        assert!(sarif.contains("\"results\": [],\n"), "{sarif}");
    }
}
