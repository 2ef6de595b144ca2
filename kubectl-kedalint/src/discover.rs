//! Finding the files to lint: explicit paths, directories walked recursively, stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

use kedalint_rules::SourceFile;

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
    let mut out = Vec::new();
    let defaults = [".".to_owned()];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            out.push(match std::io::stdin().read_to_end(&mut buf) {
                Ok(_) => text(STDIN_NAME, buf),
                Err(source) => Err(Error::Io {
                    path: STDIN_NAME.to_owned(),
                    source,
                }),
            });
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|_| Error::MissingPath(p.clone()))?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files, &mut out);
            files.sort();
            out.extend(files.into_iter().map(|f| read(&f)));
        } else {
            out.push(read(path));
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

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<Loaded>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) => {
            errors.push(Err(Error::Io {
                path: dir.display().to_string(),
                source,
            }));
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
    match std::fs::read(path) {
        Ok(bytes) => text(&display(path), bytes),
        Err(source) => Err(Error::Io {
            path: display(path),
            source,
        }),
    }
}

fn text(name: &str, bytes: Vec<u8>) -> Loaded {
    let s = String::from_utf8(bytes).map_err(|_| Error::NotText(name.to_owned()))?;
    // A UTF-8 byte order mark is allowed by YAML; spans stay byte-exact because it stays in place.
    Ok(SourceFile::new(name, s))
}
