//! KL101-KL106 agree with KEDA 2.18's own parser: every metadata (and auth) combination KEDA
//! rejects gets at least one of those errors, and every one it accepts gets none. The cases are
//! KEDA's own unit-test table (`pkg/scalers/prometheus_scaler_test.go` at v2.18.1,
//! `TestPrometheusParseMetadata` and `TestPrometheusScalerAuthParams`; notes/keda-semantics.md §5),
//! transcribed as data, plus the parser facts of §1 (numbers, booleans, durations, lists).

use kedalint_rules::{Settings, Severity, lint_text};

const PARSER_RULES: &[&str] = &["KL101", "KL102", "KL103", "KL104", "KL105", "KL106"];

struct Case {
    what: &'static str,
    metadata: &'static [(&'static str, &'static str)],
    /// `None`: no TriggerAuthentication (KEDA's authParams is empty).
    auth_params: Option<&'static [(&'static str, &'static str)]>,
    pod_identity: &'static str,
    rejected: bool,
}

const B: &[(&str, &str)] = &[
    ("serverAddress", "http://localhost:9090"),
    ("metricName", "http_requests_total"),
    ("threshold", "100"),
    ("query", "up"),
];

macro_rules! meta {
    ($($k:literal => $v:literal),* $(,)?) => { &[("serverAddress", "http://localhost:9090"), ("metricName", "http_requests_total"), ("threshold", "100"), ("query", "up"), $(($k, $v)),*] };
}

fn manifest(case: &Case) -> String {
    let mut yaml = String::from(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: so\n  namespace: default\nspec:\n  scaleTargetRef:\n    name: app\n  triggers:\n    - type: prometheus\n",
    );
    if case.auth_params.is_some() || !case.pod_identity.is_empty() {
        yaml.push_str("      authenticationRef:\n        name: auth\n");
    }
    if case.metadata.is_empty() {
        yaml.push_str("      metadata: {}\n");
    } else {
        yaml.push_str("      metadata:\n");
        for (k, v) in case.metadata {
            yaml.push_str(&format!(
                "        {k}: {}\n",
                serde_json::to_string(v).expect("json string")
            ));
        }
    }
    if case.auth_params.is_some() || !case.pod_identity.is_empty() {
        yaml.push_str("---\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: auth\n  namespace: default\nspec:\n");
        if !case.pod_identity.is_empty() {
            yaml.push_str(&format!(
                "  podIdentity:\n    provider: {}\n",
                case.pod_identity
            ));
        }
        // A parameter whose value is empty is missing for KEDA, so it is not declared here.
        let params: Vec<_> = case
            .auth_params
            .unwrap_or_default()
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        if !params.is_empty() {
            yaml.push_str("  secretTargetRef:\n");
            for (p, _) in params {
                yaml.push_str(&format!(
                    "    - parameter: {p}\n      name: prom-secret\n      key: {p}\n"
                ));
            }
        }
    }
    yaml
}

fn case(
    what: &'static str,
    metadata: &'static [(&'static str, &'static str)],
    rejected: bool,
) -> Case {
    Case {
        what,
        metadata,
        auth_params: None,
        pod_identity: "",
        rejected,
    }
}

fn auth(
    what: &'static str,
    metadata: &'static [(&'static str, &'static str)],
    params: &'static [(&'static str, &'static str)],
    pod: &'static str,
    rejected: bool,
) -> Case {
    Case {
        what,
        metadata,
        auth_params: Some(params),
        pod_identity: pod,
        rejected,
    }
}

fn cases() -> Vec<Case> {
    vec![
        // TestPrometheusParseMetadata
        case("empty metadata", &[], true),
        case("all properly formed", B, false),
        case(
            "with namespace",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "100"),
                ("query", "up"),
                ("namespace", "foo"),
            ],
            false,
        ),
        case(
            "with ignoreNullValues",
            meta!("ignoreNullValues" => "false"),
            false,
        ),
        case(
            "with activationThreshold",
            meta!("activationThreshold" => "50"),
            false,
        ),
        case(
            "empty serverAddress",
            &[
                ("serverAddress", ""),
                ("metricName", "http_requests_total"),
                ("threshold", "100"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "missing threshold",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("metricName", "http_requests_total"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "malformed threshold",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "one"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "malformed activationThreshold",
            meta!("activationThreshold" => "one"),
            true,
        ),
        case(
            "empty query",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "100"),
                ("query", ""),
            ],
            true,
        ),
        case(
            "ignoreNullValues with wrong value",
            meta!("ignoreNullValues" => "xxxx"),
            true,
        ),
        case(
            "unsafeSsl",
            &[
                ("serverAddress", "https://localhost:9090"),
                ("threshold", "100"),
                ("query", "up"),
                ("unsafeSsl", "true"),
            ],
            false,
        ),
        case(
            "customHeaders",
            meta!("customHeaders" => "key1=value1,key2=value2"),
            false,
        ),
        case(
            "customHeaders with wrong format",
            meta!("customHeaders" => "key1=value1,key2"),
            true,
        ),
        case(
            "queryParameters",
            meta!("queryParameters" => "key1=value1,key2=value2"),
            false,
        ),
        case(
            "queryParameters with wrong format",
            meta!("queryParameters" => "key1=value1,key2"),
            true,
        ),
        case("valid timeout", meta!("timeout" => "1000"), false),
        case("negative timeout", meta!("timeout" => "-1"), true),
        case("timeout not a number", meta!("timeout" => "a"), true),
        // Typed-config facts (notes/keda-semantics.md §1).
        case(
            "threshold 0.350",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "0.350"),
                ("query", "up"),
            ],
            false,
        ),
        case(
            "threshold 1e-3",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "1e-3"),
                ("query", "up"),
            ],
            false,
        ),
        case(
            "threshold -5",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "-5"),
                ("query", "up"),
            ],
            false,
        ),
        case(
            "threshold 350m",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "350m"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold .5",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", ".5"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold 5.",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "5."),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold +1",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "+1"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold 01",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "01"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold NaN",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "NaN"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold Inf",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "Inf"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold 1,5",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "1,5"),
                ("query", "up"),
            ],
            true,
        ),
        case(
            "threshold with spaces is trimmed",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", " 100 "),
                ("query", "up"),
            ],
            false,
        ),
        case(
            "whitespace-only query",
            &[
                ("serverAddress", "http://localhost:9090"),
                ("threshold", "100"),
                ("query", "   "),
            ],
            true,
        ),
        case(
            "ignoreNullValues T",
            meta!("ignoreNullValues" => "T"),
            false,
        ),
        case(
            "ignoreNullValues yes",
            meta!("ignoreNullValues" => "yes"),
            true,
        ),
        case("unsafeSsl 0", meta!("unsafeSsl" => "0"), false),
        case("timeout as Go duration", meta!("timeout" => "5s"), false),
        case("timeout 1.5", meta!("timeout" => "1.5"), true),
        case(
            "customHeaders with base64 padding",
            meta!("customHeaders" => "Authorization=Basic dXNlcg=="),
            true,
        ),
        case("authModes unknown", meta!("authModes" => "digest"), true),
        // TestPrometheusScalerAuthParams
        auth(
            "tls with ca, cert, key",
            meta!("authModes" => "tls"),
            &[("ca", "caaa"), ("cert", "ceert"), ("key", "keey")],
            "",
            false,
        ),
        auth(
            "tls, ca optional",
            meta!("authModes" => "tls"),
            &[("cert", "ceert"), ("key", "keey")],
            "",
            false,
        ),
        auth(
            "tls without key",
            meta!("authModes" => "tls"),
            &[("ca", "caaa"), ("cert", "ceert")],
            "",
            true,
        ),
        auth(
            "tls without cert",
            meta!("authModes" => "tls"),
            &[("ca", "caaa"), ("key", "keey")],
            "",
            true,
        ),
        auth(
            "bearer with token",
            meta!("authModes" => "bearer"),
            &[("bearerToken", "tooooken")],
            "",
            false,
        ),
        auth(
            "bearer without token",
            meta!("authModes" => "bearer"),
            &[],
            "",
            true,
        ),
        auth(
            "basic with username",
            meta!("authModes" => "basic"),
            &[("username", "user"), ("password", "pass")],
            "",
            false,
        ),
        auth(
            "basic without username",
            meta!("authModes" => "basic"),
            &[],
            "",
            true,
        ),
        auth(
            "tls, basic with all five",
            meta!("authModes" => "tls, basic"),
            &[
                ("ca", "caaa"),
                ("cert", "ceert"),
                ("key", "keey"),
                ("username", "user"),
                ("password", "pass"),
            ],
            "",
            false,
        ),
        auth(
            "tls,basic with only basic params",
            meta!("authModes" => "tls,basic"),
            &[("username", "user"), ("password", "pass")],
            "",
            true,
        ),
        auth(
            "custom with header and value",
            meta!("authModes" => "custom"),
            &[("customAuthHeader", "header"), ("customAuthValue", "value")],
            "",
            false,
        ),
        auth(
            "custom with empty header only",
            meta!("authModes" => "custom"),
            &[("customAuthHeader", "")],
            "",
            true,
        ),
        auth(
            "custom with empty value only",
            meta!("authModes" => "custom"),
            &[("customAuthValue", "")],
            "",
            true,
        ),
        auth(
            "custom with newlines in values",
            meta!("authModes" => "custom"),
            &[
                ("customAuthHeader", "header\n"),
                ("customAuthValue", "value\n"),
            ],
            "",
            false,
        ),
        auth(
            "basic with pod identity",
            meta!("authModes" => "basic"),
            &[("username", "user"), ("password", "pass")],
            "azure-workload",
            true,
        ),
        Case {
            what: "azure workload identity",
            metadata: B,
            auth_params: None,
            pod_identity: "azure-workload",
            rejected: false,
        },
        Case {
            what: "azure pod identity",
            metadata: B,
            auth_params: None,
            pod_identity: "azure",
            rejected: false,
        },
        // Auth facts (notes/keda-semantics.md §1).
        auth(
            "bearer and basic together",
            meta!("authModes" => "bearer,basic"),
            &[("bearerToken", "t"), ("username", "u")],
            "",
            true,
        ),
        auth(
            "token alias of bearerToken",
            meta!("authModes" => "bearer"),
            &[("token", "t")],
            "",
            false,
        ),
        auth(
            "oauth with its three parameters",
            meta!("authModes" => "oauth"),
            &[
                ("oauthTokenURI", "u"),
                ("clientID", "c"),
                ("clientSecret", "s"),
            ],
            "",
            false,
        ),
        auth(
            "oauth without clientSecret",
            meta!("authModes" => "oauth"),
            &[("oauthTokenURI", "u"), ("clientID", "c")],
            "",
            true,
        ),
        auth(
            "apiKey without apiKey",
            meta!("authModes" => "apiKey"),
            &[],
            "",
            true,
        ),
        case(
            "bearer with no authenticationRef at all",
            meta!("authModes" => "bearer"),
            true,
        ),
    ]
}

#[test]
fn parser_rules_agree_with_kedas_own_accept_and_reject_cases() {
    let mut disagreements = Vec::new();
    let all = cases();
    for c in &all {
        let text = manifest(c);
        let report = lint_text("case.yaml", &text, &Settings::default());
        let errors: Vec<_> = report
            .findings
            .iter()
            .filter(|f| PARSER_RULES.contains(&f.code) && f.severity == Severity::Error)
            .map(|f| format!("{} {}", f.code, f.message))
            .collect();
        if c.rejected == errors.is_empty() {
            disagreements.push(format!(
                "{}: KEDA {} it, kedalint reported {:?}\n{text}",
                c.what,
                if c.rejected { "rejects" } else { "accepts" },
                errors
            ));
        }
    }
    assert!(all.len() >= 60);
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
