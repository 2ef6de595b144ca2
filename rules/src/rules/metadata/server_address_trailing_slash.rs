use crate::checker::{Checker, Loc};
use crate::finding::{Edit, Fix};
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::rules::metadata::malformed_server_address::parse_server_address;

declare_rule! {
    /// ## What it does
    /// Reports a `serverAddress` that ends with `/`.
    ///
    /// ## Why is this bad?
    /// KEDA appends `/api/v1/query` to the address as written, so it requests
    /// `…//api/v1/query`. Prometheus itself tolerates that, but many proxies, gateways and managed
    /// endpoints answer it with 404 or a redirect (kedacore/keda#5487).
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:80/
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:80
    /// ```
    pub(crate) struct ServerAddressTrailingSlash => "KL108", "server-address-trailing-slash", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>) {
    let Some(e) = trigger.meta_entry("serverAddress") else {
        return;
    };
    let Some(raw) = e.value.as_str() else { return };
    let trimmed_end = raw.trim_end();
    if !trimmed_end.ends_with('/') || parse_server_address(raw.trim()).is_err() {
        return;
    }
    let keep = trimmed_end.trim_end_matches('/').len();
    let span = cx.span_within(&e.value, keep..trimmed_end.len());
    let fix = span
        .clone()
        .filter(|_| cx.source().is_some())
        .map(|span| Fix {
            title: "remove the trailing slash".to_owned(),
            edits: vec![Edit {
                span,
                replacement: String::new(),
            }],
            changes_behaviour: false,
        });
    cx.report(
        &ServerAddressTrailingSlash::INFO,
        Loc { path: trigger.metadata_path().key("serverAddress"), span },
        format!("serverAddress ends with `/`: KEDA requests `{}/api/v1/query`, which some proxies answer with 404 or a redirect", trimmed_end.trim_start()),
    )
    .help(format!("write `{}`", trimmed_end.trim_start().trim_end_matches('/')))
    .fix(fix);
}
