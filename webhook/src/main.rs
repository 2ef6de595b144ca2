//! `kedalint-webhook`: serve the admission webhook, or generate its certificates.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use kedalint_webhook::PrometheusProbe;
use kedalint_webhook::log_writer::LogWriter;
use kedalint_webhook::{CertRequest, Config, ManifestNames, Server, error_chain};
use miette::{IntoDiagnostic, miette};

/// Validating admission webhook that lints KEDA ScaledObjects with the kedalint rules.
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// TLS address of the admission endpoint (`POST /validate`).
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    /// Plain HTTP address of `/healthz`, `/readyz` and `/metrics`.
    #[arg(long, default_value = "0.0.0.0:8080")]
    metrics_listen: SocketAddr,
    /// Directory holding `tls.crt` and `tls.key` (a mounted Secret); reloaded when they change.
    #[arg(long, default_value = "/etc/kedalint/certs")]
    cert_dir: PathBuf,
    /// The `.kedalint.yaml` to use (a mounted ConfigMap); reloaded when it changes.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// How often certificate and configuration files are checked, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    poll_interval_ms: u64,
    /// After SIGTERM, keep serving (while not ready) this long before closing the listener,
    /// in milliseconds, so endpoints stop sending traffic first.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    shutdown_delay_ms: u64,
    /// Reviews handled at once, counted once a request's body is complete; more get an
    /// immediate 503.
    #[arg(long, default_value_t = 64)]
    max_concurrent: usize,
    /// Time allowed for a request's headers, from its first byte, in milliseconds (slow headers).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    header_timeout_ms: u64,
    /// Time allowed for a request's body once its headers are complete, in milliseconds; then
    /// 408 (slow bodies). The API server sends a review in one write.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    body_timeout_ms: u64,
    /// Time a keep-alive connection may send nothing, in milliseconds; then it is closed.
    #[arg(long, default_value_t = 30000, value_name = "MS")]
    idle_timeout_ms: u64,
    /// Time allowed for a client to take an answer, in milliseconds (slow readers).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    write_timeout_ms: u64,
    /// Open admission connections in all; when full, the one waiting longest on its client (idle
    /// or trickling a request) is closed for a new one, else the new one.
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Open admission connections from one peer address; more are closed at accept.
    #[arg(long, default_value_t = 128)]
    max_connections_per_peer: usize,
    /// TLS handshakes waiting or running at once; more new connections are closed at accept.
    #[arg(long, default_value_t = 32)]
    max_handshakes: usize,
    /// TLS handshakes started per second.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    handshake_rate: u32,
    /// Bytes of request bodies held at once across all connections (at least the 6 MiB body
    /// limit); a request that would go over gets a 503.
    #[arg(long, default_value_t = 32 * 1024 * 1024, value_name = "BYTES")]
    read_budget_bytes: usize,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a CA and a serving certificate for installing without cert-manager; writes
    /// tls.crt, tls.key, ca.crt, secret.yaml and cabundle-patch.yaml.
    Certs {
        /// Namespace of the webhook Service.
        #[arg(long, default_value = "kedalint-system")]
        namespace: String,
        /// Name of the webhook Service.
        #[arg(long, default_value = "kedalint-webhook")]
        service: String,
        /// Directory to write into (created if missing).
        #[arg(long)]
        out_dir: PathBuf,
        /// Validity of the certificates, in days (1 to 36500). 0 would write a certificate that
        /// has already expired; far larger values pass the last date X.509 can hold.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        days: u32,
        /// Name of the Secret in secret.yaml.
        #[arg(long, default_value = "kedalint-webhook-tls")]
        secret_name: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

fn main() -> miette::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Certs {
            namespace,
            service,
            out_dir,
            days,
            secret_name,
        }) => {
            let request = CertRequest {
                namespace,
                service,
                valid_days: days,
            };
            let names = ManifestNames {
                secret: secret_name,
                ..ManifestNames::default()
            };
            let certs = kedalint_webhook::generate_certs(&request)
                .map_err(|e| miette!("{}", error_chain(&e)))?;
            let written = kedalint_webhook::write_cert_files(&out_dir, &certs, &request, &names)
                .map_err(|e| miette!("{}", error_chain(&e)))?;
            for path in written {
                println!("wrote {}", path.display());
            }
            Ok(())
        }
        None => serve(cli.serve),
    }
}

fn serve(args: ServeArgs) -> miette::Result<()> {
    let log = init_logging(args.log_format)?;
    let served = serve_logged(args);
    log.flush();
    served
}

fn serve_logged(args: ServeArgs) -> miette::Result<()> {
    // Before any TLS configuration: ring is the only provider compiled in, installed explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Config {
        listen: args.listen,
        metrics_listen: args.metrics_listen,
        cert_dir: args.cert_dir,
        config_path: args.config,
        poll_interval: Duration::from_millis(args.poll_interval_ms.max(100)),
        shutdown_delay: Duration::from_millis(args.shutdown_delay_ms),
        limits: kedalint_webhook::Limits {
            max_concurrent: args.max_concurrent.max(1),
            header_read_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
            idle_timeout: Duration::from_millis(args.idle_timeout_ms.max(1)),
            write_timeout: Duration::from_millis(args.write_timeout_ms.max(1)),
            max_connections: args.max_connections.max(1),
            max_connections_per_peer: args.max_connections_per_peer.max(1),
            max_handshakes: args.max_handshakes.max(1),
            handshake_rate: args.handshake_rate,
            read_budget_bytes: args.read_budget_bytes,
            ..Default::default()
        },
        ..Config::new("")
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    runtime.block_on(async {
        // Always installed: it does nothing while `webhook.online` is false, and a reloaded
        // configuration can turn online checks on without a restart.
        let server = Server::new(config)
            .map_err(|e| miette!("{}", error_chain(&e)))?
            .with_probe(Arc::new(PrometheusProbe::new()));
        server.log_online_settings();
        server
            .run(shutdown_signal())
            .await
            .map_err(|e| miette!("{}", error_chain(&e)))
    })
}

/// Completes on SIGTERM (what the kubelet sends) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Logs go to stderr through a [`LogWriter`] (no write per line on the request path); every line
/// is written before a panic message and before `serve` returns.
fn init_logging(format: LogFormat) -> miette::Result<LogWriter> {
    use tracing_subscriber::EnvFilter;
    let log = LogWriter::stderr().into_diagnostic()?;
    let previous = std::panic::take_hook();
    let flushed = log.clone();
    std::panic::set_hook(Box::new(move |info| {
        flushed.flush();
        previous(info);
    }));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(log.clone());
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
    Ok(log)
}
