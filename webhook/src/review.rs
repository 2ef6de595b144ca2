//! Turns an AdmissionReview body into an answer: which objects are linted, how findings become a
//! denial or warnings, and what makes a body unusable (HTTP 400).
//!
//! Kept free of HTTP and async so every decision here is unit-tested directly.

use kedalint_rules::facts::Facts;
use kedalint_rules::settings::WebhookMode;
use kedalint_rules::source::{Node, from_json};
use kedalint_rules::{Finding, Inventory, Settings, Severity};
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use serde::Deserialize;
use serde_json::Value;

mod parse;

/// The only AdmissionReview version answered. `v1beta1` was removed from the API server in 1.22.
pub const ADMISSION_V1: &str = "admission.k8s.io/v1";

/// The longest warning the API server passes on unshortened (it recommends 120 characters).
pub const MAX_WARNING_CHARS: usize = 120;

/// The budget for all warnings of one response together (the API server truncates beyond 4 KiB).
pub const MAX_WARNINGS_BYTES: usize = 4000;

/// How many error findings a denial message lists before summarising the rest.
const MAX_DENIAL_FINDINGS: usize = 20;

/// Why a body is not an AdmissionReview this webhook answers (sent back as HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadReview {
    /// The body is not JSON at all.
    #[error("request body is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an AdmissionReview object.
    #[error("request body is not an AdmissionReview (apiVersion {api_version:?}, kind {kind:?})")]
    NotAdmissionReview {
        /// `apiVersion` found, if any.
        api_version: Option<String>,
        /// `kind` found, if any.
        kind: Option<String>,
    },
    /// An AdmissionReview of a version other than v1.
    #[error(
        "AdmissionReview {0} is not supported: configure the webhook with admissionReviewVersions: [\"v1\"]"
    )]
    UnsupportedVersion(String),
    /// An AdmissionReview whose `request` is missing or malformed.
    #[error("AdmissionReview request is missing or malformed: {0}")]
    BadRequest(String),
}

/// What happened to one review, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not a ScaledObject or ScaledJob, a DELETE, or no object: allowed without linting.
    Skipped,
    /// Linted and allowed (possibly with warnings).
    Allowed,
    /// Linted and denied.
    Denied,
}

impl Verdict {
    /// `allowed` or `denied`, the metrics label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Skipped | Self::Allowed => "allowed",
            Self::Denied => "denied",
        }
    }
}

/// A review decoded from the body: the envelope (typed, without the objects) and the objects as
/// the rules' trees.
#[derive(Debug)]
pub struct Decoded {
    /// The request with `object` and `oldObject` taken out (they are kept as trees below).
    pub request: AdmissionRequest<DynamicObject>,
    /// `request.object` exactly as sent, so the rules see what the API server saw.
    pub object: Option<Node>,
    /// `request.oldObject` as sent.
    pub old_object: Option<Node>,
}

/// An object tree back as the JSON it was read from (the online probe reads JSON).
#[must_use]
pub fn to_json(object: &Node) -> Value {
    parse::to_value(object)
}

/// Decodes a body. The objects are read as sent, straight into the trees the rules read: a
/// ScaledObject the typed `DynamicObject` could not hold (odd metadata) must not turn into a
/// webhook error.
///
/// A body is read in one pass (`review/parse.rs`); whatever that pass does not reproduce exactly,
/// malformed bodies above all, is decoded again by [`decode_by_value`], which decides the answer.
///
/// # Errors
/// A [`BadReview`] saying what the body is instead.
pub fn decode(body: &[u8]) -> Result<Decoded, BadReview> {
    match decode_in_one_pass(body) {
        Some(decoded) => Ok(decoded),
        None => decode_by_value(body),
    }
}

/// The happy path: the body in one pass, `None` for anything [`decode_by_value`] must decide.
fn decode_in_one_pass(body: &[u8]) -> Option<Decoded> {
    let parts = parse::parts(body)?;
    if parts.types.kind != "AdmissionReview" || parts.types.api_version != ADMISSION_V1 {
        return None;
    }
    Some(Decoded {
        request: parts.request,
        object: parts.object.filter(|o| !parse::is_null(o)),
        old_object: parts.old_object.filter(|o| !parse::is_null(o)),
    })
}

/// Decodes a body by way of a `Value` of all of it: the reference for [`decode`], and what
/// decides every error.
///
/// # Errors
/// A [`BadReview`] saying what the body is instead.
pub fn decode_by_value(body: &[u8]) -> Result<Decoded, BadReview> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| BadReview::NotJson(e.to_string()))?;
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let api_version = field(&value, "apiVersion");
    let kind = field(&value, "kind");
    if kind.as_deref() != Some("AdmissionReview") {
        return Err(BadReview::NotAdmissionReview { api_version, kind });
    }
    match api_version.as_deref() {
        Some(ADMISSION_V1) => {}
        Some(other) => return Err(BadReview::UnsupportedVersion(other.to_owned())),
        None => return Err(BadReview::NotAdmissionReview { api_version, kind }),
    }
    let Some(request) = value.get_mut("request").and_then(Value::as_object_mut) else {
        return Err(BadReview::BadRequest("no `request` object".to_owned()));
    };
    let object = request.remove("object").filter(|o| !o.is_null());
    let old_object = request.remove("oldObject").filter(|o| !o.is_null());
    let review = AdmissionReview::<DynamicObject>::deserialize(&value)
        .map_err(|e| BadReview::BadRequest(e.to_string()))?;
    let request: AdmissionRequest<DynamicObject> = review
        .try_into()
        .map_err(|_| BadReview::BadRequest("no `request` object".to_owned()))?;
    Ok(Decoded {
        request,
        object: object.as_ref().map(from_json),
        old_object: old_object.as_ref().map(from_json),
    })
}

/// Whether the request is for a `keda.sh` ScaledObject or ScaledJob (not a subresource such as
/// `status`): the objects whose triggers the rules read.
#[must_use]
pub fn is_scaled_object(request: &AdmissionRequest<DynamicObject>) -> bool {
    request.kind.group == "keda.sh"
        && matches!(request.kind.kind.as_str(), "ScaledObject" | "ScaledJob")
        && request.sub_resource.as_deref().is_none_or(str::is_empty)
}

/// The answer to one review, before it is serialised.
#[derive(Debug)]
pub struct Answer {
    /// The response (uid copied from the request).
    pub response: AdmissionResponse,
    /// What happened.
    pub verdict: Verdict,
    /// Every finding of the linted object (empty when skipped).
    pub findings: Vec<Finding>,
}

/// Lints the object of a decoded review and decides. `extra_warnings` come from the online seam
/// (checks that could not run, hosts refused) and are placed before findings.
#[must_use]
pub fn answer(decoded: &Decoded, settings: &Settings, extra_warnings: Vec<String>) -> Answer {
    answer_online(decoded, settings, extra_warnings, None)
}

/// [`answer`] with what online checks learned. Live findings never deny: a KL4xx error, or an
/// error the offline rules alone do not report (it depends on live data such as a scrape
/// interval), is reported as a warning, so a Prometheus outage or a slow query never blocks a
/// deploy. Online facts can still remove an offline error (a live scrape interval replacing the
/// assumed default).
#[must_use]
pub fn answer_online(
    decoded: &Decoded,
    settings: &Settings,
    extra_warnings: Vec<String>,
    facts: Option<Facts>,
) -> Answer {
    let request = &decoded.request;
    let response = AdmissionResponse::from(request);
    let skip = |response| Answer {
        response,
        verdict: Verdict::Skipped,
        findings: Vec::new(),
    };
    if !is_scaled_object(request) || request.operation == Operation::Delete {
        return skip(response);
    }
    let Some(object) = &decoded.object else {
        return skip(response);
    };
    let offline = kedalint_rules::lint_node(object, settings, &Inventory::default());
    let findings = match facts {
        None => offline,
        Some(facts) => {
            let inventory = Inventory {
                facts,
                ..Inventory::default()
            };
            let mut online = kedalint_rules::lint_node(object, settings, &inventory);
            downgrade_live(&mut online, &offline);
            online
        }
    };
    let may_deny = settings.webhook.mode == WebhookMode::Enforce && !is_housekeeping(decoded);
    decide(response, findings, may_deny, extra_warnings)
}

/// Whether a finding comes from a live check (the KL4xx rules).
#[must_use]
pub fn is_live(f: &Finding) -> bool {
    f.code.starts_with("KL4")
}

/// Turns the errors that depend on live data into warnings: KL4xx, and any error the offline
/// lint of the same object does not report at the same place.
fn downgrade_live(online: &mut [Finding], offline: &[Finding]) {
    for f in online.iter_mut().filter(|f| f.severity == Severity::Error) {
        let offline_too = offline
            .iter()
            .any(|o| o.severity == Severity::Error && o.code == f.code && o.path == f.path);
        if is_live(f) || !offline_too {
            f.severity = Severity::Warning;
        }
    }
}

/// An UPDATE that must never be denied whatever the findings: the object is being deleted (the
/// KEDA operator removes its finalizer with an UPDATE; denying it leaves the object stuck in
/// Terminating), or the spec is unchanged (metadata, finalizer or annotation changes by
/// controllers; the problems were already there and denying only blocks them).
fn is_housekeeping(decoded: &Decoded) -> bool {
    if decoded.request.operation != Operation::Update {
        return false;
    }
    let Some(object) = &decoded.object else {
        return false;
    };
    if object
        .get("metadata")
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some()
    {
        return true;
    }
    decoded
        .old_object
        .as_ref()
        .is_some_and(|old| match (old.get("spec"), object.get("spec")) {
            (Some(a), Some(b)) => parse::same_json(a, b),
            (a, b) => a.is_none() && b.is_none(),
        })
}

fn decide(
    mut response: AdmissionResponse,
    findings: Vec<Finding>,
    may_deny: bool,
    extra_warnings: Vec<String>,
) -> Answer {
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let deny = may_deny && !errors.is_empty();
    let mut warning_lines = extra_warnings;
    for f in &findings {
        match f.severity {
            Severity::Warning => warning_lines.push(finding_line(f)),
            // In warn mode (or a housekeeping update) errors are shown, never enforced.
            Severity::Error if !deny => warning_lines.push(finding_line(f)),
            _ => {}
        }
    }
    let warnings = fit_warnings(&warning_lines);
    if !warnings.is_empty() {
        response.warnings = Some(warnings);
    }
    let verdict = if deny {
        response = response.deny(denial_message(&errors));
        response.result.code = 403;
        response.result.reason = "Forbidden".to_owned();
        Verdict::Denied
    } else {
        Verdict::Allowed
    };
    Answer {
        response,
        verdict,
        findings,
    }
}

/// One finding as one line: `KL101 error spec.triggers[0].metadata: message`.
#[must_use]
pub fn finding_line(f: &Finding) -> String {
    format!("{} {} {}: {}", f.code, f.severity, f.path, f.message)
}

/// The status message of a denial: every error finding with code, field path and message.
#[must_use]
pub fn denial_message(errors: &[&Finding]) -> String {
    let mut message = format!(
        "kedalint found {} error{}:",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for f in errors.iter().take(MAX_DENIAL_FINDINGS) {
        message.push_str(&format!(" [{} {}: {}]", f.code, f.path, f.message));
    }
    if errors.len() > MAX_DENIAL_FINDINGS {
        message.push_str(&format!(
            " ... and {} more",
            errors.len() - MAX_DENIAL_FINDINGS
        ));
    }
    message.push_str(" (suppress one rule with the annotation kedalint.io/ignore: \"KLxxx\")");
    message
}

/// Shortens each line to [`MAX_WARNING_CHARS`] characters and keeps the total under
/// [`MAX_WARNINGS_BYTES`]; whatever does not fit is summarised as `... and N more findings`.
#[must_use]
pub fn fit_warnings(lines: &[String]) -> Vec<String> {
    let shortened: Vec<String> = lines
        .iter()
        .map(|l| shorten(l, MAX_WARNING_CHARS))
        .collect();
    let total: usize = shortened.iter().map(String::len).sum();
    if total < MAX_WARNINGS_BYTES {
        return shortened;
    }
    // Room for the summary line itself.
    let budget = MAX_WARNINGS_BYTES - 40;
    let mut out = Vec::new();
    let mut used = 0;
    for line in &shortened {
        if used + line.len() > budget {
            break;
        }
        used += line.len();
        out.push(line.clone());
    }
    let rest = shortened.len() - out.len();
    out.push(format!("... and {rest} more findings"));
    out
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    let mut chars = text.char_indices();
    // Where the `max`-th character starts: the cut, when there is one more after it.
    let Some((cut, _)) = chars.nth(max.saturating_sub(1)) else {
        return text.to_owned();
    };
    if chars.next().is_none() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(cut + '…'.len_utf8());
    out.push_str(&text[..cut]);
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn review(object: Value, operation: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "keda.sh", "version": "v1alpha1", "kind": "ScaledObject"},
                "resource": {"group": "keda.sh", "version": "v1alpha1", "resource": "scaledobjects"},
                "name": "so", "namespace": "default", "operation": operation,
                "userInfo": {"username": "admin"},
                "object": object,
            }
        }))
        .unwrap()
    }

    fn scaled_object(threshold: Option<&str>) -> Value {
        let mut metadata = json!({
            "serverAddress": "http://prometheus.monitoring.svc:9090",
            "query": "sum(up)",
            "ignoreNullValues": "false",
        });
        if let Some(t) = threshold {
            metadata["threshold"] = json!(t);
        }
        json!({
            "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "so", "namespace": "default"},
            "spec": {"scaleTargetRef": {"name": "web"},
                     "triggers": [{"type": "prometheus", "metadata": metadata}]}
        })
    }

    #[test]
    fn a_missing_threshold_denies_with_code_and_path() {
        let decoded = decode(&review(scaled_object(None), "CREATE")).unwrap();
        let a = answer(&decoded, &Settings::default(), Vec::new());
        assert_eq!(a.verdict, Verdict::Denied);
        assert!(!a.response.allowed);
        assert_eq!(a.response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        let msg = &a.response.result.message;
        assert!(msg.contains("KL101"), "{msg}");
        assert!(msg.contains("spec.triggers[0].metadata"), "{msg}");
    }

    #[test]
    fn warn_mode_never_denies_and_turns_errors_into_warnings() {
        let decoded = decode(&review(scaled_object(None), "CREATE")).unwrap();
        let settings = Settings::from_yaml("c", "webhook:\n  mode: warn\n").unwrap();
        let a = answer(&decoded, &settings, Vec::new());
        assert_eq!(a.verdict, Verdict::Allowed);
        let w = a.response.warnings.unwrap();
        assert!(w.iter().any(|l| l.starts_with("KL101 error")), "{w:?}");
    }

    #[test]
    fn live_errors_warn_and_never_deny() {
        use kedalint_rules::facts::{ServerOutcome, ServerProbe, Unreachable};
        let decoded = decode(&review(scaled_object(Some("10")), "CREATE")).unwrap();
        let mut facts = Facts::default();
        facts.servers.insert(
            "http://prometheus.monitoring.svc:9090".to_owned(),
            ServerProbe {
                probed_url: "http://prometheus.monitoring.svc:9090".to_owned(),
                outcome: ServerOutcome::Unreachable {
                    reason: Unreachable::ConnectionRefused,
                    detail: "connection refused".to_owned(),
                },
                targets: Vec::new(),
                job_intervals: std::collections::BTreeMap::new(),
                queries: std::collections::BTreeMap::new(),
                metric_types: std::collections::BTreeMap::new(),
            },
        );
        let a = answer_online(&decoded, &Settings::default(), Vec::new(), Some(facts));
        assert_eq!(a.verdict, Verdict::Allowed, "{:?}", a.response.result);
        let kl401 = a.findings.iter().find(|f| f.code == "KL401").unwrap();
        assert_eq!(kl401.severity, Severity::Warning);
        let w = a.response.warnings.unwrap();
        assert!(w.iter().any(|l| l.starts_with("KL401 warning")), "{w:?}");
        // Offline errors still deny with facts present.
        let decoded = decode(&review(scaled_object(None), "CREATE")).unwrap();
        let a = answer_online(
            &decoded,
            &Settings::default(),
            Vec::new(),
            Some(Facts::default()),
        );
        assert_eq!(a.verdict, Verdict::Denied);
    }

    #[test]
    fn delete_is_allowed_without_linting() {
        let decoded = decode(&review(scaled_object(None), "DELETE")).unwrap();
        let a = answer(&decoded, &Settings::default(), Vec::new());
        assert_eq!(a.verdict, Verdict::Skipped);
        assert!(a.response.allowed);
    }

    #[test]
    fn an_update_that_removes_a_finalizer_during_deletion_is_never_denied() {
        let mut object = scaled_object(None);
        object["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
        let decoded = decode(&review(object, "UPDATE")).unwrap();
        let a = answer(&decoded, &Settings::default(), Vec::new());
        assert_eq!(a.verdict, Verdict::Allowed);
        assert!(a.response.warnings.unwrap()[0].starts_with("KL101"));
    }

    #[test]
    fn an_update_that_changes_the_spec_is_denied() {
        let mut body: Value =
            serde_json::from_slice(&review(scaled_object(None), "UPDATE")).unwrap();
        body["request"]["oldObject"] = scaled_object(Some("10"));
        let decoded = decode(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(
            answer(&decoded, &Settings::default(), Vec::new()).verdict,
            Verdict::Denied
        );
        body["request"]["oldObject"] = scaled_object(None);
        let decoded = decode(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(
            answer(&decoded, &Settings::default(), Vec::new()).verdict,
            Verdict::Allowed
        );
    }

    #[test]
    fn v1beta1_and_non_reviews_are_bad_requests() {
        let mut body: Value =
            serde_json::from_slice(&review(scaled_object(None), "CREATE")).unwrap();
        body["apiVersion"] = json!("admission.k8s.io/v1beta1");
        let err = decode(&serde_json::to_vec(&body).unwrap()).unwrap_err();
        assert!(matches!(err, BadReview::UnsupportedVersion(_)), "{err}");
        assert!(matches!(
            decode(b"{\"kind\":\"Pod\"}"),
            Err(BadReview::NotAdmissionReview { .. })
        ));
        assert!(matches!(decode(b"not json"), Err(BadReview::NotJson(_))));
    }

    /// Bodies to decode both ways: the fuzz seeds, the shared corpus of real reviews when
    /// present, and the reviews of these tests.
    fn real_samples() -> Vec<Vec<u8>> {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut bodies = Vec::new();
        for dir in [
            manifest.join("../fuzz/seeds/admission_review"),
            manifest.join("../../shared/corpus/admission"),
            std::path::PathBuf::from("/work/shared/corpus/admission"),
        ] {
            for entry in std::fs::read_dir(&dir).into_iter().flatten() {
                bodies.push(std::fs::read(entry.unwrap().path()).unwrap());
            }
        }
        let mut object = scaled_object(None);
        object["metadata"]["annotations"] = json!({"kedalint.io/ignore": "KL109"});
        bodies.push(review(object, "CREATE"));
        bodies.push(review(scaled_object(Some("10")), "UPDATE"));
        bodies.push(review(Value::Null, "DELETE"));
        bodies
    }

    /// Odd shapes the one-pass reader leaves to the reference path or must read exactly as a
    /// `Value` would.
    fn odd_samples() -> Vec<Vec<u8>> {
        let odd: [&[u8]; 9] = [
            br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","kind":{"group":"keda.sh","version":"v1alpha1","kind":"ScaledObject"},"resource":{"group":"keda.sh","version":"v1alpha1","resource":"scaledobjects"},"operation":"CREATE","userInfo":{},"object":{"spec":{"b":1,"a":2,"b":3.50}},"uid":"again"}}"#,
            br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","kind":{"group":"keda.sh","version":"v1alpha1","kind":"ScaledObject"},"resource":{"group":"keda.sh","version":"v1alpha1","resource":"scaledobjects"},"operation":"CREATE","userInfo":{},"object":{},"object":{}}}"#,
            br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":5}}"#,
            br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":null}"#,
            br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","response":{"uid":"x","allowed":true}}"#,
            br#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u"},"request":{"uid":"v"}}"#,
            br#"{"$serde_json::private::RawValue":"{\"kind\":\"AdmissionReview\"}"}"#,
            br#"{"kind":"AdmissionReview","kind":"Pod","apiVersion":"admission.k8s.io/v1","request":{}}"#,
            b"[]",
        ];
        odd.iter().map(|b| b.to_vec()).collect()
    }

    #[test]
    fn one_pass_decoding_agrees_with_decoding_by_value_on_every_sample_and_its_truncations() {
        let bodies = [real_samples(), odd_samples()].concat();
        assert!(bodies.len() > 20, "only {} samples", bodies.len());
        for body in &bodies {
            let cuts = (0..body.len()).step_by(13).chain([body.len()]);
            for cut in cuts {
                let body = &body[..cut];
                assert_eq!(
                    format!("{:?}", decode(body)),
                    format!("{:?}", decode_by_value(body)),
                    "{}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }

    #[test]
    fn every_well_formed_sample_is_read_in_one_pass() {
        let mut read = 0;
        for body in real_samples() {
            let well_formed = decode_by_value(&body).is_ok();
            assert_eq!(
                decode_in_one_pass(&body).is_some(),
                well_formed,
                "{}",
                String::from_utf8_lossy(&body)
            );
            read += usize::from(well_formed);
        }
        assert!(read >= 10, "only {read} samples read");
    }

    #[test]
    fn warnings_are_short_and_bounded_in_total() {
        let lines: Vec<String> = (0..200)
            .map(|i| format!("KL109 warning {i} {}", "x".repeat(300)))
            .collect();
        let fitted = fit_warnings(&lines);
        assert!(
            fitted
                .iter()
                .all(|l| l.chars().count() <= MAX_WARNING_CHARS)
        );
        assert!(fitted.iter().map(String::len).sum::<usize>() < 4096);
        let last = fitted.last().unwrap();
        assert_eq!(
            last,
            &format!("... and {} more findings", 200 - (fitted.len() - 1))
        );
    }

    #[test]
    fn shortening_counts_characters_not_bytes() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
        assert_eq!(shorten("ééé", 3), "ééé");
        assert_eq!(shorten("éééé", 3), "éé…");
        assert_eq!(shorten("", 3), "");
    }

    #[test]
    fn few_short_warnings_pass_unchanged() {
        let lines = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(fit_warnings(&lines), lines);
    }
}
