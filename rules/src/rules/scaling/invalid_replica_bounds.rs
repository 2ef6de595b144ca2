use crate::checker::{Checker, Loc};
use crate::model::ScaledObject;
use crate::registry::declare_rule;
use crate::rules::scaling::{DEFAULT_MAX_REPLICAS, child, int_of};
use crate::source::{FieldPath, Node};

declare_rule! {
    /// ## What it does
    /// Reports replica bounds and timings KEDA or Kubernetes refuse:
    /// - `minReplicaCount` greater than `maxReplicaCount` (default 100);
    /// - `idleReplicaCount` not below `minReplicaCount`, as KEDA checks it: an explicit
    ///   `minReplicaCount: 0` counts as 1 there, an unset one as 0 (so `idleReplicaCount: 0`
    ///   without `minReplicaCount` is refused);
    /// - a negative `minReplicaCount`, `idleReplicaCount`, `cooldownPeriod`,
    ///   `initialCooldownPeriod`, `fallback.failureThreshold` or `fallback.replicas`, and a
    ///   `maxReplicaCount` below 1;
    /// - `pollingInterval` below 1;
    /// - HPA behavior outside Kubernetes' limits: `stabilizationWindowSeconds` 0..3600, a
    ///   policy's `periodSeconds` 1..1800 and `value` above 0, an empty `policies` list, a
    ///   `selectPolicy` other than `Max`, `Min` or `Disabled`.
    ///
    /// ## Why is this bad?
    /// KEDA 2.20 rejects invalid bounds at admission; KEDA 2.18's webhook only logs them, the
    /// controller then marks the ScaledObject not Ready ("ScaledObject doesn't have correct
    /// Idle/Min/Max Replica Counts specification") and nothing scales. A `pollingInterval` of
    /// 0 makes KEDA 2.18 query Prometheus in a tight loop (2.20's CRD rejects it). HPA behavior
    /// is copied into the HPA as is; the API server refuses the HPA and the ScaledObject is
    /// stuck.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   minReplicaCount: 5
    ///   maxReplicaCount: 3
    ///   pollingInterval: 0
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// spec:
    ///   minReplicaCount: 3
    ///   maxReplicaCount: 5
    ///   pollingInterval: 30
    /// ```
    pub(crate) struct InvalidReplicaBounds => "KL311", "invalid-replica-bounds", Error, ScaledObjects;
}

pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    let Some(spec) = so.object.spec() else { return };
    let spec_path = so.spec_path();
    let version = cx.settings.keda_version;
    let consequence = if version.at_least(2, 20) {
        format!("KEDA {version}'s webhook rejects the ScaledObject")
    } else {
        format!(
            "KEDA {version} accepts it, then marks the ScaledObject not Ready and does not scale"
        )
    };
    let int = |key: &str| so.spec_int(key);
    let loc = |key: &str| {
        so.spec_field(key)
            .map(|e| Loc::value(spec_path.key(key), e))
    };

    for (key, lowest) in [
        ("minReplicaCount", 0),
        ("idleReplicaCount", 0),
        ("cooldownPeriod", 0),
        ("initialCooldownPeriod", 0),
        ("maxReplicaCount", 1),
    ] {
        if let (Some(v), Some(at)) = (int(key), loc(key))
            && v < lowest
        {
            let what = if lowest == 0 { "negative" } else { "below 1" };
            let why = if version.at_least(2, 20) {
                format!(
                    "the API server rejects the object: `{}: Invalid value: {v}: {} in body should be greater than or equal to {lowest}` (KEDA {version}'s CRD)",
                    spec_path.key(key),
                    spec_path.key(key)
                )
            } else {
                format!(
                    "the CRD requires at least {lowest} (enforced from KEDA 2.20; earlier versions misbehave)"
                )
            };
            cx.report(
                &InvalidReplicaBounds::INFO,
                at,
                format!("{key} {v} is {what}: {why}"),
            )
            .help(format!("set {key} to {lowest} or more"));
        }
    }

    let min = int("minReplicaCount");
    let max = int("maxReplicaCount");
    // KEDA's CheckReplicaCountBoundsAreValid: an explicit min of 0 counts as 1 (GetHPAMinReplicas),
    // an unset one as 0.
    let min_checked = min.map_or(0, |m| m.max(1));
    let max_checked = max.unwrap_or(DEFAULT_MAX_REPLICAS);
    if let Some(m) = min.filter(|m| *m >= 0)
        && m > max_checked
    {
        let max_text = if max.is_some() {
            format!("maxReplicaCount {max_checked}")
        } else {
            format!("the default maxReplicaCount {max_checked}")
        };
        if let Some(at) = loc("minReplicaCount") {
            cx.report(
                &InvalidReplicaBounds::INFO,
                at,
                format!("minReplicaCount {m} is greater than {max_text}: {consequence}"),
            )
            .help(format!(
                "make minReplicaCount ≤ maxReplicaCount (e.g. maxReplicaCount: {m} or more)"
            ));
        }
    }
    if let (Some(idle), Some(at)) = (int("idleReplicaCount"), loc("idleReplicaCount"))
        && idle >= 0
        && idle >= min_checked
        && !(min.is_none() && so.object.fragment)
    {
        let min_text = match min {
            Some(0) => "minReplicaCount 0 (which KEDA's check counts as 1)".to_owned(),
            Some(m) => format!("minReplicaCount {m}"),
            None => "minReplicaCount (unset, counted as 0 by KEDA's check)".to_owned(),
        };
        cx.report(
            &InvalidReplicaBounds::INFO,
            at,
            format!("idleReplicaCount {idle} must be less than {min_text}: {consequence}"),
        )
        .help("use idleReplicaCount: 0 with minReplicaCount: 1 or more (0 is the only idle value KEDA documents as working)");
    }
    if let (Some(p), Some(at)) = (int("pollingInterval"), loc("pollingInterval"))
        && p < 1
    {
        let effect = if version.at_least(2, 20) {
            format!(
                "the API server rejects the object: `{0}: Invalid value: {p}: {0} in body should be greater than or equal to 1` (KEDA {version}'s CRD)",
                spec_path.key("pollingInterval")
            )
        } else {
            format!(
                "KEDA {version} then re-queries the scalers in a tight loop, hammering Prometheus"
            )
        };
        cx.report(
            &InvalidReplicaBounds::INFO,
            at,
            format!("pollingInterval {p} is below 1 second: {effect}"),
        )
        .help("set pollingInterval to 1 or more seconds (KEDA's default is 30)");
    }
    if let Some((fb, fb_path)) = child(spec, &spec_path, "fallback") {
        for key in ["failureThreshold", "replicas"] {
            if let Some((e, path)) = child(&fb.value, &fb_path, key)
                && let Some(v) = int_of(&e.value).filter(|v| *v < 0)
            {
                cx.report(
                    &InvalidReplicaBounds::INFO,
                    Loc::value(path, e),
                    format!("fallback.{key} {v} is negative: KEDA's webhook rejects it (FailureThreshold and Replicas must both be ≥ 0)"),
                )
                .help(format!("set fallback.{key} to 0 or more"));
            }
        }
    }
    let behavior = child(spec, &spec_path, "advanced")
        .and_then(|(a, p)| child(&a.value, &p, "horizontalPodAutoscalerConfig"))
        .and_then(|(h, p)| child(&h.value, &p, "behavior"));
    if let Some((b, b_path)) = behavior {
        for direction in ["scaleUp", "scaleDown"] {
            if let Some((rules, path)) = child(&b.value, &b_path, direction) {
                check_rules(cx, &rules.value, &path, direction);
            }
        }
    }
}

/// Kubernetes' validateScalingRules for one direction.
fn check_rules(cx: &mut Checker<'_>, rules: &Node, path: &FieldPath, direction: &str) {
    let bad = |cx: &mut Checker<'_>, loc: Loc, message: String, help: &str| {
        cx.report(&InvalidReplicaBounds::INFO, loc, message)
            .help(help.to_owned());
    };
    if let Some((e, p)) = child(rules, path, "stabilizationWindowSeconds")
        && let Some(v) = int_of(&e.value).filter(|v| !(0..=3600).contains(v))
    {
        bad(
            cx,
            Loc::value(p.clone(), e),
            format!(
                "{direction}.stabilizationWindowSeconds {v} is outside 0..3600: the API server rejects the HPA KEDA writes, and the ScaledObject is stuck"
            ),
            "use 0..3600 seconds",
        );
    }
    if let Some((e, p)) = child(rules, path, "selectPolicy")
        && let Some(v) = e
            .value
            .as_str()
            .filter(|v| !matches!(*v, "Max" | "Min" | "Disabled"))
    {
        bad(
            cx,
            Loc::value(p.clone(), e),
            format!(
                "{direction}.selectPolicy {v:?} is not Max, Min or Disabled: the API server rejects the HPA KEDA writes"
            ),
            "use Max, Min or Disabled",
        );
    }
    let Some((policies, p_path)) = child(rules, path, "policies") else {
        return;
    };
    let Some(items) = policies.value.as_seq() else {
        return;
    };
    if items.is_empty() {
        bad(
            cx,
            Loc::value(p_path.clone(), policies),
            format!(
                "{direction}.policies is empty: Kubernetes requires at least one policy when the list is given"
            ),
            "remove `policies` to get the defaults, or add a policy",
        );
    }
    for (i, item) in items.iter().enumerate() {
        let ip = p_path.index(i);
        if let Some((e, p)) = child(item, &ip, "periodSeconds")
            && let Some(v) = int_of(&e.value).filter(|v| !(1..=1800).contains(v))
        {
            bad(
                cx,
                Loc::value(p.clone(), e),
                format!(
                    "{direction}.policies[{i}].periodSeconds {v} is outside 1..1800: the API server rejects the HPA KEDA writes"
                ),
                "use 1..1800 seconds",
            );
        }
        if let Some((e, p)) = child(item, &ip, "value")
            && let Some(v) = int_of(&e.value).filter(|v| *v <= 0)
        {
            bad(
                cx,
                Loc::value(p.clone(), e),
                format!(
                    "{direction}.policies[{i}].value {v} must be greater than 0: the API server rejects the HPA KEDA writes"
                ),
                "use a positive number of pods or percent; to stop scaling in one direction use selectPolicy: Disabled",
            );
        }
    }
}
