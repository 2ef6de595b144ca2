//! The floor of issue 15 for one file: granit-parser's event stream over it (with the options
//! kedalint's reader uses) and every `query:` value parsed once with promql-parser. Shared by
//! `examples/floor.rs` (every file, every core) and the `floor` benchmark group.

#![allow(dead_code, unreachable_pub)]

use granit_parser::{Event, Options, Parser};
use promql_parser::parser::{Expr, parse};

/// What the floor counted in some files.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub files: usize,
    pub bytes: usize,
    pub events: usize,
    pub scalar_bytes: usize,
    pub queries: usize,
    pub query_errors: usize,
    pub ast_nodes: usize,
    pub yaml_errors: usize,
}

impl Counts {
    pub fn add(&mut self, o: Self) {
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

pub fn floor_of(text: &str) -> Counts {
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
