//! Reads an AdmissionReview body in one pass: the envelope straight into kube's typed
//! `AdmissionRequest` and `request.object` / `request.oldObject` straight into the rules' [`Node`]
//! trees, without a `serde_json::Value` of the body decoded a second time.
//!
//! The reference is `review::decode_by_value` (a `Value` of the whole body, the objects taken out,
//! the rest decoded by kube's types, the objects turned into trees by `from_json`). On every body
//! this pass accepts, it gives exactly the reference's result:
//! - every value is parsed in full, never skipped (serde's "ignore" skips without serde_json's
//!   nesting limit and number checks, which a `Value` applies), so the same syntax, string, number
//!   and depth checks apply;
//! - the envelope's fields are read by mirrors of kube's and k8s-openapi's types that accept a
//!   subset of what those accept (no unknown or repeated fields) and build the same values;
//! - a mapping's keys are sorted and the last of repeated keys wins, as in a `Value` map (a
//!   `BTreeMap`: serde_json's `preserve_order` is off), and scalars get the text a `Value` prints.
//!
//! Whatever else it meets makes it give up, and the reference decides: any error, an unknown or
//! repeated member (a `response`, say), a member of an unexpected type, an operation not spelled
//! as one of the four, and serde_json's private raw-value marker as a key (a `Value` reads an
//! object starting with it as embedded JSON text). So a malformed body gets the same answer as
//! before, from the same code.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::authentication::v1::UserInfo;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kedalint_rules::source::{Entry, Node, NodeKind, ScalarStyle};
use kube::core::admission::{AdmissionRequest, Operation};
use kube::core::{DynamicObject, GroupVersionKind, GroupVersionResource, TypeMeta};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A body read in one pass.
#[derive(Debug)]
pub(super) struct Parts {
    /// The review's `apiVersion` and `kind`.
    pub types: TypeMeta,
    /// The request, `types` copied in, without its objects.
    pub request: AdmissionRequest<DynamicObject>,
    /// `request.object` (`null` included).
    pub object: Option<Node>,
    /// `request.oldObject` (`null` included).
    pub old_object: Option<Node>,
}

/// Reads `body`, or `None` when the reference path must decide (see the module comment).
pub(super) fn parts(body: &[u8]) -> Option<Parts> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parts = de.deserialize_map(ReviewVisitor).ok()?;
    de.end().ok()?;
    Some(parts)
}

/// Whether a node is JSON `null`.
pub(super) fn is_null(node: &Node) -> bool {
    matches!(
        &node.kind,
        NodeKind::Scalar { value, style: ScalarStyle::JsonOther } if value == "null"
    )
}

/// serde_json's private keys: a `Value` map whose first key is one of these is read as something
/// else (embedded raw JSON). Such bodies go to the reference path.
const PRIVATE_KEY_PREFIX: &str = "$serde_json::private::";

fn give_up<E: de::Error>(why: &str) -> E {
    E::custom(why)
}

/// Refuses serde_json's private marker as the first key of an object.
fn check_first_key<E: de::Error>(key: &str, first: bool) -> Result<(), E> {
    if first && key.starts_with(PRIVATE_KEY_PREFIX) {
        return Err(give_up("serde_json private key"));
    }
    Ok(())
}

/// Fills a field once; a repeated field gives up (a `Value` would keep the last).
fn put<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(give_up("repeated field"));
    }
    *slot = Some(value);
    Ok(())
}

fn required<T, E: de::Error>(slot: Option<T>) -> Result<T, E> {
    slot.ok_or_else(|| give_up("missing field"))
}

/// `kube::core::GroupVersionKind`, without unknown fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gvk {
    group: String,
    version: String,
    kind: String,
}

impl From<Gvk> for GroupVersionKind {
    fn from(g: Gvk) -> Self {
        Self {
            group: g.group,
            version: g.version,
            kind: g.kind,
        }
    }
}

/// `kube::core::GroupVersionResource`, without unknown fields (nor its `api_version`, which
/// stays empty as when it is absent from the JSON).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Gvr {
    group: String,
    version: String,
    resource: String,
}

impl Gvr {
    /// kube's own type, built by its own `Deserialize` (one of its fields is private).
    fn into_kube<E: de::Error>(self) -> Result<GroupVersionResource, E> {
        use serde::de::IntoDeserializer;
        let fields = [
            ("group", self.group),
            ("version", self.version),
            ("resource", self.resource),
        ];
        GroupVersionResource::deserialize(de::value::MapDeserializer::<_, E>::new(
            fields.into_iter().map(|(k, v)| (k, v.into_deserializer())),
        ))
    }
}

/// A key of `userInfo.extra`: any string but serde_json's private marker.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct PlainKey(String);

impl<'de> Deserialize<'de> for PlainKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        check_first_key(&key, true)?;
        Ok(Self(key))
    }
}

/// k8s-openapi's `UserInfo`, without unknown or repeated fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct User {
    extra: Option<BTreeMap<PlainKey, Vec<String>>>,
    groups: Option<Vec<String>>,
    uid: Option<String>,
    username: Option<String>,
}

impl From<User> for UserInfo {
    fn from(u: User) -> Self {
        Self {
            extra: u
                .extra
                .map(|extra| extra.into_iter().map(|(k, v)| (k.0, v)).collect()),
            groups: u.groups,
            uid: u.uid,
            username: u.username,
        }
    }
}

fn operation<E: de::Error>(name: &str) -> Result<Operation, E> {
    Ok(match name {
        "CREATE" => Operation::Create,
        "UPDATE" => Operation::Update,
        "DELETE" => Operation::Delete,
        "CONNECT" => Operation::Connect,
        _ => return Err(give_up("unexpected operation")),
    })
}

struct ReviewVisitor;

impl<'de> Visitor<'de> for ReviewVisitor {
    type Value = Parts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AdmissionReview object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parts, A::Error> {
        let (mut api_version, mut kind, mut request) = (None, None, None);
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            check_first_key(&key, first)?;
            first = false;
            match key.as_str() {
                "apiVersion" => put(&mut api_version, map.next_value::<String>()?)?,
                "kind" => put(&mut kind, map.next_value::<String>()?)?,
                "request" => put(&mut request, map.next_value_seed(RequestSeed)?)?,
                _ => return Err(give_up("unexpected member")),
            }
        }
        let types = TypeMeta {
            api_version: required(api_version)?,
            kind: required(kind)?,
        };
        let (mut request, object, old_object) = required(request)?;
        request.types = types.clone();
        Ok(Parts {
            types,
            request,
            object,
            old_object,
        })
    }
}

type RequestParts = (AdmissionRequest<DynamicObject>, Option<Node>, Option<Node>);

struct RequestSeed;

impl<'de> DeserializeSeed<'de> for RequestSeed {
    type Value = RequestParts;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<RequestParts, D::Error> {
        deserializer.deserialize_map(RequestVisitor)
    }
}

/// `request`: kube's `AdmissionRequest` field by field (`#[serde(default)]` where kube has it), the
/// objects as trees.
struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = RequestParts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AdmissionReview request object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestParts, A::Error> {
        let (mut uid, mut kind, mut resource, mut sub_resource) = (None, None, None, None);
        let (mut request_kind, mut request_resource, mut request_sub_resource) = (None, None, None);
        let (mut name, mut namespace, mut operation_, mut user_info) = (None, None, None, None);
        let (mut object, mut old_object, mut dry_run, mut options) = (None, None, None, None);
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            check_first_key(&key, first)?;
            first = false;
            match key.as_str() {
                "uid" => put(&mut uid, map.next_value::<String>()?)?,
                "kind" => put(&mut kind, map.next_value::<Gvk>()?)?,
                "resource" => put(&mut resource, map.next_value::<Gvr>()?)?,
                "subResource" => put(&mut sub_resource, map.next_value::<Option<String>>()?)?,
                "requestKind" => put(&mut request_kind, map.next_value::<Option<Gvk>>()?)?,
                "requestResource" => {
                    put(&mut request_resource, map.next_value::<Option<Gvr>>()?)?;
                }
                "requestSubResource" => {
                    put(
                        &mut request_sub_resource,
                        map.next_value::<Option<String>>()?,
                    )?;
                }
                "name" => put(&mut name, map.next_value::<String>()?)?,
                "namespace" => put(&mut namespace, map.next_value::<Option<String>>()?)?,
                "operation" => put(&mut operation_, operation(&map.next_value::<String>()?)?)?,
                "userInfo" => put(&mut user_info, map.next_value::<User>()?)?,
                "object" => put(&mut object, map.next_value_seed(NodeSeed)?)?,
                "oldObject" => put(&mut old_object, map.next_value_seed(NodeSeed)?)?,
                "dryRun" => put(&mut dry_run, map.next_value::<bool>()?)?,
                "options" => put(&mut options, map.next_value::<Option<Value>>()?)?,
                _ => return Err(give_up("unexpected member")),
            }
        }
        let request = AdmissionRequest {
            types: TypeMeta::default(),
            uid: required(uid)?,
            kind: required(kind)?.into(),
            resource: required(resource)?.into_kube()?,
            sub_resource: sub_resource.flatten(),
            request_kind: request_kind.flatten().map(Into::into),
            request_resource: request_resource.flatten().map(Gvr::into_kube).transpose()?,
            request_sub_resource: request_sub_resource.flatten(),
            name: name.unwrap_or_default(),
            namespace: namespace.flatten(),
            operation: required(operation_)?,
            user_info: required(user_info)?.into(),
            object: None,
            old_object: None,
            dry_run: dry_run.unwrap_or_default(),
            options: options.flatten().map(RawExtension),
        };
        Ok((request, object, old_object))
    }
}

/// Any JSON value as a [`Node`], as `from_json` would build it from a `Value`.
struct NodeSeed;

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

fn scalar(value: String, style: ScalarStyle) -> Node {
    Node {
        span: None,
        kind: NodeKind::Scalar { value, style },
    }
}

fn other(value: String) -> Node {
    scalar(value, ScalarStyle::JsonOther)
}

fn key_of(entry: &Entry) -> &str {
    entry.key.as_str().unwrap_or_default()
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(other(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(other(Number::from(v).to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(other(Number::from(v).to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        // A `Value` holds a non-finite float as null.
        Ok(other(
            Number::from_f64(v).map_or_else(|| "null".to_owned(), |n| n.to_string()),
        ))
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(scalar(v.to_owned(), ScalarStyle::JsonString))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(scalar(v, ScalarStyle::JsonString))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(other("null".to_owned()))
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(other("null".to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed)? {
            items.push(item);
        }
        Ok(Node {
            span: None,
            kind: NodeKind::Seq(items),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            check_first_key(&key, first)?;
            first = false;
            let value = map.next_value_seed(NodeSeed)?;
            entries.push(Entry {
                key: scalar(key, ScalarStyle::JsonString),
                value,
            });
        }
        // A `Value` map: keys in order, the last of repeated keys wins (the sort is stable).
        entries.sort_by(|a, b| key_of(a).cmp(key_of(b)));
        entries.dedup_by(|later, kept| {
            let same = key_of(later) == key_of(kept);
            if same {
                std::mem::swap(&mut later.value, &mut kept.value);
            }
            same
        });
        Ok(Node {
            span: None,
            kind: NodeKind::Map(entries),
        })
    }
}

/// A tree back as the `Value` it was read from (for the online probe, which reads JSON).
pub(super) fn to_value(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Scalar { value, style } => match (style, value.as_str()) {
            (ScalarStyle::JsonOther, "null") => Value::Null,
            (ScalarStyle::JsonOther, "true") => Value::Bool(true),
            (ScalarStyle::JsonOther, "false") => Value::Bool(false),
            (ScalarStyle::JsonOther, n) => n
                .parse::<Number>()
                .map_or_else(|_| Value::String(value.clone()), Value::Number),
            _ => Value::String(value.clone()),
        },
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_value).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (key_of(e).to_owned(), to_value(&e.value)))
                .collect(),
        ),
    }
}

/// Whether two trees are equal as the `Value`s they were read from: as [`Node`]'s own equality,
/// except that numbers compare as numbers (`0.0` equals `-0.0`, as in a `Value`).
pub(super) fn same_json(a: &Node, b: &Node) -> bool {
    match (&a.kind, &b.kind) {
        (
            NodeKind::Scalar {
                value: x,
                style: ScalarStyle::JsonOther,
            },
            NodeKind::Scalar {
                value: y,
                style: ScalarStyle::JsonOther,
            },
        ) => {
            x == y || matches!((x.parse::<Number>(), y.parse::<Number>()), (Ok(m), Ok(n)) if m == n)
        }
        (NodeKind::Seq(xs), NodeKind::Seq(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_json(x, y))
        }
        (NodeKind::Map(xs), NodeKind::Map(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|(x, y)| key_of(x) == key_of(y) && same_json(&x.value, &y.value))
        }
        _ => a.kind == b.kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kedalint_rules::source::from_json;

    /// The members of a request this pass reads.
    const REQUEST: &str = r#""uid":"u","kind":{"group":"g","version":"v","kind":"k"},"resource":{"group":"g","version":"v","resource":"r"},"operation":"CREATE","userInfo":{}"#;

    /// A review with `top` added to its members and `request` to its request's.
    fn body(top: &str, request: &str) -> String {
        format!(r#"{{"apiVersion":"v","kind":"k"{top},"request":{{{REQUEST}{request}}}}}"#)
    }

    /// The trees of this pass against `from_json` of a `Value` of the same text.
    fn same_tree_as_value(object: &str) {
        let body = body("", &format!(r#","object":{object}"#));
        let parts = parts(body.as_bytes()).expect("read in one pass");
        let value: Value = serde_json::from_str(object).unwrap();
        assert_eq!(parts.object.unwrap(), from_json(&value), "{object}");
    }

    #[test]
    fn object_trees_equal_those_built_from_a_value() {
        same_tree_as_value(
            r#"{"b": 1, "a": [true, null, "x", -5, 1.50, 1e3, 18446744073709551615]}"#,
        );
        same_tree_as_value(
            r#"{"spec": {"z": {}, "y": [], "x": "\u00e9\n"}, "kind": "ScaledObject"}"#,
        );
    }

    #[test]
    fn repeated_keys_keep_the_last_value_in_sorted_place_as_a_value_map_does() {
        same_tree_as_value(r#"{"b": 1, "a": 2, "b": 3, "c": 4, "b": 5}"#);
    }

    #[test]
    fn what_this_pass_cannot_reproduce_is_left_to_the_reference_path() {
        let plain = body("", "");
        assert!(parts(plain.as_bytes()).is_some());
        let replaced = |from: &str, to: &str| {
            assert!(plain.contains(from), "{from}");
            plain.replacen(from, to, 1)
        };
        for body in [
            body(r#","request":{}"#, ""),
            body(r#","response":{"uid":"u","allowed":true}"#, ""),
            body("", r#","uid":"again""#),
            body("", r#","object":{},"object":{}"#),
            body("", r#","object":{"$serde_json::private::RawValue":"{}"}"#),
            body("", r#","somethingNew":1"#),
            replaced(r#""operation":"CREATE""#, r#""operation":"Create""#),
            replaced(r#""kind":"k"}"#, r#""kind":"k","x":1}"#),
            replaced(
                r#""resource":"r"}"#,
                r#""resource":"r","api_version":"g/v"}"#,
            ),
            replaced(
                r#""userInfo":{}"#,
                r#""userInfo":{"extra":{"$serde_json::private::RawValue":["x"]}}"#,
            ),
            replaced(r#""userInfo":{}"#, r#""userInfo":{"username":"a","x":[]}"#),
            replaced(
                r#"{"apiVersion""#,
                r#"{"$serde_json::private::RawValue":"{}","apiVersion""#,
            ),
            replaced(r#""request":{"#, r#""request":"not an object","x":{"#),
            format!("{plain} trailing"),
            "[1, 2]".to_owned(),
        ] {
            assert!(parts(body.as_bytes()).is_none(), "{body}");
        }
    }

    #[test]
    fn nesting_deeper_than_a_value_allows_is_refused_here_too() {
        let deep = body(
            "",
            &format!(r#","object":{}{}"#, "[".repeat(200), "]".repeat(200)),
        );
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        assert!(parts(deep.as_bytes()).is_none());
        let shallow = deep
            .replace(&"[".repeat(200), "[")
            .replace(&"]".repeat(200), "]");
        assert!(parts(shallow.as_bytes()).is_some());
    }

    #[test]
    fn trees_turn_back_into_the_value_they_were_read_from() {
        let text =
            r#"{"b": [1, -2, 2.5, 1e300, -0.0, true, false, null, "null", "5"], "a": {"x": {}}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(to_value(&from_json(&value)), value);
    }

    #[test]
    fn trees_compare_as_their_values_do() {
        let tree = |text: &str| from_json(&serde_json::from_str::<Value>(text).unwrap());
        for (a, b) in [
            ("[0.0]", "[-0.0]"),
            (r#"{"a": 1, "b": "x"}"#, r#"{"b": "x", "a": 1}"#),
            ("[1, 2]", "[1, 2.0]"),
            ("[1]", r#"["1"]"#),
            ("null", r#""null""#),
            ("{}", "[]"),
        ] {
            let (x, y): (Value, Value) = (
                serde_json::from_str(a).unwrap(),
                serde_json::from_str(b).unwrap(),
            );
            assert_eq!(same_json(&tree(a), &tree(b)), x == y, "{a} vs {b}");
        }
    }
}
