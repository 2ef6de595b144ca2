//! Settings per workspace folder: the `.kedalint.yaml` the CLI would find when run from the
//! folder (the document's own directory outside any folder), read once and forgotten when it
//! changes; and the editor's own options (`online`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kedalint_rules::Settings;
use lsp_types::{InitializeParams, Uri, WorkspaceFoldersChangeEvent};

use crate::cli::LintArgs;
use crate::run::{find_config, settings};

/// What the server knows about folders and configuration files.
#[derive(Debug, Default)]
pub struct Config {
    /// Workspace folders, as paths.
    pub folders: Vec<PathBuf>,
    /// Probe Prometheus (`online: true` in initializationOptions or settings); off by default.
    pub online: bool,
    /// Settings per configuration file (`None`: no file found), with why a file could not be used.
    read: HashMap<Option<PathBuf>, (Arc<Settings>, Option<String>)>,
}

impl Config {
    /// The folders and options the client sent with `initialize`.
    #[must_use]
    #[allow(deprecated)] // root_uri: clients older than workspace folders (and Neovim 0.7) send it.
    pub fn from_initialize(params: &InitializeParams) -> Self {
        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| path_of(&f.uri))
            .collect();
        if folders.is_empty() {
            folders.extend(params.root_uri.as_ref().and_then(path_of));
        }
        let mut config = Self {
            folders,
            ..Self::default()
        };
        if let Some(options) = &params.initialization_options {
            config.set_options(options);
        }
        config
    }

    /// Takes `online` from `{"online": true}` or `{"kedalint": {"online": true}}` (the shape
    /// `workspace/didChangeConfiguration` usually has). Returns whether it changed.
    pub fn set_options(&mut self, value: &serde_json::Value) -> bool {
        let online = value
            .get("kedalint")
            .unwrap_or(value)
            .get("online")
            .and_then(serde_json::Value::as_bool);
        match online {
            Some(o) if o != self.online => {
                self.online = o;
                true
            }
            _ => false,
        }
    }

    /// Applies a change of workspace folders.
    pub fn change_folders(&mut self, event: &WorkspaceFoldersChangeEvent) {
        let removed: Vec<PathBuf> = event
            .removed
            .iter()
            .filter_map(|f| path_of(&f.uri))
            .collect();
        self.folders.retain(|f| !removed.contains(f));
        self.folders
            .extend(event.added.iter().filter_map(|f| path_of(&f.uri)));
        self.forget();
    }

    /// Forgets every configuration file read, so the next lint reads them again.
    pub fn forget(&mut self) {
        self.read.clear();
    }

    /// The folder a document belongs to: the innermost workspace folder holding it, else its
    /// own directory.
    #[must_use]
    pub fn root_of(&self, path: &Path) -> Option<PathBuf> {
        self.folders
            .iter()
            .filter(|f| path.starts_with(f))
            .max_by_key(|f| f.components().count())
            .cloned()
            .or_else(|| path.parent().map(Path::to_path_buf))
    }

    /// The settings for a document, and why its configuration file could not be used (then the
    /// defaults are used, and the document says so).
    pub fn settings_for(&mut self, uri: &Uri) -> (Arc<Settings>, Option<String>) {
        let file = path_of(uri)
            .and_then(|p| self.root_of(&p))
            .or_else(|| self.folders.first().cloned())
            .and_then(|root| find_config(&root));
        self.read
            .entry(file.clone())
            .or_insert_with(|| {
                let args = LintArgs {
                    config: file,
                    ..LintArgs::default()
                };
                match settings(&args) {
                    Ok(s) => (Arc::new(s), None),
                    Err(e) => (Arc::new(Settings::default()), Some(e.to_string())),
                }
            })
            .clone()
    }
}

/// The local path of a `file:` URI (percent-decoded), else `None`.
#[must_use]
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///p` has an empty authority; `file://localhost/p` names this machine.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let (h, l) = (hex(h).unwrap_or(0), hex(l).unwrap_or(0));
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// The name findings use for a document: its path, or the URI when it is not a file.
#[must_use]
pub fn name_of(uri: &Uri) -> String {
    path_of(uri).map_or_else(|| uri.as_str().to_owned(), |p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn file_uris_become_decoded_paths_and_other_schemes_none() {
        let uri = Uri::from_str("file:///work/my%20repo/so.yaml").unwrap();
        assert_eq!(path_of(&uri), Some(PathBuf::from("/work/my repo/so.yaml")));
        let untitled = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(path_of(&untitled), None);
        assert_eq!(name_of(&untitled), "untitled:Untitled-1");
    }

    #[test]
    fn online_is_off_unless_asked_in_either_shape() {
        let mut c = Config::default();
        assert!(!c.online);
        assert!(c.set_options(&serde_json::json!({"kedalint": {"online": true}})));
        assert!(c.online);
        assert!(c.set_options(&serde_json::json!({"online": false})));
        assert!(!c.set_options(&serde_json::json!({"other": 1})));
        assert!(!c.online);
    }

    #[test]
    fn a_document_belongs_to_the_innermost_folder_holding_it() {
        let c = Config {
            folders: vec![PathBuf::from("/r"), PathBuf::from("/r/sub")],
            ..Config::default()
        };
        assert_eq!(
            c.root_of(Path::new("/r/sub/a.yaml")),
            Some(PathBuf::from("/r/sub"))
        );
        assert_eq!(c.root_of(Path::new("/r/a.yaml")), Some(PathBuf::from("/r")));
        assert_eq!(
            c.root_of(Path::new("/elsewhere/a.yaml")),
            Some(PathBuf::from("/elsewhere"))
        );
    }
}
