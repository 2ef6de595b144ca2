//! deploy/ renders with the real `kubectl kustomize`, and every rendered object is a valid
//! Kubernetes object of its type (k8s-openapi), with the properties the webhook depends on.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::yaml_documents;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: kubectl not found; deploy/ not rendered");
    }
    ok
}

fn kustomize(dir: &Path) -> Vec<Value> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    yaml_documents(&String::from_utf8(out.stdout).unwrap())
}

/// Deserializes every object into its k8s-openapi type; returns the kinds seen.
fn check_types(objects: &[Value]) -> Vec<String> {
    let mut kinds = Vec::new();
    for o in objects {
        let kind = o["kind"].as_str().unwrap().to_owned();
        let name = o["metadata"]["name"].as_str().unwrap_or("?");
        let r = match kind.as_str() {
            "Namespace" => serde_json::from_value::<Namespace>(o.clone()).map(drop),
            "ServiceAccount" => serde_json::from_value::<ServiceAccount>(o.clone()).map(drop),
            "ConfigMap" => serde_json::from_value::<ConfigMap>(o.clone()).map(drop),
            "Deployment" => serde_json::from_value::<Deployment>(o.clone()).map(drop),
            "Service" => serde_json::from_value::<Service>(o.clone()).map(drop),
            "PodDisruptionBudget" => {
                serde_json::from_value::<PodDisruptionBudget>(o.clone()).map(drop)
            }
            "ValidatingWebhookConfiguration" => {
                serde_json::from_value::<ValidatingWebhookConfiguration>(o.clone()).map(drop)
            }
            "Secret" => serde_json::from_value::<Secret>(o.clone()).map(drop),
            "NetworkPolicy" => serde_json::from_value::<NetworkPolicy>(o.clone()).map(drop),
            "Issuer" | "Certificate" => {
                assert_eq!(o["apiVersion"], "cert-manager.io/v1", "{kind} {name}");
                Ok(())
            }
            other => panic!("unexpected kind {other} ({name})"),
        };
        r.unwrap_or_else(|e| panic!("{kind} {name} is not a valid {kind}: {e}"));
        kinds.push(kind);
    }
    kinds
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn the_base_renders_into_valid_objects_with_the_required_settings() {
    if !kubectl_available() {
        return;
    }
    let objects = kustomize(&deploy_dir().join("base"));
    let mut kinds = check_types(&objects);
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "ConfigMap",
            "Deployment",
            "Namespace",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount",
            "ValidatingWebhookConfiguration"
        ]
    );

    let d: Deployment = serde_json::from_value(find(&objects, "Deployment").clone()).unwrap();
    let spec = d.spec.unwrap();
    assert_eq!(spec.replicas, Some(2));
    let pod = spec.template.spec.unwrap();
    let psc = pod.security_context.unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault");
    assert!(!pod.topology_spread_constraints.unwrap().is_empty());
    let c = &pod.containers[0];
    let sc = c.security_context.clone().unwrap();
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.capabilities.unwrap().drop.unwrap(), ["ALL"]);
    assert!(c.resources.as_ref().unwrap().requests.is_some());
    for probe in [
        c.readiness_probe.clone().unwrap(),
        c.liveness_probe.clone().unwrap(),
    ] {
        let get = probe.http_get.unwrap();
        assert_eq!(
            get.port,
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("metrics".into())
        );
    }
    assert_eq!(
        c.readiness_probe
            .clone()
            .unwrap()
            .http_get
            .unwrap()
            .path
            .as_deref(),
        Some("/readyz")
    );
    // The flags the binary accepts, and the paths the volumes are mounted at.
    let args = c.args.clone().unwrap();
    assert!(args.contains(&"--cert-dir=/etc/kedalint/certs".to_owned()));
    assert!(args.contains(&"--config=/etc/kedalint/config/.kedalint.yaml".to_owned()));
    let mounts: Vec<_> = c
        .volume_mounts
        .clone()
        .unwrap()
        .into_iter()
        .map(|m| m.mount_path)
        .collect();
    assert!(
        mounts.contains(&"/etc/kedalint/certs".to_owned())
            && mounts.contains(&"/etc/kedalint/config".to_owned())
    );

    // The default configuration is one the webhook accepts.
    let cm: ConfigMap = serde_json::from_value(find(&objects, "ConfigMap").clone()).unwrap();
    let text = &cm.data.unwrap()[".kedalint.yaml"];
    kedalint_rules::Settings::from_yaml("configmap", text)
        .expect("the default .kedalint.yaml is valid");

    let vwc: ValidatingWebhookConfiguration =
        serde_json::from_value(find(&objects, "ValidatingWebhookConfiguration").clone()).unwrap();
    let hook = &vwc.webhooks.unwrap()[0];
    assert_eq!(hook.admission_review_versions, ["v1"]);
    assert_eq!(hook.side_effects, "None");
    assert_eq!(hook.timeout_seconds, Some(5));
    assert_eq!(hook.failure_policy.as_deref(), Some("Ignore"));
    let rule = &hook.rules.as_ref().unwrap()[0];
    assert_eq!(
        rule.api_groups.as_deref(),
        Some(&["keda.sh".to_owned()][..])
    );
    assert_eq!(
        rule.api_versions.as_deref(),
        Some(&["v1alpha1".to_owned()][..])
    );
    assert_eq!(
        rule.resources.as_deref(),
        Some(&["scaledobjects".to_owned(), "scaledjobs".to_owned()][..])
    );
    assert_eq!(
        rule.operations.as_deref(),
        Some(&["CREATE".to_owned(), "UPDATE".to_owned()][..])
    );
    let service = hook.client_config.service.as_ref().unwrap();
    assert_eq!(
        (service.namespace.as_str(), service.name.as_str()),
        ("kedalint-system", "kedalint-webhook")
    );
    assert_eq!(service.path.as_deref(), Some("/validate"));
    let excluded = &hook
        .namespace_selector
        .as_ref()
        .unwrap()
        .match_expressions
        .as_ref()
        .unwrap()[0];
    assert_eq!(excluded.operator, "NotIn");
    assert_eq!(
        excluded.values.as_deref(),
        Some(&["kedalint-system".to_owned(), "kube-system".to_owned()][..])
    );

    // The Service reaches the container port the webhook listens on.
    let svc: Service = serde_json::from_value(find(&objects, "Service").clone()).unwrap();
    let port = &svc.spec.unwrap().ports.unwrap()[0];
    assert_eq!(port.port, 443);
}

#[test]
fn the_cert_manager_overlay_injects_the_ca_and_issues_the_mounted_secret() {
    if !kubectl_available() {
        return;
    }
    let objects = kustomize(&deploy_dir().join("overlays/cert-manager"));
    let kinds = check_types(&objects);
    assert_eq!(kinds.iter().filter(|k| *k == "Certificate").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "Issuer").count(), 2);
    let vwc = find(&objects, "ValidatingWebhookConfiguration");
    let inject = vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
        .as_str()
        .unwrap();
    let serving = objects
        .iter()
        .find(|o| o["kind"] == "Certificate" && o["spec"]["secretName"] == "kedalint-webhook-tls")
        .expect("a Certificate writing the Secret the Deployment mounts");
    assert_eq!(
        inject,
        format!(
            "kedalint-system/{}",
            serving["metadata"]["name"].as_str().unwrap()
        )
    );
    let names: Vec<&str> = serving["spec"]["dnsNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(names.contains(&"kedalint-webhook.kedalint-system.svc"));
}

/// Renders, in a copy of deploy/, an overlay of the base and the network-policy component, with
/// `more` appended to its kustomization.
fn with_network_policy(more: &str) -> Vec<Value> {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&deploy_dir(), &tmp.path().join("deploy"));
    let overlay = tmp.path().join("deploy/overlays/with-policy");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             resources:\n  - ../../base\ncomponents:\n  - ../../components/network-policy\n{more}"
        ),
    )
    .unwrap();
    kustomize(&overlay)
}

#[test]
fn the_network_policy_component_admits_the_api_server_and_monitoring_only() {
    if !kubectl_available() {
        return;
    }
    // An overlay as docs/webhook.md describes it: base, component, and the source patched in.
    let objects = with_network_policy(
        "patches:\n  - target: {kind: NetworkPolicy, name: kedalint-webhook}\n    patch: |-\n      \
         - op: replace\n        path: /spec/ingress/0/from/0/ipBlock/cidr\n        value: 10.0.0.0/16\n",
    );
    check_types(&objects);
    let policy: NetworkPolicy =
        serde_json::from_value(find(&objects, "NetworkPolicy").clone()).unwrap();
    assert_eq!(
        policy.metadata.namespace.as_deref(),
        Some("kedalint-system")
    );
    let spec = policy.spec.unwrap();
    let deployment: Deployment =
        serde_json::from_value(find(&objects, "Deployment").clone()).unwrap();
    let pod_labels = deployment
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .labels
        .unwrap();
    for (k, v) in spec.pod_selector.unwrap().match_labels.unwrap() {
        assert_eq!(
            pod_labels.get(&k),
            Some(&v),
            "the policy selects the webhook pods"
        );
    }
    assert_eq!(
        spec.policy_types.as_deref(),
        Some(&["Ingress".to_owned()][..])
    );
    let ingress = spec.ingress.unwrap();
    assert_eq!(ingress.len(), 2, "nothing but the two rules");
    let port_of = |rule: &k8s_openapi::api::networking::v1::NetworkPolicyIngressRule| {
        let ports = rule.ports.clone().unwrap();
        assert_eq!(ports.len(), 1);
        ports[0].port.clone().unwrap()
    };
    // The webhook port, from the patched source only.
    assert_eq!(port_of(&ingress[0]), IntOrString::String("https".into()));
    let from = ingress[0].from.clone().unwrap();
    assert_eq!(from.len(), 1);
    assert_eq!(from[0].ip_block.as_ref().unwrap().cidr, "10.0.0.0/16");
    // The metrics port, from the monitoring namespace only.
    assert_eq!(port_of(&ingress[1]), IntOrString::String("metrics".into()));
    let from = ingress[1].from.clone().unwrap();
    assert_eq!(from.len(), 1);
    assert!(from[0].pod_selector.is_none());
    assert_eq!(
        from[0]
            .namespace_selector
            .as_ref()
            .unwrap()
            .match_labels
            .as_ref()
            .unwrap()["kubernetes.io/metadata.name"],
        "monitoring"
    );
    // The named ports exist on the container.
    let names: Vec<String> = find(&objects, "Deployment")["spec"]["template"]["spec"]["containers"]
        [0]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"https".to_owned()) && names.contains(&"metrics".to_owned()));
}

#[test]
fn the_network_policy_component_unpatched_carries_a_placeholder_that_is_no_cidr() {
    if !kubectl_available() {
        return;
    }
    // Forgetting the patch must fail at `kubectl apply` (the API server validates ipBlock.cidr),
    // never admit everyone or no one silently.
    let objects = with_network_policy("");
    let policy: NetworkPolicy =
        serde_json::from_value(find(&objects, "NetworkPolicy").clone()).unwrap();
    let cidr = &policy.spec.unwrap().ingress.unwrap()[0]
        .from
        .clone()
        .unwrap()[0]
        .ip_block
        .clone()
        .unwrap()
        .cidr;
    let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, ""));
    assert!(
        addr.parse::<std::net::IpAddr>().is_err() || prefix.parse::<u8>().is_err(),
        "{cidr} would be accepted as a CIDR"
    );
}

#[test]
fn certs_refuses_a_validity_that_is_already_over_or_past_year_9999() {
    // 0 days ends at today's midnight, already past; millions of days overflow the date type.
    for days in ["0", "4000000"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kedalint-webhook"))
            .args(["certs", "--days", days, "--out-dir"])
            .arg(tmp.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--days {days}: {stderr}");
        assert!(
            stderr.contains("--days") && !stderr.contains("panicked"),
            "--days {days}: {stderr}"
        );
        assert!(!tmp.path().join("tls.crt").exists(), "--days {days}");
    }
}

#[test]
fn the_self_signed_overlay_renders_with_files_from_the_certs_subcommand() {
    if !kubectl_available() {
        return;
    }
    // A copy of deploy/, so generated files never land in the repository.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&deploy_dir(), &tmp.path().join("deploy"));
    let overlay = tmp.path().join("deploy/overlays/self-signed");
    let out = Command::new(env!("CARGO_BIN_EXE_kedalint-webhook"))
        .args([
            "certs",
            "--namespace",
            "kedalint-system",
            "--service",
            "kedalint-webhook",
            "--out-dir",
        ])
        .arg(&overlay)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = kustomize(&overlay);
    check_types(&objects);
    let ca_pem = std::fs::read(overlay.join("ca.crt")).unwrap();
    let vwc: ValidatingWebhookConfiguration =
        serde_json::from_value(find(&objects, "ValidatingWebhookConfiguration").clone()).unwrap();
    let hook = &vwc.webhooks.unwrap()[0];
    assert_eq!(
        hook.client_config.ca_bundle.as_ref().unwrap().0,
        ca_pem,
        "caBundle is the generated CA"
    );
    assert!(
        hook.client_config.service.is_some(),
        "the patch kept the service reference"
    );
    let secret: Secret = serde_json::from_value(find(&objects, "Secret").clone()).unwrap();
    assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
    assert_eq!(
        secret.metadata.namespace.as_deref(),
        Some("kedalint-system")
    );
    let data = secret.data.unwrap();
    assert_eq!(
        data["tls.crt"].0,
        std::fs::read(overlay.join("tls.crt")).unwrap()
    );
    assert_eq!(
        data["tls.key"].0,
        std::fs::read(overlay.join("tls.key")).unwrap()
    );

    // The generated pair is served, and a client trusting only ca.crt accepts it for the
    // Service's DNS name.
    serve_generated_certificate(&overlay, &String::from_utf8(ca_pem).unwrap());
}

fn serve_generated_certificate(dir: &Path, ca_pem: &str) {
    common::install_provider();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let server = kedalint_webhook::Server::new(common::test_config(dir)).unwrap();
        let running = common::start(server).await;
        let client = common::client(ca_pem, running.addr, true);
        let r = client
            .post(running.url())
            .body("{}")
            .send()
            .await
            .expect("TLS with the generated certificate");
        assert_eq!(r.status(), 400);
        running.stop().await;
    });
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
