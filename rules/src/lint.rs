//! Entry points: lint files (with spans) or JSON objects (webhook, cluster), context across files,
//! suppressions, and sorting.

use std::collections::BTreeSet;

use crate::checker::Checker;
use crate::facts::Facts;
use crate::finding::{Finding, Severity};
use crate::model::{Object, ScaledObject, TriggerAuth, objects_of, wrap_fragment};
use crate::rules;
use crate::scrape::{MonitorIndex, ScrapeSource, Selectable, selectable_of, source_of};
use crate::settings::Settings;
use crate::source::{
    Document, LoadLimits, Node, SourceFile, from_json, load_stream, oversized_input,
};
use crate::suppression;

/// What other documents of the input, and online checks when they ran, tell about the objects
/// being linted.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// TriggerAuthentications and ClusterTriggerAuthentications.
    pub auths: Vec<TriggerAuth>,
    /// ServiceMonitors, PodMonitors, Prometheus resources and configurations stating intervals.
    pub scrape_sources: Vec<ScrapeSource>,
    /// What online checks learned (empty unless they ran).
    pub facts: Facts,
    /// Histogram and summary families the input's queries read as `_bucket` or `_sum` (in
    /// ScaledObject triggers and PrometheusRule expressions): their `_count` is a counter.
    pub histogram_families: BTreeSet<String>,
    /// Services and workloads' pods that monitors in the input may select.
    pub selectables: Vec<Selectable>,
    /// The monitors of `scrape_sources` by name and selector label value, built on first use.
    pub monitor_index: MonitorIndex,
}

impl Inventory {
    /// Adds what an object tells (a TriggerAuthentication, …).
    pub fn add_object(&mut self, object: &Object<'_>) {
        if let Some(a) = TriggerAuth::from_object(object) {
            self.auths.push(a);
        }
        if let Some(s) = source_of(object) {
            self.scrape_sources.push(s);
        }
        if let Some(t) = selectable_of(object) {
            self.selectables.push(t);
        }
        for query in queries_of(object) {
            // Only a query that spells `_bucket` or `_sum` (or an escape that could hide them in
            // a `__name__` string) can read such a family: the others are not analysed here.
            if !may_name_histogram_family(query) {
                continue;
            }
            if let Ok(a) = crate::promql::analyze(query.trim()) {
                self.histogram_families
                    .extend(a.selectors.iter().filter_map(|s| {
                        let m = s.metric.as_deref()?;
                        m.strip_suffix("_bucket")
                            .or_else(|| m.strip_suffix("_sum"))
                            .map(str::to_owned)
                    }));
            }
        }
    }

    /// Adds what a later file tells (files keep their order: the first match wins); `facts` stay.
    pub fn extend(&mut self, other: Self) {
        self.auths.extend(other.auths);
        self.scrape_sources.extend(other.scrape_sources);
    }

    /// Finds the TriggerAuthentication a trigger refers to.
    #[must_use]
    pub fn auth(&self, kind: &str, name: &str, namespace: Option<&str>) -> Option<&TriggerAuth> {
        self.auths.iter().find(|a| {
            a.kind == kind
                && a.name == name
                && (kind == "ClusterTriggerAuthentication"
                    || a.namespace.as_deref() == namespace
                    || a.namespace.is_none()
                    || namespace.is_none())
        })
    }
}

/// Whether a query's text could name a metric ending in `_bucket` or `_sum`.
fn may_name_histogram_family(query: &str) -> bool {
    query.contains("_bucket") || query.contains("_sum") || query.contains('\\')
}

/// The PromQL an object holds: its prometheus triggers' queries (ScaledObject), or its rules'
/// expressions (a Prometheus Operator `PrometheusRule`).
fn queries_of<'a>(object: &Object<'a>) -> Vec<&'a str> {
    if object.is_scaled_object() {
        return ScaledObject { object: *object }
            .triggers()
            .iter()
            .filter(|t| t.is_prometheus())
            .filter_map(|t| t.meta("query"))
            .collect();
    }
    if object.kind() != "PrometheusRule" {
        return Vec::new();
    }
    object
        .spec()
        .and_then(|s| s.get("groups"))
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|g| g.get("rules")?.as_seq())
        .flatten()
        .filter_map(|r| r.get("expr")?.as_string())
        .collect()
}

/// A file after parsing, before linting.
#[derive(Debug)]
pub struct ParsedFile {
    /// The file.
    pub file: SourceFile,
    /// Its documents.
    pub documents: Vec<Document>,
}

impl ParsedFile {
    /// Parses a file.
    #[must_use]
    pub fn parse(file: SourceFile) -> Self {
        let limits = LoadLimits::default();
        let documents = match file.oversized_size() {
            Some(size) => vec![oversized_input(size, limits.max_bytes)],
            None => load_stream(&file.text, limits),
        };
        Self { file, documents }
    }
}

/// The result for one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The file's name as given.
    pub name: String,
    /// How many KEDA objects were linted.
    pub objects: usize,
    /// Findings, sorted by position then code.
    pub findings: Vec<Finding>,
}

/// Builds the inventory from every parsed file.
#[must_use]
pub fn inventory_of(files: &[ParsedFile]) -> Inventory {
    let mut inventory = Inventory::default();
    for f in files {
        add_documents(&mut inventory, &f.documents);
    }
    inventory
}

fn add_documents(inventory: &mut Inventory, documents: &[Document]) {
    for d in documents {
        if let Some(root) = &d.root {
            for o in objects_of(root, d.index) {
                inventory.add_object(&o);
            }
        }
    }
}

/// Words one of which every document that adds to an [`Inventory`] spells out: the
/// TriggerAuthentication kinds, the Prometheus operator's group, a `prometheus.yml`/`.yaml` key of
/// a ConfigMap, and the scrape interval keys of a Prometheus configuration or chart values.
const CONTEXT_WORDS: &[&str] = &[
    "TriggerAuthentication",
    "monitoring.coreos.com",
    "prometheus.y",
    "scrape_configs",
    "scrape_interval",
    "scrapeInterval",
];

/// What one file adds to the inventory, as [`inventory_of`] would find it, without keeping its
/// tree: a file that spells none of the words context documents need, and has no escape that could
/// hide one (`\u0053erviceMonitor` in a quoted scalar), is not even parsed.
#[must_use]
pub fn context_of(file: &SourceFile) -> Inventory {
    let mut inventory = Inventory::default();
    let text = &file.text;
    if file.oversized_size().is_some()
        || !(text.contains('\\') || CONTEXT_WORDS.iter().any(|w| text.contains(w)))
    {
        return inventory;
    }
    add_documents(&mut inventory, &load_stream(text, LoadLimits::default()));
    inventory
}

/// Lints one parsed file against an inventory built from the whole input.
#[must_use]
pub fn lint_parsed(parsed: &ParsedFile, settings: &Settings, inventory: &Inventory) -> FileReport {
    let file = &parsed.file;
    let mut findings = Vec::new();
    let mut objects = 0;
    for doc in &parsed.documents {
        let mut cx = Checker::new(settings, inventory, Some(file), doc.index);
        if let Some(error) = &doc.error {
            rules::report_invalid_yaml(&mut cx, file, error);
        }
        if let Some(root) = &doc.root {
            let mut keda = 0;
            for object in objects_of(root, doc.index) {
                if object.is_keda() {
                    keda += 1;
                    cx.check_object(&object);
                    suppression::apply_annotation(&mut cx, &object);
                }
            }
            if keda == 0
                && let Some(wrapped) = wrap_fragment(root)
            {
                keda += 1;
                let object = Object {
                    root: &wrapped,
                    document: doc.index,
                    list_index: None,
                    fragment: true,
                };
                cx.check_object(&object);
            }
            objects += keda;
        }
        findings.append(&mut cx.findings);
    }
    let mut cx = Checker::new(settings, inventory, Some(file), 0);
    cx.findings = findings;
    suppression::apply_comments(&mut cx, file, &parsed.documents);
    let mut findings = cx.findings;
    sort(&mut findings, Some(file));
    FileReport {
        name: file.name.clone(),
        objects,
        findings,
    }
}

/// Lints a set of files together (TriggerAuthentications in one file serve triggers in another).
#[must_use]
pub fn lint_files(files: Vec<SourceFile>, settings: &Settings) -> Vec<FileReport> {
    let parsed: Vec<ParsedFile> = files.into_iter().map(ParsedFile::parse).collect();
    let inventory = inventory_of(&parsed);
    parsed
        .iter()
        .map(|p| lint_parsed(p, settings, &inventory))
        .collect()
}

/// Lints one file's text on its own.
#[must_use]
pub fn lint_text(name: &str, text: &str, settings: &Settings) -> FileReport {
    lint_files(vec![SourceFile::new(name, text)], settings)
        .pop()
        .unwrap_or(FileReport {
            name: name.to_owned(),
            objects: 0,
            findings: Vec::new(),
        })
}

/// Lints one object given as JSON (an AdmissionReview's `object`, an object read from a cluster).
/// Findings carry field paths and no spans.
#[must_use]
pub fn lint_value(
    value: &serde_json::Value,
    settings: &Settings,
    inventory: &Inventory,
) -> Vec<Finding> {
    let root = from_json(value);
    lint_node(&root, settings, inventory)
}

/// Lints one object tree without source text.
#[must_use]
pub fn lint_node(root: &Node, settings: &Settings, inventory: &Inventory) -> Vec<Finding> {
    let mut cx = Checker::new(settings, inventory, None, 0);
    for object in objects_of(root, 0) {
        if object.is_keda() {
            cx.check_object(&object);
            suppression::apply_annotation(&mut cx, &object);
        }
    }
    let mut findings = cx.findings;
    sort(&mut findings, None);
    findings
}

/// Sorts findings by position (document, line, column) then code, and drops exact repeats
/// (an aliased node reported once per alias).
fn sort(findings: &mut Vec<Finding>, _file: Option<&SourceFile>) {
    findings.sort_by(|a, b| {
        // Spans are offsets into the whole file, so they order findings across documents.
        let pos = |f: &Finding| {
            f.span
                .as_ref()
                .map_or((usize::MAX, f.document), |s| (s.start, f.document))
        };
        pos(a)
            .cmp(&pos(b))
            .then_with(|| a.code.cmp(b.code))
            .then_with(|| a.path.to_string().cmp(&b.path.to_string()))
            .then_with(|| a.message.cmp(&b.message))
    });
    let mut seen = BTreeSet::new();
    findings.retain(|f| {
        seen.insert((
            f.code,
            f.span.clone().map(|s| (s.start, s.end)),
            f.path.to_string(),
            f.message.clone(),
        ))
    });
}

/// Counts findings by severity: (error, warning, info).
#[must_use]
pub fn count_by_severity<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
) -> (usize, usize, usize) {
    findings
        .into_iter()
        .fold((0, 0, 0), |(e, w, i), f| match f.severity {
            Severity::Error => (e + 1, w, i),
            Severity::Warning => (e, w + 1, i),
            Severity::Info => (e, w, i + 1),
        })
}
