use crate::checker::{Checker, Loc};
use crate::keda::parse_keda_duration;
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::source::ScalarType;

declare_rule! {
    /// ## What it does
    /// Reports a trigger `timeout` that is negative, or neither a Go duration (`5s`, `1500ms`)
    /// nor an integer number of milliseconds (`3000`).
    ///
    /// ## Why is this bad?
    /// KEDA fails to build the scaler (`duration cannot be negative`, `unable to parse duration
    /// value`), so the trigger never works. A bare decimal such as `1.5` is neither form.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   timeout: "1.5"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   timeout: "1500"
    /// ```
    pub(crate) struct InvalidTimeout => "KL104", "invalid-timeout", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    if !cx.settings.keda_version.at_least(2, 17) {
        return; // Not read before 2.17; KL005 says so.
    }
    let Some(e) = trigger.meta_entry("timeout") else {
        return;
    };
    if e.value.scalar_type() != Some(ScalarType::Str) {
        return;
    }
    let Some(text) = trigger.meta("timeout") else {
        return;
    };
    if let Err(why) = parse_keda_duration(text) {
        cx.report(
            &InvalidTimeout::INFO,
            Loc::value(trigger.metadata_path().key("timeout"), e),
            format!("`timeout` {why}; KEDA fails to start the scaler"),
        )
        .help("write milliseconds (\"3000\") or a Go duration (\"3s\", \"1500ms\")");
    }
}
