//! Certificates for installing without cert-manager: a private CA and a serving certificate for the
//! webhook Service, plus the Secret manifest and the `caBundle` patch that go with them.
//!
//! `kedalint-webhook certs` (and later `kubectl kedalint webhook certs`) call [`generate_certs`]
//! and [`write_cert_files`]. The CA key is not kept: rotating means generating a new pair and
//! applying both files again (the caBundle patch and the Secret).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use time::{Duration as TimeDuration, OffsetDateTime, Time};

use crate::error::{Error, Result};

/// What to issue the serving certificate for.
#[derive(Debug, Clone)]
pub struct CertRequest {
    /// Namespace of the webhook Service (`kedalint-system`).
    pub namespace: String,
    /// Name of the webhook Service (`kedalint-webhook`).
    pub service: String,
    /// How long both certificates are valid, in days.
    pub valid_days: u32,
}

impl CertRequest {
    /// A request for `service` in `namespace`, valid for one year.
    #[must_use]
    pub fn new(namespace: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            service: service.into(),
            valid_days: 365,
        }
    }

    /// The DNS names the API server may use to reach the Service.
    #[must_use]
    pub fn dns_names(&self) -> Vec<String> {
        let (s, ns) = (&self.service, &self.namespace);
        vec![
            format!("{s}.{ns}.svc"),
            format!("{s}.{ns}.svc.cluster.local"),
            format!("{s}.{ns}"),
            s.clone(),
        ]
    }
}

/// A generated CA and serving certificate, PEM encoded.
#[derive(Debug, Clone)]
pub struct GeneratedCerts {
    /// The CA certificate: the webhook configuration's `caBundle`.
    pub ca_pem: String,
    /// The serving certificate (`tls.crt`).
    pub cert_pem: String,
    /// The serving key (`tls.key`), PKCS#8.
    pub key_pem: String,
}

/// Generates a CA (ECDSA P-256) and a serving certificate for the Service's DNS names.
///
/// # Errors
/// Key generation or signing failed.
pub fn generate_certs(request: &CertRequest) -> Result<GeneratedCerts> {
    let (now, until) = validity(request.valid_days);

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "kedalint-webhook-ca");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now;
    ca_params.not_after = until;
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut params = CertificateParams::new(request.dns_names())?;
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        format!("{}.{}.svc", request.service, request.namespace),
    );
    params.distinguished_name = name;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = now;
    params.not_after = until;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca)?;
    Ok(GeneratedCerts {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The validity window, at midnight UTC: from yesterday (clocks that lag behind this machine
/// still accept the certificate) to `valid_days` from today.
fn validity(valid_days: u32) -> (OffsetDateTime, OffsetDateTime) {
    let today = OffsetDateTime::now_utc().replace_time(Time::MIDNIGHT);
    (
        today - TimeDuration::days(1),
        today + TimeDuration::days(i64::from(valid_days)),
    )
}

/// Names used in the manifests written next to the certificates.
#[derive(Debug, Clone)]
pub struct ManifestNames {
    /// The Secret the Deployment mounts (`kedalint-webhook-tls`).
    pub secret: String,
    /// The ValidatingWebhookConfiguration (`kedalint`).
    pub webhook_configuration: String,
    /// The webhook entry inside it (`scaledobjects.kedalint.io`).
    pub webhook: String,
}

impl Default for ManifestNames {
    fn default() -> Self {
        Self {
            secret: "kedalint-webhook-tls".to_owned(),
            webhook_configuration: "kedalint".to_owned(),
            webhook: "scaledobjects.kedalint.io".to_owned(),
        }
    }
}

/// File names written by [`write_cert_files`].
pub const WRITTEN_FILES: &[&str] = &[
    "tls.crt",
    "tls.key",
    "ca.crt",
    "secret.yaml",
    "cabundle-patch.yaml",
];

/// Writes `tls.crt`, `tls.key`, `ca.crt`, `secret.yaml` (a `kubernetes.io/tls` Secret) and
/// `cabundle-patch.yaml` (a strategic-merge patch setting the webhook's `caBundle`) into `dir`.
/// The key files are created with mode 0600 on Unix.
///
/// # Errors
/// A file cannot be written.
pub fn write_cert_files(
    dir: &Path,
    certs: &GeneratedCerts,
    request: &CertRequest,
    names: &ManifestNames,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_owned(),
        source,
    })?;
    let b64 = |s: &str| base64(s.as_bytes());
    let secret = format!(
        "# Generated by `kedalint-webhook certs`. Holds a private key: do not commit it.\n\
         apiVersion: v1\nkind: Secret\nmetadata:\n  name: {secret}\n  namespace: {ns}\n\
         type: kubernetes.io/tls\ndata:\n  tls.crt: {crt}\n  tls.key: {key}\n  ca.crt: {ca}\n",
        secret = names.secret,
        ns = request.namespace,
        crt = b64(&certs.cert_pem),
        key = b64(&certs.key_pem),
        ca = b64(&certs.ca_pem),
    );
    let patch = format!(
        "# Generated by `kedalint-webhook certs`: the CA that signed the webhook's serving certificate.\n\
         apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n\
         metadata:\n  name: {vwc}\nwebhooks:\n  - name: {wh}\n    clientConfig:\n      caBundle: {ca}\n",
        vwc = names.webhook_configuration,
        wh = names.webhook,
        ca = b64(&certs.ca_pem),
    );
    let files: [(&str, &str, bool); 5] = [
        ("tls.crt", &certs.cert_pem, false),
        ("tls.key", &certs.key_pem, true),
        ("ca.crt", &certs.ca_pem, false),
        ("secret.yaml", &secret, true),
        ("cabundle-patch.yaml", &patch, false),
    ];
    let mut written = Vec::new();
    for (name, content, private) in files {
        let path = dir.join(name);
        write_file(&path, content.as_bytes(), private).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

fn write_file(path: &Path, content: &[u8], private: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    std::io::Write::write_all(&mut options.open(path)?, content)
}

/// Standard base64 with padding (what Secret `data` and `caBundle` hold).
#[must_use]
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_runs_from_yesterday_midnight_utc_for_the_days_asked() {
        let now = OffsetDateTime::now_utc();
        let (from, until) = validity(365);
        for t in [from, until] {
            assert_eq!(t.time(), Time::MIDNIGHT, "{t}");
            assert!(t.offset().is_utc(), "{t}");
        }
        // Yesterday's midnight: between one and two days before now (now may cross midnight).
        assert!(from <= now - TimeDuration::days(1), "{from} vs {now}");
        assert!(from >= now - TimeDuration::days(2), "{from} vs {now}");
        assert_eq!(until - from, TimeDuration::days(366));
    }

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn the_serving_certificate_names_the_service() {
        let request = CertRequest::new("kedalint-system", "kedalint-webhook");
        assert_eq!(
            request.dns_names()[0],
            "kedalint-webhook.kedalint-system.svc"
        );
        let certs = generate_certs(&request).unwrap();
        assert!(certs.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(certs.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_ne!(certs.ca_pem, certs.cert_pem);
    }
}
