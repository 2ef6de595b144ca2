//! A small GET-only HTTP client for probes: no redirects, no proxies, a size cap, a timeout per
//! request, and failures classified the way the KL401 message needs them.

use std::error::Error as _;
use std::time::{Duration, Instant};

use kedalint_rules::facts::Unreachable;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// A response, read whole (up to the cap).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) location: Option<String>,
    pub(crate) body: Vec<u8>,
    pub(crate) elapsed: Duration,
}

impl Answer {
    /// The body as JSON, when it is.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Why a request got no answer.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) reason: Unreachable,
    pub(crate) detail: String,
    pub(crate) elapsed: Duration,
}

/// The client shared by every probe of a run.
#[derive(Clone)]
pub(crate) struct Client {
    inner: reqwest::Client,
    max_body: usize,
}

impl Client {
    pub(crate) fn new(
        connect_timeout: Duration,
        max_body: usize,
        resolver: Option<crate::Resolver>,
    ) -> Result<Self, reqwest::Error> {
        crate::install_crypto();
        let mut builder = reqwest::Client::builder();
        if let Some(r) = resolver {
            builder = builder.dns_resolver(r.0);
        }
        let inner = builder
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(connect_timeout)
            .user_agent(concat!("kedalint/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { inner, max_body })
    }

    /// GETs `url` with `headers`, within `timeout` for the whole exchange.
    pub(crate) async fn get(
        &self,
        url: &str,
        headers: &[(String, String)],
        timeout: Duration,
    ) -> Result<Answer, Failure> {
        let start = Instant::now();
        let fail = |reason, detail: String| Failure {
            reason,
            detail,
            elapsed: start.elapsed(),
        };
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                map.append(k, v);
            }
        }
        let exchange = async {
            let mut resp = self
                .inner
                .get(url)
                .headers(map)
                .send()
                .await
                .map_err(|e| classify(&e))?;
            let status = resp.status().as_u16();
            let header = |name: reqwest::header::HeaderName| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
            let location = header(reqwest::header::LOCATION);
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
                if body.len() + chunk.len() > self.max_body {
                    return Err((
                        Unreachable::Other,
                        format!("the answer is larger than {} bytes", self.max_body),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, content_type, location, body))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => Err(fail(
                Unreachable::Timeout,
                format!("no answer within {}", crate::seconds(timeout)),
            )),
            Ok(Err((reason, detail))) => Err(fail(reason, detail)),
            Ok(Ok((status, content_type, location, body))) => Ok(Answer {
                status,
                content_type,
                location,
                body,
                elapsed: start.elapsed(),
            }),
        }
    }
}

/// Classifies a transport error by walking its causes; the detail is the innermost cause's text,
/// which never holds the URL (and so no credentials written into it).
fn classify(e: &reqwest::Error) -> (Unreachable, String) {
    let mut causes: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    let mut next = e.source();
    while let Some(c) = next {
        causes.push(c);
        next = c.source();
    }
    let detail = causes
        .last()
        .map_or_else(|| "the request failed".to_owned(), ToString::to_string);
    let text = causes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
        .to_ascii_lowercase();
    let reason = if e.is_timeout() {
        Unreachable::Timeout
    } else if causes
        .iter()
        .any(|c| c.downcast_ref::<rustls::Error>().is_some())
        || causes.iter().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        })
        || text.contains("tls")
        || text.contains("certificate")
        || text.contains("handshake")
    {
        Unreachable::Tls
    } else if text.contains("dns error") || text.contains("failed to lookup address") {
        Unreachable::Dns
    } else if causes.iter().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    }) || text.contains("connection refused")
    {
        Unreachable::ConnectionRefused
    } else if text.contains("timed out") {
        Unreachable::Timeout
    } else {
        Unreachable::Other
    };
    (reason, detail)
}

/// Go's `url.QueryEscape`: what KEDA does to the query and its parameters.
pub(crate) use kedalint_rules::facts::query_escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_escape_matches_go() {
        assert_eq!(
            query_escape("sum(rate(x{a=\"b c\"}[1m]))"),
            "sum%28rate%28x%7Ba%3D%22b+c%22%7D%5B1m%5D%29%29"
        );
    }
}
