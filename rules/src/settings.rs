//! Settings for a run: the `.kedalint.yaml` schema (the webhook reads the same from a ConfigMap),
//! severity overrides, and the values flags set.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::finding::Severity;
use crate::registry;
use crate::source::{LoadLimits, Node, SourceFile, load_stream};

/// A KEDA version, `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KedaVersion {
    /// Major version (2).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl KedaVersion {
    /// The newest version the rules' facts cover (notes/keda-semantics.md: 2.18.1 and 2.20 HEAD).
    pub const NEWEST: Self = Self {
        major: 2,
        minor: 20,
    };

    /// Parses `2.18` or `2.18.1` (a leading `v` is allowed).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        if parts.next().is_some_and(|p| p.parse::<u32>().is_err()) {
            return None;
        }
        Some(Self { major, minor })
    }

    /// True when this version is at least `major.minor`.
    #[must_use]
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= Self { major, minor }
    }
}

impl fmt::Display for KedaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What configuration does to one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleLevel {
    /// The rule does not run.
    Off,
    /// The rule runs with this severity.
    Severity(Severity),
}

/// A scrape interval for the series of one job or of metrics matching a pattern.
#[derive(Debug, Clone)]
pub struct ScrapeIntervalOverride {
    /// `job` label value the override applies to.
    pub job: Option<String>,
    /// Metric name pattern (a regular expression matched against the whole name).
    pub metric: Option<regex::Regex>,
    /// The interval.
    pub interval: Duration,
}

/// How the webhook answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookMode {
    /// Deny on error findings.
    #[default]
    Enforce,
    /// Never deny; every finding becomes a warning.
    Warn,
}

/// Webhook-only settings (`webhook:` in the configuration).
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// Enforce or warn.
    pub mode: WebhookMode,
    /// Whether online checks run in the webhook.
    pub online: bool,
    /// Prometheus hosts (`host` or `host:port`) online checks may contact.
    pub allowed_hosts: Vec<String>,
    /// Time budget for a review.
    pub deadline: Option<Duration>,
    /// How long probe results are reused.
    pub cache_ttl: Option<Duration>,
}

/// Settings for one run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Default scrape interval when nothing better is known (`scrapeInterval`, `--scrape-interval`).
    pub scrape_interval: Option<Duration>,
    /// Where `scrape_interval` came from, for messages ("--scrape-interval", ".kedalint.yaml").
    pub scrape_interval_origin: String,
    /// Per job or per metric pattern intervals.
    pub scrape_intervals: Vec<ScrapeIntervalOverride>,
    /// The KEDA version the rules assume.
    pub keda_version: KedaVersion,
    /// Whether `keda_version` was set explicitly.
    pub keda_version_explicit: bool,
    /// The `failOn` level from configuration (the CLI flag wins over it); `None` means never.
    pub fail_on: Option<Option<Severity>>,
    /// Per-rule overrides, by code.
    pub rules: BTreeMap<&'static str, RuleLevel>,
    /// Worst-case reaction time budget; enables KL314.
    pub reaction_budget: Option<Duration>,
    /// Address rewrites for online probes (in-cluster address -> reachable address).
    pub address_map: BTreeMap<String, String>,
    /// Per-request timeout for online probes.
    pub probe_timeout: Option<Duration>,
    /// Webhook settings.
    pub webhook: WebhookSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            scrape_interval: None,
            scrape_interval_origin: String::new(),
            scrape_intervals: Vec::new(),
            keda_version: KedaVersion::NEWEST,
            keda_version_explicit: false,
            fail_on: None,
            rules: BTreeMap::new(),
            reaction_budget: None,
            address_map: BTreeMap::new(),
            probe_timeout: None,
            webhook: WebhookSettings::default(),
        }
    }
}

impl Settings {
    /// The severity a rule runs with, or `None` when it is off.
    #[must_use]
    pub fn level(&self, rule: &registry::RuleInfo) -> Option<Severity> {
        match self.rules.get(rule.code) {
            Some(RuleLevel::Off) => None,
            Some(RuleLevel::Severity(s)) => Some(*s),
            None => Some(rule.severity),
        }
    }

    /// Reads a configuration file's text. `name` is used in error messages.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the line and what is wrong: unknown keys, wrong types, unknown
    /// rule codes, durations that do not parse.
    pub fn from_yaml(name: &str, text: &str) -> Result<Self, ConfigError> {
        let file = SourceFile::new(name, text);
        let docs = load_stream(text, LoadLimits::default());
        let err = |offset: Option<usize>, message: String| {
            let (line, column) = offset.map_or((1, 1), |o| file.line_col(o));
            ConfigError {
                file: name.to_owned(),
                line,
                column,
                message,
            }
        };
        let mut settings = Self::default();
        let Some(doc) = docs.first() else {
            return Ok(settings);
        };
        if let Some(e) = &doc.error {
            return Err(err(
                Some(e.offset),
                format!("not valid YAML: {}", e.message),
            ));
        }
        if docs.len() > 1 {
            return Err(err(None, "expected one YAML document".to_owned()));
        }
        let Some(root) = &doc.root else {
            return Ok(settings);
        };
        let at = |n: &Node| n.span.as_ref().map(|s| s.start);
        let Some(entries) = root.as_map() else {
            return Err(err(
                at(root),
                format!("expected a mapping, found {}", root.kind_name()),
            ));
        };
        let duration = |n: &Node, key: &str| -> Result<Duration, ConfigError> {
            n.as_str().and_then(parse_duration).ok_or_else(|| {
                err(
                    at(n),
                    format!(
                        "`{key}` must be a duration such as 30s or 1m, found {:?}",
                        n.as_str().unwrap_or(n.kind_name())
                    ),
                )
            })
        };
        let string = |n: &Node, key: &str| -> Result<String, ConfigError> {
            n.as_str().map(str::to_owned).ok_or_else(|| {
                err(
                    at(n),
                    format!("`{key}` must be a string, found {}", n.kind_name()),
                )
            })
        };
        for e in entries {
            let key = e.key_str().unwrap_or("");
            let v = &e.value;
            match key {
                "scrapeInterval" => {
                    settings.scrape_interval = Some(duration(v, key)?);
                    settings.scrape_interval_origin = format!("scrapeInterval in {name}");
                }
                "scrapeIntervals" => {
                    let items = v.as_seq().ok_or_else(|| {
                        err(
                            at(v),
                            "`scrapeIntervals` must be a list of {job|metric, interval}".to_owned(),
                        )
                    })?;
                    for item in items {
                        let mut o = ScrapeIntervalOverride {
                            job: None,
                            metric: None,
                            interval: Duration::ZERO,
                        };
                        let mut has_interval = false;
                        for ie in item.as_map().ok_or_else(|| {
                            err(
                                at(item),
                                "each `scrapeIntervals` entry must be a mapping".to_owned(),
                            )
                        })? {
                            match ie.key_str().unwrap_or("") {
                                "job" => o.job = Some(string(&ie.value, "job")?),
                                "metric" => {
                                    let pattern = string(&ie.value, "metric")?;
                                    o.metric = Some(regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                                        err(at(&ie.value), format!("`metric` is not a valid regular expression: {e}"))
                                    })?);
                                }
                                "interval" => {
                                    o.interval = duration(&ie.value, "interval")?;
                                    has_interval = true;
                                }
                                other => {
                                    return Err(err(
                                        at(&ie.key),
                                        format!(
                                            "unknown key `{other}` in a scrapeIntervals entry (expected job, metric, interval)"
                                        ),
                                    ));
                                }
                            }
                        }
                        if !has_interval || (o.job.is_none() && o.metric.is_none()) {
                            return Err(err(at(item), "a scrapeIntervals entry needs `interval` and one of `job` or `metric`".to_owned()));
                        }
                        settings.scrape_intervals.push(o);
                    }
                }
                "kedaVersion" => {
                    let s = string(v, key)?;
                    settings.keda_version = KedaVersion::parse(&s).ok_or_else(|| {
                        err(
                            at(v),
                            format!("`kedaVersion` must look like \"2.18\", found {s:?}"),
                        )
                    })?;
                    settings.keda_version_explicit = true;
                }
                "failOn" => {
                    let s = string(v, key)?;
                    settings.fail_on = Some(match s.as_str() {
                        "never" => None,
                        other => Some(Severity::parse(other).ok_or_else(|| {
                            err(
                                at(v),
                                format!(
                                    "`failOn` must be error, warning, info or never, found {s:?}"
                                ),
                            )
                        })?),
                    });
                }
                "rules" => {
                    for re in v.as_map().ok_or_else(|| {
                        err(
                            at(v),
                            "`rules` must map rule codes to off, error, warning or info".to_owned(),
                        )
                    })? {
                        let code = re.key_str().unwrap_or("");
                        let rule = registry::find(code).ok_or_else(|| {
                            err(at(&re.key), format!("unknown rule `{code}` in `rules` (see `kubectl kedalint rules`)"))
                        })?;
                        let level = re.value.as_str().unwrap_or("");
                        let level = match level {
                            "off" | "false" => RuleLevel::Off,
                            other => RuleLevel::Severity(Severity::parse(other).ok_or_else(|| {
                                err(at(&re.value), format!("rule level must be off, error, warning or info, found {level:?}"))
                            })?),
                        };
                        settings.rules.insert(rule.code, level);
                    }
                }
                "reactionBudget" => settings.reaction_budget = Some(duration(v, key)?),
                "prometheus" => {
                    for pe in v
                        .as_map()
                        .ok_or_else(|| err(at(v), "`prometheus` must be a mapping".to_owned()))?
                    {
                        match pe.key_str().unwrap_or("") {
                            "addressMap" => {
                                for ae in pe.value.as_map().ok_or_else(|| {
                                    err(
                                        at(&pe.value),
                                        "`addressMap` must map addresses to addresses".to_owned(),
                                    )
                                })? {
                                    settings.address_map.insert(
                                        ae.key_str().unwrap_or("").trim_end_matches('/').to_owned(),
                                        string(&ae.value, "addressMap")?
                                            .trim_end_matches('/')
                                            .to_owned(),
                                    );
                                }
                            }
                            "timeout" => {
                                settings.probe_timeout = Some(duration(&pe.value, "timeout")?)
                            }
                            other => {
                                return Err(err(
                                    at(&pe.key),
                                    format!(
                                        "unknown key `{other}` under `prometheus` (expected addressMap, timeout)"
                                    ),
                                ));
                            }
                        }
                    }
                }
                "webhook" => {
                    for we in v
                        .as_map()
                        .ok_or_else(|| err(at(v), "`webhook` must be a mapping".to_owned()))?
                    {
                        let wv = &we.value;
                        match we.key_str().unwrap_or("") {
                            "mode" => {
                                settings.webhook.mode = match string(wv, "mode")?.as_str() {
                                    "enforce" => WebhookMode::Enforce,
                                    "warn" => WebhookMode::Warn,
                                    other => {
                                        return Err(err(
                                            at(wv),
                                            format!(
                                                "`webhook.mode` must be enforce or warn, found {other:?}"
                                            ),
                                        ));
                                    }
                                };
                            }
                            "online" => {
                                settings.webhook.online = match wv.as_str() {
                                    Some("true") => true,
                                    Some("false") => false,
                                    _ => {
                                        return Err(err(
                                            at(wv),
                                            "`webhook.online` must be true or false".to_owned(),
                                        ));
                                    }
                                };
                            }
                            "allowedHosts" => {
                                let items = wv.as_seq().ok_or_else(|| {
                                    err(at(wv), "`allowedHosts` must be a list of hosts".to_owned())
                                })?;
                                for h in items {
                                    settings
                                        .webhook
                                        .allowed_hosts
                                        .push(string(h, "allowedHosts")?);
                                }
                            }
                            "deadline" => {
                                settings.webhook.deadline = Some(duration(wv, "deadline")?)
                            }
                            "cacheTTL" | "cacheTtl" => {
                                settings.webhook.cache_ttl = Some(duration(wv, "cacheTTL")?)
                            }
                            other => {
                                return Err(err(
                                    at(&we.key),
                                    format!(
                                        "unknown key `{other}` under `webhook` (expected mode, online, allowedHosts, deadline, cacheTTL)"
                                    ),
                                ));
                            }
                        }
                    }
                }
                other => {
                    return Err(err(
                        at(&e.key),
                        format!(
                            "unknown key `{other}` (expected scrapeInterval, scrapeIntervals, kedaVersion, failOn, rules, reactionBudget, prometheus, webhook)"
                        ),
                    ));
                }
            }
        }
        Ok(settings)
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_configuration_reads() {
        let s = Settings::from_yaml(
            ".kedalint.yaml",
            "scrapeInterval: 30s\nscrapeIntervals:\n  - job: inference\n    interval: 15s\n  - metric: \"nginx_.*\"\n    interval: 10s\nkedaVersion: \"2.18\"\nfailOn: error\nrules:\n  KL109: off\nreactionBudget: 90s\nprometheus:\n  addressMap:\n    \"http://prometheus-server.monitoring.svc:80\": \"http://127.0.0.1:9090\"\n  timeout: 2s\n",
        )
        .unwrap();
        assert_eq!(s.scrape_interval, Some(Duration::from_secs(30)));
        assert_eq!(s.scrape_intervals.len(), 2);
        assert_eq!(
            s.keda_version,
            KedaVersion {
                major: 2,
                minor: 18
            }
        );
        assert_eq!(s.rules.get("KL109"), Some(&RuleLevel::Off));
        assert_eq!(s.reaction_budget, Some(Duration::from_secs(90)));
        assert_eq!(s.address_map.len(), 1);
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let e = Settings::from_yaml("c.yaml", "scrapeInterval: 30s\nscrapeIntervall: 1m\n")
            .unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("scrapeIntervall"));
    }

    #[test]
    fn an_unknown_rule_code_is_an_error() {
        let e = Settings::from_yaml("c.yaml", "rules:\n  KL999: off\n").unwrap_err();
        assert!(e.message.contains("KL999"), "{e}");
    }
}
