//! kedalint's validating admission webhook: runs the kedalint rules on KEDA ScaledObjects and
//! ScaledJobs as the API server admits them, and denies (mode `enforce`) or warns (mode `warn`)
//! on what it finds.
//!
//! The server is a library type so tests drive it in-process or over real TLS:
//!
//! ```no_run
//! # async fn demo() -> Result<(), kedalint_webhook::Error> {
//! use kedalint_webhook::{Config, Server};
//! let _ = rustls::crypto::ring::default_provider().install_default();
//! let server = Server::new(Config::new("/etc/kedalint/certs"))?;
//! let _in_process = server.router(); // tower::ServiceExt::oneshot in tests
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod certs;
pub mod conn;
mod error;
pub mod log_writer;
pub mod metrics;
pub mod online;
pub mod prober;
pub mod review;
mod server;
pub mod tls;

pub use certs::{CertRequest, GeneratedCerts, ManifestNames, generate_certs, write_cert_files};
pub use error::{Error, Result};
pub use online::{Refusal, host_allowed};
pub use prober::PrometheusProbe;
pub use server::{Bound, Config, Limits, Server, error_chain};
