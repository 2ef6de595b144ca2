use std::rc::Rc;
use std::sync::LazyLock;

use regex::Regex;

use crate::checker::{Checker, Loc};
use crate::model::Object;
use crate::registry::declare_rule;
use crate::source::{FieldPath, Node, NodeKind};

declare_rule! {
    /// ## What it does
    /// Reports values that still hold a template or placeholder: `{{ .Values.x }}`, `${VAR}`,
    /// `<prometheus-host>`, `[[var]]`, or a `{name}` placeholder that YAML read as a mapping.
    ///
    /// ## Why is this bad?
    /// The manifest was copied from documentation or rendered by a tool that did not run: KEDA
    /// sends the placeholder as is, so the address does not resolve or the query does not parse.
    /// An unquoted `{{ ... }}` is not even a string for YAML.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://<prometheus-host>:9090
    ///   awsRegion: "{{ .Values.region }}"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// metadata:
    ///   serverAddress: http://prometheus-server.monitoring.svc:9090
    ///   awsRegion: eu-west-1
    /// ```
    pub(crate) struct UnrenderedTemplate => "KL006", "unrendered-template", Error;
}

static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{[^}]*\}\}|\$\{[A-Za-z_][A-Za-z0-9_.-]*\}|<[A-Za-z][A-Za-z0-9_. -]*>|\[\[[A-Za-z_][A-Za-z0-9_.-]*\]\]")
        .expect("valid regex")
});
/// In a PromQL query `${var}` and `[[var]]` are dashboard variables (KL210's); `<a>` can be a comparison.
static QUERY_TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{[^}]*\}\}|<[a-z][a-z0-9_-]*-[a-z0-9_-]*>").expect("valid regex")
});

/// The last step of a node's path from its parent's.
#[derive(Clone, Copy)]
enum Step<'n> {
    Root,
    Key(&'n str),
    Index(usize),
}

pub(crate) fn check(cx: &mut Checker<'_>, object: &Object<'_>) {
    // Paths are built for collections and for the scalars reported, not for every scalar.
    let root = Rc::new(object.base_path());
    let mut stack: Vec<(&Node, Rc<FieldPath>, Step<'_>)> = vec![(object.root, root, Step::Root)];
    while let Some((node, parent, step)) = stack.pop() {
        let path = || match step {
            Step::Root => (*parent).clone(),
            Step::Key(k) => parent.key(k),
            Step::Index(i) => parent.index(i),
        };
        match &node.kind {
            NodeKind::Scalar { value, .. } => {
                let re = if matches!(step, Step::Key("query")) {
                    &*QUERY_TEMPLATE
                } else {
                    &*TEMPLATE
                };
                if let Some(m) = re.find(value) {
                    let path = path();
                    let span = cx.span_within(node, m.range());
                    cx.report(
                        &UnrenderedTemplate::INFO,
                        Loc { path: path.clone(), span },
                        format!("`{path}` still holds the placeholder `{}`", m.as_str()),
                    )
                    .help("render the template (helm template, envsubst, kustomize) or write the real value");
                }
            }
            NodeKind::Map(entries) => {
                let path = Rc::new(path());
                if is_flow_placeholder(cx, node) {
                    cx.report(
                        &UnrenderedTemplate::INFO,
                        Loc::node((*path).clone(), node),
                        format!("`{path}` is a `{{...}}` placeholder that YAML reads as a mapping, not a value"),
                    )
                    .help("replace the placeholder with the real value (quote it if it must stay a template)");
                    continue;
                }
                for e in entries.iter().rev() {
                    if let Some(k) = e.key_str() {
                        stack.push((&e.value, Rc::clone(&path), Step::Key(k)));
                    }
                }
            }
            NodeKind::Seq(items) => {
                let path = Rc::new(path());
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((item, Rc::clone(&path), Step::Index(i)));
                }
            }
        }
    }
}

/// `{{.AwsRegion}}` or `{ trigger-authentication-name }` written unquoted: a flow mapping with one
/// key and no value.
fn is_flow_placeholder(cx: &Checker<'_>, node: &Node) -> bool {
    let Some(entries) = node.as_map() else {
        return false;
    };
    let text = cx
        .source()
        .zip(node.span.clone())
        .and_then(|(s, r)| s.get(r));
    let starts_flow = text.is_some_and(|t| t.starts_with('{'));
    starts_flow
        && entries.len() == 1
        && entries[0].value.scalar_type() == Some(crate::source::ScalarType::Null)
        && (entries[0].key.as_map().is_some()
            || entries[0]
                .key
                .as_str()
                .is_some_and(|k| k.starts_with('.') || k.contains('-') || k.contains('_')))
}
