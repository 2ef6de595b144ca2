//! The machine formats as CI systems read them: SARIF 2.1.0 checked by Microsoft's own validator
//! (the SARIF Multitool from npm), GitHub workflow commands and JUnit XML byte for byte, escaping
//! included.
//!
//! The Multitool exits 0 even when the log breaks the schema; what it found is in its own SARIF
//! output, so the test reads that and fails on any error or warning result.
//!
//! The validator is installed on first use into `$KEDALINT_SARIF_DIR` (default
//! `~/.cache/kedalint-sarif`). Without npm the SARIF test says so and skips;
//! `KEDALINT_REQUIRE_SARIF_VALIDATOR=1` (set by `.ci/run`) turns that skip into a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use kedalint_tests::{fixtures, run_cli, workspace};
use serde_json::Value;

const MULTITOOL_PACKAGE: &str = "@microsoft/sarif-multitool-linux@5.7.0";

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// The SARIF Multitool, installed with npm when missing; `None` (after saying why) when it
/// cannot be had and the environment does not require it.
fn sarif_multitool() -> Option<PathBuf> {
    let require = required("KEDALINT_REQUIRE_SARIF_VALIDATOR");
    let dir = std::env::var_os("KEDALINT_SARIF_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/kedalint-sarif")))
        .unwrap_or_else(|| workspace().join("target/kedalint-sarif"));
    let tool = dir.join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if !tool.is_file() {
        let _ = std::fs::create_dir_all(&dir);
        let installed = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(MULTITOOL_PACKAGE)
            .status()
            .is_ok_and(|s| s.success());
        if !installed || !tool.is_file() {
            assert!(
                !require,
                "KEDALINT_REQUIRE_SARIF_VALIDATOR=1 but `npm install {MULTITOOL_PACKAGE}` into {} failed",
                dir.display()
            );
            eprintln!(
                "SKIPPED: the SARIF validator could not be installed (npm missing or offline); SARIF was not validated"
            );
            return None;
        }
    }
    // npm may skip the package's postinstall `chmod u+x`.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755));
    }
    Some(tool)
}

/// Runs `Sarif.Multitool validate` once over `files` (it starts slowly); returns its exit code and
/// the error/warning results it logged.
fn validate(tool: &Path, files: &[PathBuf]) -> (Option<i32>, Vec<String>) {
    let log = files[0].with_extension("validation.sarif");
    let _ = std::fs::remove_file(&log);
    let out = Command::new(tool)
        .arg("validate")
        .arg("--output")
        .arg(&log)
        .args(files)
        .output()
        .expect("run Sarif.Multitool");
    let problems = std::fs::read_to_string(&log)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .map(|v| {
            v["runs"][0]["results"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter(|r| matches!(r["level"].as_str(), Some("error" | "warning") | None))
                .map(|r| format!("{} {}", r["ruleId"], r["message"]))
                .collect()
        })
        .unwrap_or_else(|| vec![format!("no validation log: {}", stdout(&out))]);
    (out.status.code(), problems)
}

fn sarif_of(args: &[&str], dir: &Path) -> Value {
    let out = run_cli(args, None, dir);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_of_the_examples_and_the_fix_fixtures_passes_the_sarif_multitool_validator() {
    let Some(tool) = sarif_multitool() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut logs = Vec::new();
    for (name, input) in [
        ("examples", workspace().join("examples")),
        ("fixes", fixtures().join("fix")),
    ] {
        let path = dir.path().join(format!("{name}.sarif"));
        let out = run_cli(
            &[
                "--format",
                "sarif",
                "--output",
                path.to_str().unwrap(),
                input.to_str().unwrap(),
            ],
            None,
            &workspace(),
        );
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        logs.push(path);
    }
    let (code, problems) = validate(&tool, &logs);
    assert_eq!(code, Some(0), "{problems:?}");
    assert!(problems.is_empty(), "{problems:?}");
    // The validator really checks: a log without `version` is reported.
    let mut broken: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("examples.sarif")).unwrap())
            .unwrap();
    broken.as_object_mut().unwrap().remove("version");
    let path = dir.path().join("broken.sarif");
    std::fs::write(&path, broken.to_string()).unwrap();
    let (_, problems) = validate(&tool, &[path]);
    assert!(
        problems.iter().any(|p| p.contains("version")),
        "the validator accepted a log without version: {problems:?}"
    );
}

#[test]
fn sarif_has_rules_with_docs_and_results_with_utf16_regions_logical_locations_and_fixes() {
    let dir = tempfile::tempdir().unwrap();
    // `é` is one UTF-16 unit and `😀` two: after them a character column and a UTF-16 column differ by 1.
    std::fs::write(
        dir.path().join("so.yaml"),
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: x, namespace: n}\nspec:\n  scaleTargetRef: {name: x}\n  triggers:\n    - type: prometheus\n      metadata: {query: \"sum(up) # é😀\", threshold: \"1\", ignoreNullValues: \"false\", activationThreshold: 1, serverAddress: \"http://p:9090/\"}\n",
    )
    .unwrap();
    let v = sarif_of(&["--format", "sarif", "so.yaml"], dir.path());
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kedalint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), kedalint_rules::RULES.len());
    for (r, info) in rules.iter().zip(kedalint_rules::RULES) {
        assert_eq!(r["id"], info.code);
        assert_eq!(r["name"], info.name);
        assert_eq!(
            r["helpUri"],
            format!(
                "https://github.com/kedalint/kedalint/blob/main/docs/rules/{}.md",
                info.code
            )
        );
        assert!(r["shortDescription"]["text"].as_str().unwrap().len() > 10);
        assert!(
            r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## Why is this bad?")
        );
        assert!(r["fullDescription"]["text"].as_str().unwrap().len() > 20);
        let level = match info.severity {
            kedalint_rules::Severity::Error => "error",
            kedalint_rules::Severity::Warning => "warning",
            kedalint_rules::Severity::Info => "note",
        };
        assert_eq!(r["defaultConfiguration"]["level"], level);
    }
    assert!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap()
            .ends_with('/')
    );
    let results = run["results"].as_array().unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "so.yaml");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    }
    let slash = results
        .iter()
        .find(|r| r["ruleId"] == "KL108")
        .expect("KL108");
    assert_eq!(slash["level"], "warning");
    assert_eq!(
        slash["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 8, "startColumn": 138, "endLine": 8, "endColumn": 139, "snippet": {"text": "/"}})
    );
    // The JSON format counts characters: one less after the astral 😀.
    let json = sarif_of(&["--format", "json", "so.yaml"], dir.path());
    let json_slash = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "KL108")
        .unwrap();
    assert_eq!(json_slash["column"], 137);
    let logical = &slash["locations"][0]["logicalLocations"][0];
    assert_eq!(logical["name"], "spec.triggers[0].metadata.serverAddress");
    assert_eq!(
        logical["fullyQualifiedName"],
        "ScaledObject n/x: spec.triggers[0].metadata.serverAddress"
    );
    assert!(
        slash["message"]["text"]
            .as_str()
            .unwrap()
            .contains("\nhelp: write `http://p:9090`")
    );
    let fix = &slash["fixes"][0];
    assert_eq!(
        fix["artifactChanges"][0]["replacements"][0]["deletedRegion"],
        serde_json::json!({"startLine": 8, "startColumn": 138, "endLine": 8, "endColumn": 139})
    );
    let quote = results
        .iter()
        .find(|r| r["ruleId"] == "KL004")
        .expect("KL004");
    assert_eq!(quote["level"], "error");
    assert_eq!(
        quote["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
        "\"1\""
    );
}

#[test]
fn github_format_is_workflow_commands_with_escaped_properties_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a,b:c%.yaml"),
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: x\nspec:\n  scaleTargetRef:\n    name: api\n  pollingInterval: \"1%\"\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://p:9090/\n        query: sum(up)\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n---\nkind: [broken\n",
    )
    .unwrap();
    let out = run_cli(&["--format", "github", "."], None, dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "::error file=a%2Cb%3Ac%25.yaml,line=8,endLine=8,col=20,endColumn=24,title=KL004 wrong-field-type::`pollingInterval` must be an integer (seconds or a count), found the string \"1%25\"; the API server rejects the object%0Ahelp: `pollingInterval` takes an integer (seconds or a count)\n\
         ::warning file=a%2Cb%3Ac%25.yaml,line=12,endLine=12,col=37,endColumn=38,title=KL108 server-address-trailing-slash::serverAddress ends with `/`: KEDA requests `http://p:9090//api/v1/query`, which some proxies answer with 404 or a redirect%0Ahelp: write `http://p:9090`\n\
         ::error file=a%2Cb%3Ac%25.yaml,line=17,endLine=17,col=7,endColumn=8,title=KL001 invalid-yaml::document 2 is not valid YAML: unclosed bracket '[' (line 17, column 7)%0Ahelp: fix the syntax here; the other documents of this file were still checked\n"
    );
    use kubectl_kedalint::render::github::{escape_data, escape_property};
    assert_eq!(escape_data("50%\r\nnext: a,b"), "50%25%0D%0Anext: a,b");
    assert_eq!(
        escape_property("50%\r\nnext: a,b"),
        "50%25%0D%0Anext%3A a%2Cb"
    );
}

#[test]
fn github_format_uses_notice_for_info_and_drops_columns_across_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("so.yaml"),
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: x\nspec:\n  scaleTargetRef:\n    name: api\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://p:9090/\n        query: sum(up)\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".kedalint.yaml"), "rules:\n  KL108: info\n").unwrap();
    let out = run_cli(&["--format", "github", "so.yaml"], None, dir.path());
    assert!(
        stdout(&out).starts_with("::notice file=so.yaml,line=11,endLine=11,col=37,endColumn=38,title=KL108 server-address-trailing-slash::"),
        "{}",
        stdout(&out)
    );
}

const JUNIT_INPUT: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: \"q<&>\\\"'x\"\n  namespace: ns\nspec:\n  scaleTargetRef:\n    name: api\n  pollingInterval: \"1%\"\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://p:9090/\n        query: sum(up)\n        threshold: \"1\"\n        ignoreNullValues: \"false\"\n---\nkind: [broken\n---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: clean}\nspec:\n  scaleTargetRef: {name: api}\n  triggers:\n    - type: prometheus\n      metadata: {serverAddress: \"http://p:9090\", query: sum(up), threshold: \"1\", ignoreNullValues: \"false\"}\n";

#[test]
fn junit_has_a_suite_per_file_a_case_per_object_and_escapes_xml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a&b.yaml"), JUNIT_INPUT).unwrap();
    std::fs::write(
        dir.path().join("deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
    )
    .unwrap();
    let out = run_cli(&["--format", "junit", "."], None, dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="kedalint" tests="3" failures="2" errors="0">
  <testsuite name="a&amp;b.yaml" tests="3" failures="2" errors="0" skipped="0">
    <testcase classname="a&amp;b.yaml" name="ScaledObject ns/q&lt;&amp;&gt;&quot;&apos;x">
      <failure type="KL004" message="KL004 wrong-field-type: `pollingInterval` must be an integer (seconds or a count), found the string &quot;1%&quot;; the API server rejects the object">a&amp;b.yaml:9:20: error KL004 wrong-field-type: `pollingInterval` must be an integer (seconds or a count), found the string &quot;1%&quot;; the API server rejects the object
  help: `pollingInterval` takes an integer (seconds or a count)</failure>
      <system-out>a&amp;b.yaml:13:37: warning KL108 server-address-trailing-slash: serverAddress ends with `/`: KEDA requests `http://p:9090//api/v1/query`, which some proxies answer with 404 or a redirect
  help: write `http://p:9090`</system-out>
    </testcase>
    <testcase classname="a&amp;b.yaml" name="ScaledObject clean"/>
    <testcase classname="a&amp;b.yaml" name="document 2">
      <failure type="KL001" message="KL001 invalid-yaml: document 2 is not valid YAML: unclosed bracket &apos;[&apos; (line 18, column 7)">a&amp;b.yaml:18:7: error KL001 invalid-yaml: document 2 is not valid YAML: unclosed bracket &apos;[&apos; (line 18, column 7)
  help: fix the syntax here; the other documents of this file were still checked</failure>
    </testcase>
  </testsuite>
  <testsuite name="deployment.yaml" tests="0" failures="0" errors="0" skipped="0">
  </testsuite>
</testsuites>
"#
    );
}

#[test]
fn junit_turns_warnings_into_failures_with_fail_on_warning_and_never_fails_with_never() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.yaml"), JUNIT_INPUT).unwrap();
    let out = run_cli(
        &["--format", "junit", "--fail-on", "warning", "x.yaml"],
        None,
        dir.path(),
    );
    let xml = stdout(&out);
    assert!(xml.contains("<failure type=\"KL108\""), "{xml}");
    assert!(!xml.contains("<system-out>"), "{xml}");
    let out = run_cli(
        &["--format", "junit", "--fail-on", "never", "x.yaml"],
        None,
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    let xml = stdout(&out);
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert_eq!(xml.matches("<system-out>").count(), 2, "{xml}");
}

#[test]
fn xml_escaping_covers_markup_quotes_and_characters_xml_cannot_carry() {
    use kubectl_kedalint::render::junit::escape;
    assert_eq!(escape("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
    assert_eq!(escape("a\u{1}b\tc\n"), "a\u{FFFD}b\tc\n");
}

#[test]
fn new_formats_can_be_written_side_by_side_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.yaml"), JUNIT_INPUT).unwrap();
    let out = run_cli(
        &[
            "-f", "sarif", "-o", "r.sarif", "-f", "junit", "-o", "r.xml", "-f", "github", "x.yaml",
        ],
        None,
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("::error file=x.yaml"));
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
    assert!(
        std::fs::read_to_string(dir.path().join("r.xml"))
            .unwrap()
            .starts_with("<?xml")
    );
}

/// Two triggers `--online` cannot check: one on a server that answers 401 to a trigger bringing
/// its own credentials (kedalint does not read them), one whose query the server rejects.
const NOTES_INPUT: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: locked, namespace: shop}\nspec:\n  scaleTargetRef: {name: api}\n  minReplicaCount: 1\n  triggers:\n    - type: prometheus\n      metricType: Value\n      authenticationRef: {name: prom-auth}\n      metadata: {serverAddress: \"LOGIN\", query: \"sum(rate(http_requests_total[5m]))\", threshold: \"1\", ignoreNullValues: \"false\", authModes: bearer}\n---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: rejected, namespace: shop}\nspec:\n  scaleTargetRef: {name: api}\n  minReplicaCount: 1\n  triggers:\n    - type: prometheus\n      metricType: Value\n      metadata: {serverAddress: \"PROM\", query: \"sum(rate(http_requests_total[5m]))\", threshold: \"1\", ignoreNullValues: \"false\"}\n";

#[test]
fn what_online_checks_could_not_check_is_in_json_sarif_and_junit_not_only_on_stderr() {
    use kedalint_tests::live::serve;
    use std::sync::Arc;
    use std::time::Duration;
    let login = serve(Arc::new(|_: &str| {
        (401, "text/plain", "Unauthorized".to_owned(), Duration::ZERO)
    }));
    // Answers KEDA's reachability query like Prometheus, and rejects every other query.
    let prom = serve(Arc::new(|target: &str| {
        if target.contains("vector%281%29") {
            (
                200,
                "application/json",
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}"#.to_owned(),
                Duration::ZERO,
            )
        } else if target.starts_with("/api/v1/query?") {
            (
                400,
                "application/json",
                r#"{"status":"error","errorType":"bad_data","error":"query rejected by the test"}"#
                    .to_owned(),
                Duration::ZERO,
            )
        } else {
            (
                404,
                "text/plain",
                "404 page not found".to_owned(),
                Duration::ZERO,
            )
        }
    }));
    let (login, prom) = (format!("http://{login}"), format!("http://{prom}"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("so.yaml"),
        NOTES_INPUT.replace("LOGIN", &login).replace("PROM", &prom),
    )
    .unwrap();
    let out = run_cli(
        &[
            "--online", "-f", "json", "-o", "r.json", "-f", "sarif", "-o", "r.sarif", "-f",
            "junit", "-o", "r.xml", "so.yaml",
        ],
        None,
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "notes never fail a run: {stderr}"
    );
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();

    let json: Value = serde_json::from_str(&read("r.json")).unwrap();
    let notes = json["notes"].as_array().expect("notes array");
    assert_eq!(notes.len(), 2, "{notes:#?}");
    let locked = notes
        .iter()
        .find(|n| n["server"] == login.as_str())
        .unwrap();
    assert!(
        locked["message"]
            .as_str()
            .unwrap()
            .contains("requires credentials (HTTP 401); kedalint does not read them"),
        "{locked}"
    );
    assert_eq!(
        locked["object"],
        Value::Null,
        "a server note names no object"
    );
    let rejected = notes.iter().find(|n| n["server"] == prom.as_str()).unwrap();
    assert_eq!(rejected["object"]["name"], "rejected");
    assert_eq!(rejected["path"], "spec.triggers[0].metadata.query");
    assert!(
        rejected["message"]
            .as_str()
            .unwrap()
            .contains("(HTTP 400): bad_data: query rejected by the test"),
        "{rejected}"
    );

    let sarif: Value = serde_json::from_str(&read("r.sarif")).unwrap();
    let told = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("toolExecutionNotifications");
    assert_eq!(told.len(), 2, "{told:#?}");
    assert!(told.iter().all(|n| n["level"] == "warning"));
    let sarif_rejected = told
        .iter()
        .find(|n| n["properties"]["server"] == prom.as_str())
        .unwrap();
    assert_eq!(
        sarif_rejected["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "ScaledObject shop/rejected, spec.triggers[0].metadata.query"
    );

    let xml = read("r.xml");
    assert!(
        xml.contains("<testsuite name=\"kedalint notes\" tests=\"0\"")
            && xml.contains(&format!(
                "<system-err>note: `{login}` requires credentials (HTTP 401)"
            ))
            && xml.contains("(ScaledObject shop/rejected, spec.triggers[0].metadata.query)"),
        "{xml}"
    );
    // stderr still says it, as before.
    assert!(
        stderr.contains(&format!("note: `{login}` requires credentials")),
        "{stderr}"
    );

    // Without online checks there is nothing unchecked: `notes` is present and empty.
    let out = run_cli(&["-f", "json", "so.yaml"], None, dir.path());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["notes"], serde_json::json!([]));

    let Some(tool) = sarif_multitool() else {
        return;
    };
    let (code, problems) = validate(&tool, &[dir.path().join("r.sarif")]);
    assert_eq!(code, Some(0), "{problems:?}");
    assert!(problems.is_empty(), "{problems:?}");
}

/// 400 copies of an example with findings: JSON, SARIF and JUnit of it are each over the 1 MiB
/// an output holds back in memory, so the rest goes to a temporary file.
fn many_findings(dir: &Path) -> PathBuf {
    let example = std::fs::read_to_string(workspace().join("examples/inference-p95-latency.yaml"))
        .expect("example");
    let path = dir.join("many.yaml");
    std::fs::write(&path, vec![example; 400].join("---\n")).expect("write input");
    path
}

#[test]
fn output_held_back_in_a_temporary_file_is_written_whole_and_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = many_findings(dir.path());
    for format in ["json", "sarif", "junit"] {
        let out = dir.path().join(format!("out.{format}"));
        let o = run_cli(
            &[
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
                "--format",
                format,
                "--fail-on",
                "never",
                input.to_str().unwrap(),
            ],
            None,
            dir.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{format}: {o:?}");
        let file = std::fs::read_to_string(&out).expect("output file");
        assert!(file.len() > 1 << 20, "{format}: {} bytes", file.len());
        assert_eq!(stdout(&o), file, "{format}: stdout and --output agree");
    }
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.json")).unwrap())
            .expect("one JSON document");
    let lines: Vec<u64> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    // A second output for stdout is held back until the first is complete.
    let run = |formats: &[&str]| {
        let mut args: Vec<&str> = formats.iter().flat_map(|f| ["--format", f]).collect();
        args.extend(["--fail-on", "never", "many.yaml"]);
        stdout(&run_cli(&args, None, dir.path()))
    };
    let (github, json_only) = (run(&["github"]), run(&["json"]));
    assert!(json_only.len() > 1 << 20);
    assert!(
        run(&["github", "json"]) == github + &json_only,
        "github, then all of the JSON"
    );
    let summary = &json["summary"];
    let total = ["error", "warning", "info"]
        .iter()
        .map(|s| summary[s].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(lines.len() as u64, total, "every finding is written once");
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "findings in line order"
    );
}

#[test]
fn a_temporary_file_that_cannot_be_made_is_an_error_naming_its_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = many_findings(dir.path());
    let missing = dir.path().join("no-such-dir");
    let o = Command::new(kedalint_tests::cli_binary())
        .args(["--format", "json", "--fail-on", "never"])
        .arg(&input)
        .env("TMPDIR", &missing)
        .output()
        .expect("run kubectl-kedalint");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&missing.display().to_string()) && stderr.contains("temporary file"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
