//! Every rule, one file each, grouped by code range; and the order they run in.

pub(crate) mod documents;
pub(crate) mod jobs;
pub(crate) mod live;
pub(crate) mod metadata;
pub(crate) mod promql;
pub(crate) mod query_context;
pub(crate) mod scaling;
pub(crate) mod suppressions;

use crate::checker::{Checker, Loc};
use crate::model::{Object, ScaledObject};
use crate::registry::RuleInfo;
use crate::rules::query_context::QueryContext;
use crate::source::{DocumentError, SourceFile};

/// The registry table: every rule, in code order.
pub(crate) static ALL: &[RuleInfo] = &[
    documents::InvalidYaml::INFO,
    documents::DuplicateKey::INFO,
    documents::ObsoleteKedaApi::INFO,
    documents::WrongFieldType::INFO,
    documents::UnknownField::INFO,
    documents::UnrenderedTemplate::INFO,
    documents::MissingRequiredField::INFO,
    documents::UnsupportedValue::INFO,
    metadata::MissingRequiredMetadata::INFO,
    metadata::InvalidNumber::INFO,
    metadata::InvalidBoolean::INFO,
    metadata::InvalidTimeout::INFO,
    metadata::InvalidKeyValueList::INFO,
    metadata::InvalidAuthModes::INFO,
    metadata::MalformedServerAddress::INFO,
    metadata::ServerAddressTrailingSlash::INFO,
    metadata::IgnoreNullValuesUnset::INFO,
    metadata::IneffectiveAuthSetting::INFO,
    promql::InvalidPromql::INFO,
    promql::RateWindowTooShort::INFO,
    promql::RateWindowBelowRecommended::INFO,
    promql::MultipleSeriesResult::INFO,
    promql::HistogramQuantileWithoutLe::INFO,
    promql::RangeVectorResult::INFO,
    promql::ScalarResult::INFO,
    promql::CounterAsLevel::INFO,
    promql::IrateInScalingQuery::INFO,
    promql::TemplateVariableInQuery::INFO,
    promql::NanUnguarded::INFO,
    promql::ExperimentalFunction::INFO,
    promql::AggregationBeforeRate::INFO,
    scaling::AverageValueOnNonAdditive::INFO,
    scaling::DoubleNormalisation::INFO,
    scaling::ValueOnAdditiveTotal::INFO,
    scaling::ActivationNotBelowThreshold::INFO,
    scaling::ActivationIgnored::INFO,
    scaling::ThresholdUnitMismatch::INFO,
    scaling::ThresholdNotPositive::INFO,
    scaling::ScaleFromZeroDeadlock::INFO,
    scaling::FallbackNeverFires::INFO,
    scaling::InvalidMetricType::INFO,
    scaling::InvalidReplicaBounds::INFO,
    scaling::DuplicateTriggerName::INFO,
    scaling::UnknownTriggerInFormula::INFO,
    scaling::SlowReaction::INFO,
    scaling::PollingFasterThanScrape::INFO,
    jobs::NonAdditiveMetricOnScaledJob::INFO,
    jobs::MetricTypeOnScaledJob::INFO,
    jobs::RunningJobsSubtractedInQuery::INFO,
    jobs::JobPollingFasterThanScrape::INFO,
    jobs::MaxReplicaCountUnset::INFO,
    jobs::CustomStrategyIgnored::INFO,
    live::ServerUnreachable::INFO,
    live::NotAPrometheusApi::INFO,
    live::AuthRequired::INFO,
    live::QueryEmptyNow::INFO,
    live::QueryMultipleSeriesNow::INFO,
    live::QueryNanNow::INFO,
    live::MetricAbsent::INFO,
    live::QuerySlow::INFO,
    live::ThresholdUnreachable::INFO,
    live::ServiceNotFound::INFO,
    live::ServiceWithoutEndpoints::INFO,
    live::ScaledObjectNotReady::INFO,
    live::TriggerFailing::INFO,
    live::HpaMetricDisagreesWithPrometheus::INFO,
    live::HpaAtMaxReplicas::INFO,
    live::HpaCannotScale::INFO,
    live::ScaledObjectPaused::INFO,
    live::HpaTargetDiffersFromThreshold::INFO,
    live::ScalerErrorEvent::INFO,
    suppressions::UnusedSuppression::INFO,
    suppressions::UnknownRuleInSuppression::INFO,
];

/// KL001 for a document that does not parse.
pub(crate) fn report_invalid_yaml(cx: &mut Checker<'_>, file: &SourceFile, error: &DocumentError) {
    documents::invalid_yaml::report(cx, file, error);
}

/// Rules for any KEDA object (ScaledObject, TriggerAuthentication, …).
pub(crate) fn check_object(cx: &mut Checker<'_>, object: &Object<'_>) {
    if cx.enabled(&documents::DuplicateKey::INFO) {
        documents::duplicate_key::check(cx, object);
    }
    if cx.enabled(&documents::ObsoleteKedaApi::INFO) {
        documents::obsolete_keda_api::check(cx, object);
    }
    if cx.enabled(&documents::UnrenderedTemplate::INFO) {
        documents::unrendered_template::check(cx, object);
    }
}

/// Rules for a ScaledObject or ScaledJob and its triggers. Rules that do not apply to the kind
/// stay silent (the checker knows the kind); the KL0xx field checks read each kind's own spec.
pub(crate) fn check_scaled_object(cx: &mut Checker<'_>, so: &ScaledObject<'_>) {
    if so.is_job() {
        documents::scaled_job_spec::check(cx, so);
    } else {
        if cx.enabled(&documents::WrongFieldType::INFO) {
            documents::wrong_field_type::check(cx, so);
        }
        if cx.enabled(&documents::UnknownField::INFO) {
            documents::unknown_field::check(cx, so);
        }
    }
    if cx.enabled(&documents::MissingRequiredField::INFO) {
        documents::missing_required_field::check(cx, so);
    }
    if cx.enabled(&documents::UnsupportedValue::INFO) {
        documents::unsupported_value::check(cx, so);
    }
    let mut queries = Vec::new();
    for trigger in so.triggers() {
        if !trigger.is_prometheus() {
            queries.push((trigger, None));
            continue;
        }
        metadata::check_trigger(cx, so, &trigger);
        let query = QueryContext::new(cx, so, &trigger);
        if let Some(q) = &query {
            promql::check_query(cx, so, q);
        }
        live::check_trigger(cx, &trigger, query.as_ref());
        queries.push((trigger, query));
    }
    live::state::check(cx, so, &queries);
    scaling::check_scaled_object(cx, so, &queries);
    if let Some(job) = so.as_job() {
        jobs::check_scaled_job(cx, &job, &queries);
    }
}

/// The location of a whole trigger's `metadata` key (or the trigger when it has none).
pub(crate) fn metadata_loc(trigger: &crate::model::Trigger<'_>) -> Loc {
    match trigger.node.get_entry("metadata") {
        Some(e) => Loc::key(trigger.metadata_path(), e),
        None => Loc::node(trigger.path.clone(), trigger.node),
    }
}
