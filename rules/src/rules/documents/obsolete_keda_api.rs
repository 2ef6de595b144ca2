use crate::checker::{Checker, Loc};
use crate::finding::{Edit, Fix};
use crate::model::{KEDA_V1_GROUP, Object};
use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports KEDA v1 manifests: `apiVersion: keda.k8s.io/v1alpha1`, and v1-only fields such as
    /// `scaleTargetRef.deploymentName` and `scaleTargetRef.containerName`.
    ///
    /// ## Why is this bad?
    /// KEDA v2 only serves `keda.sh/v1alpha1`; the API server has no `keda.k8s.io` resource and
    /// rejects the object, and v2 ignores the v1 field names, so the target is not found.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: keda.k8s.io/v1alpha1
    /// kind: ScaledObject
    /// spec:
    ///   scaleTargetRef:
    ///     deploymentName: api
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: keda.sh/v1alpha1
    /// kind: ScaledObject
    /// spec:
    ///   scaleTargetRef:
    ///     name: api
    /// ```
    pub(crate) struct ObsoleteKedaApi => "KL003", "obsolete-keda-api", Error;
}

pub(crate) fn check(cx: &mut Checker<'_>, object: &Object<'_>) {
    let base = object.base_path();
    if object.group() == KEDA_V1_GROUP
        && let Some(e) = object.root.get_entry("apiVersion")
    {
        let fixed = object.api_version().replacen(KEDA_V1_GROUP, "keda.sh", 1);
        let fix = e.value.span.clone().map(|span| Fix {
            title: format!("use {fixed}"),
            edits: vec![Edit {
                span,
                replacement: fixed.clone(),
            }],
            changes_behaviour: false,
        });
        cx.report(
                &ObsoleteKedaApi::INFO,
                Loc::value(base.key("apiVersion"), e),
                format!("`{}` is the KEDA v1 API; KEDA v2 serves only `keda.sh/v1alpha1` and the API server rejects this object", object.api_version()),
            )
            .help(format!("use `apiVersion: {fixed}` and the v2 field names (scaleTargetRef.name)"))
            .fix(fix);
    }
    let Some(target) = object.spec().and_then(|s| s.get("scaleTargetRef")) else {
        return;
    };
    let path = base.key("spec").key("scaleTargetRef");
    for (old, new) in [
        ("deploymentName", "name"),
        ("containerName", "envSourceContainerName"),
    ] {
        if let Some(e) = target.get_entry(old) {
            cx.report(
                &ObsoleteKedaApi::INFO,
                Loc::key(path.key(old), e),
                format!("`scaleTargetRef.{old}` is a KEDA v1 field; KEDA v2 ignores it"),
            )
            .help(format!("rename it to `{new}`"));
        }
    }
}
