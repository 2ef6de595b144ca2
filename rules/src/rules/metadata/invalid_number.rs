use crate::checker::{Checker, Loc};
use crate::keda::is_json_number;
use crate::model::Trigger;
use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a `threshold` or `activationThreshold` that is not a number the way Go's
    /// `json.Unmarshal` reads one: `one`, `350m`, `.5`, `5.`, `+1`, `01`, `NaN`, `Inf`, `1,5` are
    /// rejected; `0.350`, `1e-3`, `-5` are accepted.
    ///
    /// ## Why is this bad?
    /// KEDA fails to build the scaler (`unable to unmarshal to field type float64`), so the
    /// trigger never reports a metric. Kubernetes quantity syntax such as `350m` is not accepted
    /// here even though the HPA shows targets that way.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   threshold: "350m"
    ///   activationThreshold: ".2"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   threshold: "0.350"
    ///   activationThreshold: "0.2"
    /// ```
    pub(crate) struct InvalidNumber => "KL102", "invalid-number", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    for (key, e, text) in trigger.string_meta(&["threshold", "activationThreshold"]) {
        if is_json_number(text) {
            continue;
        }
        cx.report(
            &InvalidNumber::INFO,
            Loc::value(trigger.metadata_path().key(key), e),
            format!("`{key}` {text:?} is not a number KEDA can read (it parses it as a JSON number); the scaler fails to start"),
        )
        .help(suggest(text).map_or_else(
            || "write a plain decimal such as \"0.5\", \"100\" or \"1e-3\"".to_owned(),
            |s| format!("write \"{s}\""),
        ));
    }
}

/// A corrected spelling for common near-misses.
fn suggest(text: &str) -> Option<String> {
    if let Some(milli) = text.strip_suffix('m') {
        let v: f64 = milli.parse().ok()?;
        return Some(format!("{}", v / 1000.0));
    }
    let t = text.replace(',', ".");
    let t = t.strip_prefix('+').unwrap_or(&t);
    let fixed = if let Some(rest) = t.strip_prefix('.') {
        format!("0.{rest}")
    } else if let Some(rest) = t.strip_suffix('.') {
        rest.to_owned()
    } else {
        t.trim_start_matches('0').to_owned()
    };
    let fixed = if fixed.is_empty() || fixed.starts_with('.') {
        format!("0{fixed}")
    } else {
        fixed
    };
    is_json_number(&fixed).then_some(fixed)
}
