//! KL1xx: Prometheus trigger metadata, read the way KEDA 2.18's typed-config parser reads it.

pub(crate) mod ignore_null_values_unset;
pub(crate) mod ineffective_auth_setting;
pub(crate) mod invalid_auth_modes;
pub(crate) mod invalid_boolean;
pub(crate) mod invalid_key_value_list;
pub(crate) mod invalid_number;
pub(crate) mod invalid_timeout;
pub(crate) mod malformed_server_address;
pub(crate) mod missing_required_metadata;
pub(crate) mod server_address_trailing_slash;

pub(crate) use ignore_null_values_unset::IgnoreNullValuesUnset;
pub(crate) use ineffective_auth_setting::IneffectiveAuthSetting;
pub(crate) use invalid_auth_modes::InvalidAuthModes;
pub(crate) use invalid_boolean::InvalidBoolean;
pub(crate) use invalid_key_value_list::InvalidKeyValueList;
pub(crate) use invalid_number::InvalidNumber;
pub(crate) use invalid_timeout::InvalidTimeout;
pub(crate) use malformed_server_address::MalformedServerAddress;
pub(crate) use missing_required_metadata::MissingRequiredMetadata;
pub(crate) use server_address_trailing_slash::ServerAddressTrailingSlash;

use crate::checker::Checker;
use crate::model::{ScaledObject, Trigger, TriggerAuth};

/// Runs the KL1xx rules on one prometheus trigger.
pub(crate) fn check_trigger(cx: &mut Checker<'_>, so: &ScaledObject<'_>, trigger: &Trigger<'_>) {
    if cx.enabled(&MissingRequiredMetadata::INFO) {
        missing_required_metadata::check(cx, trigger);
    }
    if cx.enabled(&InvalidNumber::INFO) {
        invalid_number::check(cx, trigger);
    }
    if cx.enabled(&InvalidBoolean::INFO) {
        invalid_boolean::check(cx, trigger);
    }
    if cx.enabled(&InvalidTimeout::INFO) {
        invalid_timeout::check(cx, trigger);
    }
    if cx.enabled(&InvalidKeyValueList::INFO) {
        invalid_key_value_list::check(cx, trigger);
    }
    let auth = referenced_auth(cx, so, trigger);
    if cx.enabled(&InvalidAuthModes::INFO) {
        invalid_auth_modes::check(cx, trigger, auth.as_ref());
    }
    if cx.enabled(&MalformedServerAddress::INFO) {
        malformed_server_address::check(cx, trigger);
    }
    if cx.enabled(&ServerAddressTrailingSlash::INFO) {
        server_address_trailing_slash::check(cx, trigger);
    }
    if cx.enabled(&IgnoreNullValuesUnset::INFO) {
        ignore_null_values_unset::check(cx, trigger);
    }
    if cx.enabled(&IneffectiveAuthSetting::INFO) {
        ineffective_auth_setting::check(cx, trigger, auth.as_ref());
    }
}

/// What the trigger's authentication reference resolves to in this input.
pub(crate) enum AuthRef {
    /// No `authenticationRef`: KEDA's authParams are empty.
    None,
    /// A reference to an object that is not in the input: nothing can be said about it.
    Unknown,
    /// The referenced object.
    Found(TriggerAuth),
}

fn referenced_auth(
    cx: &Checker<'_>,
    so: &ScaledObject<'_>,
    trigger: &Trigger<'_>,
) -> Option<AuthRef> {
    Some(match trigger.authentication_ref() {
        None => AuthRef::None,
        Some((kind, name)) => match cx.inventory.auth(kind, name, so.object.namespace()) {
            Some(a) => AuthRef::Found(a.clone()),
            None => AuthRef::Unknown,
        },
    })
}
