//! The `kubectl kedalint` command: file discovery, configuration, running the engine, and the
//! renderers (miette text, JSON). A library so that tests render exactly what users see.

pub mod cli;
pub mod discover;
pub mod fix;
pub mod generate;
pub mod lsp;
pub mod online;
pub mod render;
pub mod replay;
pub mod run;

/// Errors that end a run with exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path given on the command line does not exist.
    #[error("path `{0}` does not exist")]
    MissingPath(String),
    /// A file or directory could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not UTF-8 text.
    #[error("`{0}` is not UTF-8 text, so it cannot be YAML or JSON")]
    NotText(String),
    /// The configuration file cannot be used.
    #[error("configuration: {0}")]
    Config(#[from] kedalint_rules::ConfigError),
    /// A flag value is wrong.
    #[error("{0}")]
    Usage(String),
    /// Standard input over the 32 MiB input limit given to `--fix`, which would otherwise pass an
    /// empty text through as the "fixed" file.
    #[error(
        "`{0}` is over the 32 MiB input limit: --fix cannot pass it through, so nothing was written"
    )]
    TooLargeToFix(String),
    /// The language server's connection failed (the handshake, or the transport).
    #[error("language server: {0}")]
    Lsp(String),
    /// An output could not be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The temporary file that holds output for the end of the run could not be used.
    #[error(
        "cannot use a temporary file in `{dir}` (it holds output until the end of the run): {source}"
    )]
    Spill {
        /// The directory of the (unnamed) temporary file.
        dir: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
