//! Entry points: lint files (with spans) or JSON objects (webhook, cluster), context across files,
//! suppressions, and sorting.

use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::checker::Checker;
use crate::facts::Facts;
use crate::finding::{Finding, Severity};
use crate::model::{Object, ScaledObject, TriggerAuth, objects_of, wrap_fragment};
use crate::rules;
use crate::scrape::{MonitorIndex, ScrapeSource, Selectable, selectable_of, source_of};
use crate::settings::Settings;
use crate::source::{
    Document, LoadLimits, Node, SourceFile, documents, from_json, load_stream, oversized_input,
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
            // The families it can read are among the names it spells: when all of those are
            // known already, parsing it adds nothing (a file of ScaledObjects reading one
            // histogram parses one query, not all of them twice).
            let known = crate::promql::spelled_names(query).is_some_and(|names| {
                names
                    .iter()
                    .filter_map(|n| histogram_family(n))
                    .all(|f| self.histogram_families.contains(f))
            });
            if known {
                continue;
            }
            if let Ok(a) = crate::promql::analyze(query.trim()) {
                self.histogram_families.extend(
                    a.selectors
                        .iter()
                        .filter_map(|s| histogram_family(s.metric.as_deref()?))
                        .map(str::to_owned),
                );
            }
        }
    }

    /// Adds what a later file tells (files keep their order: the first match wins); `facts` stay.
    pub fn extend(&mut self, other: Self) {
        self.auths.extend(other.auths);
        self.scrape_sources.extend(other.scrape_sources);
        self.histogram_families.extend(other.histogram_families);
        self.selectables.extend(other.selectables);
    }

    /// Whether a monitor of the input selects Services or pods by labels, so that the
    /// [`selectables`](Self::selectables) of the input matter (see [`selectables_in`]).
    #[must_use]
    pub fn has_selecting_monitors(&self) -> bool {
        self.scrape_sources.iter().any(|s| s.selection.is_some())
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

/// The suffixes of a histogram's or summary's series whose family makes its `_count` a counter.
const HISTOGRAM_SUFFIXES: &[&str] = &["_bucket", "_sum"];

/// The family of a metric name ending in `_bucket` or `_sum`.
fn histogram_family(metric: &str) -> Option<&str> {
    HISTOGRAM_SUFFIXES
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
}

/// Whether a query's text could name a metric ending in `_bucket` or `_sum`.
fn may_name_histogram_family(query: &str) -> bool {
    HISTOGRAM.is_match(query)
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
    for d in files.iter().flat_map(|f| &f.documents) {
        add_document(&mut inventory, d);
    }
    inventory
}

fn add_document(inventory: &mut Inventory, d: &Document) {
    if let Some(root) = &d.root {
        for o in objects_of(root, d.index) {
            inventory.add_object(&o);
        }
    }
}

/// Words one of which every document that adds to an [`Inventory`] (other than its
/// [`selectables`](Inventory::selectables)) spells out: the TriggerAuthentication kinds, the
/// Prometheus operator's group and the other monitor groups, a `prometheus.yml`/`.yaml` key of a
/// ConfigMap, the scrape interval keys of a Prometheus configuration or chart values, and the
/// suffixes of a histogram or summary family read by a query.
const CONTEXT_WORDS: &[&str] = &[
    "TriggerAuthentication",
    "monitoring.coreos.com",
    "monitoring.googleapis.com",
    "prometheus.y",
    "scrape_configs",
    "scrape_interval",
    "scrapeInterval",
    "_bucket",
    "_sum",
];

/// The kinds [`selectable_of`] reads: a document that is one of them spells its kind as a word.
const SELECTABLE_KINDS: &[&str] = &[
    "Service",
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
];

/// A pattern that finds, in one pass over a text, one of `words` (as part of a longer word unless
/// `whole`) or a backslash: an escape that could hide one (`\u0053erviceMonitor` in a quoted
/// scalar). A text it finds nothing in holds no document that spells one of the words.
fn spelling(words: &[&str], whole: bool) -> Regex {
    let words: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    let words = words.join("|");
    // An ASCII word boundary: identifiers are ASCII letters, digits and `_`.
    let pattern = if whole {
        format!(r"\\|(?-u:\b)(?:{words})(?-u:\b)")
    } else {
        format!(r"\\|{words}")
    };
    Regex::new(&pattern).expect("escaped words make a valid pattern")
}

static CONTEXT: LazyLock<Regex> = LazyLock::new(|| spelling(CONTEXT_WORDS, false));
static SELECTABLE: LazyLock<Regex> = LazyLock::new(|| spelling(SELECTABLE_KINDS, true));
static HISTOGRAM: LazyLock<Regex> = LazyLock::new(|| spelling(HISTOGRAM_SUFFIXES, false));

/// What one file adds to the inventory, as [`inventory_of`] would find it, without keeping its
/// tree, except its [`selectables`](Inventory::selectables) (those come from [`selectables_in`],
/// needed only when [`Inventory::has_selecting_monitors`]): a file that spells none of the words
/// context documents need is not even parsed.
#[must_use]
pub fn context_of(file: &SourceFile) -> Inventory {
    let mut inventory = Inventory::default();
    let text = &file.text;
    if file.oversized_size().is_some() || !CONTEXT.is_match(text) {
        return inventory;
    }
    // Only the documents that spell a context word are parsed.
    for piece in document_pieces(text) {
        if !CONTEXT.is_match(piece) {
            continue;
        }
        for d in documents(piece, LoadLimits::default()) {
            add_document(&mut inventory, &d);
        }
    }
    inventory.selectables.clear();
    inventory
}

/// A YAML stream cut before each line that begins with `---` and a space, a tab or a line break
/// (a document start marker: the YAML spec lets no scalar or collection hold such a line, and
/// granit-parser ends whatever is open there and reads on at the marker), so that each piece
/// parses alone to the documents the whole stream gives there. The whole stream as one piece when
/// a piece could parse differently alone: the stream holds a directive (a line beginning with `%`
/// belongs to the document after the next marker), or an anchor (`&`: the alias budget is shared
/// by the whole stream).
fn document_pieces(text: &str) -> Vec<&str> {
    if text.contains('&') || text.starts_with('%') || text.contains("\n%") {
        return vec![text];
    }
    let is_marker = |at: usize| {
        text[at..].starts_with("---")
            && matches!(
                text.as_bytes().get(at + 3),
                None | Some(b' ' | b'\t' | b'\n' | b'\r')
            )
    };
    let mut starts = vec![0];
    starts.extend(
        text.match_indices('\n')
            .map(|(i, _)| i + 1)
            .filter(|&at| is_marker(at)),
    );
    starts.push(text.len());
    starts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
}

/// Whether a file may hold a Service or workload: it spells one of their kinds as a word.
#[must_use]
pub fn may_hold_selectables(file: &SourceFile) -> bool {
    file.oversized_size().is_none() && SELECTABLE.is_match(&file.text)
}

/// The Services and workloads one file holds, as [`inventory_of`] would find them, without
/// keeping its tree: a file that spells none of their kinds as a word is not parsed.
#[must_use]
pub fn selectables_in(file: &SourceFile) -> Vec<Selectable> {
    if !may_hold_selectables(file) {
        return Vec::new();
    }
    documents(&file.text, LoadLimits::default())
        .filter_map(|d| d.root)
        .flat_map(|root| {
            objects_of(&root, 0)
                .iter()
                .filter_map(selectable_of)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Lints one parsed file against an inventory built from the whole input.
#[must_use]
pub fn lint_parsed(parsed: &ParsedFile, settings: &Settings, inventory: &Inventory) -> FileReport {
    let file = &parsed.file;
    let mut findings = Vec::new();
    let mut objects = 0;
    for doc in &parsed.documents {
        objects += lint_document(file, doc, settings, inventory, &mut findings);
    }
    let starts: Vec<(usize, usize)> = parsed
        .documents
        .iter()
        .filter_map(suppression::document_start)
        .collect();
    finish_report(file, settings, inventory, findings, objects, &starts)
}

/// Lints one file as [`lint_parsed`] does, with the same findings in the same order, building
/// each document only when it is linted and dropping its tree before the next: memory is the
/// file's text and line index, one document's tree and the findings, however many documents
/// the file holds.
#[must_use]
pub fn lint_file(file: &SourceFile, settings: &Settings, inventory: &Inventory) -> FileReport {
    let limits = LoadLimits::default();
    let oversized = file
        .oversized_size()
        .map(|size| oversized_input(size, limits.max_bytes));
    let stream = oversized.is_none().then(|| documents(&file.text, limits));
    let mut findings = Vec::new();
    let mut objects = 0;
    let mut starts = Vec::new();
    for doc in oversized.into_iter().chain(stream.into_iter().flatten()) {
        starts.extend(suppression::document_start(&doc));
        objects += lint_document(file, &doc, settings, inventory, &mut findings);
    }
    finish_report(file, settings, inventory, findings, objects, &starts)
}

/// Adds one document's findings, before suppression comments and sorting, to `findings`;
/// returns how many KEDA objects it held.
fn lint_document(
    file: &SourceFile,
    doc: &Document,
    settings: &Settings,
    inventory: &Inventory,
    findings: &mut Vec<Finding>,
) -> usize {
    let mut cx = Checker::new(settings, inventory, Some(file), doc.index);
    if let Some(error) = &doc.error {
        rules::report_invalid_yaml(&mut cx, file, error);
    }
    let mut keda = 0;
    if let Some(root) = &doc.root {
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
    }
    findings.append(&mut cx.findings);
    keda
}

/// Applies suppression comments to a file's findings and sorts them into its report.
fn finish_report(
    file: &SourceFile,
    settings: &Settings,
    inventory: &Inventory,
    findings: Vec<Finding>,
    objects: usize,
    starts: &[(usize, usize)],
) -> FileReport {
    let mut cx = Checker::new(settings, inventory, Some(file), 0);
    cx.findings = findings;
    suppression::apply_comments(&mut cx, file, starts);
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
    // Borrowed keys: a copy of every message would double what a large file's findings hold.
    let mut seen = HashSet::new();
    let keep: Vec<bool> = findings
        .iter()
        .map(|f| {
            seen.insert((
                f.code,
                f.span.as_ref().map(|s| (s.start, s.end)),
                &f.path,
                f.message.as_str(),
            ))
        })
        .collect();
    drop(seen);
    let mut keep = keep.into_iter();
    findings.retain(|_| keep.next().unwrap_or(true));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Every YAML and JSON file under `dir`, sorted.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if matches!(
                    p.extension().and_then(|x| x.to_str()),
                    Some("yaml" | "yml" | "json")
                ) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// The fixtures, the examples and, when present, the shared corpus.
    fn sample_files() -> Vec<SourceFile> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let shared = std::env::var_os("KEDALINT_SHARED")
            .map_or_else(|| root.join("..").join("shared"), PathBuf::from);
        let mut paths = files_under(&root.join("tests").join("fixtures"));
        paths.extend(files_under(&root.join("examples")));
        paths.extend(files_under(&shared.join("corpus")));
        paths
            .iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(p).ok()?;
                Some(SourceFile::new(p.display().to_string(), text))
            })
            .collect()
    }

    /// Inputs whose documents interact: suppression comments placed by document, a broken
    /// document between good ones, empty documents, an alias budget spent across documents.
    const TRICKY: &[&str] = &[
        "# kedalint: ignore[KL999]\n---\napiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: a}\nspec: {scaleTargetRef: {name: w}, triggers: [{type: prometheus, metadata: {query: 'rate(x[1s])', threshold: '1'}}]}\n---\n---\nb: [1, 2\n---\n# kedalint: ignore[KL202]\nkind: ScaledObject\n",
        "",
        "---\n---\n...\n",
        "a: &x [1, 2, 3]\nb: [*x, *x]\n---\nc: [*x]\n",
    ];

    fn assert_same(file: &SourceFile, settings: &Settings, inventory: &Inventory) {
        let whole = lint_parsed(&ParsedFile::parse(file.clone()), settings, inventory);
        let streamed = lint_file(file, settings, inventory);
        assert_eq!(streamed.objects, whole.objects, "{}", file.name);
        assert_eq!(streamed.findings, whole.findings, "{}", file.name);
    }

    /// What [`context_of`] finds, from the whole stream parsed at once.
    fn context_of_whole_stream(file: &SourceFile) -> Inventory {
        let mut inventory = inventory_of(&[ParsedFile::parse(file.clone())]);
        inventory.selectables.clear();
        inventory
    }

    #[test]
    fn the_context_of_a_file_read_document_by_document_is_what_its_whole_stream_gives() {
        let good = "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata: {name: a}\nspec: {secretTargetRef: [{parameter: bearerToken, name: s, key: k}]}\n";
        let monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m}\nspec: {selector: {matchLabels: {app: m}}, endpoints: [{port: http, interval: 45s}]}\n";
        // Documents a parser could run past a marker on, before and after context documents.
        let broken = [
            "a: \"unterminated\n",
            "a: 'unterminated\n",
            "a: [1, {b: \"c\n",
            "a: [1, 2\n",
            "{\n",
            "a:\n  b: 1\n c: 2\n",
            "a: |\n  x\n---x\n",
            "a: 1\n...\nb: 2\n",
            "a: 1\n... x\n",
            "--- |\n  text\n",
            "---a: 1\n",
            "\t- x\n",
        ];
        let mut files = sample_files();
        for (i, b) in broken.iter().enumerate() {
            for text in [
                format!("{b}---\n{good}---\n{monitor}"),
                format!("---\n{good}--- {b}---\r\n{monitor}\n...\n"),
                format!("{monitor}---\n{b}---\n{good}"),
                // No cut: an anchor, a directive.
                format!("x: &a 1\n---\n{b}---\n{good}"),
                format!("%YAML 1.2\n---\n{b}---\n{good}"),
            ] {
                files.push(SourceFile::new(format!("broken-{i}.yaml"), text));
            }
        }
        // Lines that begin with `---` but are no marker, inside a context document.
        for (i, text) in [
            "metadata: {name: b, labels: [\n---x ]}\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\n",
            "metadata: {name: c}\nnote: \"a\n---x\"\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\n",
            "metadata: {name: d}\nnote: a\n ----\napiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\n",
        ]
        .into_iter()
        .enumerate()
        {
            files.push(SourceFile::new(format!("dashes-{i}.yaml"), format!("a: 1\n---\n{text}")));
        }
        let mut found = 0;
        for f in &files {
            let context = context_of(f);
            assert_eq!(
                format!("{context:?}"),
                format!("{:?}", context_of_whole_stream(f)),
                "{}",
                f.name
            );
            found += context.auths.len() + context.scrape_sources.len();
        }
        assert!(
            found > 2 * broken.len(),
            "only {found} context objects found"
        );
    }

    #[test]
    fn histogram_families_are_those_of_every_query_analysed() {
        let so = |query: &str| {
            format!(
                "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {{name: a}}\nspec:\n  scaleTargetRef: {{name: a}}\n  triggers:\n  - type: prometheus\n    metadata:\n      threshold: '1'\n      query: {}\n",
                serde_json::to_string(query).unwrap_or_default()
            )
        };
        let queries = [
            "histogram_quantile(0.9, sum(rate(a_bucket[5m])) by (le))",
            "sum(rate(a_sum[5m])) / sum(rate(a_count[5m]))",
            "sum(rate(b_bucket{job=\"x_bucket\"}[5m]))",
            "sum(rate({__name__=\"c_sum\"}[5m]))",
            "sum(rate({\"d.e_bucket\"}[5m]))",
            "sum(rate({__name__=\"\\u0066_sum\"}[5m]))",
            "sum(rate(f_summary[5m]))",
            "sum(rate(a_bucket[5m])) + sum(rate(g_sum[5m]))",
            "sum(rate(h_bucket{x=\"unterminated[5m]))",
            "sum(rate(a_bucket:rate5m[5m]))",
        ];
        let mut files = sample_files();
        // Each query after the others, so a family seen first is known when the next arrives.
        let all: String = queries
            .iter()
            .map(|q| so(q))
            .collect::<Vec<_>>()
            .join("---\n");
        files.push(SourceFile::new("queries.yaml", all));
        let mut expected = BTreeSet::new();
        for f in &files {
            for d in load_stream(&f.text, LoadLimits::default()) {
                let Some(root) = &d.root else { continue };
                for o in objects_of(root, d.index) {
                    for q in queries_of(&o) {
                        let Ok(a) = crate::promql::analyze(q.trim()) else {
                            continue;
                        };
                        expected.extend(
                            a.selectors
                                .iter()
                                .filter_map(|s| histogram_family(s.metric.as_deref()?))
                                .map(str::to_owned),
                        );
                    }
                }
            }
        }
        let parsed: Vec<ParsedFile> = files.into_iter().map(ParsedFile::parse).collect();
        let found = inventory_of(&parsed).histogram_families;
        assert_eq!(found, expected);
        // `f` only through the escape; `x_bucket` is a label value, `f_summary` no family.
        for family in ["a", "b", "c", "d.e", "f", "g", "x", "f_summary"] {
            let read = !matches!(family, "x" | "f_summary");
            assert_eq!(found.contains(family), read, "{family}: {found:?}");
        }
    }

    #[test]
    fn a_spelling_finds_its_words_as_a_word_by_word_search_does() {
        // The search the patterns replace: each word in turn, then its neighbours.
        fn spells(text: &str, words: &[&str], whole: bool) -> bool {
            let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            text.contains('\\')
                || words.iter().any(|w| {
                    text.match_indices(w).any(|(i, _)| {
                        !whole
                            || !(ident(text[..i].chars().next_back())
                                || ident(text[i + w.len()..].chars().next()))
                    })
                })
        }
        let mut texts: Vec<String> = sample_files().into_iter().map(|f| f.text).collect();
        for t in [
            "kind: Service",
            "kind: ServiceMonitor",
            "kind: Servicé",
            "kind: éService",
            "Job_",
            "x: \"\\u0053ervice\"",
            "rate(x_sum[5m])",
            "x_summary",
            "prometheus.yaml",
            "Pod-1",
            "kind: \"Pod\"",
            "",
            "Deployment2 StatefulSet",
            "é_bucket",
        ] {
            texts.push(t.to_owned());
        }
        let mut found = [0; 3];
        for text in &texts {
            for (k, (words, whole, spelling)) in [
                (CONTEXT_WORDS, false, &*CONTEXT),
                (SELECTABLE_KINDS, true, &*SELECTABLE),
                (HISTOGRAM_SUFFIXES, false, &*HISTOGRAM),
            ]
            .into_iter()
            .enumerate()
            {
                let expected = spells(text, words, whole);
                assert_eq!(spelling.is_match(text), expected, "{words:?} in {text:?}");
                found[k] += usize::from(expected);
            }
        }
        assert!(found.iter().all(|&n| n > 5), "{found:?}");
    }

    #[test]
    fn linting_a_file_document_by_document_finds_exactly_what_linting_its_trees_finds() {
        let files = sample_files();
        assert!(files.len() > 100, "fixtures not found: {}", files.len());
        let settings = Settings::default();
        let parsed: Vec<ParsedFile> = files.iter().cloned().map(ParsedFile::parse).collect();
        let inventory = inventory_of(&parsed);
        let mut findings = 0;
        for f in &files {
            assert_same(f, &settings, &inventory);
            findings += lint_file(f, &settings, &inventory).findings.len();
        }
        assert!(findings > 100, "only {findings} findings in the samples");
        for (i, text) in TRICKY.iter().enumerate() {
            let file = SourceFile::new(format!("tricky-{i}.yaml"), *text);
            assert_same(&file, &settings, &Inventory::default());
        }
    }
}
