//! `replay --plot FILE.svg`: per object, the metric each trigger read against its threshold and
//! activation threshold, and the replicas, per variant (plotters, SVG backend only).

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use kedalint_probe::range::rfc3339_at;

use super::replay::number;
use crate::replay::{Replayed, Run};

const WIDTH: u32 = 1000;
/// The open-loop assumption in a line that fits the picture's width.
const OPEN_LOOP_SHORT: &str = "Open loop: the replicas the controllers would have requested for this metric history, not the load that would have followed.";
const PANEL: u32 = 320;
/// One colour per variant (original, fixed, what-if), then per further trigger.
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// The SVG text.
///
/// # Errors
/// Drawing failed (plotters' error, as text).
pub fn svg(run: &Run) -> Result<String, String> {
    let groups = groups(&run.replayed);
    let height = PANEL * 2 * u32::try_from(groups.len()).unwrap_or(1) + 40;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (caption, body) = root.split_vertically(40);
        let font = ("sans-serif", 12).into_font().color(&BLACK);
        let lines = [
            format!(
                "kedalint replay {} to {}, a tick every {}s, KEDA {}.",
                rfc3339_at(run.from),
                rfc3339_at(run.to),
                run.window.step_seconds,
                run.keda_version
            ),
            OPEN_LOOP_SHORT.to_owned(),
        ];
        for (i, line) in lines.iter().enumerate() {
            caption
                .draw_text(line, &font, (10, 6 + 16 * i32::try_from(i).unwrap_or(0)))
                .map_err(|e| e.to_string())?;
        }
        let panels = body.split_evenly((groups.len() * 2, 1));
        for (g, group) in groups.iter().enumerate() {
            metric_panel(&panels[2 * g], run, group).map_err(|e| e.to_string())?;
            replicas_panel(&panels[2 * g + 1], run, group).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(text)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type Drawn = Result<(), DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>;

/// Consecutive results of the same object.
fn groups(replayed: &[Replayed]) -> Vec<Vec<&Replayed>> {
    let mut out: Vec<Vec<&Replayed>> = Vec::new();
    for r in replayed {
        match out.last_mut() {
            Some(g) if g[0].object == r.object => g.push(r),
            _ => out.push(vec![r]),
        }
    }
    out
}

fn name(r: &Replayed) -> String {
    let o = &r.object;
    format!(
        "{}/{}",
        o.namespace.as_deref().unwrap_or("default"),
        o.name.as_deref().unwrap_or("snippet")
    )
}

/// Minutes since the window's start of tick `i`.
fn minutes(run: &Run, i: usize) -> f64 {
    (i as f64) * f64::from(run.window.step_seconds) / 60.0
}

fn x_label(run: &Run, m: f64) -> String {
    let t = run.window.start + (m * 60.0).round() as i64;
    rfc3339_at(t).get(11..16).unwrap_or("").to_owned()
}

fn x_end(run: &Run) -> f64 {
    minutes(run, run.window.ticks.max(2) - 1)
}

fn metric_panel(area: &Area<'_>, run: &Run, group: &[&Replayed]) -> Drawn {
    // Every finite value and every threshold sets the scale.
    let mut top: f64 = 0.0;
    for r in group {
        for k in &r.replay.timeline {
            for v in k.raw.iter().flatten().filter(|v| v.is_finite()) {
                top = top.max(*v);
            }
        }
        for t in &r.spec.triggers {
            top = top
                .max(t.threshold.unwrap_or(0.0))
                .max(t.activation_threshold);
        }
    }
    // Headroom above the highest value for the legend box.
    let top = if top > 0.0 { top * 1.5 } else { 1.0 };
    let mut chart = panel(
        area,
        run,
        &format!("{}: what Prometheus returned per tick", name(group[0])),
        top,
        "metric",
    )?;
    let end = x_end(run);
    let mut drawn_thresholds = Vec::new();
    for (vi, r) in group.iter().enumerate() {
        for (j, t) in r.replay.triggers.iter().enumerate() {
            let colour = COLOURS[(vi + j * group.len()) % COLOURS.len()];
            let label = format!("{}: {} (metric)", r.variant.as_str(), t.metric);
            // Empty, NaN and error ticks break the line: each run of values is one segment.
            let mut first = true;
            let mut segment: Vec<(f64, f64)> = Vec::new();
            let ticks = r.replay.timeline.len();
            for (i, k) in r.replay.timeline.iter().enumerate() {
                if let Some(v) = k.raw.get(j).copied().flatten().filter(|v| v.is_finite()) {
                    segment.push((minutes(run, i), v));
                }
                let breaks = k
                    .raw
                    .get(j)
                    .copied()
                    .flatten()
                    .is_none_or(|v| !v.is_finite());
                if (breaks || i + 1 == ticks) && !segment.is_empty() {
                    let s = chart.draw_series(LineSeries::new(
                        std::mem::take(&mut segment),
                        colour.stroke_width(2),
                    ))?;
                    if first {
                        s.label(label.clone()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                        });
                        first = false;
                    }
                }
            }
            if first {
                // Never a value: still named in the legend, with nothing drawn.
                chart
                    .draw_series(LineSeries::new(Vec::<(f64, f64)>::new(), colour))?
                    .label(format!("{label}: no value at any tick"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            }
            let Some(spec) = r.spec.triggers.iter().find(|s| s.index == t.index) else {
                continue;
            };
            let lines = [
                (spec.threshold, "threshold", BLACK),
                (
                    Some(spec.activation_threshold),
                    "activation threshold",
                    RGBColor(128, 128, 128),
                ),
            ];
            for (value, what, colour) in lines {
                let Some(v) = value else { continue };
                if drawn_thresholds.contains(&(what, v.to_bits())) {
                    continue;
                }
                drawn_thresholds.push((what, v.to_bits()));
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(0.0, v), (end, v)],
                        6,
                        4,
                        colour.stroke_width(1),
                    ))?
                    .label(format!("{what} {}", number(v)))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            }
        }
    }
    legend(&mut chart)
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A panel over the window's minutes, from 0 to `top`, with the clock on the x axis.
fn panel<'a, 'b>(
    area: &'a Area<'b>,
    run: &Run,
    caption: &str,
    top: f64,
    y_desc: &str,
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_end(run), 0.0..top)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|m| x_label(run, *m))
        .y_label_formatter(&|v| number(*v))
        .y_desc(y_desc)
        .draw()?;
    Ok(chart)
}

/// The legend, upper right, over the plot.
fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> Drawn {
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
}

fn replicas_panel(area: &Area<'_>, run: &Run, group: &[&Replayed]) -> Drawn {
    let top = group
        .iter()
        .flat_map(|r| r.replay.timeline.iter().map(|k| k.replicas))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut chart = panel(
        area,
        run,
        &format!("{}: replicas after each tick", name(group[0])),
        top as f64 * 1.1 + 0.5,
        "replicas",
    )?;
    for (vi, r) in group.iter().enumerate() {
        let colour = COLOURS[vi % COLOURS.len()];
        // A step line: the count holds until the next tick.
        let mut points = Vec::new();
        for (i, k) in r.replay.timeline.iter().enumerate() {
            let y = k.replicas as f64;
            if let Some(&(_, prev)) = points.last() {
                points.push((minutes(run, i), prev));
            }
            points.push((minutes(run, i), y));
        }
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(format!("{}: replicas", r.variant.as_str()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    legend(&mut chart)
}
