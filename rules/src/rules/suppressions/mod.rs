//! KL9xx: suppressions that do nothing.

pub(crate) mod unknown_rule_in_suppression;
pub(crate) mod unused_suppression;

pub(crate) use unknown_rule_in_suppression::UnknownRuleInSuppression;
pub(crate) use unused_suppression::UnusedSuppression;
