//! What to probe: the distinct Prometheus triggers of the input, read the way KEDA reads their
//! metadata, after `prometheus.addressMap` rewriting.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kedalint_rules::facts::KEDA_DEFAULT_TIMEOUT;
use kedalint_rules::keda::{parse_keda_duration, split_key_values};
use kedalint_rules::lint::ParsedFile;
use kedalint_rules::model::{Object, ScaledObject, objects_of, wrap_fragment};
use kedalint_rules::promql::{Analysis, RangeKind, analyze, format_duration};
use kedalint_rules::source::Node;
use kedalint_rules::{ObjectRef, Settings};

/// One distinct (serverAddress, query) to probe, with what KEDA sends along.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeInput {
    /// `serverAddress` as written, trimmed, without a trailing `/` (the key of `Facts::servers`).
    pub address: String,
    /// The URL to request instead (after `prometheus.addressMap`), without a trailing `/`.
    pub url: String,
    /// The query, trimmed (the key of `ServerProbe::queries`).
    pub query: String,
    /// `customHeaders`, sent with every request for this trigger.
    pub custom_headers: Vec<(String, String)>,
    /// `queryParameters`, appended to every query.
    pub query_parameters: Vec<(String, String)>,
    /// `namespace`, appended unescaped as KEDA does.
    pub namespace: Option<String>,
    /// KEDA's timeout for this trigger.
    pub keda_timeout: Duration,
    /// Whether the trigger brings credentials (`authModes`, or an `Authorization` header).
    pub brings_credentials: bool,
    /// Selectors of the query as written, with their metric names.
    pub selectors: Vec<(String, Option<String>)>,
    /// Metric names `histogram_quantile` reads as buckets.
    pub bucket_metrics: Vec<String>,
    /// The query with every range selector four times as long, run when the query is empty.
    pub widened: Option<String>,
    /// Counter-like metric names the query reads as levels (KL208): their type is looked up in
    /// Prometheus's metadata.
    pub counter_metrics: Vec<String>,
    /// The triggers that send this query to this server, for notes that name them.
    pub uses: Vec<TriggerUse>,
}

/// A trigger that sends a probed query: its object and the field path of its `query`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerUse {
    /// The ScaledObject.
    pub object: ObjectRef,
    /// `spec.triggers[i].metadata.query`.
    pub path: String,
}

impl ProbeInput {
    /// `query` against `address` as a trigger with nothing else set would send it: the address
    /// unmapped, no headers, parameters or namespace, no credentials, KEDA's default timeout.
    #[must_use]
    pub fn new(address: &str, query: &str) -> Self {
        Self {
            address: normalise(address),
            url: normalise(address),
            query: query.trim().to_owned(),
            custom_headers: Vec::new(),
            query_parameters: Vec::new(),
            namespace: None,
            keda_timeout: KEDA_DEFAULT_TIMEOUT,
            brings_credentials: false,
            selectors: Vec::new(),
            bucket_metrics: Vec::new(),
            widened: None,
            counter_metrics: Vec::new(),
            uses: Vec::new(),
        }
    }
}

/// Normalises an address the way `Facts::server` looks it up.
#[must_use]
pub fn normalise(address: &str) -> String {
    address.trim().trim_end_matches('/').to_owned()
}

/// The URL to request for an address: `prometheus.addressMap` maps a whole address, or a prefix
/// of it followed by a path.
#[must_use]
pub fn mapped_url(address: &str, settings: &Settings) -> String {
    let address = normalise(address);
    for (from, to) in &settings.address_map {
        let from = normalise(from);
        if address == from {
            return normalise(to);
        }
        if let Some(rest) = address.strip_prefix(&from)
            && rest.starts_with('/')
        {
            return format!("{}{rest}", normalise(to));
        }
    }
    address
}

/// The triggers to probe in parsed files.
#[must_use]
pub fn inputs_of_files(files: &[ParsedFile], settings: &Settings) -> Vec<ProbeInput> {
    let mut out = Vec::new();
    for f in files {
        for d in &f.documents {
            if let Some(root) = &d.root {
                collect(root, settings, &mut out);
            }
        }
    }
    dedup(out)
}

/// The triggers to probe in object trees (objects read from a cluster, an AdmissionReview).
#[must_use]
pub fn inputs_of_nodes<'a>(
    roots: impl IntoIterator<Item = &'a Node>,
    settings: &Settings,
) -> Vec<ProbeInput> {
    let mut out = Vec::new();
    for root in roots {
        collect(root, settings, &mut out);
    }
    dedup(out)
}

/// One input per (address, query), naming every trigger that sends it.
fn dedup(inputs: Vec<ProbeInput>) -> Vec<ProbeInput> {
    let mut at: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out: Vec<ProbeInput> = Vec::new();
    for i in inputs {
        match at.entry((i.address.clone(), i.query.clone())) {
            Entry::Occupied(e) => out[*e.get()].uses.extend(i.uses),
            Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(i);
            }
        }
    }
    out
}

fn collect(root: &Node, settings: &Settings, out: &mut Vec<ProbeInput>) {
    let objects = objects_of(root, 0);
    let mut any = false;
    for o in &objects {
        if o.scale_kind().is_some() {
            any = true;
            scaled_object(*o, settings, out);
        }
    }
    if !any
        && objects.iter().all(|o| !o.is_keda())
        && let Some(wrapped) = wrap_fragment(root)
    {
        let o = Object {
            root: &wrapped,
            document: 0,
            list_index: None,
            fragment: true,
        };
        scaled_object(o, settings, out);
    }
}

fn scaled_object(object: Object<'_>, settings: &Settings, out: &mut Vec<ProbeInput>) {
    out.extend(
        inputs_of_object(&ScaledObject { object }, settings)
            .into_iter()
            .map(|(_, i)| i),
    );
}

/// The Prometheus triggers of one ScaledObject that name a server and a query, with their index
/// in `spec.triggers`, read the way KEDA reads their metadata.
#[must_use]
pub fn inputs_of_object(so: &ScaledObject<'_>, settings: &Settings) -> Vec<(usize, ProbeInput)> {
    let mut out = Vec::new();
    for t in so.triggers().iter().filter(|t| t.is_prometheus()) {
        let (Some(address), Some(query)) = (t.meta("serverAddress"), t.meta("query")) else {
            continue;
        };
        let pairs = |key: &str| -> Vec<(String, String)> {
            t.meta(key)
                .and_then(|v| split_key_values(v).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let custom_headers = pairs("customHeaders");
        let keda_timeout = t
            .meta("timeout")
            .and_then(|v| parse_keda_duration(v).ok())
            .filter(|s| *s > 0.0)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(KEDA_DEFAULT_TIMEOUT);
        let (selectors, bucket_metrics, widened, counter_metrics) = match analyze(query) {
            Ok(a) => (
                a.selectors
                    .iter()
                    .filter_map(|s| {
                        let text = query.get(s.span.clone()?)?.to_owned();
                        Some((text, s.metric.clone()))
                    })
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                a.histogram_quantiles
                    .iter()
                    .flat_map(|h| h.bucket_metrics.iter().cloned())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                widened(query, &a),
                a.counter_without_rate
                    .iter()
                    .filter_map(|&i| a.selectors.get(i)?.metric.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
            Err(_) => (Vec::new(), Vec::new(), None, Vec::new()),
        };
        out.push((
            t.index,
            ProbeInput {
                address: normalise(address),
                url: mapped_url(address, settings),
                query: query.to_owned(),
                brings_credentials: t.meta("authModes").is_some()
                    || t.meta("authMode").is_some()
                    || custom_headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("authorization")),
                custom_headers,
                query_parameters: pairs("queryParameters"),
                namespace: t.meta("namespace").map(str::to_owned),
                keda_timeout,
                selectors,
                bucket_metrics,
                widened,
                counter_metrics,
                uses: vec![TriggerUse {
                    object: so.object.reference(),
                    path: t.metadata_path().key("query").to_string(),
                }],
            },
        ));
    }
    out
}

/// `query` with every range selector (`[1m]`, not subqueries) four times as long: the window a
/// rate needs at the scrape interval that makes `[1m]` too short. `None` without one.
fn widened(query: &str, analysis: &Analysis) -> Option<String> {
    let mut spans: Vec<_> = analysis
        .ranges
        .iter()
        .filter(|r| matches!(r.kind, RangeKind::Matrix { .. }))
        .filter_map(|r| Some((r.span.clone()?, r.range * 4)))
        .collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|(s, _)| std::cmp::Reverse(s.start));
    let mut out = query.to_owned();
    for (span, range) in spans {
        out.get(span.clone())?;
        out.replace_range(span, &format!("[{}]", format_duration(range)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kedalint_rules::SourceFile;

    #[test]
    fn triggers_are_read_as_keda_reads_them_and_addresses_are_mapped() {
        let text = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: a\nspec:\n  triggers:\n  - type: prometheus\n    metadata:\n      serverAddress: http://prom.monitoring.svc:9090/\n      query: ' sum(rate(x_total{job=\"api\"}[2m])) '\n      customHeaders: X-Scope-OrgID=team\n      timeout: \"1500\"\n  - type: prometheus\n    metadata:\n      serverAddress: http://prom.monitoring.svc:9090\n      query: sum(rate(x_total{job=\"api\"}[2m]))\n  - type: cpu\n    metadata:\n      value: \"50\"\n";
        let parsed = vec![ParsedFile::parse(SourceFile::new("a.yaml", text))];
        let mut settings = Settings::default();
        settings.address_map.insert(
            "http://prom.monitoring.svc:9090".to_owned(),
            "http://127.0.0.1:9090/".to_owned(),
        );
        let inputs = inputs_of_files(&parsed, &settings);
        assert_eq!(inputs.len(), 1, "{inputs:?}");
        let i = &inputs[0];
        assert_eq!(i.address, "http://prom.monitoring.svc:9090");
        assert_eq!(i.url, "http://127.0.0.1:9090");
        assert_eq!(i.query, "sum(rate(x_total{job=\"api\"}[2m]))");
        assert_eq!(i.keda_timeout, Duration::from_millis(1500));
        assert_eq!(
            i.custom_headers,
            vec![("X-Scope-OrgID".to_owned(), "team".to_owned())]
        );
        assert_eq!(
            i.selectors,
            vec![(
                "x_total{job=\"api\"}".to_owned(),
                Some("x_total".to_owned())
            )]
        );
        assert_eq!(
            i.widened.as_deref(),
            Some("sum(rate(x_total{job=\"api\"}[8m]))")
        );
    }

    #[test]
    fn a_scaled_jobs_triggers_are_probed_like_a_scaled_objects() {
        let text = "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: render\nspec:\n  jobTargetRef:\n    template: {}\n  triggers:\n  - type: prometheus\n    metadata:\n      serverAddress: http://prom.monitoring.svc:9090\n      query: sum(render_queue_messages)\n";
        let parsed = vec![ParsedFile::parse(SourceFile::new("job.yaml", text))];
        let inputs = inputs_of_files(&parsed, &Settings::default());
        assert_eq!(inputs.len(), 1, "{inputs:?}");
        assert_eq!(inputs[0].query, "sum(render_queue_messages)");
    }
}
