use crate::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a suppression (a code in the `kedalint.io/ignore` annotation, or in a
    /// `# kedalint: ignore[...]` comment) that suppressed nothing.
    ///
    /// ## Why is this bad?
    /// A stale suppression hides the next real finding of that rule on the object or line: the
    /// problem it was written for is gone, but the blind spot stays.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     kedalint.io/ignore: "KL203"   # the query now uses [5m]: KL203 no longer fires
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   annotations: {}
    /// ```
    pub(crate) struct UnusedSuppression => "KL901", "unused-suppression", Warning;
}
