//! The floor for `scripts/bench-webhook.sh`: what no admission webhook can avoid, without the
//! linting. The same TLS (rustls, ring, TLS 1.2/1.3, ALPN http/1.1), hyper http1 connections and
//! axum routing as the webhook; it reads the whole body, parses it as JSON (every byte, as an
//! AdmissionReview with a `request.uid`; other fields are checked for syntax and skipped) and
//! answers an allowed AdmissionReview carrying that uid, serialised by serde. A body that is not
//! such a review is answered 400. What the real webhook costs beyond this is decoding the object,
//! linting, building the answer, and its defences and metrics.
//!
//! Serves until killed:
//! `cargo run --release -p kedalint-webhook --example floor_server -- 127.0.0.1:8444 CERT_DIR`
//! (CERT_DIR holds tls.crt and tls.key, e.g. from `kedalint-webhook certs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

/// The part of an AdmissionReview every answer needs.
#[derive(Deserialize)]
struct Review<'a> {
    #[serde(borrow)]
    request: Request<'a>,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    uid: std::borrow::Cow<'a, str>,
}

/// An allowed AdmissionReview answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    api_version: &'static str,
    kind: &'static str,
    response: Allowed<'a>,
}

#[derive(Serialize)]
struct Allowed<'a> {
    uid: &'a str,
    allowed: bool,
}

/// Parses the review and allows it by uid, or answers 400.
fn allow(body: &[u8]) -> axum::response::Response {
    let Ok(review) = serde_json::from_slice::<Review<'_>>(body) else {
        return (StatusCode::BAD_REQUEST, "not an AdmissionReview\n").into_response();
    };
    let answer = Answer {
        api_version: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: Allowed {
            uid: &review.request.uid,
            allowed: true,
        },
    };
    let json = serde_json::to_vec(&answer).expect("plain strings serialise");
    ([(header::CONTENT_TYPE, "application/json")], json).into_response()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(cert_dir)) = (args.next(), args.next()) else {
        eprintln!("usage: floor_server LISTEN_ADDR CERT_DIR");
        std::process::exit(2);
    };
    let listen: SocketAddr = listen.parse().expect("LISTEN_ADDR as ip:port");
    let cert_dir = PathBuf::from(cert_dir);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_file_iter(cert_dir.join("tls.crt"))
        .expect("tls.crt")
        .collect::<Result<Vec<_>, _>>()
        .expect("tls.crt is PEM");
    let key = PrivateKeyDer::from_pem_file(cert_dir.join("tls.key")).expect("tls.key is PEM");
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("certificate and key match");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let router = Router::new().route("/validate", post(|body: Bytes| async move { allow(&body) }));
    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    eprintln!(
        "floor server listening on {}",
        listener.local_addr().unwrap()
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
