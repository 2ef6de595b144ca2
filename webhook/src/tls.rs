//! TLS for the admission port: the serving certificate from `tls.crt`/`tls.key`, swapped in place
//! when the files change, so a rotated Secret is served without a restart.
//!
//! Kubernetes updates a Secret volume by writing a new `..data_<timestamp>` directory and renaming
//! a `..data` symlink over the old one; `tls.crt` is itself a symlink to `..data/tls.crt`. A
//! watch on the file would follow the old inode, so the reloader polls the content of both files
//! instead, and checks that the key matches the certificate before using a new pair (reading the
//! two files can straddle a swap).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, version};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// The certificate file name in the cert directory (the `kubernetes.io/tls` Secret key).
pub const CERT_FILE: &str = "tls.crt";
/// The key file name in the cert directory.
pub const KEY_FILE: &str = "tls.key";

/// The certificate currently served; starts empty and is filled by [`CertStore::reload`].
pub struct CertStore {
    dir: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Option<Arc<CertifiedKey>>>,
    /// The bytes of the last pair seen, loaded or not, so an unchanged bad pair is logged once.
    last_seen: RwLock<Option<(Vec<u8>, Vec<u8>)>>,
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertStore")
            .field("dir", &self.dir)
            .field("loaded", &self.is_loaded())
            .finish_non_exhaustive()
    }
}

/// What a reload found.
#[derive(Debug, PartialEq, Eq)]
pub enum CertChange {
    /// Same files as before.
    Unchanged,
    /// A new certificate is served.
    Loaded,
}

impl CertStore {
    /// A store for `dir/tls.crt` and `dir/tls.key`, with nothing loaded yet.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>, provider: Arc<CryptoProvider>) -> Self {
        Self {
            dir: dir.into(),
            provider,
            current: RwLock::new(None),
            last_seen: RwLock::new(None),
        }
    }

    /// The directory read.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a certificate is loaded.
    #[must_use]
    pub fn is_loaded(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    /// The certificate served now.
    #[must_use]
    pub fn current(&self) -> Option<Arc<CertifiedKey>> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads the files; when they differ from the last read, parses them and, if they form a
    /// valid pair, serves them. A bad pair leaves the current certificate in place.
    ///
    /// # Errors
    /// The files cannot be read, do not parse, or the key does not match the certificate.
    pub fn reload(&self) -> Result<CertChange> {
        let cert_path = self.dir.join(CERT_FILE);
        let key_path = self.dir.join(KEY_FILE);
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| Error::Read {
                path: p.to_owned(),
                source,
            })
        };
        let pair = (read(&cert_path)?, read(&key_path)?);
        {
            let mut last = self
                .last_seen
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.as_ref() == Some(&pair) {
                return Ok(CertChange::Unchanged);
            }
            *last = Some(pair.clone());
        }
        let key = load_pair(&pair.0, &pair.1, &self.provider).map_err(|message| Error::Tls {
            dir: self.dir.clone(),
            message,
        })?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(key));
        Ok(CertChange::Loaded)
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current()
    }
}

/// Parses a PEM certificate chain and private key and checks that they belong together.
fn load_pair(
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> std::result::Result<CertifiedKey, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("{CERT_FILE}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{CERT_FILE} holds no certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("{KEY_FILE}: {e}"))?;
    let certified = CertifiedKey::from_der(certs, key, provider)
        .map_err(|e| format!("{CERT_FILE} and {KEY_FILE} do not form a usable pair: {e}"))?;
    Ok(certified)
}

/// The server TLS configuration: TLS 1.3 and 1.2 only, HTTP/1.1 by ALPN, certificate from `store`.
///
/// # Errors
/// The provider does not support the protocol versions (it always does for ring).
pub fn server_config(store: Arc<CertStore>) -> Result<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(store.provider.clone())
        .with_protocol_versions(&[&version::TLS13, &version::TLS12])
        .map_err(|e| Error::Tls {
            dir: store.dir.clone(),
            message: e.to_string(),
        })?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
