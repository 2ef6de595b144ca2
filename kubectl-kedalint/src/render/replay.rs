//! `replay` output: a short story per object and variant with a plain-text chart (human), and
//! JSON format version 1 with `"kind": "replay"` (DESIGN.md), embedding the model's output as is.

use std::fmt::Write as _;

use kedalint_probe::range::rfc3339_at;
use kedalint_rules::replay::{Replay, TriggerSpec};
use serde::Serialize;

use crate::replay::{OPEN_LOOP, Replayed, Run, VariantKind};

/// Columns of a chart's plot area (a gutter of 8 comes on top: 72 in all).
const CHART_COLUMNS: usize = 64;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    kind: &'static str,
    tool: Tool,
    from: String,
    to: String,
    step_seconds: u32,
    keda_version: &'a str,
    objects: Vec<ObjectOut<'a>>,
    /// The open-loop assumption first, then what could not be replayed or fetched.
    notes: Vec<&'a str>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct ObjectOut<'a> {
    object: &'a kedalint_rules::ObjectRef,
    variant: &'static str,
    #[serde(flatten)]
    replay: &'a Replay,
}

/// JSON, format version 1.
#[must_use]
pub fn json(run: &Run) -> String {
    let out = Output {
        version: 1,
        kind: "replay",
        tool: Tool {
            name: "kedalint",
            version: env!("CARGO_PKG_VERSION"),
        },
        from: rfc3339_at(run.from),
        to: rfc3339_at(run.to),
        step_seconds: run.window.step_seconds,
        keda_version: &run.keda_version,
        objects: run
            .replayed
            .iter()
            .map(|r| ObjectOut {
                object: &r.object,
                variant: r.variant.as_str(),
                replay: &r.replay,
            })
            .collect(),
        notes: std::iter::once(OPEN_LOOP)
            .chain(run.notes.iter().map(String::as_str))
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&out).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// The human report: a header with the window and the open-loop assumption, each object's
/// story per variant, its charts, then the notes. `width` is the terminal width the charts fit.
#[must_use]
pub fn human(run: &Run, width: usize) -> String {
    let mut out = String::new();
    let header = format!(
        "Replay {} → {}: {} ticks of {}s, KEDA {}.",
        rfc3339_at(run.from),
        rfc3339_at(run.to),
        run.window.ticks,
        run.window.step_seconds,
        run.keda_version
    );
    wrap(&mut out, &header, 0);
    wrap(&mut out, &format!("{}.", capitalise(OPEN_LOOP)), 0);
    let mut i = 0;
    while i < run.replayed.len() {
        let object = &run.replayed[i].object;
        let group: Vec<&Replayed> = run.replayed[i..]
            .iter()
            .take_while(|r| &r.object == object)
            .collect();
        i += group.len();
        out.push('\n');
        let _ = writeln!(out, "{}", label(object));
        for r in &group {
            story(&mut out, r);
        }
        charts(&mut out, run, &group, width);
    }
    if !run.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for n in &run.notes {
            wrap(&mut out, &format!("- {n}"), 2);
        }
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn label(o: &kedalint_rules::ObjectRef) -> String {
    match &o.name {
        Some(n) => format!(
            "{} {}/{n}",
            if o.kind.is_empty() {
                "ScaledObject"
            } else {
                &o.kind
            },
            o.namespace.as_deref().unwrap_or("default")
        ),
        None => "ScaledObject (trigger snippet)".to_owned(),
    }
}

/// A number as people write it: `10`, `0.35`, `1.873`.
#[must_use]
pub fn number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `HH:MM:SS` of an RFC 3339 instant.
fn clock(t: &str) -> &str {
    t.get(11..19).unwrap_or(t)
}

fn trigger_spec(r: &Replayed, index: usize) -> Option<&TriggerSpec> {
    r.spec.triggers.iter().find(|t| t.index == index)
}

/// One variant's story: what each trigger read, when it was active, and what the replicas did.
fn story(out: &mut String, r: &Replayed) {
    let rep = &r.replay;
    let ticks = rep.summary.ticks;
    let _ = writeln!(out, "  {}:", r.variant.as_str());
    if r.variant != VariantKind::Original {
        for c in r.changes.iter().take(4) {
            wrap(out, &format!("changed {c}"), 4);
        }
        if r.changes.len() > 4 {
            let _ = writeln!(out, "    … and {} more changes", r.changes.len() - 4);
        }
    }
    for (j, t) in rep.triggers.iter().enumerate() {
        let spec = trigger_spec(r, t.index);
        let zero = rep
            .timeline
            .iter()
            .filter(|k| k.reported.get(j).copied().flatten() == Some(0.0))
            .count();
        let values: Vec<f64> = rep
            .timeline
            .iter()
            .filter_map(|k| k.raw.get(j).copied().flatten())
            .filter(|v| v.is_finite())
            .collect();
        let mut line = format!("{} read 0 at {zero} of {ticks} ticks", t.metric);
        if t.reads.empty > 0 {
            let _ = write!(
                line,
                "; Prometheus returned nothing for the query at {} instants",
                t.reads.empty
            );
        }
        if t.reads.nan > 0 {
            let _ = write!(line, "; it returned NaN at {} instants", t.reads.nan);
        }
        if t.reads.error > 0 {
            let first = rep
                .timeline
                .iter()
                .find_map(|k| k.errors.get(j).cloned().flatten())
                .unwrap_or_default();
            let _ = write!(line, "; KEDA got an error at {} ({first})", t.reads.error);
        }
        if let (Some(lo), Some(hi)) = (
            values.iter().copied().reduce(f64::min),
            values.iter().copied().reduce(f64::max),
        ) {
            let range = if lo == hi {
                number(lo)
            } else {
                format!("{}–{}", number(lo), number(hi))
            };
            let _ = write!(line, "; the values it got were {range}");
        }
        if let Some(s) = spec {
            let _ = write!(
                line,
                " (threshold {}, activation {})",
                s.threshold.map_or_else(|| "unset".to_owned(), number),
                number(s.activation_threshold)
            );
        }
        line.push('.');
        wrap(out, &line, 4);
    }
    wrap(out, &replicas_story(rep), 4);
}

/// What the replicas did: stayed, or each change with its time.
fn replicas_story(rep: &Replay) -> String {
    let s = &rep.summary;
    let Some(first) = rep.timeline.first() else {
        return "No ticks.".to_owned();
    };
    let active = if s.active_ticks == 0 {
        "The object was never active".to_owned()
    } else {
        format!("Active at {} of {} ticks", s.active_ticks, s.ticks)
    };
    let fallback = rep.timeline.iter().filter(|k| k.fallback).count();
    let fallback = match rep.timeline.iter().find(|k| k.fallback) {
        Some(k) => format!("; fallback at {fallback} ticks from {}", clock(&k.t)),
        None => String::new(),
    };
    if s.min_replicas == s.max_replicas {
        return format!(
            "{active}{fallback}; the replicas stayed at {} the whole window.",
            s.max_replicas
        );
    }
    let mut changes = Vec::new();
    let mut last = first.replicas;
    for k in &rep.timeline {
        if k.replicas != last {
            changes.push(format!("{} at {}", k.replicas, clock(&k.t)));
            last = k.replicas;
        }
    }
    let shown = 10;
    let mut text = format!(
        "{active}{fallback}; the replicas went {}",
        first_replicas(rep)
    );
    for c in changes.iter().take(shown) {
        let _ = write!(text, " → {c}");
    }
    if changes.len() > shown {
        let _ = write!(text, " … ({} changes in all)", changes.len());
    }
    let peak = rep
        .timeline
        .iter()
        .find(|k| k.replicas == s.max_replicas)
        .map_or("", |k| clock(&k.t));
    let _ = write!(
        text,
        "; peak {} first at {peak}, {} scale events.",
        s.max_replicas, s.scale_events
    );
    text
}

fn first_replicas(rep: &Replay) -> i64 {
    rep.timeline.first().map_or(0, |k| k.replicas)
}

/// Word-wraps `text` at 80 columns with `indent` spaces.
fn wrap(out: &mut String, text: &str, indent: usize) {
    let pad = " ".repeat(indent);
    let mut line = pad.clone();
    for word in text.split(' ') {
        if line.len() > indent && line.chars().count() + 1 + word.chars().count() > 80 {
            out.push_str(line.trim_end());
            out.push('\n');
            line = format!("{pad}  ");
        }
        if line.trim().is_empty() {
            line.push_str(word);
        } else {
            line.push(' ');
            line.push_str(word);
        }
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// The charts of one object: per trigger the metric against threshold and activation per
/// variant (variants sharing a query share a chart), then the replicas per variant.
fn charts(out: &mut String, run: &Run, group: &[&Replayed], width: usize) {
    let columns = CHART_COLUMNS.min(width.saturating_sub(10)).max(10);
    let ticks = run.window.ticks;
    let per = ticks.div_ceil(columns).max(1);
    let cols = ticks.div_ceil(per);
    let span = u64::from(run.window.step_seconds) * per as u64;
    let axis = time_axis(run, cols);
    let _ = writeln!(
        out,
        "\n  Charts: one column = {} ({} tick{}); the highest value in a column is drawn.",
        kedalint_rules::duration::format_duration(std::time::Duration::from_secs(span)),
        per,
        if per == 1 { "" } else { "s" }
    );
    let mut drawn_queries: Vec<String> = Vec::new();
    for r in group {
        for (j, t) in r.replay.triggers.iter().enumerate() {
            let query = t.query.clone().unwrap_or_default();
            if drawn_queries.contains(&query) {
                continue;
            }
            drawn_queries.push(query);
            let spec = trigger_spec(r, t.index);
            let raw: Vec<Option<f64>> = r
                .replay
                .timeline
                .iter()
                .map(|k| k.raw.get(j).copied().flatten().filter(|v| v.is_finite()))
                .collect();
            let mut lines = Vec::new();
            if let Some(th) = spec.and_then(|s| s.threshold) {
                lines.push((th, '-'));
            }
            if let Some(s) = spec.filter(|s| s.activation_threshold > 0.0) {
                lines.push((s.activation_threshold, '.'));
            }
            let _ = writeln!(
                out,
                "\n  {} ({}), what Prometheus returned; - threshold, . activation",
                t.metric,
                r.variant.as_str()
            );
            for row in chart(&raw, per, 6, &lines) {
                let _ = writeln!(out, "{row}");
            }
            // What each column held when it had no value to draw.
            let marks: String = r
                .replay
                .timeline
                .chunks(per)
                .map(|c| {
                    let has = |f: &dyn Fn(&kedalint_rules::replay::Tick) -> bool| c.iter().any(f);
                    if has(&|k| k.errors.get(j).is_some_and(Option::is_some)) {
                        'x'
                    } else if has(&|k| k.raw.get(j).copied().flatten().is_some_and(f64::is_nan)) {
                        'n'
                    } else if has(&|k| k.raw.get(j).copied().flatten().is_none()) {
                        'e'
                    } else {
                        ' '
                    }
                })
                .collect();
            if marks.trim().is_empty() {
                let _ = writeln!(out, "{axis}");
            } else {
                let _ = writeln!(out, "        {}", marks.trim_end());
                let _ = writeln!(out, "{axis}");
                let _ = writeln!(out, "        (e: empty result, n: NaN, x: error)");
            }
        }
    }
    for r in group {
        let replicas: Vec<Option<f64>> = r
            .replay
            .timeline
            .iter()
            .map(|k| Some(k.replicas as f64))
            .collect();
        let _ = writeln!(out, "\n  replicas ({})", r.variant.as_str());
        for row in chart(&replicas, per, 5, &[]) {
            let _ = writeln!(out, "{row}");
        }
        let _ = writeln!(out, "{axis}");
    }
}

/// `        10:00                     10:30` under a chart of `cols` columns.
fn time_axis(run: &Run, cols: usize) -> String {
    let start = clock_of(run.window.start);
    let end = clock_of(run.window.at(run.window.ticks.saturating_sub(1)));
    let gap = cols.saturating_sub(start.len() + end.len()).max(1);
    format!("        {start}{}{end}", " ".repeat(gap))
}

fn clock_of(t: i64) -> String {
    let s = rfc3339_at(t);
    s.get(11..16).unwrap_or("").to_owned()
}

/// A bar chart: each column the highest value of `per` ticks, `height` rows, horizontal lines
/// (threshold `-`, activation `.`) where no bar covers them. A gutter of 8 holds the scale.
#[must_use]
pub fn chart(
    values: &[Option<f64>],
    per: usize,
    height: usize,
    lines: &[(f64, char)],
) -> Vec<String> {
    let cols: Vec<Option<f64>> = values
        .chunks(per.max(1))
        .map(|c| c.iter().flatten().copied().reduce(f64::max))
        .collect();
    let top = cols
        .iter()
        .flatten()
        .copied()
        .chain(lines.iter().map(|l| l.0))
        .fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top } else { 1.0 };
    // Row r (0 = bottom) covers values above top·r/height; a bar fills the rows its value reaches.
    let level = |v: f64| -> usize {
        let l = (v / top * height as f64).round();
        if l <= 0.0 {
            0
        } else {
            (l as usize).min(height)
        }
    };
    let mut rows = Vec::new();
    for r in (1..=height).rev() {
        let scale = if r == height {
            number(top)
        } else {
            String::new()
        };
        let mut row = format!("{scale:>6} |");
        for c in &cols {
            let filled = c.is_some_and(|v| v > 0.0 && level(v).max(1) >= r);
            let ch = if filled {
                '#'
            } else {
                lines
                    .iter()
                    .find(|(v, _)| level(*v).max(1) == r)
                    .map_or(' ', |l| l.1)
            };
            row.push(ch);
        }
        rows.push(row.trim_end().to_owned());
    }
    rows.push(format!("{:>6} +{}", 0, "-".repeat(cols.len())));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_bars_to_scale_and_lines_where_no_bar_covers_them() {
        let v = [Some(0.0), Some(1.0), Some(2.0), None];
        let rows = chart(&v, 1, 4, &[(1.0, '-')]);
        assert_eq!(
            rows,
            vec![
                "     2 |  #",
                "       |  #",
                "       |-##-",
                "       | ##",
                "     0 +----"
            ]
        );
    }

    #[test]
    fn numbers_are_written_without_trailing_zeros() {
        assert_eq!(number(10.0), "10");
        assert_eq!(number(0.35), "0.35");
        assert_eq!(number(1.8734), "1.873");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
