use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a suppression that names a code kedalint does not have.
    ///
    /// ## Why is this bad?
    /// It is almost always a typo (`KL2O2` with a letter O, `KL22`), so the finding it meant to
    /// silence is still reported, or the suppression was written for another tool.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     kedalint.io/ignore: "KL2O3"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     kedalint.io/ignore: "KL203"
    /// ```
    pub(crate) struct UnknownRuleInSuppression => "KL902", "unknown-rule-in-suppression", Warning;
}
