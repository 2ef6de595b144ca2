use crate::checker::Checker;
use crate::finding::Severity;
use crate::promql::{Analysis, format_duration};
use crate::registry::declare_rule;
use crate::rules::promql::{Site, is_vector, suggested_rate_window};

declare_rule! {
    /// ## What it does
    /// Reports a counter-like series (a name ending in `_total`, `_count`, `_sum` or `_bucket`)
    /// whose value is used as a level: not under `rate`, `increase`, `irate`, `delta`, `resets`
    /// or `changes`, nor under something that ignores the value (`count`, `absent`). The help
    /// suggests a window of 4 x the scrape interval and names the interval it used.
    ///
    /// A `_count` name is ambiguous: a histogram's or summary's `_count` is a counter, but
    /// gauges such as `websocket_connection_count` are common. It is a warning only when the
    /// same family's `_bucket` or `_sum` appears in the query or elsewhere in the input
    /// (another trigger, a PrometheusRule); otherwise it is reported at info level as a guess
    /// from the name. With `--online`, the type Prometheus's metadata (`/api/v1/metadata`)
    /// gives the metric decides for every name: a counter, histogram or summary is a warning,
    /// a gauge is not reported. A severity configured for KL208 applies to the guesses too.
    ///
    /// ## Why is this bad?
    /// A counter only grows (until the process restarts). As a scaling signal it can push the
    /// target up but never lets it come back down, and after a restart it drops to near zero and
    /// scales in under load.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   query: sum(http_requests_total{job="api"})
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total{job="api"}[5m]))
    /// ```
    pub(crate) struct CounterAsLevel => "KL208", "counter-as-level", Warning;
}

/// Why a name is taken for a counter, and whether that is only a guess.
enum Evidence {
    /// The name says so without doubt (`_total`, `_bucket`, `_sum`).
    Name(&'static str),
    /// `x_count` beside `x_bucket`/`x_sum`: the family is a histogram or summary.
    Family(String),
    /// Prometheus's metadata says so.
    Metadata { kind: String, server: String },
    /// Only the `_count` suffix: maybe a gauge.
    Guess,
}

/// What is known about `metric`'s type; `None` when the metadata says it is not a counter.
fn evidence(cx: &Checker<'_>, site: &Site<'_, '_>, a: &Analysis, metric: &str) -> Option<Evidence> {
    if let Some(server) = site.q.server(cx)
        && let Some(kind) = server.metric_type(metric)
    {
        return matches!(kind, "counter" | "histogram" | "summary" | "gaugehistogram").then(|| {
            Evidence::Metadata {
                kind: kind.to_owned(),
                server: server.probed_url.clone(),
            }
        });
    }
    let Some(base) = metric.strip_suffix("_count") else {
        let suffix = ["_total", "_sum", "_bucket"]
            .into_iter()
            .find(|s| metric.ends_with(s))
            .unwrap_or("_total");
        return Some(Evidence::Name(suffix));
    };
    let sibling = |m: &str| {
        m.strip_suffix("_bucket")
            .or_else(|| m.strip_suffix("_sum"))
            .is_some_and(|b| b == base)
    };
    if let Some(m) = a
        .selectors
        .iter()
        .filter_map(|s| s.metric.as_deref())
        .find(|m| sibling(m))
    {
        return Some(Evidence::Family(format!(
            "`{m}` of the same family is in the query"
        )));
    }
    if cx.inventory.histogram_families.contains(base) {
        return Some(Evidence::Family(format!(
            "`{base}_bucket` or `{base}_sum` of the same family is read elsewhere in the input"
        )));
    }
    Some(Evidence::Guess)
}

pub(crate) fn check(cx: &mut Checker<'_>, site: &Site<'_, '_>, a: &Analysis) {
    if !is_vector(a) {
        return;
    }
    let configured = cx.settings.rules.contains_key(CounterAsLevel::INFO.code);
    for &i in &a.counter_without_rate {
        let Some(sel) = a.selectors.get(i) else {
            continue;
        };
        let Some(metric) = sel.metric.as_deref() else {
            continue;
        };
        let Some(evidence) = evidence(cx, site, a, metric) else {
            continue;
        };
        let (w, why) = suggested_rate_window(site.q);
        let text = sel
            .span
            .clone()
            .and_then(|s| site.q.query.get(s))
            .unwrap_or(metric);
        let guess = matches!(evidence, Evidence::Guess);
        let message = match &evidence {
            Evidence::Name(suffix) => format!(
                "`{metric}` is a counter (its name ends in `{suffix}`) used as a level, without rate() or increase(): it only grows, so the target can scale out but never back in"
            ),
            Evidence::Family(beside) => format!(
                "`{metric}` is a histogram's or summary's counter ({beside}) used as a level, without rate() or increase(): it only grows, so the target can scale out but never back in"
            ),
            Evidence::Metadata { kind, server } => format!(
                "`{metric}` is a counter (Prometheus's metadata on {server} gives its family the type `{kind}`) used as a level, without rate() or increase(): it only grows, so the target can scale out but never back in"
            ),
            Evidence::Guess => format!(
                "`{metric}` may be a counter used as a level: a name ending in `_count` is a histogram's or summary's counter (which only grows, so the target could never scale back in), but it is also a common name for a gauge; this is a guess from the name, as no `_bucket` or `_sum` of the same family is in the input"
            ),
        };
        let help = if guess {
            format!(
                "if it is a counter, scale on its per-second rate: rate({text}[{}]) ({why}); if it is a gauge, suppress KL208 here (`--online` reads its type from Prometheus)",
                format_duration(w)
            )
        } else {
            format!(
                "scale on its per-second rate: rate({text}[{}]) ({why})",
                format_duration(w)
            )
        };
        let before = cx.findings.len();
        cx.report(
            &CounterAsLevel::INFO,
            site.loc(cx, sel.span.clone()),
            message,
        )
        .help(help);
        // A guess is info, unless the configuration chose a severity for KL208.
        if guess
            && !configured
            && cx.findings.len() > before
            && let Some(f) = cx.findings.last_mut()
        {
            f.severity = Severity::Info;
        }
    }
}
