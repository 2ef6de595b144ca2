//! The floor of issue 15: what no linter of these files can avoid. Reads every `*.yaml`, `*.yml`
//! and `*.json` file under the given paths, runs granit-parser's event stream over each (with the
//! options kedalint's reader uses), and parses every `query:` value once with promql-parser, on
//! every core. Prints what it counted, so none of that work can be optimised away:
//! `cargo run --release -p kedalint-rules --example floor -- DIR...` (`scripts/bench-cli.sh`
//! compares `kubectl kedalint` with it).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "../benches/floor/mod.rs"]
mod floor;

use floor::{Counts, floor_of};

/// Every YAML or JSON file under `path`, in name order.
fn walk(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            walk(&e, out)?;
        }
    } else if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
    {
        out.push(path.to_owned());
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: floor DIR_OR_FILE...");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    for p in &paths {
        walk(Path::new(p), &mut files)?;
    }
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Counts::default());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> std::io::Result<()> {
                    let mut mine = Counts::default();
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        mine.add(floor_of(&std::fs::read_to_string(path)?));
                    }
                    total
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .add(mine);
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })?;
    let t = total
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    println!(
        "files {} bytes {} events {} scalar_bytes {} yaml_errors {} queries {} query_errors {} ast_nodes {} threads {workers}",
        t.files,
        t.bytes,
        t.events,
        t.scalar_bytes,
        t.yaml_errors,
        t.queries,
        t.query_errors,
        t.ast_nodes
    );
    Ok(())
}
