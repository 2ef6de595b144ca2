//! KL004 and KL005 for a ScaledJob's own fields: the `spec` of KEDA's `keda.sh_scaledjobs.yaml`
//! CRD (KEDA 2.20, `apis/keda/v1alpha1/scaledjob_types.go`), down to the top level of
//! `jobTargetRef` (a `batch/v1` JobSpec). The triggers are checked as a ScaledObject's are.
//!
//! Each problem is said in the API server's own words for the CRD rule it breaks. The minimums,
//! enums and `minItems` are CRD markers from KEDA 2.20; an older KEDA's API server lets them
//! through, and the message then says what that KEDA does instead.

use crate::checker::{Checker, Loc};
use crate::model::ScaledObject;
use crate::rules::documents::unknown_field::{self, UnknownField, keys};
use crate::rules::documents::wrong_field_type::{
    self, WrongFieldType, boolean, describe, expect_map, integer,
};
use crate::source::{Entry, FieldPath, Node, ScalarType};

/// `spec` fields of a ScaledJob, each with its CRD type.
const SPEC: &[(&str, Type)] = &[
    ("jobTargetRef", Type::Object),
    (
        "pollingInterval",
        Type::Int {
            minimum: Some(1),
            what: "seconds",
        },
    ),
    (
        "successfulJobsHistoryLimit",
        Type::Int {
            minimum: Some(0),
            what: "a count of Jobs",
        },
    ),
    (
        "failedJobsHistoryLimit",
        Type::Int {
            minimum: Some(0),
            what: "a count of Jobs",
        },
    ),
    (
        "rolloutStrategy",
        Type::Enum {
            values: &["gradual", "immediate"],
            before_2_20: "KEDA reads anything but `immediate` as `gradual`",
        },
    ),
    ("rollout", Type::Object),
    ("envSourceContainerName", Type::Str),
    (
        "minReplicaCount",
        Type::Int {
            minimum: Some(0),
            what: "a count of Jobs",
        },
    ),
    (
        "maxReplicaCount",
        Type::Int {
            minimum: Some(1),
            what: "a count of Jobs",
        },
    ),
    ("scalingStrategy", Type::Object),
    ("triggers", Type::Array),
];

/// `spec.scalingStrategy`.
const SCALING_STRATEGY: &[(&str, Type)] = &[
    (
        "strategy",
        Type::Enum {
            values: &["default", "custom", "accurate", "eager"],
            before_2_20: "KEDA uses the `default` strategy for a name it does not know",
        },
    ),
    (
        "customScalingQueueLengthDeduction",
        Type::Int {
            minimum: None,
            what: "a count",
        },
    ),
    ("customScalingRunningJobPercentage", Type::Str),
    ("pendingPodConditions", Type::StrArray),
    (
        "multipleScalersCalculation",
        Type::Enum {
            values: &["min", "avg", "sum", "max"],
            before_2_20: "KEDA uses `max` for a name it does not know",
        },
    ),
];

/// `spec.rollout`.
const ROLLOUT: &[(&str, Type)] = &[
    (
        "strategy",
        Type::Enum {
            values: &["gradual", "immediate"],
            before_2_20: "KEDA reads anything but `immediate` as `gradual`",
        },
    ),
    (
        "propagationPolicy",
        Type::Enum {
            values: &["foreground", "background"],
            before_2_20: "KEDA deletes the old Jobs in the background",
        },
    ),
];

/// The top level of `spec.jobTargetRef`, a `batch/v1` JobSpec.
const JOB_SPEC: &[(&str, Type)] = &[
    (
        "activeDeadlineSeconds",
        Type::Int {
            minimum: None,
            what: "seconds",
        },
    ),
    (
        "backoffLimit",
        Type::Int {
            minimum: None,
            what: "a count",
        },
    ),
    (
        "backoffLimitPerIndex",
        Type::Int {
            minimum: None,
            what: "a count",
        },
    ),
    ("completionMode", Type::Str),
    (
        "completions",
        Type::Int {
            minimum: None,
            what: "a count",
        },
    ),
    ("managedBy", Type::Str),
    ("manualSelector", Type::Bool),
    (
        "maxFailedIndexes",
        Type::Int {
            minimum: None,
            what: "a count",
        },
    ),
    (
        "parallelism",
        Type::Int {
            minimum: None,
            what: "a count of pods",
        },
    ),
    ("podFailurePolicy", Type::Object),
    ("podReplacementPolicy", Type::Str),
    ("selector", Type::Object),
    ("successPolicy", Type::Object),
    ("suspend", Type::Bool),
    ("template", Type::Object),
    (
        "ttlSecondsAfterFinished",
        Type::Int {
            minimum: None,
            what: "seconds",
        },
    ),
];

/// A field's type in the CRD's OpenAPI schema.
#[derive(Clone, Copy)]
enum Type {
    /// `type: integer`, with its `minimum` when the CRD sets one (KEDA 2.20+), and what it counts.
    Int {
        minimum: Option<i64>,
        what: &'static str,
    },
    /// `type: string`.
    Str,
    /// `type: string` with an `enum` (KEDA 2.20+), and what older KEDA does with another value.
    Enum {
        values: &'static [&'static str],
        before_2_20: &'static str,
    },
    /// `type: boolean`.
    Bool,
    /// `type: object`.
    Object,
    /// `type: array` (of objects: checked further by their own rules).
    Array,
    /// `type: array` of strings.
    StrArray,
}

/// Keys of a ScaledObject's `spec` that a ScaledJob does not have, and what to say about them.
fn scaled_object_only(key: &str) -> Option<String> {
    match key {
        "scaleTargetRef" => Some(
            "a ScaledJob describes the Job it creates in `jobTargetRef` (a Job spec with a pod `template`), not in `scaleTargetRef`".to_owned(),
        ),
        "cooldownPeriod" | "initialCooldownPeriod" | "idleReplicaCount" | "fallback"
        | "advanced" => Some(format!(
            "`{key}` is a ScaledObject field; a ScaledJob has no HPA and KEDA ignores it"
        )),
        "strategy" | "customScalingQueueLengthDeduction" | "customScalingRunningJobPercentage"
        | "pendingPodConditions" | "multipleScalersCalculation" => Some(format!(
            "`{key}` belongs under `spec.scalingStrategy`"
        )),
        "metricType" => Some(
            "`metricType` is a trigger field (`spec.triggers[].metricType`), and a ScaledJob reads only AverageValue targets".to_owned(),
        ),
        _ => None,
    }
}

/// KL004 and KL005 on a ScaledJob.
pub(crate) fn check(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    let spec_path = so.spec_path();
    let Some(spec) = so.object.spec() else {
        if cx.enabled(&WrongFieldType::INFO) {
            cx.report(
                &WrongFieldType::INFO,
                Loc::node(so.object.base_path(), so.object.root),
                "the ScaledJob has no `spec`: the API server rejects it (spec.jobTargetRef: Required value, spec.triggers: Required value)",
            );
        }
        return;
    };
    if cx.enabled(&WrongFieldType::INFO) {
        if spec.as_map().is_none() {
            expect_map(cx, spec_path, spec);
            return;
        }
        types(cx, spec, &spec_path, SPEC);
        required(cx, spec, &spec_path, &["jobTargetRef", "triggers"]);
        if let Some(j) = spec.get("jobTargetRef") {
            let path = spec_path.key("jobTargetRef");
            types(cx, j, &path, JOB_SPEC);
            required(cx, j, &path, &["template"]);
        }
        if let Some(s) = spec.get("scalingStrategy") {
            types(cx, s, &spec_path.key("scalingStrategy"), SCALING_STRATEGY);
        }
        if let Some(r) = spec.get("rollout") {
            types(cx, r, &spec_path.key("rollout"), ROLLOUT);
        }
        min_items(cx, spec, &spec_path);
        wrong_field_type::check_triggers(cx, so);
    }
    if cx.enabled(&UnknownField::INFO) {
        keys(cx, spec, &spec_path, &names(SPEC), scaled_object_only);
        for (key, table) in [
            ("jobTargetRef", JOB_SPEC),
            ("scalingStrategy", SCALING_STRATEGY),
            ("rollout", ROLLOUT),
        ] {
            if let Some(node) = spec.get(key) {
                keys(cx, node, &spec_path.key(key), &names(table), |_| None);
            }
        }
        unknown_field::check_triggers(cx, so);
    }
}

fn names(table: &[(&'static str, Type)]) -> Vec<&'static str> {
    table.iter().map(|(k, _)| *k).collect()
}

/// Checks each field of `node` that `table` knows against its type.
fn types(cx: &mut Checker<'_>, node: &Node, path: &FieldPath, table: &[(&str, Type)]) {
    if node.as_map().is_none() {
        expect_map(cx, path.clone(), node);
        return;
    }
    for (key, ty) in table {
        let Some(e) = node.get_entry(key) else {
            continue;
        };
        let at = path.key(key);
        match *ty {
            Type::Int { minimum, what } => {
                integer(cx, at.clone(), e, what);
                if let Some(min) = minimum {
                    minimum_of(cx, at, e, min);
                }
            }
            Type::Str => {
                string(cx, at, e);
            }
            Type::Enum {
                values,
                before_2_20,
            } => {
                if string(cx, at.clone(), e) {
                    one_of(cx, at, e, values, before_2_20);
                }
            }
            Type::Bool => boolean(cx, at, e),
            Type::Object => expect_map(cx, at, &e.value),
            Type::Array | Type::StrArray => {
                let Some(items) = e.value.as_seq() else {
                    cx.report(
                        &WrongFieldType::INFO,
                        Loc::value(at.clone(), e),
                        format!(
                            "`{at}` must be a list, found {}: the API server rejects the object ({at}: Invalid value: must be of type array)",
                            e.value.kind_name()
                        ),
                    );
                    continue;
                };
                if matches!(ty, Type::StrArray) {
                    for (i, item) in items.iter().enumerate() {
                        if item.scalar_type() != Some(ScalarType::Str) {
                            let p = at.index(i);
                            cx.report(
                                &WrongFieldType::INFO,
                                Loc::node(p.clone(), item),
                                format!(
                                    "`{p}` must be a string, found {}: the API server rejects the object",
                                    describe(item)
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A `type: string` field; true when it is one.
fn string(cx: &mut Checker<'_>, path: FieldPath, e: &Entry) -> bool {
    if e.value.scalar_type() == Some(ScalarType::Str) {
        return true;
    }
    let key = e.key_str().unwrap_or("");
    let help = e.value.as_str().map_or_else(
        || format!("`{key}` takes a single string"),
        |t| format!("quote it: `{key}: \"{t}\"`"),
    );
    cx.report(
        &WrongFieldType::INFO,
        Loc::value(path.clone(), e),
        format!(
            "`{key}` must be a string, found {}: the API server rejects the object ({path}: Invalid value: must be of type string)",
            describe(&e.value)
        ),
    )
    .help(help);
    false
}

/// A CRD `enum`.
fn one_of(cx: &mut Checker<'_>, path: FieldPath, e: &Entry, values: &[&str], before_2_20: &str) {
    let Some(value) = e.value.as_str() else {
        return;
    };
    if values.contains(&value) {
        return;
    }
    let version = cx.settings.keda_version;
    let supported = values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let consequence = if version.at_least(2, 20) {
        format!(
            "the API server rejects the object ({path}: Unsupported value: \"{value}\": supported values: {supported})"
        )
    } else {
        format!("KEDA {version}'s CRD lets it through and {before_2_20}")
    };
    let near = values
        .iter()
        .find(|v| v.eq_ignore_ascii_case(value))
        .map_or_else(
            || format!("use one of {supported}"),
            |v| format!("write it as `{v}`: values are case-sensitive"),
        );
    cx.report(
        &WrongFieldType::INFO,
        Loc::value(path, e),
        format!("`{value}` is not a known value: {consequence}"),
    )
    .help(near);
}

/// A CRD `minimum` (KEDA 2.20+).
fn minimum_of(cx: &mut Checker<'_>, path: FieldPath, e: &Entry, minimum: i64) {
    let Some(v) = (e.value.scalar_type() == Some(ScalarType::Int))
        .then(|| e.value.as_str().and_then(crate::model::parse_yaml_int))
        .flatten()
    else {
        return;
    };
    if v >= minimum {
        return;
    }
    let version = cx.settings.keda_version;
    let consequence = if version.at_least(2, 20) {
        format!(
            "the API server rejects the object ({path}: Invalid value: {v}: {path} in body should be greater than or equal to {minimum})"
        )
    } else {
        format!("KEDA {version}'s CRD lets it through, but KEDA 2.20 and later reject it")
    };
    cx.report(
        &WrongFieldType::INFO,
        Loc::value(path, e),
        format!(
            "`{}` is {v}, below the CRD's minimum of {minimum}: {consequence}",
            e.key_str().unwrap_or("")
        ),
    )
    .help(format!("use {minimum} or more"));
}

/// Fields the CRD marks `required`.
fn required(cx: &mut Checker<'_>, node: &Node, path: &FieldPath, fields: &[&str]) {
    if node.as_map().is_none() {
        return;
    }
    for field in fields {
        if node.get_entry(field).is_some() {
            continue;
        }
        let at = path.key(field);
        let why = match *field {
            "jobTargetRef" => "the Job spec KEDA copies into every Job it creates",
            "template" => "the pod template of the Jobs",
            _ => "the triggers KEDA reads to decide how many Jobs to create",
        };
        cx.report(
            &WrongFieldType::INFO,
            Loc::node(path.clone(), node),
            format!(
                "`{at}` is missing ({why}): the API server rejects the object ({at}: Required value)"
            ),
        );
    }
}

/// `triggers` must hold at least one trigger (KEDA 2.20's CRD; before, KEDA's own check).
fn min_items(cx: &mut Checker<'_>, spec: &Node, spec_path: &FieldPath) {
    let Some(e) = spec.get_entry("triggers") else {
        return;
    };
    if e.value.as_seq().is_none_or(|t| !t.is_empty()) {
        return;
    }
    let at = spec_path.key("triggers");
    let version = cx.settings.keda_version;
    let consequence = if version.at_least(2, 20) {
        format!(
            "the API server rejects the object ({at}: Invalid value: 0: {at} in body should have at least 1 items)"
        )
    } else {
        format!(
            "KEDA {version} accepts it, then fails with \"no triggers defined in the ScaledObject/ScaledJob\" and creates no Job"
        )
    };
    cx.report(
        &WrongFieldType::INFO,
        Loc::value(at, e),
        format!("`triggers` is empty: {consequence}"),
    )
    .help("add at least one trigger");
}
