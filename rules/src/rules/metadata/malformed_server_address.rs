use crate::checker::{Checker, Loc};
use crate::finding::{Edit, Fix};
use crate::model::Trigger;
use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a `serverAddress` that is not an absolute `http://` or `https://` URL with a
    /// host: no scheme, a placeholder or invalid host, spaces, a bad port, a query string or
    /// fragment, or a path that already ends in `/api/v1/query`.
    ///
    /// ## Why is this bad?
    /// KEDA does not validate the address; it builds `<serverAddress>/api/v1/query?query=…` at
    /// run time, so every poll fails (`unsupported protocol scheme`, a DNS error, or a 404 from
    /// `/api/v1/query/api/v1/query`) and the trigger never reports a metric.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: prometheus-server.monitoring.svc:80/api/v1/query
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:80
    /// ```
    pub(crate) struct MalformedServerAddress => "KL107", "malformed-server-address", Error;
}

/// The parts of a URL this rule and the online checks look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl<'a> {
    /// `http` or `https`, lowercase.
    pub scheme: String,
    /// The host, without brackets or port.
    pub host: &'a str,
    /// The port, when written.
    pub port: Option<u16>,
    /// The path (may be empty).
    pub path: &'a str,
}

/// Why an address is not usable, with the byte range of the offending part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressProblem {
    /// What is wrong.
    pub message: String,
    /// Where in the address.
    pub range: std::ops::Range<usize>,
}

/// Parses a serverAddress the way Go's `net/http` would use it.
///
/// # Errors
/// The first problem found.
pub fn parse_server_address(address: &str) -> Result<ServerUrl<'_>, AddressProblem> {
    let problem =
        |message: String, range: std::ops::Range<usize>| AddressProblem { message, range };
    if let Some(i) = address.find(char::is_whitespace) {
        return Err(problem("contains whitespace".to_owned(), i..i + 1));
    }
    let Some((scheme, rest)) = address.split_once("://") else {
        return Err(problem(
            "has no scheme: KEDA needs an absolute URL such as http://host:port".to_owned(),
            0..address.len(),
        ));
    };
    let scheme_lc = scheme.to_ascii_lowercase();
    if scheme_lc != "http" && scheme_lc != "https" {
        return Err(problem(
            format!("has scheme `{scheme}`; only http and https work"),
            0..scheme.len(),
        ));
    }
    let authority_start = scheme.len() + 3;
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let after_userinfo = authority.rfind('@').map_or(0, |i| i + 1);
    let hostport = &authority[after_userinfo..];
    let hp_start = authority_start + after_userinfo;
    let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
        match stripped.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => {
                return Err(problem(
                    "has an unclosed `[` in the host".to_owned(),
                    hp_start..hp_start + hostport.len(),
                ));
            }
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(problem(
            "has no host".to_owned(),
            hp_start..hp_start + hostport.len().max(1),
        ));
    }
    if let Some(bad) =
        host.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
    {
        return Err(problem(
            format!("has host `{host}`, which is not a host name (a placeholder?)"),
            hp_start + bad.min(host.len())..hp_start + host.len(),
        ));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                let start = hp_start + hostport.len() - p.len();
                return Err(problem(
                    format!("has port `{p}`, which is not a port number"),
                    start..start + p.len(),
                ));
            }
        },
    };
    let path_start = authority_start + authority_len;
    let tail = &address[path_start..];
    if let Some(i) = tail.find(['?', '#']) {
        return Err(problem(
            "has a query string or fragment; KEDA appends `/api/v1/query?query=…` after it, which breaks the request (use queryParameters)".to_owned(),
            path_start + i..address.len(),
        ));
    }
    let trimmed = tail.trim_end_matches('/');
    for suffix in ["/api/v1/query", "/api/v1/query_range", "/api/v1"] {
        if trimmed.ends_with(suffix) {
            let start = path_start + trimmed.len() - suffix.len();
            return Err(problem(
                format!("already ends in `{suffix}`; KEDA appends `/api/v1/query` itself"),
                start..address.len(),
            ));
        }
    }
    Ok(ServerUrl {
        scheme: scheme_lc,
        host,
        port,
        path: tail,
    })
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    let Some(e) = trigger.meta_entry("serverAddress") else {
        return;
    };
    let Some(raw) = e.value.as_str() else { return };
    let address = raw.trim();
    if address.is_empty() {
        return;
    }
    let lead = raw.len() - raw.trim_start().len();
    let Err(p) = parse_server_address(address) else {
        return;
    };
    let span = cx.span_within(&e.value, p.range.start + lead..p.range.end + lead);
    let fix = if p.message.starts_with("already ends in") {
        cx.span_within(&e.value, p.range.start + lead..p.range.end + lead)
            .map(|span| Fix {
                title: "remove the API path".to_owned(),
                edits: vec![Edit {
                    span,
                    replacement: String::new(),
                }],
                changes_behaviour: false,
            })
    } else {
        None
    };
    let help = if p.message.starts_with("has no scheme") {
        format!("write `http://{address}` (or https://)")
    } else {
        "use the base URL of the Prometheus API, e.g. http://prometheus-server.monitoring.svc:80"
            .to_owned()
    };
    cx.report(
        &MalformedServerAddress::INFO,
        Loc {
            path: trigger.metadata_path().key("serverAddress"),
            span,
        },
        format!("serverAddress {address:?} {}", p.message),
    )
    .help(help)
    .fix(fix);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_addresses_parse() {
        let u =
            parse_server_address("http://prometheus-server.default.svc.cluster.local:80").unwrap();
        assert_eq!(
            (u.host, u.port),
            ("prometheus-server.default.svc.cluster.local", Some(80))
        );
        assert!(parse_server_address("https://[::1]:9090/prometheus").is_ok());
        assert!(parse_server_address("http://user:pw@host:9090").is_ok());
    }

    #[test]
    fn bad_addresses_name_the_part() {
        let a = "http://<prometheus-host>:9090";
        let p = parse_server_address(a).unwrap_err();
        assert!(p.message.contains("not a host name"), "{}", p.message);
        assert!(
            parse_server_address("X.Y.V.Z")
                .unwrap_err()
                .message
                .contains("no scheme")
        );
        let a = "http://p:9090/api/v1/query";
        assert_eq!(
            &a[parse_server_address(a).unwrap_err().range],
            "/api/v1/query"
        );
        assert!(parse_server_address("http://p:99999").is_err());
        assert!(parse_server_address("http://p:9090?x=1").is_err());
    }
}
