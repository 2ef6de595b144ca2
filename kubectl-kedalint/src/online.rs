//! `--online` and `--cluster`: gather facts (a tokio runtime built only for this step), with a
//! progress indicator on a terminal, and lint objects read from the cluster.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kedalint_probe::{ProbeConfig, ProbeInput, cluster, cluster_status};
use kedalint_rules::facts::Facts;
use kedalint_rules::lint::{FileReport, Inventory, lint_value};
use kedalint_rules::model::objects_of;
use kedalint_rules::source::from_json;
use kedalint_rules::{Note, Settings, SourceFile};

use crate::render::Linted;
use crate::{Error, Result};

/// Overall time budget of the online step.
pub const DEADLINE: Duration = Duration::from_secs(10);
/// Findings of cluster objects are reported under `cluster:<namespace>/<name>`; such a "file"
/// has no text, so JSON output gives `file: null`.
pub const CLUSTER_PREFIX: &str = "cluster:";

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the online checks: {e}")))
}

fn config(settings: &Settings, progress: Option<Arc<AtomicUsize>>) -> ProbeConfig {
    ProbeConfig {
        request_timeout: settings.probe_timeout.unwrap_or(Duration::from_secs(2)),
        deadline: DEADLINE,
        progress,
        ..ProbeConfig::default()
    }
}

/// A progress line on stderr, shown only on a terminal and only once the step has taken more
/// than 300 ms; cleared when the step ends.
pub(crate) struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    pub(crate) fn start(what: String, answered: Arc<AtomicUsize>, enabled: bool) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let thread = enabled.then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
                let mut shown = false;
                let mut i = 0;
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(80));
                    if start.elapsed() < Duration::from_millis(300) {
                        continue;
                    }
                    shown = true;
                    let mut err = std::io::stderr().lock();
                    let _ = write!(
                        err,
                        "\r\x1b[2K{} {what}: {} answers ({:.1}s)",
                        frames[i % frames.len()],
                        answered.load(Ordering::Relaxed),
                        start.elapsed().as_secs_f64()
                    );
                    let _ = err.flush();
                    i += 1;
                }
                if shown {
                    let _ = write!(std::io::stderr(), "\r\x1b[2K");
                }
            })
        });
        Self { done, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Probes the servers and queries of `inputs`; returns the facts and what could not be checked.
///
/// # Errors
/// The runtime cannot start.
pub fn probe(
    inputs: &[ProbeInput],
    settings: &Settings,
    show_progress: bool,
) -> Result<(Facts, Vec<Note>)> {
    if inputs.is_empty() {
        return Ok((Facts::default(), Vec::new()));
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let servers = inputs
        .iter()
        .map(|i| &i.address)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let _progress = Progress::start(
        format!(
            "probing {servers} Prometheus server{}",
            if servers == 1 { "" } else { "s" }
        ),
        answered.clone(),
        show_progress && std::io::stderr().is_terminal(),
    );
    let config = config(settings, Some(answered));
    let facts = runtime()?.block_on(kedalint_probe::probe(inputs, &config));
    let notes = kedalint_probe::notes(inputs, &facts);
    Ok((facts, notes))
}

/// `--cluster`: reads the KEDA objects of the current kubeconfig context, probes when `online`,
/// and lints each object like a file without text.
///
/// # Errors
/// No kubeconfig, or the API server refuses the reads.
pub fn lint_cluster(
    settings: &Settings,
    online: bool,
    show_progress: bool,
) -> Result<(Vec<Linted>, Vec<Note>)> {
    let rt = runtime()?;
    let answered = Arc::new(AtomicUsize::new(0));
    let progress = Progress::start(
        "reading the cluster".to_owned(),
        answered.clone(),
        show_progress && std::io::stderr().is_terminal(),
    );
    let (read, mut facts, status_notes) = rt.block_on(async {
        let started = tokio::time::Instant::now();
        let client = cluster::client().await.map_err(cluster_error)?;
        let read = tokio::time::timeout(DEADLINE, cluster::read_objects(&client, None))
            .await
            .map_err(|_| Error::Usage("the cluster did not answer within 10s".to_owned()))?
            .map_err(cluster_error)?;
        let roots: Vec<_> = read.scaled_objects.iter().map(from_json).collect();
        let addresses: Vec<String> = roots
            .iter()
            .flat_map(|r| kedalint_probe::inputs_of_nodes([r], settings))
            .map(|i| i.address)
            .chain(server_addresses(&read.scaled_objects))
            .collect();
        let mut facts = Facts {
            probed_at: Some(kedalint_probe::rfc3339(std::time::SystemTime::now())),
            ..Facts::default()
        };
        // Services and what KEDA and the HPA report, side by side, within the same deadline.
        let deadline = started + DEADLINE;
        let (_, (states, notes)) = tokio::join!(
            tokio::time::timeout_at(
                deadline,
                cluster::read_services(&client, addresses.iter().map(String::as_str), &mut facts),
            ),
            cluster_status::read_states(&client, &read.scaled_objects, deadline),
        );
        facts.scaled_objects = states;
        Ok::<_, Error>((read, facts, notes))
    })?;
    drop(progress);
    let roots: Vec<_> = read.scaled_objects.iter().map(from_json).collect();
    let mut notes: Vec<Note> = status_notes.into_iter().map(Note::new).collect();
    for ((ns, name), why) in &facts.service_errors {
        notes.push(Note::new(format!(
            "the Service `{ns}/{name}` could not be read: {why}"
        )));
    }
    if online {
        let inputs = kedalint_probe::inputs_of_nodes(roots.iter(), settings);
        let (probed, mut more) = probe(&inputs, settings, show_progress)?;
        facts.servers = probed.servers;
        notes.append(&mut more);
    }
    let mut inventory = Inventory::default();
    let auth_roots: Vec<_> = read.auths.iter().map(from_json).collect();
    for r in &auth_roots {
        for o in objects_of(r, 0) {
            inventory.add_object(&o);
        }
    }
    inventory.facts = facts;
    let linted = read
        .scaled_objects
        .iter()
        .map(|v| {
            let meta = v.get("metadata");
            let field = |k: &str| {
                meta.and_then(|m| m.get(k))
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
            };
            let name = format!("{CLUSTER_PREFIX}{}/{}", field("namespace"), field("name"));
            let findings = lint_value(v, settings, &inventory);
            Linted {
                file: SourceFile::new(name.clone(), ""),
                report: FileReport {
                    name,
                    objects: 1,
                    findings,
                },
            }
        })
        .collect();
    Ok((linted, notes))
}

/// `replay --cluster`: the ScaledObjects of the current kubeconfig context, each as
/// `(cluster:<namespace>/<name>, pretty JSON text)`.
///
/// # Errors
/// No kubeconfig, or the API server refuses the reads.
pub fn cluster_scaled_objects() -> Result<Vec<(String, String)>> {
    let read = runtime()?.block_on(async {
        let client = cluster::client().await.map_err(cluster_error)?;
        tokio::time::timeout(DEADLINE, cluster::read_objects(&client, None))
            .await
            .map_err(|_| Error::Usage("the cluster did not answer within 10s".to_owned()))?
            .map_err(cluster_error)
    })?;
    Ok(read
        .scaled_objects
        .iter()
        .map(|v| {
            let field = |k: &str| {
                v.pointer(&format!("/metadata/{k}"))
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
            };
            (
                format!("{CLUSTER_PREFIX}{}/{}", field("namespace"), field("name")),
                serde_json::to_string_pretty(v).unwrap_or_default(),
            )
        })
        .collect())
}

/// Every prometheus trigger's `serverAddress`, also those without a query.
fn server_addresses(objects: &[serde_json::Value]) -> Vec<String> {
    objects
        .iter()
        .filter_map(|o| o.pointer("/spec/triggers")?.as_array())
        .flatten()
        .filter(|t| t.get("type").and_then(|x| x.as_str()) == Some("prometheus"))
        .filter_map(|t| Some(t.pointer("/metadata/serverAddress")?.as_str()?.to_owned()))
        .collect()
}

fn cluster_error(e: kedalint_probe::Error) -> Error {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    Error::Usage(text)
}
