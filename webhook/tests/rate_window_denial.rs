//! The case the project exists for: `rate(x[1m])` at the default 1m scrape interval is denied
//! with KL202 (rate-window-too-short). Needs KL202 from the PromQL rules.

mod common;

use common::*;
use kedalint_webhook::Server;
use serde_json::Value;
use tower::ServiceExt;

#[tokio::test]
async fn a_one_minute_rate_window_at_the_default_scrape_interval_is_denied_with_kl202() {
    assert!(
        kedalint_rules::RULES.iter().any(|r| r.code == "KL202"),
        "KL202 (rate-window-too-short) is not in kedalint_rules::RULES yet: this test waits for the \
         PromQL rules to land on main"
    );
    install_provider();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::new(test_config(dir.path())).unwrap();
    let mut object = scaled_object("inference", Some("100"), Some("false"));
    object["spec"]["triggers"][0]["metadata"]["query"] =
        "sum(rate(http_requests_total{service=\"inference\"}[1m]))".into();
    let review = review_for(&object, "CREATE", "uid-kl202");
    let request = axum::http::Request::post("/validate")
        .body(axum::body::Body::from(serde_json::to_vec(&review).unwrap()))
        .unwrap();
    let response = server.router().oneshot(request).await.unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["response"]["uid"], "uid-kl202");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("[KL202 spec.triggers[0].metadata.query: "),
        "{message}"
    );
}
