use crate::checker::Checker;
use crate::facts::ServerOutcome;
use crate::model::Trigger;
use crate::registry::declare_rule;

use super::Live;

declare_rule! {
    /// ## What it does
    /// Online mode: reports a server that answers 401 or 403 to a trigger that sets no
    /// `authModes` (and no `Authorization` custom header): KEDA will send no credentials either.
    ///
    /// ## Why is this bad?
    /// Every poll fails with `prometheus query api returned error. status: 401`, and nothing
    /// scales. kedalint never reads credentials from files, so a trigger that does set
    /// `authModes` is not reported; its queries are left unchecked and the run says so.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: https://prometheus.example.com
    ///   query: sum(rate(http_requests_total[2m]))
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: https://prometheus.example.com
    ///   query: sum(rate(http_requests_total[2m]))
    ///   authModes: bearer
    /// authenticationRef:
    ///   name: prometheus-token
    /// ```
    pub(crate) struct AuthRequired => "KL403", "auth-required", Error;
}

/// Whether a trigger brings credentials of its own (`authModes`, or an `Authorization` header).
pub(crate) fn brings_credentials(trigger: &Trigger<'_>) -> bool {
    trigger.meta("authModes").is_some()
        || trigger.meta("authMode").is_some()
        || trigger.meta("customHeaders").is_some_and(|h| {
            h.split(',').any(|kv| {
                kv.split('=')
                    .next()
                    .is_some_and(|k| k.trim().eq_ignore_ascii_case("authorization"))
            })
        })
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>, live: &Live<'_>) {
    let ServerOutcome::AuthRequired { status } = live.server.outcome else {
        return;
    };
    if brings_credentials(trigger) {
        return;
    }
    cx.report(
        &AuthRequired::INFO,
        live.address_loc.clone(),
        format!(
            "{} answered HTTP {status}: it requires credentials, and this trigger sets no `authModes`, so KEDA sends none",
            live.probed
        ),
    )
    .help("set `authModes` (bearer, basic, tls or custom) and an `authenticationRef` to a TriggerAuthentication holding the credentials");
}
