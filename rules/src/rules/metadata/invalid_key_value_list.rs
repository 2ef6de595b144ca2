use crate::checker::{Checker, Loc};
use crate::keda::split_key_values;
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::source::ScalarType;

declare_rule! {
    /// ## What it does
    /// Reports `customHeaders` or `queryParameters` entries that do not split into exactly
    /// `key=value`. KEDA splits the list on `,` and each entry on `=`, so values cannot contain
    /// `=` or `,` (a base64 token ending in `==` fails).
    ///
    /// ## Why is this bad?
    /// KEDA fails to build the scaler with `expected format key=value`, so the trigger never works.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   customHeaders: "X-Scope-OrgID=tenant-1,Authorization"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   customHeaders: "X-Scope-OrgID=tenant-1"
    /// ```
    pub(crate) struct InvalidKeyValueList => "KL105", "invalid-key-value-list", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    for key in ["customHeaders", "queryParameters"] {
        let Some(e) = trigger.meta_entry(key) else {
            continue;
        };
        if e.value.scalar_type() != Some(ScalarType::Str) {
            continue;
        }
        let Some(raw) = e.value.as_str() else {
            continue;
        };
        let text = raw.trim();
        if text.is_empty() {
            continue;
        }
        let lead = raw.len() - raw.trim_start().len();
        let Err((element, range)) = split_key_values(text) else {
            continue;
        };
        let span = cx.span_within(&e.value, range.start + lead..range.end + lead);
        let why = if element.matches('=').count() > 1 {
            "has more than one `=` (values cannot contain `=`: a base64 `==` breaks it)"
        } else if element.trim().is_empty() {
            "is empty (a stray comma?)"
        } else {
            "has no `=`"
        };
        cx.report(
            &InvalidKeyValueList::INFO,
            Loc { path: trigger.metadata_path().key(key), span },
            format!("`{key}` entry {element:?} {why}; KEDA fails with `expected format key=value`"),
        )
        .help("write `key1=value1,key2=value2`; a secret header value belongs in a TriggerAuthentication (authModes: custom)");
    }
}
