use std::collections::HashMap;

use crate::checker::{Checker, Loc};
use crate::model::Object;
use crate::registry::declare_rule;
use crate::source::{FieldPath, Node, NodeKind};

declare_rule! {
    /// ## What it does
    /// Reports a mapping that repeats a key, such as `type:` twice in one trigger.
    ///
    /// ## Why is this bad?
    /// Lenient YAML readers keep the last value silently, so what you read at the top of the
    /// mapping is not what KEDA gets; `kubectl apply --validate=strict` and server-side strict
    /// field validation reject the object.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   threshold: "100"
    ///   query: sum(rate(http_requests_total[5m]))
    ///   threshold: "10"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   query: sum(rate(http_requests_total[5m]))
    ///   threshold: "100"
    /// ```
    pub(crate) struct DuplicateKey => "KL002", "duplicate-key", Error;
}

/// Mappings longer than this are checked with a set of their keys.
const LONG_MAPPING: usize = 16;

pub(crate) fn check(cx: &mut Checker<'_>, object: &Object<'_>) {
    // Iterative walk: documents can be deep, and the webhook runs on small thread stacks.
    let mut stack: Vec<(&Node, FieldPath)> = vec![(object.root, object.base_path())];
    while let Some((node, path)) = stack.pop() {
        match &node.kind {
            NodeKind::Map(entries) => {
                // A scan of the keys before is cheaper than a set for the short mappings of
                // nearly every manifest; a set keeps long ones linear.
                let long = entries.len() > LONG_MAPPING;
                let mut first: HashMap<&str, usize> = HashMap::new();
                for (i, e) in entries.iter().enumerate() {
                    let Some(key) = e.key_str() else { continue };
                    let earlier = if long {
                        first.get(key).copied()
                    } else {
                        entries[..i].iter().position(|x| x.key_str() == Some(key))
                    };
                    if let Some(j) = earlier {
                        let earlier = cx
                            .file
                            .zip(entries[j].key.span.as_ref())
                            .map(|(f, s)| format!(" (first at line {})", f.line_col(s.start).0))
                            .unwrap_or_default();
                        let parent = if path.segments().is_empty() {
                            "the document root".to_owned()
                        } else {
                            format!("`{path}`")
                        };
                        cx.report(
                            &DuplicateKey::INFO,
                            Loc::key(path.key(key), e),
                            format!("key `{key}` appears more than once in {parent}{earlier}; lenient parsers keep only the last value"),
                        )
                        .help("keep one of them; strict field validation rejects the object as it is");
                    } else if long {
                        first.insert(key, i);
                    }
                    // A scalar holds no keys: no path built for it.
                    if !matches!(e.value.kind, NodeKind::Scalar { .. }) {
                        stack.push((&e.value, path.key(key)));
                    }
                }
            }
            NodeKind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !matches!(item.kind, NodeKind::Scalar { .. }) {
                        stack.push((item, path.index(i)));
                    }
                }
            }
            NodeKind::Scalar { .. } => {}
        }
    }
}
