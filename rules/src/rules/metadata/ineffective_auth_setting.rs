use crate::checker::{Checker, Loc};
use crate::keda::{auth_modes, parse_go_bool};
use crate::model::Trigger;
use crate::registry::declare_rule;
use crate::rules::metadata::AuthRef;

declare_rule! {
    /// ## What it does
    /// Reports authentication settings KEDA accepts but never uses: `authModes` `oauth` or
    /// `apiKey` (validated but not applied to Prometheus requests), a `ca` without `authModes`,
    /// `unsafeSsl` together with `tls`, `bearer` or `basic` together with `custom` (only the first
    /// header is sent), and `tls` with an `http://` address.
    ///
    /// ## Why is this bad?
    /// The setting looks like it does something, so the 401s, x509 errors or missing tenant
    /// headers that follow are hard to explain: the request goes out without it.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus.monitoring.svc:9090
    ///   authModes: "tls"
    ///   unsafeSsl: "true"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: https://prometheus.monitoring.svc:9090
    ///   authModes: "tls"   # with ca, cert and key in the TriggerAuthentication
    /// ```
    pub(crate) struct IneffectiveAuthSetting => "KL110", "ineffective-auth-setting", Warning;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>, auth: Option<&AuthRef>) {
    let key = if trigger.meta("authModes").is_some() {
        "authModes"
    } else {
        "authMode"
    };
    let entry = trigger.meta_entry(key);
    let raw = entry.and_then(|e| e.value.as_str()).unwrap_or("");
    let modes: Vec<&str> = auth_modes(raw).into_iter().map(|(m, _)| m).collect();
    let path = trigger.metadata_path().key(key);
    let version = cx.settings.keda_version;
    if let Some(e) = entry {
        for (mode, range) in auth_modes(raw) {
            if matches!(mode, "oauth" | "apiKey") {
                let span = cx.span_within(&e.value, range);
                cx.report(
                    &IneffectiveAuthSetting::INFO,
                    Loc { path: path.clone(), span },
                    format!("auth mode `{mode}` passes validation but the prometheus scaler never applies it to requests (KEDA {version}): queries go out unauthenticated"),
                )
                .help("use bearer, basic, custom or tls, or an oauth2 proxy in front of Prometheus");
            }
        }
        let has_custom = modes.contains(&"custom");
        if let Some(first) = modes
            .iter()
            .find(|m| matches!(**m, "bearer" | "basic"))
            .filter(|_| has_custom)
        {
            cx.report(
                &IneffectiveAuthSetting::INFO,
                Loc::value(path.clone(), e),
                format!("`{first}` and `custom` together: KEDA sets only the first of bearer, basic, custom, so the custom header is never sent"),
            )
            .help("send the custom header through customHeaders, or drop one of the modes");
        }
    }
    if modes.contains(&"tls") {
        if let Some(u) = trigger
            .meta_entry("unsafeSsl")
            .filter(|u| u.value.as_str().and_then(parse_go_bool) == Some(true))
        {
            cx.report(
                &IneffectiveAuthSetting::INFO,
                Loc::value(trigger.metadata_path().key("unsafeSsl"), u),
                "`unsafeSsl` is ignored when authModes includes tls: KEDA builds its own TLS transport with verification on",
            )
            .help("give the server's CA as `ca` in the TriggerAuthentication instead");
        }
        if let (Some(e), Some(addr)) = (entry, trigger.meta("serverAddress"))
            && addr.to_ascii_lowercase().starts_with("http://")
        {
            cx.report(
                    &IneffectiveAuthSetting::INFO,
                    Loc::value(path.clone(), e),
                    format!("authModes includes tls but serverAddress {addr:?} is plain http: the client certificate is never used"),
                )
                .help("use an https:// address, or drop tls");
        }
    }
    if modes.is_empty()
        && let Some(AuthRef::Found(a)) = auth
        && a.parameters.contains("ca")
    {
        let loc = trigger.node.get_entry("authenticationRef").map_or_else(
            || Loc::node(trigger.path.clone(), trigger.node),
            |e| Loc::key(trigger.path.key("authenticationRef"), e),
        );
        cx.report(
            &IneffectiveAuthSetting::INFO,
            loc,
            format!(
                "{} `{}` sets `ca`, but without authModes KEDA never loads it",
                a.kind, a.name
            ),
        )
        .help("set `authModes: \"tls\"` (with cert and key) or another mode, or drop `ca`");
    }
}
