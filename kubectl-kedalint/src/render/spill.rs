//! Text an output must hold back until the end of the run (JSON's findings, SARIF's results,
//! JUnit's suites come after totals or notes known only then), kept in memory up to a threshold
//! and beyond it in an anonymous temporary file, so memory stays bounded however many findings
//! a run has.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;

use crate::{Error, Result};

/// Bytes an output keeps in memory before it moves what it holds back to a temporary file.
pub const THRESHOLD: usize = 1 << 20;

/// The error of a temporary file, named by the directory it is in (it has no name of its own).
fn error(source: std::io::Error) -> Error {
    Error::Spill {
        dir: std::env::temp_dir().display().to_string(),
        source,
    }
}

/// Held-back text being written.
pub struct Spill {
    threshold: usize,
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
    len: u64,
}

impl Spill {
    /// An empty buffer that moves to a temporary file once it holds more than `threshold` bytes
    /// (0: from the first byte).
    #[must_use]
    pub fn new(threshold: usize) -> Self {
        Self {
            threshold,
            memory: Vec::new(),
            file: None,
            len: 0,
        }
    }

    /// How many bytes were written.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// The temporary file cannot be created or written.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.len += bytes.len() as u64;
        if let Some(file) = &mut self.file {
            return file.write_all(bytes).map_err(error);
        }
        if self.memory.len() + bytes.len() <= self.threshold {
            self.memory.extend_from_slice(bytes);
            return Ok(());
        }
        let mut file = BufWriter::new(tempfile::tempfile().map_err(error)?);
        file.write_all(&self.memory).map_err(error)?;
        file.write_all(bytes).map_err(error)?;
        self.memory = Vec::new();
        self.file = Some(file);
        Ok(())
    }

    /// Ends writing: what was written, to read back.
    ///
    /// # Errors
    /// The temporary file cannot be written.
    pub fn done(self) -> Result<Spilled> {
        Ok(match self.file {
            Some(file) => Spilled::File(file.into_inner().map_err(|e| error(e.into_error()))?),
            None => Spilled::Memory(self.memory),
        })
    }
}

/// Held-back text, written and ready to be read back by byte range.
pub enum Spilled {
    /// All of it in memory (under the threshold).
    Memory(Vec<u8>),
    /// In an unlinked temporary file.
    File(File),
}

/// Bytes read back from a temporary file at a time.
const CHUNK: usize = 64 * 1024;

impl Spilled {
    /// The bytes in `range`.
    ///
    /// # Errors
    /// The temporary file cannot be read.
    pub fn read(&self, range: Range<u64>) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.each_chunk(range, |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Copies the bytes in `range` to `out`; `name` is what the output is called in an error.
    ///
    /// # Errors
    /// The temporary file cannot be read, or `out` cannot be written.
    pub fn copy(&self, range: Range<u64>, out: &mut dyn Write, name: &str) -> Result<()> {
        self.each_chunk(range, |chunk| write(out, name, chunk))
    }

    fn each_chunk(&self, range: Range<u64>, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        match self {
            Self::Memory(bytes) => {
                let start = usize::try_from(range.start).unwrap_or(usize::MAX);
                let end = usize::try_from(range.end).unwrap_or(usize::MAX);
                f(bytes.get(start..end).unwrap_or_default())
            }
            Self::File(file) => {
                let mut buf = vec![0; CHUNK];
                let mut at = range.start;
                while at < range.end {
                    let want = usize::try_from(range.end - at).map_or(CHUNK, |n| n.min(CHUNK));
                    let n = file.read_at(&mut buf[..want], at).map_err(error)?;
                    if n == 0 {
                        return Err(error(std::io::ErrorKind::UnexpectedEof.into()));
                    }
                    f(&buf[..n])?;
                    at += n as u64;
                }
                Ok(())
            }
        }
    }
}

/// Hands `text` on to `held` once it holds [`PASS_ON`] bytes or more, so a file's many findings
/// are rendered through a buffer of bounded size rather than one as large as their text.
///
/// # Errors
/// The temporary file cannot be written.
pub fn pass_on(text: &mut Vec<u8>, held: &mut Spill) -> Result<()> {
    if text.len() >= PASS_ON {
        held.write(text)?;
        text.clear();
    }
    Ok(())
}

/// See [`pass_on`].
const PASS_ON: usize = 64 * 1024;

/// Writes `bytes` to the output called `name`.
///
/// # Errors
/// `out` cannot be written.
pub fn write(out: &mut dyn Write, name: &str, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes).map_err(|source| Error::Write {
        path: name.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(threshold: usize, parts: &[&str]) -> Spilled {
        let mut s = Spill::new(threshold);
        for p in parts {
            s.write(p.as_bytes()).unwrap();
        }
        assert_eq!(
            s.len(),
            parts.iter().map(|p| p.len() as u64).sum::<u64>(),
            "every byte is counted"
        );
        s.done().unwrap()
    }

    #[test]
    fn text_over_the_threshold_moves_to_a_file_and_reads_back_the_same() {
        let parts = ["first ", "second ", "third"];
        assert!(matches!(written(1 << 10, &parts), Spilled::Memory(_)));
        for threshold in [0, 8] {
            let s = written(threshold, &parts);
            assert!(matches!(s, Spilled::File(_)));
            assert_eq!(s.read(0..18).unwrap(), b"first second third");
            assert_eq!(s.read(6..12).unwrap(), b"second");
            let mut out = Vec::new();
            s.copy(13..18, &mut out, "out").unwrap();
            assert_eq!(out, b"third");
        }
    }

    #[test]
    fn reading_past_the_end_of_the_file_is_an_error_naming_the_temporary_directory() {
        let s = written(0, &["short"]);
        let e = s.read(0..100).unwrap_err().to_string();
        assert!(
            e.contains(&std::env::temp_dir().display().to_string()),
            "{e}"
        );
    }
}
