use std::collections::BTreeMap;

use crate::checker::{Checker, Loc};
use crate::model::ScaleKind;
use crate::registry::declare_rule;
use crate::rules::scaling::TriggerQuery;

declare_rule! {
    /// ## What it does
    /// Reports two or more triggers of one ScaledObject with the same `name`.
    ///
    /// ## Why is this bad?
    /// KEDA's webhook rejects the ScaledObject (`triggerName "…" is defined multiple times`),
    /// and `scalingModifiers.formula` could not tell the triggers apart anyway.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     name: load
    ///   - type: prometheus
    ///     name: load
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     name: request_rate
    ///   - type: prometheus
    ///     name: queue_depth
    /// ```
    pub(crate) struct DuplicateTriggerName => "KL312", "duplicate-trigger-name", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, queries: &[TriggerQuery<'_, '_>]) {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for (trigger, _) in queries {
        let Some(entry) = trigger.node.get_entry("name") else {
            continue;
        };
        let Some(name) = entry
            .value
            .as_str()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        let kind = cx.scale_kind.map_or("object", ScaleKind::as_str);
        match first.get(name) {
            None => {
                first.insert(name, trigger.index);
            }
            Some(&i) => {
                cx.report(
                    &DuplicateTriggerName::INFO,
                    Loc::value(trigger.path.key("name"), entry),
                    format!(
                        "trigger name {name:?} is already used by spec.triggers[{i}]: KEDA's webhook rejects the {kind} (triggerName {name:?} is defined multiple times)"
                    ),
                )
                .help("give every trigger a unique name (names are what scalingModifiers.formula refers to)");
            }
        }
    }
}
