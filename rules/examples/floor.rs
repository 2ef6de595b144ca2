//! The floor of issue 15: what no linter of these files can avoid. Reads every `*.yaml`, `*.yml`
//! and `*.json` file under the given paths, runs granit-parser's event stream over each (with the
//! options kedalint's reader uses), and parses every `query:` value once with promql-parser, on
//! every core. Prints what it counted, so none of that work can be optimised away:
//! `cargo run --release -p kedalint-rules --example floor -- DIR...` (`scripts/bench-cli.sh`
//! compares `kubectl kedalint` with it).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use granit_parser::{Event, Options, Parser};
use promql_parser::parser::{Expr, parse};

/// What the floor counted in some files.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    files: usize,
    bytes: usize,
    events: usize,
    scalar_bytes: usize,
    queries: usize,
    query_errors: usize,
    ast_nodes: usize,
    yaml_errors: usize,
}

impl Counts {
    fn add(&mut self, o: Self) {
        self.files += o.files;
        self.bytes += o.bytes;
        self.events += o.events;
        self.scalar_bytes += o.scalar_bytes;
        self.queries += o.queries;
        self.query_errors += o.query_errors;
        self.ast_nodes += o.ast_nodes;
        self.yaml_errors += o.yaml_errors;
    }
}

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

/// Nodes of a PromQL syntax tree (selectors count their matchers).
fn ast_size(e: &Expr) -> usize {
    1 + match e {
        Expr::Aggregate(a) => ast_size(&a.expr) + a.param.as_deref().map_or(0, ast_size),
        Expr::Unary(u) => ast_size(&u.expr),
        Expr::Binary(b) => ast_size(&b.lhs) + ast_size(&b.rhs),
        Expr::Paren(p) => ast_size(&p.expr),
        Expr::Subquery(s) => ast_size(&s.expr),
        Expr::VectorSelector(v) => v.matchers.matchers.len(),
        Expr::MatrixSelector(m) => m.vs.matchers.matchers.len(),
        Expr::Call(c) => c.args.args.iter().map(|a| ast_size(a)).sum(),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => 0,
    }
}

/// Where the parser is inside an open collection: a mapping waiting for a key or a value (and
/// whether that key is `query`), or a sequence.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    MapKey,
    MapValue { query: bool },
    Seq,
}

/// One node has been read inside `open`: a mapping alternates between key and value.
fn step(stack: &mut [Open], key: Option<&str>) {
    if let Some(top) = stack.last_mut() {
        *top = match *top {
            Open::MapKey => Open::MapValue {
                query: key == Some("query"),
            },
            Open::MapValue { .. } => Open::MapKey,
            Open::Seq => Open::Seq,
        };
    }
}

fn floor_of(text: &str) -> Counts {
    let mut c = Counts {
        files: 1,
        bytes: text.len(),
        ..Counts::default()
    };
    let mut options = Options::default();
    options.set_emit_comments(false);
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut stack: Vec<Open> = Vec::new();
    while let Some(next) = parser.next() {
        let Ok((event, _span)) = next else {
            c.yaml_errors += 1;
            stack.clear();
            if matches!(parser.proceed_next_document(), Ok(true)) {
                continue;
            }
            break;
        };
        c.events += 1;
        match event {
            Event::Scalar(value, ..) => {
                c.scalar_bytes += value.len();
                if stack.last() == Some(&Open::MapValue { query: true }) {
                    c.queries += 1;
                    match parse(value.trim()) {
                        Ok(expr) => c.ast_nodes += ast_size(&expr),
                        Err(_) => c.query_errors += 1,
                    }
                }
                step(&mut stack, Some(&value));
            }
            Event::Alias(_) => step(&mut stack, None),
            Event::MappingStart(..) => stack.push(Open::MapKey),
            Event::SequenceStart(..) => stack.push(Open::Seq),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                step(&mut stack, None);
            }
            _ => {}
        }
    }
    c
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
        t.files, t.bytes, t.events, t.scalar_bytes, t.yaml_errors, t.queries, t.query_errors, t.ast_nodes
    );
    Ok(())
}
