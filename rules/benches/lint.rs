//! Lint cost per ScaledObject, PromQL analysis per query, and a 10,000-object repository, each
//! beside its floor: the YAML parse alone of the same bytes. `cargo bench -p kedalint-rules`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kedalint_rules::lint::{ParsedFile, inventory_of, lint_parsed};
use kedalint_rules::source::{LoadLimits, load_stream};
use kedalint_rules::{Settings, SourceFile, promql};

#[path = "gen/mod.rs"]
mod generate;

fn per_object(c: &mut Criterion) {
    let settings = Settings::default();
    for (name, text) in [
        ("small", generate::scaled_object(1, 1)),
        ("large", generate::scaled_object(7, 12)),
    ] {
        let mut g = c.benchmark_group(format!("object/{name}"));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function("yaml-parse-floor", |b| {
            b.iter(|| load_stream(black_box(&text), LoadLimits::default()))
        });
        g.bench_function("parse+lint", |b| {
            b.iter(|| {
                let parsed = ParsedFile::parse(SourceFile::new("so.yaml", black_box(text.clone())));
                let inventory = inventory_of(std::slice::from_ref(&parsed));
                lint_parsed(&parsed, &settings, &inventory)
            });
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
    let mut g = c.benchmark_group("repository-10k-objects");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("yaml-parse-floor", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| load_stream(&f.text, LoadLimits::default()).len())
                .sum::<usize>()
        });
    });
    g.bench_function("parse+lint (one thread)", |b| {
        b.iter(|| {
            let parsed: Vec<ParsedFile> = files.iter().cloned().map(ParsedFile::parse).collect();
            let inventory = inventory_of(&parsed);
            parsed
                .iter()
                .map(|p| lint_parsed(p, &settings, &inventory).findings.len())
                .sum::<usize>()
        });
    });
    g.finish();
    eprintln!("repository: 1000 files, 10,000 documents, {bytes} bytes");
}

criterion_group!(benches, per_object, per_query, repository);
criterion_main!(benches);
