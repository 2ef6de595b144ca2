//! Lint cost per ScaledObject, PromQL analysis per query, and a 10,000-document repository, each
//! beside its floor: the YAML parse alone of the same bytes. `cargo bench -p kedalint-rules`;
//! `scripts/bench-rules.sh` runs it and prints the lint/parse ratios and objects per second.
//!
//! Inputs are cloned outside the timed part (`iter_batched`), as the floor never clones. The
//! PromQL analysis is cached process-wide by query text, so a per-object run repeating one object
//! measures the cached case; the "query new" variants lint a fresh object (fresh query text) each
//! iteration, which is what a CLI run sees.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kedalint_rules::lint::{ParsedFile, inventory_of, lint_parsed};
use kedalint_rules::source::{LoadLimits, load_stream};
use kedalint_rules::{Settings, SourceFile, promql};

#[path = "floor/mod.rs"]
mod floor;
#[path = "gen/mod.rs"]
mod generate;

use generate::Shape;

fn per_object(c: &mut Criterion) {
    let settings = Settings::default();
    for (name, triggers) in [("small", 1), ("large", 12)] {
        let text = generate::scaled_object(7, triggers);
        let lint = |text: String| {
            let parsed = ParsedFile::parse(SourceFile::new("so.yaml", text));
            let inventory = inventory_of(std::slice::from_ref(&parsed));
            lint_parsed(&parsed, &settings, &inventory)
        };
        let mut g = c.benchmark_group(format!("object/{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("yaml-parse-floor", |b| {
            b.iter(|| load_stream(black_box(&text), LoadLimits::default()));
        });
        g.bench_function("parse+lint (query cached)", |b| {
            b.iter_batched(|| text.clone(), &lint, BatchSize::SmallInput);
        });
        // Object 7 again under another number: 2,042,040 is the least common multiple of every
        // modulus the generator uses, so only the numbers in names and queries change.
        let mut next = 7_usize;
        g.bench_function("parse+lint (query new)", |b| {
            b.iter_batched(
                || {
                    next += 2_042_040;
                    generate::scaled_object(next, triggers)
                },
                &lint,
                BatchSize::SmallInput,
            );
        });
        g.finish();
    }
}

fn per_query(c: &mut Criterion) {
    let mut g = c.benchmark_group("promql");
    for (name, q) in [
        (
            "seed",
            "histogram_quantile(0.95, sum(rate(inference_latency_seconds_bucket[1m])) by (le))",
        ),
        (
            "regex",
            "sum by (pod) (rate(container_cpu_usage_seconds_total{namespace=\"ns\", pod=~\"worker-.*\"}[1m]))",
        ),
        (
            "ratio",
            "sum(rate(errors_total{job=\"api\"}[5m])) / sum(rate(requests_total{job=\"api\"}[5m]))",
        ),
    ] {
        g.bench_function(format!("analyze-uncached/{name}"), |b| {
            b.iter(|| promql::analyze_uncached(black_box(q)))
        });
        g.bench_function(format!("analyze-cached/{name}"), |b| {
            b.iter(|| promql::analyze(black_box(q)))
        });
    }
    g.finish();
}

fn repository(c: &mut Criterion) {
    let settings = Settings::default();
    let files: Vec<SourceFile> = (0..1000)
        .map(|f| {
            SourceFile::new(
                format!("team/app-{f}.yaml"),
                generate::file(f * 10, 10, 1 + f % 3),
            )
        })
        .collect();
    let bytes: u64 = files.iter().map(|f| f.text.len() as u64).sum();
    let lint = |files: Vec<SourceFile>| {
        let parsed: Vec<ParsedFile> = files.into_iter().map(ParsedFile::parse).collect();
        let inventory = inventory_of(&parsed);
        parsed
            .iter()
            .map(|p| lint_parsed(p, &settings, &inventory).objects)
            .sum::<usize>()
    };
    // Every tenth document is a ServiceMonitor: 9,000 ScaledObjects are linted (checked in the
    // routine, where it costs nothing: setup code here runs even when a filter skips this group).
    // About 18,000 distinct queries, more than the PromQL cache holds, so each iteration analyses
    // them anew.
    let objects = 9_000;
    let mut g = c.benchmark_group("repository-10k-documents");
    g.sample_size(10);
    g.throughput(Throughput::Elements(objects as u64));
    g.bench_function("yaml-parse-floor", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| load_stream(&f.text, LoadLimits::default()).len())
                .sum::<usize>()
        });
    });
    g.bench_function("parse+lint (one thread)", |b| {
        b.iter_batched(
            || files.clone(),
            |files| assert_eq!(lint(files), objects, "ScaledObjects linted"),
            BatchSize::LargeInput,
        );
    });
    g.finish();
    eprintln!(
        "repository: 1000 files, 10,000 documents ({objects} ScaledObjects, 1,000 ServiceMonitors), {bytes} bytes"
    );
}

/// One file of each repository shape, linted on one thread, beside the floor of issue 15 on one
/// thread: granit-parser's events and every `query:` parsed once (`benches/floor/mod.rs`). Each
/// iteration gets a fresh file (the same documents under other numbers), so lint sees new query
/// text as a CLI run does, and both pay for the same bytes.
fn file_vs_floor(c: &mut Criterion) {
    let settings = Settings::default();
    // File 4 of the GitOps shape holds its first ScaledObject. A shift of the numbers by the
    // least common multiple of every modulus each generator uses changes only names and queries.
    for (shape, f, shift) in [
        (Shape::KedaDense, 0_usize, 204_204_usize),
        (Shape::GitOps, 4, 1_409_007_600),
    ] {
        let mut g = c.benchmark_group(format!("file/{}", shape.name()));
        g.throughput(Throughput::Bytes(shape.file(f, 10).len() as u64));
        for (name, lint) in [
            ("floor (one thread)", false),
            ("parse+lint (one thread)", true),
        ] {
            let mut next = f;
            g.bench_function(name, |b| {
                b.iter_batched(
                    || {
                        next += shift;
                        SourceFile::new("app.yaml", shape.file(next, 10))
                    },
                    |file| {
                        if lint {
                            let parsed = ParsedFile::parse(file);
                            let inventory = inventory_of(std::slice::from_ref(&parsed));
                            lint_parsed(&parsed, &settings, &inventory).findings.len()
                        } else {
                            floor::floor_of(&file.text).events
                        }
                    },
                    BatchSize::SmallInput,
                );
            });
        }
        g.finish();
    }
}

/// Short runs: the whole bench in a few minutes on a shared two-core machine.
fn short() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = short();
    targets = per_object, per_query, repository, file_vs_floor
}
criterion_main!(benches);
