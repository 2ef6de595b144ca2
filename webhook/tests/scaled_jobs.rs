//! ScaledJobs go through the webhook like ScaledObjects: the ValidatingWebhookConfiguration
//! selects `scaledjobs`, and a review of one is linted with the same rules (those about the HPA
//! excepted) and the job rules. An error denies in `enforce` mode; `warn` mode admits it and
//! shows the error among the warnings.

mod common;

use common::*;
use kedalint_webhook::Server;
use serde_json::Value;
use tower::ServiceExt;

async fn review(server: &Server, object: &Value, uid: &str) -> Value {
    let request = axum::http::Request::post("/validate")
        .body(axum::body::Body::from(
            serde_json::to_vec(&review_for(object, "CREATE", uid)).unwrap(),
        ))
        .unwrap();
    let response = server.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// A ScaledJob whose only trigger has no threshold (KL101, an error).
fn broken_job() -> Value {
    scaled_job("render", None, Some("false"))
}

#[tokio::test]
async fn a_scaled_job_with_an_error_is_denied_in_enforce_mode() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::new(test_config(dir.path())).unwrap();
    let answer = review(&server, &broken_job(), "uid-job-enforce").await;
    let response = &answer["response"];
    assert_eq!(response["uid"], "uid-job-enforce");
    assert_eq!(response["allowed"], false, "{answer}");
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("[KL101 spec.triggers[0].metadata: "),
        "{message}"
    );
}

#[tokio::test]
async fn a_scaled_job_with_an_error_is_allowed_with_warnings_in_warn_mode() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join(".kedalint.yaml");
    std::fs::write(&config_path, "webhook:\n  mode: warn\n").unwrap();
    let mut config = test_config(dir.path());
    config.config_path = Some(config_path);
    let server = Server::new(config).unwrap();
    let answer = review(&server, &broken_job(), "uid-job-warn").await;
    let response = &answer["response"];
    assert_eq!(response["allowed"], true, "{answer}");
    let warnings: Vec<&str> = response["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("KL101 error spec.triggers[0].metadata: ")),
        "{warnings:#?}"
    );
}

#[tokio::test]
async fn a_clean_scaled_job_is_admitted_without_warnings_and_hpa_rules_stay_silent() {
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::new(test_config(dir.path())).unwrap();
    // A p95 latency: on a ScaledObject KL301 (HPA arithmetic) would warn; on a ScaledJob the
    // job rule KL320 says what is wrong instead.
    let mut job = scaled_job("render", Some("0.35"), Some("false"));
    job["spec"]["triggers"][0]["metadata"]["query"] = Value::from(
        "histogram_quantile(0.95, sum(rate(render_seconds_bucket{job=\"render\"}[5m])) by (le)) >= 0 or vector(0)",
    );
    let answer = review(&server, &job, "uid-job-latency").await;
    let warnings = answer["response"]["warnings"].to_string();
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(warnings.contains("KL320"), "{warnings}");
    assert!(!warnings.contains("KL301"), "{warnings}");

    let clean = review(
        &server,
        &scaled_job("e", Some("10"), Some("false")),
        "uid-clean",
    )
    .await;
    assert_eq!(clean["response"]["allowed"], true, "{clean}");
    assert!(
        clean["response"]["warnings"].is_null()
            || clean["response"]["warnings"].as_array().unwrap().is_empty(),
        "{clean}"
    );
}
