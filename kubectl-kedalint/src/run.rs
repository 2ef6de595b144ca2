//! One run of `kubectl kedalint`: configuration, files, engine, outputs, exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use kedalint_rules::facts::Facts;
use kedalint_rules::lint::{ParsedFile, inventory_of, lint_parsed};
use kedalint_rules::{KedaVersion, Note, Settings, Severity, duration::parse_duration, registry};

use crate::cli::{FailOn, Format, LintArgs};
use crate::render::{self, Linted};
use crate::{Error, Result};
use crate::{discover, fix};

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

/// Runs `lint`; returns the exit code. I/O errors of single files are printed and make it 2, after
/// every other file has been linted and reported.
///
/// # Errors
/// Configuration, usage or output errors that stop the run.
pub fn lint(args: &LintArgs, matches: Option<&ArgMatches>) -> Result<i32> {
    let settings = settings(args)?;
    // `--cluster` alone reads no files (not even the working directory).
    let loaded = if args.cluster && args.paths.is_empty() {
        Vec::new()
    } else {
        discover::collect(&args.paths)?
    };
    let mut read_errors = Vec::new();
    let mut files = Vec::new();
    for l in loaded {
        match l {
            Ok(f) => files.push(f),
            Err(e) => read_errors.push(e),
        }
    }
    let outs = outputs(args, matches);
    // Never a progress line next to JSON.
    let show_progress = !outs.iter().any(|(f, _)| *f == Format::Json);
    let mut notes: Vec<Note> = Vec::new();
    // --fix reports the files as fixed; --diff writes nothing, so it reports them as they are.
    let (mut linted, fixed) = if args.fix || args.diff {
        if args.online {
            notes.push(Note::new(
                "online checks do not run with --fix or --diff; run again with --online to probe",
            ));
        }
        let mut o = fix::fix_all(files, &settings, args.unsafe_fixes);
        let note = fix::summary(&o, args.diff, args.unsafe_fixes);
        let shown = std::mem::take(if args.diff {
            &mut o.before
        } else {
            &mut o.after
        });
        (shown, Some((o.changes, note)))
    } else {
        let parsed = parse_all(files);
        let facts = if args.online {
            let inputs = kedalint_probe::inputs_of_files(&parsed, &settings);
            let (facts, more) = crate::online::probe(&inputs, &settings, show_progress)?;
            notes.extend(more);
            facts
        } else {
            Facts::default()
        };
        (lint_parsed_all(parsed, &settings, facts), None)
    };
    if args.cluster {
        let (mut objects, mut more) =
            crate::online::lint_cluster(&settings, args.online, show_progress)?;
        linted.append(&mut objects);
        notes.append(&mut more);
    }
    // stdout carries the diff, or the fixed stdin text; reports meant for stdout go to stderr.
    let stdout_taken = args.diff || (args.fix && args.paths.iter().any(|p| p == "-"));
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    for (format, target) in outs {
        let text = match format {
            Format::Human => render::human::render(
                &linted,
                render::human::Style {
                    color: color && target.is_none(),
                    width: 100,
                },
            ),
            Format::Json => render::json::render_with_notes(&linted, &notes),
            Format::Sarif => render::sarif::render_with_notes(&linted, &notes),
            Format::Github => render::github::render(&linted),
            Format::Junit => {
                render::junit::render_with_notes(&linted, threshold(args, &settings), &notes)
            }
        };
        match target {
            Some(path) => std::fs::write(&path, text).map_err(|source| Error::Write {
                path: path.display().to_string(),
                source,
            })?,
            None if stdout_taken => {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            }
            None => {
                let mut out = std::io::stdout().lock();
                // A closed pipe (`| head`) is not an error worth a message.
                let _ = out.write_all(text.as_bytes());
            }
        }
    }
    if let Some((changes, note)) = fixed {
        let stdin = linted.iter().find(|l| l.file.name == discover::STDIN_NAME);
        let stdin_text = match stdin {
            Some(l) if l.file.oversized_size().is_some() => {
                if !args.diff {
                    read_errors.push(Error::TooLargeToFix(l.file.name.clone()));
                }
                None
            }
            Some(l) => Some(l.file.text.as_str()),
            None => None,
        };
        fix::emit(&changes, stdin_text, args.diff)?;
        eprintln!("kubectl-kedalint: {note}");
    }
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
    let fail = threshold(args, &settings).is_some_and(|t| {
        linted
            .iter()
            .flat_map(|l| &l.report.findings)
            .any(|f| f.severity >= t)
    });
    Ok(if fail { EXIT_FINDINGS } else { EXIT_OK })
}

/// `kubectl kedalint rules`: one line per rule.
#[must_use]
pub fn rules_table() -> String {
    let mut out = String::new();
    for r in registry::RULES {
        out.push_str(&format!(
            "{:<6} {:<32} {:<8} {}\n",
            r.code,
            r.name,
            r.severity.as_str(),
            r.summary()
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
