//! Cluster mode: reads ScaledObjects, ScaledJobs, TriggerAuthentications and the Services their in-cluster
//! `serverAddress`es name from the current kubeconfig context, with kube-rs. Reads only (`get`,
//! `list`); Secrets are never read.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Endpoints, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kedalint_rules::facts::{Facts, ServiceFacts, in_cluster_service};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Client, Config};
use serde_json::Value;

use crate::{Error, Result};

/// What cluster mode read.
#[derive(Debug, Default)]
pub struct ClusterRead {
    /// ScaledObjects, then ScaledJobs, as JSON objects with `apiVersion` and `kind`,
    /// `managedFields` dropped.
    pub scaled_objects: Vec<Value>,
    /// TriggerAuthentications and ClusterTriggerAuthentications, as JSON objects.
    pub auths: Vec<Value>,
}

/// A client for the current kubeconfig context (`KUBECONFIG`, else `~/.kube/config`).
///
/// # Errors
/// No usable kubeconfig.
pub async fn client() -> Result<Client> {
    crate::install_crypto();
    let config = Config::infer()
        .await
        .map_err(|e| Error::Kubeconfig(kube::Error::InferConfig(e)))?;
    Client::try_from(config).map_err(Error::Kubeconfig)
}

fn resource(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("keda.sh", "v1alpha1", kind))
}

async fn list_all(client: &Client, kind: &str, namespace: Option<&str>) -> Result<Vec<Value>> {
    let ar = resource(kind);
    let api: Api<DynamicObject> = match namespace {
        Some(ns) if kind != "ClusterTriggerAuthentication" => {
            Api::namespaced_with(client.clone(), ns, &ar)
        }
        _ => Api::all_with(client.clone(), &ar),
    };
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|source| Error::Kube {
            what: format!("{kind}s"),
            source,
        })?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .map(|mut v| {
            // List items may come without their type; the rules key on it.
            if let Some(map) = v.as_object_mut() {
                map.entry("apiVersion")
                    .or_insert_with(|| Value::from("keda.sh/v1alpha1"));
                map.entry("kind").or_insert_with(|| Value::from(kind));
                if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("managedFields");
                }
            }
            v
        })
        .collect())
}

/// [`list_all`], reading a kind whose CRD is not installed (404) as none.
async fn list_optional(client: &Client, kind: &str, namespace: Option<&str>) -> Result<Vec<Value>> {
    match list_all(client, kind, namespace).await {
        Err(Error::Kube {
            source: kube::Error::Api(s),
            ..
        }) if s.code == 404 => Ok(Vec::new()),
        other => other,
    }
}

/// Reads the KEDA objects: every namespace, or one.
///
/// # Errors
/// The API server refuses or fails a list. A missing ScaledJob or TriggerAuthentication CRD
/// (404) reads as none.
pub async fn read_objects(client: &Client, namespace: Option<&str>) -> Result<ClusterRead> {
    let mut scaled_objects = list_all(client, "ScaledObject", namespace).await?;
    scaled_objects.append(&mut list_optional(client, "ScaledJob", namespace).await?);
    let mut auths = Vec::new();
    for kind in ["TriggerAuthentication", "ClusterTriggerAuthentication"] {
        auths.append(&mut list_optional(client, kind, namespace).await?);
    }
    Ok(ClusterRead {
        scaled_objects,
        auths,
    })
}

/// Looks up every Service the addresses name and records it in `facts.services`: its ports and
/// ready endpoints; a Service that does not exist is left out; a failed lookup goes to
/// `facts.service_errors`.
pub async fn read_services<'a>(
    client: &Client,
    addresses: impl IntoIterator<Item = &'a str>,
    facts: &mut Facts,
) {
    let wanted: BTreeSet<(String, String)> = addresses
        .into_iter()
        .filter_map(in_cluster_service)
        .map(|s| (s.namespace, s.name))
        .collect();
    let services = facts.services.get_or_insert_with(BTreeMap::new);
    for (ns, name) in wanted {
        let api: Api<Service> = Api::namespaced(client.clone(), &ns);
        let svc = match api.get_opt(&name).await {
            Ok(Some(s)) => s,
            Ok(None) => continue,
            Err(e) => {
                facts.service_errors.insert((ns, name), e.to_string());
                continue;
            }
        };
        let spec = svc.spec.unwrap_or_default();
        let ports = spec
            .ports
            .unwrap_or_default()
            .iter()
            .filter_map(|p| u16::try_from(p.port).ok())
            .collect();
        let external_name = spec
            .external_name
            .filter(|_| spec.type_.as_deref() == Some("ExternalName"));
        let ready_endpoints = ready_endpoints(client, &ns, &name).await;
        services.insert(
            (ns, name),
            ServiceFacts {
                ports,
                ready_endpoints,
                external_name,
            },
        );
    }
}

/// Ready addresses behind a Service: its EndpointSlices (a missing `ready` condition counts as
/// ready, as the API documents), else its Endpoints.
async fn ready_endpoints(client: &Client, ns: &str, name: &str) -> usize {
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
    if let Ok(list) = slices.list(&lp).await {
        return list
            .items
            .iter()
            .flat_map(|s| &s.endpoints)
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
            .map(|e| e.addresses.len())
            .sum();
    }
    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), ns);
    match endpoints.get_opt(name).await {
        Ok(Some(e)) => e
            .subsets
            .unwrap_or_default()
            .iter()
            .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
            .sum(),
        _ => 0,
    }
}
