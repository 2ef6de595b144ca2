//! KL0xx: documents and fields.

pub(crate) mod duplicate_key;
pub(crate) mod invalid_yaml;
pub(crate) mod missing_required_field;
pub(crate) mod obsolete_keda_api;
pub(crate) mod scaled_job_spec;
pub(crate) mod unknown_field;
pub(crate) mod unrendered_template;
pub(crate) mod unsupported_value;
pub(crate) mod wrong_field_type;

pub(crate) use duplicate_key::DuplicateKey;
pub(crate) use invalid_yaml::InvalidYaml;
pub(crate) use missing_required_field::MissingRequiredField;
pub(crate) use obsolete_keda_api::ObsoleteKedaApi;
pub(crate) use unknown_field::UnknownField;
pub(crate) use unrendered_template::UnrenderedTemplate;
pub(crate) use unsupported_value::UnsupportedValue;
pub(crate) use wrong_field_type::WrongFieldType;
