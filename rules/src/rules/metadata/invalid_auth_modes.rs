use crate::checker::{Checker, Loc};
use crate::keda::{AUTH_MODES, auth_modes, closest, required_auth_params};
use crate::model::{Trigger, TriggerAuth};
use crate::registry::declare_rule;
use crate::rules::metadata::AuthRef;

declare_rule! {
    /// ## What it does
    /// Reports an `authModes` (or `authMode`) value that KEDA rejects: a mode outside
    /// `apiKey basic tls bearer custom oauth`, more than one of `bearer basic oauth`, or modes
    /// combined with a pod identity provider. When the TriggerAuthentication or
    /// ClusterTriggerAuthentication the trigger references is in the same input (or there is no
    /// `authenticationRef` at all), it also reports the parameters a mode needs that are missing:
    /// bearer `bearerToken`; basic `username`; tls `cert` and `key`; custom `customAuthHeader` and
    /// `customAuthValue`; oauth `oauthTokenURI`, `clientID`, `clientSecret`; apiKey `apiKey`.
    ///
    /// ## Why is this bad?
    /// KEDA fails to build the scaler (`bearer token is required when bearer auth is enabled`,
    /// `must contain only one of [bearer basic oauth]`, `pod identity cannot be enabled with other
    /// auth types`), so the trigger never works.
    ///
    /// ## Example
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       authModes: "bearer,basic"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// triggers:
    ///   - type: prometheus
    ///     metadata:
    ///       authModes: "bearer"
    ///     authenticationRef:
    ///       name: prometheus-bearer   # a TriggerAuthentication that sets bearerToken
    /// ```
    pub(crate) struct InvalidAuthModes => "KL106", "invalid-auth-modes", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, trigger: &Trigger<'_>, auth: Option<&AuthRef>) {
    let key = if trigger.meta("authModes").is_some() {
        "authModes"
    } else {
        "authMode"
    };
    let Some(entry) = trigger.meta_entry(key) else {
        return;
    };
    let Some(raw) = entry.value.as_str() else {
        return;
    };
    if raw.trim().is_empty() {
        return;
    }
    let path = trigger.metadata_path().key(key);
    let modes = auth_modes(raw);
    let mut valid = Vec::new();
    for (mode, range) in &modes {
        if AUTH_MODES.contains(mode) {
            valid.push(*mode);
            continue;
        }
        let span = cx.span_within(&entry.value, range.clone());
        let r = cx.report(
            &InvalidAuthModes::INFO,
            Loc {
                path: path.clone(),
                span,
            },
            format!(
                "auth mode {mode:?} is not one of {}; KEDA fails to start the scaler",
                AUTH_MODES.join(", ")
            ),
        );
        if let Some(near) = closest(mode, AUTH_MODES) {
            r.help(format!("did you mean `{near}`? (modes are case-sensitive)"));
        }
    }
    let exclusive: Vec<&str> = valid
        .iter()
        .copied()
        .filter(|m| matches!(*m, "bearer" | "basic" | "oauth"))
        .collect();
    if exclusive.len() > 1 {
        cx.report(
            &InvalidAuthModes::INFO,
            Loc::value(path.clone(), entry),
            format!(
                "`{key}` combines {}; KEDA allows only one of bearer, basic, oauth",
                exclusive.join(" and ")
            ),
        )
        .help("keep one of them");
    }
    let Some(auth) = auth else { return };
    let found: Option<&TriggerAuth> = match auth {
        AuthRef::Found(a) => Some(a),
        AuthRef::None => None,
        AuthRef::Unknown => return,
    };
    if let Some(provider) = found.and_then(|a| a.pod_identity.as_deref()) {
        cx.report(
            &InvalidAuthModes::INFO,
            Loc::value(path.clone(), entry),
            format!("`{key}` is set while the TriggerAuthentication uses pod identity `{provider}`: KEDA fails with `pod identity cannot be enabled with other auth types`"),
        )
        .help("remove authModes to use the pod identity, or remove podIdentity from the TriggerAuthentication");
    }
    for mode in valid {
        let missing: Vec<&str> = required_auth_params(mode)
            .iter()
            .filter(|alts| {
                !alts
                    .split('|')
                    .any(|p| found.is_some_and(|a| a.parameters.contains(p)))
            })
            .map(|alts| alts.split('|').next().unwrap_or(alts))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let source = match found {
            Some(a) => format!("{} `{}` does not set", a.kind, a.name),
            None => "the trigger has no `authenticationRef`, so nothing sets".to_owned(),
        };
        cx.report(
            &InvalidAuthModes::INFO,
            Loc::value(path.clone(), entry),
            format!(
                "auth mode `{mode}` needs {}, but {source} {}; KEDA fails to start the scaler",
                join(&missing),
                join(&missing)
            ),
        )
        .help(format!(
            "add {} to the TriggerAuthentication (secretTargetRef parameter)",
            join(&missing)
        ));
    }
}

fn join(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(" and ")
}
