//! The rule registry: one table from code to rule, in the style of ruff's `codes.rs`.
//!
//! Each rule lives in its own file under `rules/`, declared with [`declare_rule!`]: the doc comment
//! on the rule type is its documentation (`kubectl kedalint explain KL202`, `docs/rules/KL202.md`).

use crate::finding::Severity;
use crate::model::ScaleKind;

/// The group a rule belongs to (the hundreds digit of its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// KL0xx: documents and fields.
    Documents,
    /// KL1xx: Prometheus trigger metadata as KEDA's parser reads it.
    Metadata,
    /// KL2xx: the PromQL query.
    Promql,
    /// KL3xx: scaling behaviour.
    Scaling,
    /// KL4xx: live checks.
    Live,
    /// KL9xx: suppressions.
    Suppressions,
}

impl Group {
    /// The heading of the group in the catalogue.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Documents => "documents and fields",
            Self::Metadata => "Prometheus trigger metadata",
            Self::Promql => "the PromQL query",
            Self::Scaling => "scaling behaviour",
            Self::Live => "live checks (online mode)",
            Self::Suppressions => "suppressions",
        }
    }

    fn of(code: &str) -> Self {
        match code.as_bytes().get(2) {
            Some(b'0') => Self::Documents,
            Some(b'1') => Self::Metadata,
            Some(b'2') => Self::Promql,
            Some(b'3') => Self::Scaling,
            Some(b'4') => Self::Live,
            _ => Self::Suppressions,
        }
    }
}

/// Which scalable objects a rule checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// ScaledObjects only: the rule is about the HPA KEDA drives (its arithmetic, its fields).
    ScaledObjects,
    /// ScaledJobs only: the rule is about how KEDA creates Jobs.
    ScaledJobs,
    /// Both, and any other document the rule reads.
    Both,
}

impl Applies {
    /// Whether a rule with this scope checks an object of `kind`.
    #[must_use]
    pub fn covers(self, kind: ScaleKind) -> bool {
        matches!(
            (self, kind),
            (Self::Both, _)
                | (Self::ScaledObjects, ScaleKind::ScaledObject)
                | (Self::ScaledJobs, ScaleKind::ScaledJob)
        )
    }

    /// The column of `kubectl kedalint rules`: `both`, `ScaledObject` or `ScaledJob`.
    #[must_use]
    pub fn short(self) -> &'static str {
        match self {
            Self::ScaledObjects => "ScaledObject",
            Self::ScaledJobs => "ScaledJob",
            Self::Both => "both",
        }
    }

    /// How the docs say it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScaledObjects => "ScaledObjects",
            Self::ScaledJobs => "ScaledJobs",
            Self::Both => "ScaledObjects and ScaledJobs",
        }
    }
}

impl std::fmt::Display for Applies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the registry knows about a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// The code, e.g. `KL202`. Public contract: never reused.
    pub code: &'static str,
    /// The name, e.g. `rate-window-too-short`. Public contract.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// The rule's documentation, from its doc comment (Markdown).
    pub doc: &'static str,
    /// Which scalable objects it checks.
    pub applies: Applies,
}

impl RuleInfo {
    /// The rule's group.
    #[must_use]
    pub fn group(&self) -> Group {
        Group::of(self.code)
    }

    /// The first paragraph of `## What it does`, as one line.
    #[must_use]
    pub fn summary(&self) -> String {
        let body = self
            .doc
            .split("## What it does")
            .nth(1)
            .unwrap_or(self.doc)
            .trim_start();
        body.split("\n\n")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Declares a rule type whose doc comment becomes its documentation. A rule checks ScaledObjects
/// and ScaledJobs unless its declaration ends in `ScaledObjects` or `ScaledJobs`.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub(crate) struct $ty:ident => $code:literal, $name:literal, $severity:ident;
    ) => {
        $crate::registry::declare_rule! {
            $(#[doc = $doc])*
            pub(crate) struct $ty => $code, $name, $severity, Both;
        }
    };
    (
        $(#[doc = $doc:literal])*
        pub(crate) struct $ty:ident => $code:literal, $name:literal, $severity:ident, $applies:ident;
    ) => {
        $(#[doc = $doc])*
        pub(crate) struct $ty;

        impl $ty {
            pub(crate) const INFO: $crate::registry::RuleInfo = $crate::registry::RuleInfo {
                code: $code,
                name: $name,
                severity: $crate::finding::Severity::$severity,
                doc: concat!($($doc, "\n"),*),
                applies: $crate::registry::Applies::$applies,
            };
        }
    };
}
pub(crate) use declare_rule;

/// Every rule, in code order.
pub static RULES: &[RuleInfo] = crate::rules::ALL;

/// Finds a rule by code (case-insensitive) or by name.
#[must_use]
pub fn find(code_or_name: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// The rule's documentation as a Markdown page (what `docs/rules/KLxxx.md` holds).
#[must_use]
pub fn markdown_page(rule: &RuleInfo) -> String {
    let doc: String = rule
        .doc
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "# {} {}\n\nDefault severity: **{}**. Group: {}. Applies to: {}.\n\n{}\n\nSuppress per object with the annotation \
         `kedalint.io/ignore: \"{}\"`, on a line with `# kedalint: ignore[{}]`, or for a whole run \
         in `.kedalint.yaml` with `rules: {{{}: off}}`.\n",
        rule.code,
        rule.name,
        rule.severity,
        rule.group().title(),
        rule.applies,
        doc.trim(),
        rule.code,
        rule.code,
        rule.code,
    )
}
