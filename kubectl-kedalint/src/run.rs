//! One run of `kubectl kedalint`: configuration, files, engine, outputs, exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use kedalint_probe::ProbeInput;
use kedalint_rules::facts::Facts;
use kedalint_rules::lint::{
    Inventory, ParsedFile, context_of, inventory_of, lint_file, lint_parsed, may_hold_selectables,
    selectables_in,
};
use kedalint_rules::{KedaVersion, Note, Settings, Severity, duration::parse_duration, registry};

use crate::cli::{FailOn, Format, LintArgs};
use crate::discover;
use crate::fix;
use crate::render::{self, Linted};
use crate::{Error, Result};

/// Exit code: no finding at or above the threshold.
pub const EXIT_OK: i32 = 0;
/// Exit code: findings at or above the threshold.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage, I/O or configuration error.
pub const EXIT_ERROR: i32 = 2;

/// The configuration file name looked up from the working directory upward.
pub const CONFIG_FILE: &str = ".kedalint.yaml";

/// Pairs each `--output` with the `--format` given before it; formats without one go to stdout.
#[must_use]
pub fn outputs(args: &LintArgs, matches: Option<&ArgMatches>) -> Vec<(Format, Option<PathBuf>)> {
    let formats = if args.formats.is_empty() {
        vec![Format::Human]
    } else {
        args.formats.clone()
    };
    let mut pairs: Vec<(Format, Option<PathBuf>)> = formats.iter().map(|f| (*f, None)).collect();
    let format_idx: Vec<usize> = matches
        .and_then(|m| m.indices_of("formats"))
        .map(Iterator::collect)
        .unwrap_or_default();
    let output_idx: Vec<usize> = matches
        .and_then(|m| m.indices_of("outputs"))
        .map(Iterator::collect)
        .unwrap_or_default();
    for (k, out) in args.outputs.iter().enumerate() {
        let at = output_idx.get(k).copied().unwrap_or(usize::MAX);
        let slot = format_idx
            .iter()
            .rposition(|&fi| fi < at)
            .unwrap_or(k.min(pairs.len().saturating_sub(1)));
        if let Some(p) = pairs.get_mut(slot) {
            p.1 = Some(out.clone());
        } else {
            pairs.push((Format::Human, Some(out.clone())));
        }
    }
    pairs
}

/// Finds `.kedalint.yaml` in `start` or a parent directory.
#[must_use]
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(CONFIG_FILE))
        .find(|p| p.is_file())
}

/// Builds the settings from the configuration file and flags.
///
/// # Errors
/// A configuration file that cannot be read or used, or a bad flag value.
pub fn settings(args: &LintArgs) -> Result<Settings> {
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => std::env::current_dir().ok().and_then(|d| find_config(&d)),
    };
    let mut settings = match path {
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(&p).map_err(|source| Error::Io {
                path: name.clone(),
                source,
            })?;
            Settings::from_yaml(&name, &text)?
        }
        None => Settings::default(),
    };
    if let Some(s) = &args.scrape_interval {
        let d = parse_duration(s).filter(|d| !d.is_zero()).ok_or_else(|| {
            Error::Usage(format!(
                "--scrape-interval {s:?} is not a duration such as 30s or 1m"
            ))
        })?;
        settings.scrape_interval = Some(d);
        settings.scrape_interval_origin = "--scrape-interval".to_owned();
    }
    if let Some(v) = &args.keda_version {
        settings.keda_version = KedaVersion::parse(v).ok_or_else(|| {
            Error::Usage(format!(
                "--keda-version {v:?} is not a version such as 2.18"
            ))
        })?;
        settings.keda_version_explicit = true;
    }
    Ok(settings)
}

fn threshold(args: &LintArgs, settings: &Settings) -> Option<Severity> {
    match args.fail_on {
        Some(FailOn::Error) => Some(Severity::Error),
        Some(FailOn::Warning) => Some(Severity::Warning),
        Some(FailOn::Info) => Some(Severity::Info),
        Some(FailOn::Never) => None,
        None => settings.fail_on.unwrap_or(Some(Severity::Error)),
    }
}

/// Lints in parallel across cores: parse every file, build the shared inventory, lint each file.
#[must_use]
pub fn lint_all(files: Vec<kedalint_rules::SourceFile>, settings: &Settings) -> Vec<Linted> {
    let parsed = parse_all(files);
    lint_parsed_all(parsed, settings, Facts::default())
}

/// Parses files in parallel across cores.
#[must_use]
pub fn parse_all(files: Vec<kedalint_rules::SourceFile>) -> Vec<ParsedFile> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len().max(1));
    parallel_map(files, workers, ParsedFile::parse)
}

/// Lints parsed files in parallel with what online checks learned (empty facts when they did not
/// run).
#[must_use]
pub fn lint_parsed_all(parsed: Vec<ParsedFile>, settings: &Settings, facts: Facts) -> Vec<Linted> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(parsed.len().max(1));
    let mut inventory = inventory_of(&parsed);
    inventory.facts = facts;
    let reports = parallel_map(parsed.iter().collect(), workers, |p: &ParsedFile| {
        lint_parsed(p, settings, &inventory)
    });
    parsed
        .into_iter()
        .zip(reports)
        .map(|(p, report)| Linted {
            file: p.file,
            report,
        })
        .collect()
}

/// Maps in order over `workers` scoped threads.
fn parallel_map<T: Send, R: Send>(
    items: Vec<T>,
    workers: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if workers <= 1 || items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(workers);
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(chunk).collect());
    }
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || c.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Where one output goes.
enum Target {
    /// A file of its own (`--output`), written as the run goes.
    File(String, std::io::BufWriter<std::fs::File>),
    /// The first output meant for stdout (or stderr, when stdout carries a diff or fixed text),
    /// written as the run goes.
    Stream,
    /// A later output meant for the same stream, held back until the first one is complete so
    /// outputs never interleave.
    Held(render::spill::Spill),
}

/// stdout, or stderr when stdout carries a diff or fixed text; a closed pipe (`| head`) is not
/// an error worth a message.
struct Console {
    stderr: bool,
}

impl Write for Console {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = if self.stderr {
            std::io::stderr().lock().write_all(buf)
        } else {
            std::io::stdout().lock().write_all(buf)
        };
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the console is called in an error (it never has one: see [`Console`]).
const CONSOLE: &str = "<stdout>";

/// The outputs of a run, each fed every file in order as it is linted.
struct Sinks {
    outputs: Vec<(render::Stream, Target)>,
    console: Console,
    fail_at: Option<Severity>,
    failed: bool,
}

impl Sinks {
    fn open(
        outs: Vec<(Format, Option<PathBuf>)>,
        color: bool,
        fail_at: Option<Severity>,
        to_stderr: bool,
    ) -> Result<Self> {
        let mut streaming = false;
        let mut outputs = Vec::new();
        for (format, path) in outs {
            let style = render::human::Style {
                color: color && path.is_none(),
                width: 100,
            };
            let target = match path {
                Some(path) => {
                    let name = path.display().to_string();
                    let file = std::fs::File::create(&path).map_err(|source| Error::Write {
                        path: name.clone(),
                        source,
                    })?;
                    Target::File(name, std::io::BufWriter::new(file))
                }
                None if !streaming => {
                    streaming = true;
                    Target::Stream
                }
                None => Target::Held(render::spill::Spill::new(render::spill::THRESHOLD)),
            };
            let stream = render::Stream::new(format, style, fail_at, render::spill::THRESHOLD);
            outputs.push((stream, target));
        }
        Ok(Self {
            outputs,
            console: Console { stderr: to_stderr },
            fail_at,
            failed: false,
        })
    }

    fn file(&mut self, linted: &Linted) -> Result<()> {
        self.failed |= self
            .fail_at
            .is_some_and(|t| linted.report.findings.iter().any(|f| f.severity >= t));
        let console = &mut self.console;
        for (stream, target) in &mut self.outputs {
            // Written as it is rendered: one file's text is never held whole.
            stream.file(linted, &mut |text: &[u8]| match target {
                _ if text.is_empty() => Ok(()),
                Target::File(name, w) => render::spill::write(w, name, text),
                Target::Held(held) => held.write(text),
                Target::Stream => render::spill::write(console, CONSOLE, text),
            })?;
        }
        Ok(())
    }

    /// Writes what each output held back for the end, with the run's notes; returns whether a
    /// finding reached the threshold.
    fn finish(mut self, notes: &[Note]) -> Result<bool> {
        let console = &mut self.console;
        for (stream, target) in std::mem::take(&mut self.outputs) {
            match target {
                Target::File(name, mut w) => {
                    stream.finish(notes, &mut w, &name)?;
                    w.flush()
                        .map_err(|source| Error::Write { path: name, source })?;
                }
                Target::Held(held) => {
                    let len = held.len();
                    held.done()?.copy(0..len, console, CONSOLE)?;
                    stream.finish(notes, console, CONSOLE)?;
                }
                Target::Stream => stream.finish(notes, console, CONSOLE)?,
            }
        }
        Ok(self.failed)
    }
}

/// Files lint at once at most this many places ahead of the first one not yet written, so
/// reports finished out of order wait in bounded memory.
const AHEAD_PER_WORKER: usize = 2;

/// Reads every input once and keeps only what the rules need across files (TriggerAuthentications,
/// scrape intervals) and, with `probe`, the triggers to check online. Returns those and the
/// inputs that could not be read, by position.
fn context_pass(
    inputs: &[discover::Input],
    settings: &Settings,
    probe: bool,
) -> (Inventory, Vec<ProbeInput>, Vec<Option<Error>>) {
    let workers = workers(inputs.len());
    let per_file = parallel_map(
        inputs.iter().collect(),
        workers,
        |input: &discover::Input| match input.load() {
            Ok(file) => {
                let probes = if probe {
                    kedalint_probe::inputs_of_files(&[ParsedFile::parse(file.clone())], settings)
                } else {
                    Vec::new()
                };
                Ok((context_of(&file), probes, may_hold_selectables(&file)))
            }
            Err(e) => Err(e),
        },
    );
    let mut inventory = Inventory::default();
    let mut probes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut errors = Vec::with_capacity(per_file.len());
    // Files that may hold Services or workloads, found while the text is at hand.
    let mut candidates = Vec::new();
    for (input, r) in inputs.iter().zip(per_file) {
        match r {
            Ok((context, p, candidate)) => {
                if candidate {
                    candidates.push(input);
                }
                inventory.extend(context);
                probes.extend(
                    p.into_iter()
                        .filter(|i| seen.insert((i.address.clone(), i.query.clone()))),
                );
                errors.push(None);
            }
            Err(e) => errors.push(Some(e)),
        }
    }
    // Services and workloads matter only to monitors that select them: read them then, and only
    // from the files that spell their kinds.
    if inventory.has_selecting_monitors() {
        for found in parallel_map(candidates, workers, |input: &discover::Input| {
            input.load().map(|f| selectables_in(&f)).unwrap_or_default()
        }) {
            inventory.selectables.extend(found);
        }
    }
    (inventory, probes, errors)
}

fn workers(items: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(items.max(1))
}

/// Lints the inputs on every core, one file at a time per core, and hands each file's report to
/// `emit` in input order as soon as the files before it are done. Inputs marked unreadable by the
/// first pass are skipped; one that cannot be read now is returned with its position.
fn lint_pass(
    inputs: &[discover::Input],
    skip: &[Option<Error>],
    settings: &Settings,
    inventory: &Inventory,
    mut emit: impl FnMut(Linted) -> Result<()>,
) -> Result<Vec<Error>> {
    let workers = workers(inputs.len());
    let ahead = workers * AHEAD_PER_WORKER;
    let next = std::sync::atomic::AtomicUsize::new(0);
    // The position of the first input not yet handed to `emit`.
    let written = (std::sync::Mutex::new(0usize), std::sync::Condvar::new());
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Option<Result<Linted>>)>();
    let lint_one = |i: usize| -> Option<Result<Linted>> {
        if skip.get(i).is_some_and(Option::is_some) {
            return None;
        }
        Some(inputs[i].load().map(|file| {
            let report = lint_file(&file, settings, inventory);
            Linted { file, report }
        }))
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, written, lint_one) = (&next, &written, &lint_one);
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= inputs.len() {
                        break;
                    }
                    let mut w = written
                        .0
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    while i >= *w + ahead {
                        w = written
                            .1
                            .wait(w)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                    drop(w);
                    if tx.send((i, lint_one(i))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = std::collections::BTreeMap::new();
        let mut errors = Vec::new();
        let mut first = 0;
        let mut failure = None;
        for (i, done) in &rx {
            pending.insert(i, done);
            while let Some(done) = pending.remove(&first) {
                first += 1;
                match done {
                    Some(Ok(linted)) if failure.is_none() => {
                        if let Err(e) = emit(linted) {
                            failure = Some(e);
                        }
                    }
                    Some(Err(e)) => errors.push(e),
                    _ => {}
                }
            }
            *written
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = first;
            written.1.notify_all();
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(errors),
        }
    })
}

/// With `--cluster`, the objects of the current kubeconfig context, linted, and what could not
/// be read as notes; nothing without it.
fn cluster_objects(
    args: &LintArgs,
    settings: &Settings,
    show_progress: bool,
    notes: &mut Vec<Note>,
) -> Result<Vec<Linted>> {
    if !args.cluster {
        return Ok(Vec::new());
    }
    let (objects, more) = crate::online::lint_cluster(settings, args.online, show_progress)?;
    notes.extend(more);
    Ok(objects)
}

/// Runs `lint`; returns the exit code. I/O errors of single files are printed and make it 2, after
/// every other file has been linted and reported.
///
/// Files are read twice, never all at once: a first pass keeps only what the rules need across
/// files, a second lints file by file on every core and writes each report as it completes, in
/// input order. Within a file, each document is built, linted and dropped before the next
/// (`lint_file`), so a file costs its text, line index and findings, not its trees. `--fix` and
/// `--diff` go file by file the same way (each file is fixed, relinted against the context of the
/// files as read, and written or diffed before the next, relinted document by document), so they
/// hold the largest file and its findings, never its trees or the repository.
///
/// # Errors
/// Configuration, usage or output errors that stop the run.
pub fn lint(args: &LintArgs, matches: Option<&ArgMatches>) -> Result<i32> {
    let settings = settings(args)?;
    // `--cluster` alone reads no files (not even the working directory).
    let inputs = if args.cluster && args.paths.is_empty() {
        Vec::new()
    } else {
        discover::list(&args.paths)?
    };
    let outs = outputs(args, matches);
    // Never a progress line next to JSON.
    let show_progress = !outs.iter().any(|(f, _)| *f == Format::Json);
    // stdout carries the diff, or the fixed stdin text; reports meant for stdout go to stderr.
    let stdout_taken = args.diff || (args.fix && args.paths.iter().any(|p| p == "-"));
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let fail_at = threshold(args, &settings);
    let mut notes: Vec<Note> = Vec::new();
    let mut read_errors = Vec::new();
    let (mut stdin_text, mut stdin_too_large) = (None, None);
    let fail = if args.fix || args.diff {
        // File by file like a lint: the context of every file as read, then each file linted,
        // fixed, relinted, reported and written (or diffed) before the next is read.
        let (inventory, _, unreadable) = context_pass(&inputs, &settings, false);
        if args.online {
            notes.push(Note::new(
                "online checks do not run with --fix or --diff; run again with --online to probe",
            ));
        }
        let cluster = cluster_objects(args, &settings, show_progress, &mut notes)?;
        let mut sinks = Sinks::open(outs, color, fail_at, stdout_taken)?;
        let mut tally = fix::Tally::default();
        // The first file that cannot be written: the files after it are left as they are, the
        // reports are completed, and the run ends with it.
        let mut unwritten: Option<Error> = None;
        let late = lint_pass(&inputs, &unreadable, &settings, &inventory, |before| {
            let fixed = fix::fix_file(before, &settings, &inventory, args.unsafe_fixes);
            tally.add(&fixed);
            // --fix reports the files as fixed; --diff writes nothing, so it reports them as they are.
            sinks.file(if args.diff {
                &fixed.before
            } else {
                fixed.after()
            })?;
            if unwritten.is_none()
                && let Err(e) = fix::emit(&fixed, args.diff)
            {
                unwritten = Some(e);
            }
            let after = fixed.after();
            if after.file.name == discover::STDIN_NAME && !args.diff {
                if after.file.oversized_size().is_some() {
                    stdin_too_large = Some(Error::TooLargeToFix(after.file.name.clone()));
                } else {
                    stdin_text = Some(after.file.text.clone());
                }
            }
            Ok(())
        })?;
        for l in &cluster {
            sinks.file(l)?;
        }
        let fail = sinks.finish(&notes)?;
        read_errors.extend(unreadable.into_iter().flatten());
        read_errors.extend(late);
        read_errors.extend(stdin_too_large);
        if let Some(e) = unwritten {
            return Err(e);
        }
        if let Some(text) = &stdin_text {
            fix::passthrough(text);
        }
        eprintln!(
            "kubectl-kedalint: {}",
            fix::summary(tally, args.diff, args.unsafe_fixes)
        );
        fail
    } else {
        let (mut inventory, probes, unreadable) = context_pass(&inputs, &settings, args.online);
        if args.online {
            let (facts, more) = crate::online::probe(&probes, &settings, show_progress)?;
            notes.extend(more);
            inventory.facts = facts;
        }
        let cluster = cluster_objects(args, &settings, show_progress, &mut notes)?;
        let mut sinks = Sinks::open(outs, color, fail_at, false)?;
        let late = lint_pass(&inputs, &unreadable, &settings, &inventory, |l| {
            sinks.file(&l)
        })?;
        for l in &cluster {
            sinks.file(l)?;
        }
        read_errors.extend(unreadable.into_iter().flatten());
        read_errors.extend(late);
        sinks.finish(&notes)?
    };
    // What online checks could not check is said, never left out silently.
    for n in &notes {
        eprintln!("kubectl-kedalint: note: {n}");
    }
    for e in &read_errors {
        eprintln!("kubectl-kedalint: error: {e}");
    }
    if !read_errors.is_empty() {
        return Ok(EXIT_ERROR);
    }
    Ok(if fail { EXIT_FINDINGS } else { EXIT_OK })
}

/// `kubectl kedalint rules`: a header, then one line per rule with the objects it checks.
#[must_use]
pub fn rules_table() -> String {
    let line = |code: &str, name: &str, severity: &str, applies: &str, summary: &str| {
        format!("{code:<6} {name:<33} {severity:<8} {applies:<12} {summary}\n")
    };
    let mut out = line("CODE", "NAME", "SEVERITY", "APPLIES TO", "WHAT IT DOES");
    for r in registry::RULES {
        out.push_str(&line(
            r.code,
            r.name,
            r.severity.as_str(),
            r.applies.short(),
            &r.summary(),
        ));
    }
    out
}

/// `kubectl kedalint explain CODE`.
///
/// # Errors
/// An unknown code.
pub fn explain(code: &str) -> Result<String> {
    registry::find(code)
        .map(registry::markdown_page)
        .ok_or_else(|| {
            Error::Usage(format!(
                "no rule `{code}`; `kubectl kedalint rules` lists them"
            ))
        })
}
