//! Finding the files to lint: explicit paths, directories walked recursively, stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

use kedalint_rules::SourceFile;
use kedalint_rules::source::MAX_INPUT_BYTES;

use crate::{Error, Result};

/// Name used for standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// A file to lint, or why it could not be read (reported, and the run exits 2 at the end).
pub type Loaded = std::result::Result<SourceFile, Error>;

/// Expands the command-line paths into files. A missing path is an error for the whole run;
/// an unreadable file is returned as an error entry so the others are still linted.
///
/// # Errors
/// [`Error::MissingPath`] for a path that does not exist.
pub fn collect(paths: &[String]) -> Result<Vec<Loaded>> {
    Ok(list(paths)?.iter().map(Input::load).collect())
}

/// One input of a run, not read yet (so a large repository is read one file at a time, twice:
/// once for the context other files need, once to lint).
#[derive(Debug)]
pub enum Input {
    /// A file, read each time it is loaded.
    File(PathBuf),
    /// Standard input, read once when listed (it cannot be read again).
    Stdin(Loaded),
    /// A directory that could not be listed.
    Unreadable(Error),
}

impl Input {
    /// Reads the input (again, for a file).
    pub fn load(&self) -> Loaded {
        match self {
            Self::File(path) => read(path),
            Self::Stdin(Ok(file)) => Ok(file.clone()),
            Self::Stdin(Err(e)) | Self::Unreadable(e) => Err(again(e)),
        }
    }
}

/// The same error once more: each pass over the inputs reports what it could not read.
fn again(e: &Error) -> Error {
    match e {
        Error::Io { path, source } => Error::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::NotText(name) => Error::NotText(name.clone()),
        other => Error::Usage(other.to_string()),
    }
}

/// Expands the command-line paths into inputs, in the order they are linted and reported.
///
/// # Errors
/// [`Error::MissingPath`] for a path that does not exist.
pub fn list(paths: &[String]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    let defaults = [".".to_owned()];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    for p in paths {
        if p == "-" {
            out.push(Input::Stdin(read_limited(
                STDIN_NAME,
                std::io::stdin().lock(),
                None,
            )));
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|_| Error::MissingPath(p.clone()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            let mut errors = Vec::new();
            walk(path, &mut files, &mut errors);
            out.extend(errors.into_iter().map(Input::Unreadable));
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else {
            out.push(Input::File(path.to_path_buf()));
        }
    }
    Ok(out)
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<Error>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            errors.push(Error::Io {
                path: dir.display().to_string(),
                source,
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with('.') && n != "." && n != "..");
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if !hidden {
                walk(&path, files, errors);
            }
        } else if is_manifest(&path)
            && !(hidden && path.file_name().is_some_and(|n| n == ".kedalint.yaml"))
        {
            files.push(path);
        }
    }
}

fn display(path: &Path) -> String {
    let s = path.display().to_string();
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

fn read(path: &Path) -> Loaded {
    let name = display(path);
    let io = |source| Error::Io {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // A regular file's length names its size in the finding; a FIFO or device has none.
    let size = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    read_limited(&name, file, size)
}

/// Reads at most one byte more than [`MAX_INPUT_BYTES`]: an input over the limit becomes one
/// `KL001` naming its size (when `size` knows it) without holding more than the limit in memory,
/// and an endless stream (`/dev/zero`, a pipe that never closes its end after 32 MiB) ends.
fn read_limited(name: &str, reader: impl Read, size: Option<u64>) -> Loaded {
    let limit = MAX_INPUT_BYTES as u64;
    // A regular file's size (within the limit) sizes the buffer at once.
    let mut buf =
        Vec::with_capacity(size.map_or(0, |s| usize::try_from(s.min(limit + 1)).unwrap_or(0)));
    reader
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|source| Error::Io {
            path: name.to_owned(),
            source,
        })?;
    if buf.len() as u64 > limit {
        return Ok(SourceFile::oversized(name, size.filter(|s| *s > limit)));
    }
    text(name, buf)
}

fn text(name: &str, bytes: Vec<u8>) -> Loaded {
    let s = String::from_utf8(bytes).map_err(|_| Error::NotText(name.to_owned()))?;
    // A UTF-8 byte order mark is allowed by YAML; spans stay byte-exact because it stays in place.
    Ok(SourceFile::new(name, s))
}
