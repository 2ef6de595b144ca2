//! JSON values (an AdmissionReview's object, a cluster read) as source trees without spans.

use serde_json::Value;

use super::{Entry, Node, NodeKind, ScalarStyle};

/// Converts a JSON value into a [`Node`] tree. Spans are `None`: the text is not ours to point at.
/// Depth is bounded by serde_json, which refuses input nested deeper than 128 levels.
#[must_use]
pub fn from_json(value: &Value) -> Node {
    convert(value)
}

fn scalar(value: String, style: ScalarStyle) -> Node {
    Node {
        span: None,
        kind: NodeKind::Scalar { value, style },
    }
}

fn convert(value: &Value) -> Node {
    match value {
        Value::Null => scalar("null".to_owned(), ScalarStyle::JsonOther),
        Value::Bool(b) => scalar(b.to_string(), ScalarStyle::JsonOther),
        Value::Number(n) => scalar(n.to_string(), ScalarStyle::JsonOther),
        Value::String(s) => scalar(s.clone(), ScalarStyle::JsonString),
        Value::Array(items) => Node {
            span: None,
            kind: NodeKind::Seq(items.iter().map(convert).collect()),
        },
        Value::Object(map) => Node {
            span: None,
            kind: NodeKind::Map(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: scalar(k.clone(), ScalarStyle::JsonString),
                        value: convert(v),
                    })
                    .collect(),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ScalarType;

    #[test]
    fn json_numbers_keep_their_type() {
        let n = from_json(&serde_json::json!({"threshold": 5, "query": "up"}));
        assert_eq!(
            n.get("threshold").unwrap().scalar_type(),
            Some(ScalarType::Int)
        );
        assert_eq!(n.get("query").unwrap().scalar_type(), Some(ScalarType::Str));
    }
}
