//! Shared test setup: certificates, a Kubernetes-style Secret volume, a running server over real
//! TLS, AdmissionReview bodies, and YAML-to-JSON for manifests.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kedalint_rules::source::{
    LoadLimits, Node, NodeKind, ScalarStyle, ScalarType, load_stream, resolve_plain,
};
use kedalint_webhook::{Config, Server};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The DNS name the test clients use; resolved to 127.0.0.1 by the client, never by DNS.
pub const HOST: &str = "kedalint-webhook.kedalint-system.svc";

pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A test CA that issues serving certificates for [`HOST`].
pub struct TestCa {
    pub ca_pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A serving certificate and key, PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "kedalint test CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self {
            ca_pem: issuer.pem(),
            issuer,
        }
    }

    /// A serving certificate whose subject CN is `cn` (to tell certificates apart).
    pub fn leaf(&self, cn: &str) -> Leaf {
        let mut params = CertificateParams::new(vec![HOST.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
        }
    }
}

/// A directory laid out like a mounted Secret volume: `..data_N/` holds the files, `..data` is a
/// symlink to the current one, `tls.crt` and `tls.key` are symlinks through `..data`.
pub struct SecretVolume {
    pub dir: tempfile::TempDir,
    version: usize,
}

impl SecretVolume {
    pub fn new(leaf: &Leaf) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut v = Self { dir, version: 0 };
        v.swap(leaf);
        for name in ["tls.crt", "tls.key"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), v.path().join(name)).unwrap();
        }
        v
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a new `..data_N` and renames a fresh symlink over `..data`, as the kubelet does.
    pub fn swap(&mut self, leaf: &Leaf) {
        self.version += 1;
        let data = format!("..data_{}", self.version);
        let data_dir = self.path().join(&data);
        std::fs::create_dir(&data_dir).unwrap();
        std::fs::write(data_dir.join("tls.crt"), &leaf.cert_pem).unwrap();
        std::fs::write(data_dir.join("tls.key"), &leaf.key_pem).unwrap();
        let tmp = self.path().join("..data_tmp");
        std::os::unix::fs::symlink(&data, &tmp).unwrap();
        std::fs::rename(&tmp, self.path().join("..data")).unwrap();
    }
}

/// A server running in this process over real TLS on 127.0.0.1.
pub struct Running {
    pub server: Server,
    pub addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub shutdown: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<kedalint_webhook::Result<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("https://{HOST}:{}/validate", self.addr.port())
    }

    pub fn metrics_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.metrics_addr)
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(self.metrics_url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The value of one series of `/metrics` (`name{labels}` exactly as exposed), 0 if absent.
    pub async fn metric(&self, series: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }

    /// Polls `/metrics` until `series` reaches `value` (a hang guard of 10 s, not a timing
    /// assertion: the server gets there as soon as it has seen what the test sent).
    pub async fn wait_metric(&self, series: &str, value: f64) {
        for _ in 0..500 {
            if self.metric(series).await >= value {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{series} never reached {value}:\n{}", self.metrics().await);
    }

    /// Triggers graceful shutdown and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("server shut down in time")
            .unwrap()
            .unwrap();
    }
}

/// A test configuration: loopback ports chosen by the OS, fast polling.
pub fn test_config(cert_dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: "127.0.0.1:0".parse().unwrap(),
        poll_interval: Duration::from_millis(100),
        shutdown_timeout: Duration::from_secs(5),
        ..Config::new(cert_dir)
    }
}

pub async fn start(server: Server) -> Running {
    let bound = server.clone().bind().await.unwrap();
    let addr = bound.tls_addr();
    let metrics_addr = bound.metrics_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(bound.serve(async move {
        let _ = rx.await;
    }));
    let running = Running {
        server,
        addr,
        metrics_addr,
        shutdown: Some(tx),
        task,
    };
    wait_ready(&running.metrics_url("/readyz")).await;
    running
}

/// Polls a readiness endpoint until it answers 200 (at most 5s).
pub async fn wait_ready(url: &str) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..250 {
        if let Ok(r) = client.get(url).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{url} never became ready");
}

/// An HTTPS client that trusts only `ca_pem` and reaches [`HOST`] at `addr`. `fresh` disables
/// connection reuse (every request does a new handshake and sees the current certificate).
pub fn client(ca_pem: &str, addr: SocketAddr, fresh: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .resolve(HOST, addr)
        .no_proxy()
        .tls_info(true)
        .timeout(Duration::from_secs(10));
    if fresh {
        // No pooled connections and no TLS session resumption (a resumed session does not
        // present the certificate again).
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(roots(ca_pem))
            .with_no_client_auth();
        config.resumption = rustls::client::Resumption::disabled();
        b = b
            .pool_max_idle_per_host(0)
            .tls_backend_preconfigured(config);
    } else {
        let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap();
        b = b.tls_certs_only([ca]);
    }
    b.build().unwrap()
}

/// A root store holding the CA.
pub fn roots(ca_pem: &str) -> rustls::RootCertStore {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    roots
}

/// A raw TLS connection to the server (for requests written byte by byte).
pub async fn raw_tls(
    ca_pem: &str,
    addr: SocketAddr,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    raw_tls_from(ca_pem, addr, [127, 0, 0, 1].into())
        .await
        .expect("TLS handshake")
}

/// A raw TLS connection from the loopback address `local` (all of 127.0.0.0/8 is loopback on
/// Linux, so tests can be several peers), or the handshake's error.
pub async fn raw_tls_from(
    ca_pem: &str,
    addr: SocketAddr,
    local: std::net::IpAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots(ca_pem))
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local, 0))?;
    let tcp = socket.connect(addr).await?;
    connector
        .connect(rustls_pki_types::ServerName::try_from(HOST).unwrap(), tcp)
        .await
}

/// Writes one `POST /validate` of `review` (keep-alive) and reads the answer: status and body.
pub async fn post_raw<S>(stream: &mut S, review: &Value) -> (u16, Value)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = serde_json::to_vec(review).unwrap();
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    stream.flush().await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0_u8; 4096];
    loop {
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if answer.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                let body = &answer[end + 4..end + 4 + length];
                let json = serde_json::from_slice(body).unwrap_or(Value::Null);
                return (status, json);
            }
        }
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed before the answer was complete");
        answer.extend_from_slice(&buf[..n]);
    }
}

/// An AdmissionReview v1 for `object`.
pub fn review_for(object: &Value, operation: &str, uid: &str) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or("");
    let resource = format!("{}s", kind.to_ascii_lowercase());
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object.pointer("/metadata/name").cloned().unwrap_or(Value::Null),
            "namespace": object.pointer("/metadata/namespace").cloned().unwrap_or(json!("default")),
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
        }
    })
}

/// A ScaledObject with one Prometheus trigger. `threshold: None` leaves the threshold out (an
/// error finding, KL101); `ignore_null: None` leaves `ignoreNullValues` out (a warning, KL109).
pub fn scaled_object(name: &str, threshold: Option<&str>, ignore_null: Option<&str>) -> Value {
    let mut metadata = json!({
        "serverAddress": "http://prometheus-operated.monitoring.svc:9090",
        "query": "sum(http_requests_in_flight{service=\"web\"})",
    });
    if let Some(t) = threshold {
        metadata["threshold"] = json!(t);
    }
    if let Some(i) = ignore_null {
        metadata["ignoreNullValues"] = json!(i);
    }
    json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "scaleTargetRef": {"name": "web"},
            "minReplicaCount": 1,
            "maxReplicaCount": 10,
            "triggers": [{"type": "prometheus", "metadata": metadata}]
        }
    })
}

/// The ScaledJob twin of [`scaled_object`]: the same trigger, a Job template, a bound on Jobs.
pub fn scaled_job(name: &str, threshold: Option<&str>, ignore_null: Option<&str>) -> Value {
    let mut job = scaled_object(name, threshold, ignore_null);
    job["kind"] = json!("ScaledJob");
    let spec = job["spec"].as_object_mut().unwrap();
    spec.remove("scaleTargetRef");
    spec.insert("minReplicaCount".to_owned(), json!(0));
    spec.insert(
        "jobTargetRef".to_owned(),
        json!({"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": name, "image": "example.com/worker:1"}]
        }}}),
    );
    job
}

/// The shared corpus of real AdmissionReview shapes, if present.
pub fn corpus_dir() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../../shared/corpus/admission"),
        PathBuf::from("/work/shared/corpus/admission"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

/// The repository's examples directory.
pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Every document of a YAML stream as JSON, typed the way the API server would read it.
pub fn yaml_documents(text: &str) -> Vec<Value> {
    load_stream(text, LoadLimits::default())
        .into_iter()
        .inspect(|d| assert!(d.error.is_none(), "YAML error: {:?}", d.error))
        .filter_map(|d| d.root.as_ref().map(node_to_json))
        .collect()
}

pub fn node_to_json(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Scalar { value, style } => match style {
            ScalarStyle::Plain | ScalarStyle::JsonOther => scalar(value),
            _ => Value::String(value.clone()),
        },
        NodeKind::Seq(items) => Value::Array(items.iter().map(node_to_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| {
                    (
                        e.key_str().unwrap_or_default().to_owned(),
                        node_to_json(&e.value),
                    )
                })
                .collect(),
        ),
    }
}

fn scalar(value: &str) -> Value {
    match resolve_plain(value) {
        ScalarType::Null => Value::Null,
        ScalarType::Bool => Value::Bool(matches!(
            value,
            "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        )),
        ScalarType::Int => {
            let digits = value.replace('_', "");
            digits
                .parse::<i64>()
                .ok()
                .or_else(|| i64::from_str_radix(digits.trim_start_matches("0x"), 16).ok())
                .map_or_else(|| Value::String(value.to_owned()), Value::from)
        }
        ScalarType::Float => value
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(value.to_owned()), Value::Number),
        ScalarType::Str => Value::String(value.to_owned()),
    }
}

pub fn shared_probe<P: kedalint_webhook::online::Probe>(
    p: P,
) -> Arc<dyn kedalint_webhook::online::Probe> {
    Arc::new(p)
}
