//! `kubectl kedalint replay`: what KEDA and the HPA would have done with a ScaledObject over a past
//! window of its real Prometheus data. This module is the adapter: it reads the objects (files,
//! stdin, the cluster), builds the variants (`--with-fixes`, `--set`), fetches each distinct
//! trigger's history once (`kedalint_probe::range`), runs the pure model
//! (`kedalint_rules::replay`) and hands the results to the renderers.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use kedalint_probe::ProbeInput;
use kedalint_probe::range::{self, MAX_CHUNKS, MAX_POINTS, Window};
use kedalint_rules::lint::ParsedFile;
use kedalint_rules::model::{Object, ScaledObject, objects_of, wrap_fragment};
use kedalint_rules::replay::{Replay, ReplayOptions, ReplaySpec, Sample, TriggerHistory, replay};
use kedalint_rules::source::{Entry, FieldPath, Node, NodeKind, PathSegment, ScalarStyle};
use kedalint_rules::{ObjectRef, Settings, SourceFile, duration::parse_duration};

use crate::cli::{LintArgs, ReplayArgs, ReplayFormat};
use crate::render::replay as render;
use crate::{Error, Result, discover, fix};

/// The whole fetch of a run ends by then; ticks not fetched are errors saying so.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// Default tick spacing: the HPA's sync period.
pub const DEFAULT_STEP: u32 = 15;
/// Largest answer read per request: a chunk of 11,000 points for a few series.
const MAX_BODY: usize = 32 << 20;
/// Windows of at least this many ticks show a progress line on a terminal.
const LONG_WINDOW: usize = 2_000;

/// Said in every output: the replay cannot feed its replicas back into the metric.
pub const OPEN_LOOP: &str = "open loop: the history is what the metric was with the replicas that really ran; the replay shows the replicas KEDA and the HPA would have requested for that trajectory, not how the metric would have changed with them";

/// A variant's name in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantKind {
    /// The object as given.
    Original,
    /// After the fixes `--fix` would apply.
    Fixed,
    /// After the `--set` edits.
    WhatIf,
}

impl VariantKind {
    /// `original`, `fixed`, `what-if`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::Fixed => "fixed",
            Self::WhatIf => "what-if",
        }
    }
}

/// One replayed object in one variant.
#[derive(Debug)]
pub struct Replayed {
    /// The object.
    pub object: ObjectRef,
    /// Which variant.
    pub variant: VariantKind,
    /// What differs from the original (`path: before → after`), empty for the original.
    pub changes: Vec<String>,
    /// What the model needed from the object (thresholds, trigger names).
    pub spec: ReplaySpec,
    /// The model's result.
    pub replay: Replay,
}

/// Everything a renderer needs.
#[derive(Debug)]
pub struct Run {
    /// The window.
    pub window: Window,
    /// `--from` as resolved.
    pub from: i64,
    /// `--to` as resolved (excluded).
    pub to: i64,
    /// The KEDA version replayed.
    pub keda_version: String,
    /// Every object and variant replayed, in input order, original first.
    pub replayed: Vec<Replayed>,
    /// What could not be replayed or fetched, and the model's assumptions, one sentence each.
    pub notes: Vec<String>,
}

/// Runs `replay`; returns the exit code.
///
/// # Errors
/// Usage, configuration, input, or no Prometheus answer for any trigger.
pub fn run(args: &ReplayArgs) -> Result<i32> {
    let settings = crate::run::settings(&LintArgs {
        config: args.config.clone(),
        scrape_interval: args.scrape_interval.clone(),
        keda_version: args.keda_version.clone(),
        ..LintArgs::default()
    })?;
    let now = range::now_seconds();
    let from = parse_instant("--from", &args.from, now)?;
    let to = match &args.to {
        Some(t) => parse_instant("--to", t, now)?,
        None => now,
    };
    let step = match &args.step {
        Some(s) => parse_step(s)?,
        None => DEFAULT_STEP,
    };
    let window = window(from, to, step)?;
    let sets = args
        .sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>>>()?;
    let files = read_inputs(args)?;
    let parsed: Vec<ParsedFile> = files.iter().cloned().map(ParsedFile::parse).collect();
    let mut subjects = subjects(&parsed);
    if subjects.is_empty() {
        return Err(Error::Usage(format!(
            "no ScaledObject in {}: nothing to replay",
            describe_inputs(args)
        )));
    }
    if let Some(wanted) = &args.object {
        let all: Vec<String> = subjects.iter().map(|s| s.label()).collect();
        subjects.retain(|s| s.matches(wanted));
        if subjects.is_empty() {
            return Err(Error::Usage(format!(
                "--object {wanted} matches none of the ScaledObjects read: {}",
                all.join(", ")
            )));
        }
    }
    let mut notes = Vec::new();
    let with_fixes = args.with_fixes || args.unsafe_fixes;
    let mut variants: Vec<(usize, VariantKind, Node, Vec<String>)> = Vec::new();
    let mut fixed_files: Vec<Option<ParsedFile>> = files.iter().map(|_| None).collect();
    for (k, s) in subjects.iter().enumerate() {
        variants.push((k, VariantKind::Original, s.root.clone(), Vec::new()));
        if with_fixes {
            let fixed = fixed_files[s.file].get_or_insert_with(|| {
                let after = fix::fix_all(vec![files[s.file].clone()], &settings, args.unsafe_fixes)
                    .changes
                    .pop()
                    .map_or_else(|| files[s.file].text.clone(), |c| c.after);
                ParsedFile::parse(SourceFile::new(files[s.file].name.clone(), after))
            });
            match find_again(fixed, s) {
                Some(root) => {
                    let changes = differences(&s.root, &root);
                    if changes.is_empty() {
                        notes.push(format!(
                            "{}: no fix {}applies, so there is no fixed variant",
                            s.label(),
                            if args.unsafe_fixes {
                                ""
                            } else {
                                "that keeps scaling behaviour "
                            }
                        ));
                    } else {
                        variants.push((k, VariantKind::Fixed, root, changes));
                    }
                }
                None => notes.push(format!(
                    "{}: the fixed file no longer holds the object, so there is no fixed variant",
                    s.label()
                )),
            }
        }
        if !sets.is_empty() {
            let mut root = s.root.clone();
            for (path, value) in &sets {
                set(&mut root, path, value)
                    .map_err(|why| Error::Usage(format!("--set {path}: {why} in {}", s.label())))?;
            }
            let changes = differences(&s.root, &root);
            variants.push((k, VariantKind::WhatIf, root, changes));
        }
    }
    // Each variant's spec and the inputs its replayable triggers need; equal inputs are fetched
    // once, so variants whose query did not change share the original's history.
    let mut inputs: Vec<ProbeInput> = Vec::new();
    let mut prepared = Vec::new();
    for (k, kind, root, changes) in variants {
        let s = &subjects[k];
        let so = ScaledObject {
            object: Object {
                root: &root,
                document: s.document,
                list_index: None,
                fragment: s.fragment,
            },
        };
        let spec = match ReplaySpec::from_scaled_object(&so) {
            Ok(spec) => spec,
            Err(why) => {
                notes.push(format!(
                    "{} ({}) was not replayed: {why}",
                    s.label(),
                    kind.as_str()
                ));
                continue;
            }
        };
        let by_index = kedalint_probe::inputs_of_object(&so, &settings);
        let mut wiring = Vec::new();
        for t in spec.triggers.iter().filter(|t| t.replayable) {
            let slot = by_index
                .iter()
                .find(|(i, _)| *i == t.index)
                .map(|(_, input)| {
                    inputs.iter().position(|x| x == input).unwrap_or_else(|| {
                        inputs.push(input.clone());
                        inputs.len() - 1
                    })
                });
            wiring.push((t.index, slot));
        }
        prepared.push((k, kind, changes, spec, wiring));
    }
    if prepared.is_empty() {
        for n in &notes {
            eprintln!("kubectl-kedalint: note: {n}");
        }
        return Err(Error::Usage(
            "nothing was replayed: no object has a prometheus trigger the replay can read (notes above)"
                .to_owned(),
        ));
    }
    let histories = fetch(
        &inputs,
        window,
        &settings,
        args.format == ReplayFormat::Human,
    )?;
    for (input, h) in inputs.iter().zip(&histories) {
        for n in &h.notes {
            notes.push(format!(
                "`{}` on `{}`: {n}",
                short(&input.query),
                input.address
            ));
        }
    }
    if !inputs.is_empty() && histories.iter().all(|h| !h.answered) {
        let why: Vec<String> = histories
            .iter()
            .flat_map(|h| h.notes.first())
            .cloned()
            .collect();
        return Err(Error::Usage(format!(
            "Prometheus answered no trigger's history, so nothing was replayed: {}",
            why.join("; ")
        )));
    }
    let options = ReplayOptions {
        start: window.start,
        step_seconds: window.step_seconds,
        ticks: window.ticks,
        keda_version: settings.keda_version,
        start_replicas: args.start_replicas,
        ..ReplayOptions::default()
    };
    let mut replayed = Vec::new();
    for (k, kind, changes, spec, wiring) in prepared {
        let history: Vec<TriggerHistory> = wiring
            .iter()
            .map(|(index, slot)| TriggerHistory {
                trigger: *index,
                samples: slot.map_or_else(
                    || {
                        vec![
                            Sample::Error("the trigger names no serverAddress".to_owned());
                            window.ticks
                        ]
                    },
                    |i| histories[i].samples.clone(),
                ),
            })
            .collect();
        let result = replay(&spec, &history, &options);
        for n in &result.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
        replayed.push(Replayed {
            object: subjects[k].reference.clone(),
            variant: kind,
            changes,
            spec,
            replay: result,
        });
    }
    let run = Run {
        window,
        from,
        to,
        keda_version: settings.keda_version.to_string(),
        replayed,
        notes,
    };
    if let Some(path) = &args.plot {
        let svg = crate::render::plot::svg(&run)
            .map_err(|e| Error::Usage(format!("cannot draw the plot: {e}")))?;
        std::fs::write(path, svg).map_err(|source| Error::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    let text = match args.format {
        ReplayFormat::Human => render::human(&run, 80),
        ReplayFormat::Json => render::json(&run),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if args.format == ReplayFormat::Json {
        // The notes are in the JSON too; stderr keeps them visible to a person piping stdout.
        for n in &run.notes {
            eprintln!("kubectl-kedalint: note: {n}");
        }
    }
    Ok(crate::run::EXIT_OK)
}

/// The first line of a query, shortened for notes.
fn short(q: &str) -> String {
    let one: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(59).collect::<String>())
    } else {
        one
    }
}

fn describe_inputs(args: &ReplayArgs) -> String {
    match (args.cluster, args.paths.is_empty()) {
        (true, true) => "the cluster".to_owned(),
        (_, true) => "the current directory".to_owned(),
        (cluster, false) => format!(
            "{}{}",
            args.paths.join(", "),
            if cluster { " and the cluster" } else { "" }
        ),
    }
}

/// The input texts: files, stdin, and with `--cluster` each cluster object as JSON text (JSON is
/// YAML, so fixes and `--set` work on every object the same way).
fn read_inputs(args: &ReplayArgs) -> Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    if !(args.cluster && args.paths.is_empty()) {
        for loaded in discover::collect(&args.paths)? {
            let f = loaded?;
            if f.oversized_size().is_some() {
                return Err(Error::Usage(format!(
                    "`{}` is over the 32 MiB input limit",
                    f.name
                )));
            }
            files.push(f);
        }
    }
    if args.cluster {
        for (name, text) in crate::online::cluster_scaled_objects()? {
            files.push(SourceFile::new(name, text));
        }
    }
    Ok(files)
}

/// A ScaledObject to replay.
#[derive(Debug)]
struct Subject {
    file: usize,
    document: usize,
    list_index: Option<usize>,
    fragment: bool,
    reference: ObjectRef,
    file_name: String,
    root: Node,
}

impl Subject {
    fn label(&self) -> String {
        match (&self.reference.namespace, &self.reference.name) {
            (ns, Some(name)) => format!("{}/{name}", ns.as_deref().unwrap_or("default")),
            (_, None) => format!("{} (document {})", self.file_name, self.document + 1),
        }
    }

    fn matches(&self, wanted: &str) -> bool {
        let name = self.reference.name.as_deref().unwrap_or("");
        match wanted.split_once('/') {
            Some((ns, n)) => {
                n == name && ns == self.reference.namespace.as_deref().unwrap_or("default")
            }
            None => wanted == name,
        }
    }
}

fn subjects(parsed: &[ParsedFile]) -> Vec<Subject> {
    let mut out = Vec::new();
    for (file, p) in parsed.iter().enumerate() {
        for d in &p.documents {
            let Some(root) = &d.root else { continue };
            for (o, wrapped) in scaled_objects_in(root, d.index) {
                out.push(Subject {
                    file,
                    document: d.index,
                    list_index: o.list_index,
                    fragment: o.fragment,
                    reference: o.reference(),
                    file_name: p.file.name.clone(),
                    root: wrapped.unwrap_or_else(|| o.root.clone()),
                });
            }
        }
    }
    out
}

/// The ScaledObjects of a document, or the document as a trigger snippet wrapped into one (as
/// the linter reads it) when it holds no KEDA object; a wrapped snippet's tree comes along.
fn scaled_objects_in(root: &Node, document: usize) -> Vec<(Object<'_>, Option<Node>)> {
    let objects = objects_of(root, document);
    let found: Vec<_> = objects
        .iter()
        .filter(|o| o.is_scaled_object())
        .map(|o| (*o, None))
        .collect();
    if !found.is_empty() || objects.iter().any(Object::is_keda) {
        return found;
    }
    match wrap_fragment(root) {
        Some(wrapped) => {
            let object = Object {
                root,
                document,
                list_index: None,
                fragment: true,
            };
            vec![(object, Some(wrapped))]
        }
        None => Vec::new(),
    }
}

/// The same object in the fixed file: same document, same list position.
fn find_again(fixed: &ParsedFile, s: &Subject) -> Option<Node> {
    let d = fixed.documents.iter().find(|d| d.index == s.document)?;
    let root = d.root.as_ref()?;
    scaled_objects_in(root, s.document)
        .into_iter()
        .find(|(o, _)| o.list_index == s.list_index && o.reference() == s.reference)
        .map(|(o, wrapped)| wrapped.unwrap_or_else(|| o.root.clone()))
}

/// Resolves `--from`/`--to`: RFC 3339, `now`, or `-DURATION` before now.
///
/// # Errors
/// Anything else, named with the flag.
pub fn parse_instant(flag: &str, text: &str, now: i64) -> Result<i64> {
    let t = text.trim();
    if t == "now" {
        return Ok(now);
    }
    if let Some(ago) = t.strip_prefix('-') {
        let d = parse_duration(ago).ok_or_else(|| {
            Error::Usage(format!(
                "{flag} {text:?} is not a time: use RFC 3339 (2026-11-12T10:00:00Z), `now`, or a duration before now such as -30m or -2h"
            ))
        })?;
        return Ok(now - i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2));
    }
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .map_err(|e| {
            Error::Usage(format!(
                "{flag} {text:?} is not a time ({e}): use RFC 3339 (2026-11-12T10:00:00Z), `now`, or a duration before now such as -30m or -2h"
            ))
        })
}

fn parse_step(text: &str) -> Result<u32> {
    parse_duration(text)
        .filter(|d| d.subsec_nanos() == 0 && d.as_secs() >= 1)
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .ok_or_else(|| {
            Error::Usage(format!(
                "--step {text:?} is not a whole number of seconds such as 15s or 1m"
            ))
        })
}

/// The ticks from `from` (included) to `to` (excluded).
///
/// # Errors
/// An empty or reversed window, or one that needs more than [`MAX_CHUNKS`] range queries.
pub fn window(from: i64, to: i64, step: u32) -> Result<Window> {
    if from >= to {
        return Err(Error::Usage(format!(
            "--from {} is not before --to {}: the window is empty",
            range::rfc3339_at(from),
            range::rfc3339_at(to)
        )));
    }
    let step_i = i64::from(step);
    let ticks = usize::try_from((to - from + step_i - 1) / step_i).unwrap_or(usize::MAX);
    let chunks = ticks.div_ceil(MAX_POINTS);
    if chunks > MAX_CHUNKS {
        return Err(Error::Usage(format!(
            "the window holds {ticks} ticks of {step}s, which needs {chunks} range queries of at most {MAX_POINTS} points per trigger; the replay fetches at most {MAX_CHUNKS}: shorten the window or use a longer --step"
        )));
    }
    Ok(Window {
        start: from,
        step_seconds: step,
        ticks,
    })
}

fn fetch(
    inputs: &[ProbeInput],
    window: Window,
    settings: &Settings,
    human: bool,
) -> Result<Vec<range::History>> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let requests = inputs.len() * (window.chunks().len() + 1);
    let _progress = crate::online::Progress::start(
        format!("fetching the history ({requests} requests)"),
        answered.clone(),
        human && window.ticks >= LONG_WINDOW && std::io::stderr().is_terminal(),
    );
    let config = kedalint_probe::ProbeConfig {
        request_timeout: settings.probe_timeout.unwrap_or(Duration::from_secs(2)),
        deadline: DEADLINE,
        max_body: MAX_BODY,
        progress: Some(answered),
        ..kedalint_probe::ProbeConfig::default()
    };
    let rt = crate::online::runtime()?;
    Ok(rt.block_on(range::fetch_histories(inputs, window, &config)))
}

/// Parses `--set PATH=VALUE`.
fn parse_set(text: &str) -> Result<(String, String)> {
    let (path, value) = text.split_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "--set {text:?} is not PATH=VALUE, e.g. spec.triggers[0].metadata.threshold=0.5"
        ))
    })?;
    if path.trim().is_empty() {
        return Err(Error::Usage(format!("--set {text:?} has no path")));
    }
    Ok((path.trim().to_owned(), value.to_owned()))
}

fn scalar(value: &str, style: ScalarStyle) -> Node {
    Node {
        span: None,
        kind: NodeKind::Scalar {
            value: value.to_owned(),
            style,
        },
    }
}

fn empty_map() -> Node {
    Node {
        span: None,
        kind: NodeKind::Map(Vec::new()),
    }
}

/// Sets the field at `path` (from the object's root) to `value`, creating missing mapping keys.
/// A value under `metadata` stays a string (KEDA's trigger metadata is `map[string]string`), as
/// does a value replacing a string; others are read as YAML reads a plain scalar.
fn set(root: &mut Node, path: &str, value: &str) -> std::result::Result<(), String> {
    let parsed = FieldPath::parse(path);
    let segments = parsed.segments();
    if segments.is_empty() {
        return Err("the path is empty".to_owned());
    }
    let under_metadata = matches!(
        segments.iter().rev().nth(1),
        Some(PathSegment::Key(k)) if k == "metadata"
    );
    let mut node = root;
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        node = match seg {
            PathSegment::Key(k) => {
                let NodeKind::Map(entries) = &mut node.kind else {
                    return Err(format!("`{}` is not a mapping", prefix(&segments, i)));
                };
                let at = match entries.iter().position(|e| e.key_str() == Some(k)) {
                    Some(at) => at,
                    None => {
                        entries.push(Entry {
                            key: scalar(k, ScalarStyle::Plain),
                            value: if last {
                                scalar("", ScalarStyle::Plain)
                            } else {
                                empty_map()
                            },
                        });
                        entries.len() - 1
                    }
                };
                &mut entries[at].value
            }
            PathSegment::Index(n) => {
                let NodeKind::Seq(items) = &mut node.kind else {
                    return Err(format!("`{}` is not a list", prefix(&segments, i)));
                };
                let len = items.len();
                items.get_mut(*n).ok_or_else(|| {
                    format!(
                        "`{}` has {len} item{}, no [{n}]",
                        prefix(&segments, i),
                        if len == 1 { "" } else { "s" }
                    )
                })?
            }
        };
    }
    let keeps_string = under_metadata
        || node.as_string().is_some_and(
            |_| !matches!(&node.kind, NodeKind::Scalar { value, .. } if value.is_empty()),
        );
    *node = scalar(
        value,
        if keeps_string {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::Plain
        },
    );
    Ok(())
}

fn prefix(segments: &[&PathSegment], upto: usize) -> String {
    let mut p = FieldPath::root();
    for s in &segments[..upto] {
        p = match s {
            PathSegment::Key(k) => p.key(k),
            PathSegment::Index(i) => p.index(*i),
        };
    }
    let text = p.to_string();
    if text.is_empty() {
        "the object".to_owned()
    } else {
        text
    }
}

/// The scalar fields that differ between two object trees, as `path: before → after`.
fn differences(before: &Node, after: &Node) -> Vec<String> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flatten(before, &FieldPath::root(), &mut a);
    flatten(after, &FieldPath::root(), &mut b);
    let mut out = Vec::new();
    for (path, new) in &b {
        match a.iter().find(|(p, _)| p == path) {
            Some((_, old)) if old == new => {}
            Some((_, old)) => out.push(format!("{path}: {}", change(old, new))),
            None => out.push(format!("{path}: (unset) → {new}")),
        }
    }
    for (path, old) in &a {
        if !b.iter().any(|(p, _)| p == path) {
            out.push(format!("{path}: {old} → (unset)"));
        }
    }
    out
}

/// `before → after`, long values cut to what differs with a little context on each side
/// (`…_bucket[1m])) by (le)) → …_bucket[5m])) by (le))`).
fn change(before: &str, after: &str) -> String {
    const CONTEXT: usize = 16;
    let (a, b): (Vec<char>, Vec<char>) = (before.chars().collect(), after.chars().collect());
    if a.len().max(b.len()) <= 40 {
        return format!("{before} → {after}");
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let cut = |s: &[char]| -> String {
        let start = prefix.saturating_sub(CONTEXT);
        let end = (s.len() - suffix + CONTEXT).min(s.len());
        format!(
            "{}{}{}",
            if start > 0 { "…" } else { "" },
            s[start..end].iter().collect::<String>(),
            if end < s.len() { "…" } else { "" }
        )
    };
    format!("{} → {}", cut(&a), cut(&b))
}

fn flatten(node: &Node, path: &FieldPath, out: &mut Vec<(String, String)>) {
    match &node.kind {
        NodeKind::Scalar { value, .. } => out.push((path.to_string(), value.clone())),
        NodeKind::Seq(items) => {
            for (i, n) in items.iter().enumerate() {
                flatten(n, &path.index(i), out);
            }
        }
        NodeKind::Map(entries) => {
            for e in entries {
                if let Some(k) = e.key_str() {
                    flatten(&e.value, &path.key(k), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_count_back_from_now_and_rfc3339_is_absolute() {
        let now = 1_800_000_000;
        assert_eq!(parse_instant("--from", "now", now).unwrap(), now);
        assert_eq!(parse_instant("--from", "-30m", now).unwrap(), now - 1800);
        assert_eq!(parse_instant("--from", "-2h", now).unwrap(), now - 7200);
        assert_eq!(
            parse_instant("--from", "2026-11-12T10:00:00Z", now).unwrap(),
            1_794_477_600
        );
        assert_eq!(
            parse_instant("--from", "2026-11-12T11:00:00+01:00", now).unwrap(),
            1_794_477_600
        );
        let err = parse_instant("--from", "yesterday", now).unwrap_err();
        assert!(err.to_string().contains("--from \"yesterday\""), "{err}");
    }

    #[test]
    fn a_window_counts_ticks_up_to_but_not_including_its_end() {
        let w = window(0, 1800, 15).unwrap();
        assert_eq!(w.ticks, 120);
        assert!(window(10, 10, 15).is_err());
        let err = window(100, 0, 15).unwrap_err().to_string();
        assert!(err.contains("is not before"), "{err}");
        let err = window(0, 400 * 24 * 3600, 15).unwrap_err().to_string();
        assert!(err.contains("needs 210 range queries"), "{err}");
    }

    #[test]
    fn set_replaces_a_field_and_creates_missing_keys_keeping_metadata_strings() {
        let text =
            "spec:\n  triggers:\n  - type: prometheus\n    metadata:\n      threshold: \"0.35\"\n";
        let mut root = kedalint_rules::source::load_stream(text, Default::default())
            .remove(0)
            .root
            .unwrap();
        let before = root.clone();
        set(&mut root, "spec.triggers[0].metadata.threshold", "1").unwrap();
        set(&mut root, "spec.triggers[0].metricType", "Value").unwrap();
        set(&mut root, "spec.minReplicaCount", "1").unwrap();
        let t = &root
            .get("spec")
            .unwrap()
            .get("triggers")
            .unwrap()
            .as_seq()
            .unwrap()[0];
        assert_eq!(
            t.get("metadata")
                .unwrap()
                .get("threshold")
                .unwrap()
                .as_string(),
            Some("1")
        );
        assert_eq!(t.get("metricType").unwrap().as_str(), Some("Value"));
        assert_eq!(
            root.get("spec")
                .unwrap()
                .get("minReplicaCount")
                .unwrap()
                .scalar_type(),
            Some(kedalint_rules::source::ScalarType::Int)
        );
        assert_eq!(
            differences(&before, &root),
            vec![
                "spec.triggers[0].metadata.threshold: 0.35 → 1",
                "spec.triggers[0].metricType: (unset) → Value",
                "spec.minReplicaCount: (unset) → 1"
            ]
        );
        let err = set(&mut root, "spec.triggers[3].metadata.query", "up").unwrap_err();
        assert_eq!(err, "`spec.triggers` has 1 item, no [3]");
    }
}
