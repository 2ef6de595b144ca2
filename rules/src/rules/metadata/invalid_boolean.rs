use crate::checker::{Checker, Loc};
use crate::keda::parse_go_bool;
use crate::model::Trigger;
use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports `ignoreNullValues` or `unsafeSsl` values that Go's `strconv.ParseBool` rejects.
    /// Accepted: `1 t T TRUE true True 0 f F FALSE false False`.
    ///
    /// ## Why is this bad?
    /// KEDA fails to build the scaler with `unable to parse boolean value`, so the trigger never
    /// works. YAML's `yes`/`no`/`on`/`off` are not accepted by Go.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   ignoreNullValues: "no"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   ignoreNullValues: "false"
    /// ```
    pub(crate) struct InvalidBoolean => "KL103", "invalid-boolean", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    for (key, e, text) in trigger.string_meta(&["ignoreNullValues", "unsafeSsl"]) {
        if parse_go_bool(text).is_some() {
            continue;
        }
        let guess = match text.to_ascii_lowercase().as_str() {
            "yes" | "y" | "on" | "enabled" => Some("true"),
            "no" | "n" | "off" | "disabled" => Some("false"),
            _ => None,
        };
        cx.report(
            &InvalidBoolean::INFO,
            Loc::value(trigger.metadata_path().key(key), e),
            format!("`{key}` {text:?} is not a boolean KEDA accepts (Go's ParseBool); the scaler fails to start"),
        )
        .help(guess.map_or_else(|| "write \"true\" or \"false\"".to_owned(), |g| format!("write \"{g}\"")));
    }
}
