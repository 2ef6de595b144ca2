//! The checker: runs the enabled rules over one object and collects their findings.

use std::ops::Range;

use crate::facts::Facts;
use crate::finding::{Finding, Fix, ObjectRef};
use crate::lint::Inventory;
use crate::model::{Object, ScaleKind, ScaledObject};
use crate::registry::RuleInfo;
use crate::rules;
use crate::settings::Settings;
use crate::source::{Entry, FieldPath, Node, SourceFile, span_in_scalar};

/// Where a finding points: a field path and, when the input was text, a byte span.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub(crate) path: FieldPath,
    pub(crate) span: Option<Range<usize>>,
}

impl Loc {
    /// The node at `path`.
    pub(crate) fn node(path: FieldPath, node: &Node) -> Self {
        Self {
            path,
            span: node.span.clone(),
        }
    }

    /// The key of an entry (for unknown and duplicate keys).
    pub(crate) fn key(path: FieldPath, entry: &Entry) -> Self {
        Self {
            path,
            span: entry.key.span.clone(),
        }
    }

    /// The value of an entry.
    pub(crate) fn value(path: FieldPath, entry: &Entry) -> Self {
        Self {
            path,
            span: entry.value.span.clone(),
        }
    }
}

/// A reported finding, to add help or a fix to.
pub(crate) struct Reported<'a>(Option<&'a mut Finding>);

impl Reported<'_> {
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        if let Some(f) = self.0.as_deref_mut() {
            f.help = Some(help.into());
        }
        self
    }

    pub(crate) fn fix(mut self, fix: Option<Fix>) -> Self {
        if let Some(f) = self.0.as_deref_mut() {
            f.fix = fix;
        }
        self
    }
}

/// Context for the rules checking one object.
pub(crate) struct Checker<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) inventory: &'a Inventory,
    pub(crate) facts: &'a Facts,
    pub(crate) file: Option<&'a SourceFile>,
    pub(crate) document: usize,
    pub(crate) object: Option<ObjectRef>,
    /// The kind of scalable object being checked: rules that do not apply to it stay silent.
    pub(crate) scale_kind: Option<ScaleKind>,
    pub(crate) findings: Vec<Finding>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        settings: &'a Settings,
        inventory: &'a Inventory,
        file: Option<&'a SourceFile>,
        document: usize,
    ) -> Self {
        Self {
            settings,
            inventory,
            facts: &inventory.facts,
            file,
            document,
            object: None,
            scale_kind: None,
            findings: Vec::new(),
        }
    }

    /// Whether a rule runs: it is not turned off, and it applies to the object being checked
    /// (an HPA rule never runs on a ScaledJob, a job rule never on a ScaledObject).
    pub(crate) fn enabled(&self, rule: &RuleInfo) -> bool {
        self.settings.level(rule).is_some() && self.applies(rule)
    }

    fn applies(&self, rule: &RuleInfo) -> bool {
        self.scale_kind.is_none_or(|kind| rule.applies.covers(kind))
    }

    /// Records a finding of `rule` (nothing when the rule is off).
    pub(crate) fn report(
        &mut self,
        rule: &RuleInfo,
        at: Loc,
        message: impl Into<String>,
    ) -> Reported<'_> {
        let Some(severity) = self.settings.level(rule).filter(|_| self.applies(rule)) else {
            return Reported(None);
        };
        self.findings.push(Finding {
            code: rule.code,
            name: rule.name,
            severity,
            message: message.into(),
            help: None,
            path: at.path,
            span: at.span,
            document: self.document,
            object: self.object.clone(),
            fix: None,
        });
        Reported(self.findings.last_mut())
    }

    /// The source text, when the input was text.
    pub(crate) fn source(&self) -> Option<&'a str> {
        self.file.map(|f| f.text.as_str())
    }

    /// The byte span of `value[range]` inside a scalar node, or the whole node's span.
    pub(crate) fn span_within(&self, node: &Node, range: Range<usize>) -> Option<Range<usize>> {
        self.source()
            .and_then(|src| span_in_scalar(src, node, range))
            .or_else(|| node.span.clone())
    }

    /// Runs every object-level rule on a KEDA object.
    pub(crate) fn check_object(&mut self, object: &Object<'_>) {
        self.object = (!object.fragment).then(|| object.reference());
        self.scale_kind = object.scale_kind();
        rules::check_object(self, object);
        if self.scale_kind.is_some() {
            let so = ScaledObject { object: *object };
            rules::check_scaled_object(self, &so);
        }
    }
}
