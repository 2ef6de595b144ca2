//! The ConfigMap-mounted `.kedalint.yaml` is reloaded when the kubelet swaps it; a broken edit
//! keeps the previous configuration.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use kedalint_rules::settings::WebhookMode;
use kedalint_webhook::Server;
use serde_json::Value;
use tower::ServiceExt;

/// Writes `..data_N/.kedalint.yaml` and renames a new `..data` symlink over the old one.
fn configmap_swap(dir: &Path, version: usize, text: &str) {
    let data = format!("..data_{version}");
    std::fs::create_dir(dir.join(&data)).unwrap();
    std::fs::write(dir.join(&data).join(".kedalint.yaml"), text).unwrap();
    std::os::unix::fs::symlink(&data, dir.join("..tmp")).unwrap();
    std::fs::rename(dir.join("..tmp"), dir.join("..data")).unwrap();
}

async fn allowed(server: &Server) -> bool {
    let review = review_for(
        &scaled_object("r", None, Some("false")),
        "CREATE",
        "uid-reload",
    );
    let request = axum::http::Request::post("/validate")
        .body(axum::body::Body::from(serde_json::to_vec(&review).unwrap()))
        .unwrap();
    let response = server.router().oneshot(request).await.unwrap();
    let answer: Value = serde_json::from_slice(
        &axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap(),
    )
    .unwrap();
    answer["response"]["allowed"].as_bool().unwrap()
}

async fn wait_for(server: &Server, mode: WebhookMode) {
    for _ in 0..200 {
        if server.settings().webhook.mode == mode {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("mode never became {mode:?}");
}

#[tokio::test]
async fn a_configmap_swap_is_picked_up_and_a_broken_one_is_ignored() {
    install_provider();
    let ca = TestCa::new();
    let certs = SecretVolume::new(&ca.leaf("cfg"));
    let dir = tempfile::tempdir().unwrap();
    configmap_swap(dir.path(), 1, "webhook:\n  mode: enforce\n");
    std::os::unix::fs::symlink("..data/.kedalint.yaml", dir.path().join(".kedalint.yaml")).unwrap();
    let mut config = test_config(certs.path());
    config.config_path = Some(dir.path().join(".kedalint.yaml"));
    let running = start(Server::new(config).unwrap()).await;
    let server = running.server.clone();
    assert!(
        !allowed(&server).await,
        "enforce denies a missing threshold"
    );

    configmap_swap(dir.path(), 2, "webhook:\n  mode: warn\n");
    wait_for(&server, WebhookMode::Warn).await;
    assert!(allowed(&server).await, "warn never denies");

    // An invalid edit: logged, counted, and the warn configuration stays.
    configmap_swap(dir.path(), 3, "webhook:\n  mode: enforce\n  bogus: 1\n");
    for _ in 0..200 {
        if server
            .metrics()
            .render()
            .contains("kedalint_webhook_config_reloads_total{result=\"failure\"} 1\n")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        server
            .metrics()
            .render()
            .contains("kedalint_webhook_config_reloads_total{result=\"failure\"} 1\n")
    );
    assert_eq!(server.settings().webhook.mode, WebhookMode::Warn);
    assert!(allowed(&server).await);

    // Fixed again: used.
    configmap_swap(dir.path(), 4, "webhook:\n  mode: enforce\n");
    wait_for(&server, WebhookMode::Enforce).await;
    assert!(!allowed(&server).await);
    running.stop().await;
}

#[test]
fn an_invalid_configuration_at_startup_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".kedalint.yaml");
    std::fs::write(&path, "webhook:\n  mode: sometimes\n").unwrap();
    let mut config = test_config(dir.path());
    config.config_path = Some(path);
    let err = Server::new(config).unwrap_err();
    let text = kedalint_webhook::error_chain(&err);
    assert!(
        text.contains(".kedalint.yaml:2:") && text.contains("enforce or warn"),
        "{text}"
    );
}
