//! The webhook reports what the CLI engine reports: for every ScaledObject and ScaledJob in
//! examples/, the codes and field paths in the AdmissionResponse equal
//! `kedalint_rules::lint_value` on the same object.

mod common;

use std::collections::BTreeSet;

use common::*;
use kedalint_rules::{Settings, Severity};
use kedalint_webhook::Server;
use serde_json::Value;

/// ScaledObjects and ScaledJobs from examples/*.yaml, plus inline ones so the test means
/// something without them.
fn scaled_objects() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let dir = examples_dir();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            paths.sort();
            for path in paths {
                if !matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                ) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, doc) in yaml_documents(&text).into_iter().enumerate() {
                    if doc["kind"] == "ScaledObject" || doc["kind"] == "ScaledJob" {
                        out.push((format!("{}#{i}", path.display()), doc));
                    }
                }
            }
        }
        Err(e) => eprintln!(
            "SKIPPED examples: {} not readable ({e}); inline manifests only",
            dir.display()
        ),
    }
    out.push((
        "inline: no threshold".to_owned(),
        scaled_object("a", None, None),
    ));
    out.push((
        "inline: warnings only".to_owned(),
        scaled_object("b", Some("10"), None),
    ));
    out.push((
        "inline: clean".to_owned(),
        scaled_object("c", Some("10"), Some("false")),
    ));
    out.push((
        "inline ScaledJob: no threshold".to_owned(),
        scaled_job("d", None, None),
    ));
    out.push((
        "inline ScaledJob: clean".to_owned(),
        scaled_job("e", Some("10"), Some("false")),
    ));
    out
}

/// `KL101 error spec.triggers[0].metadata: ...` -> ("KL101", "spec.triggers[0].metadata").
fn code_and_path(line: &str) -> (String, String) {
    let mut parts = line.splitn(3, ' ');
    let code = parts.next().unwrap().to_owned();
    let _severity = parts.next().unwrap();
    let rest = parts.next().unwrap();
    let path = rest.split(": ").next().unwrap().to_owned();
    (code, path)
}

#[tokio::test]
async fn webhook_findings_equal_the_cli_engine_for_every_example() {
    install_provider();
    let ca = TestCa::new();
    let volume = SecretVolume::new(&ca.leaf("parity"));
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join(".kedalint.yaml");
    // Warn mode: every error and warning comes back as one warning line.
    std::fs::write(&config_path, "webhook:\n  mode: warn\n").unwrap();
    let settings = Settings::from_yaml("c", "webhook:\n  mode: warn\n").unwrap();
    let mut config = test_config(volume.path());
    config.config_path = Some(config_path);
    let running = start(Server::new(config).unwrap()).await;
    let client = client(&ca.ca_pem, running.addr, false);

    let objects = scaled_objects();
    let mut compared = 0;
    for (name, object) in &objects {
        let engine = kedalint_rules::lint_value(object, &settings, &Default::default());
        let expected: BTreeSet<(String, String)> = engine
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| (f.code.to_owned(), f.path.to_string()))
            .collect();
        let review = review_for(object, "CREATE", "uid-parity");
        let answer: Value = client
            .post(running.url())
            .json(&review)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = &answer["response"];
        assert_eq!(response["allowed"], true, "{name}: warn mode never denies");
        let lines: Vec<&str> = response["warnings"]
            .as_array()
            .map(|a| a.iter().map(|w| w.as_str().unwrap()).collect())
            .unwrap_or_default();
        assert!(
            !lines.iter().any(|l| l.starts_with("...")),
            "{name}: warnings were summarised"
        );
        let got: BTreeSet<(String, String)> = lines.iter().map(|l| code_and_path(l)).collect();
        assert_eq!(got, expected, "{name}");
        assert_eq!(
            lines.len(),
            engine
                .iter()
                .filter(|f| f.severity != Severity::Info)
                .count(),
            "{name}"
        );
        compared += 1;
    }
    assert!(compared >= 5);
    eprintln!(
        "compared {compared} ScaledObjects and ScaledJobs ({} from examples/)",
        compared - 5
    );
    // Info findings are not in the response; they are counted, the same as the engine reports.
    let metrics = running.metrics().await;
    let mut by_code = std::collections::BTreeMap::<String, u64>::new();
    for (_, object) in &objects {
        for f in kedalint_rules::lint_value(object, &settings, &Default::default()) {
            *by_code
                .entry(format!(
                    "{{code=\"{}\",severity=\"{}\"}}",
                    f.code, f.severity
                ))
                .or_default() += 1;
        }
    }
    for (labels, n) in by_code {
        let line = format!("kedalint_webhook_findings_total{labels} {n}\n");
        assert!(metrics.contains(&line), "missing {line:?} in\n{metrics}");
    }
    running.stop().await;
}

#[tokio::test]
async fn in_enforce_mode_the_denial_lists_every_error_of_the_engine() {
    install_provider();
    let settings = Settings::default();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::new(test_config(dir.path())).unwrap();
    for (name, object) in scaled_objects() {
        let engine = kedalint_rules::lint_value(&object, &settings, &Default::default());
        let errors: Vec<_> = engine
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        let answer = review_in_process(&server, &review_for(&object, "CREATE", "uid")).await;
        let response = &answer["response"];
        assert_eq!(response["allowed"], errors.is_empty(), "{name}");
        let message = response["status"]["message"].as_str().unwrap_or("");
        for f in errors {
            let needle = format!("[{} {}: ", f.code, f.path);
            assert!(
                message.contains(&needle),
                "{name}: {needle} not in {message}"
            );
        }
    }
}

async fn review_in_process(server: &Server, review: &Value) -> Value {
    use tower::ServiceExt;
    let request = axum::http::Request::post("/validate")
        .body(axum::body::Body::from(serde_json::to_vec(review).unwrap()))
        .unwrap();
    let response = server.router().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(
        &axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .unwrap(),
    )
    .unwrap()
}
