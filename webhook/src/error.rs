//! Errors of the webhook library.

use std::path::PathBuf;

/// What can go wrong starting or running the webhook.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file (configuration, certificate, key) cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file cannot be written (certificate generation).
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The `.kedalint.yaml` configuration is not valid.
    #[error("invalid configuration")]
    Config(#[from] kedalint_rules::ConfigError),
    /// The certificate and key in the cert directory cannot be used.
    #[error("unusable certificate in {dir}: {message}")]
    Tls {
        /// The cert directory.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A listener cannot be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("cannot generate certificates")]
    Certs(#[from] rcgen::Error),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
