//! Notes: what a run could not check (a server not probed, a query that did not run, a Service
//! that could not be read), said in every output beside the findings so that CI reading JSON,
//! SARIF or JUnit does not take "no finding" for "checked and fine".
//!
//! Any step that gathers facts (online probes, cluster reads, replay) adds notes; renderers
//! carry them as they are. A note is not a finding: it has no code or severity and never changes
//! the exit code.

use std::fmt;

use serde::Serialize;

use crate::finding::ObjectRef;

/// One thing a run could not check, with whichever of object, field path and server apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// One sentence: what was not checked and why.
    pub message: String,
    /// The object it concerns, when one does.
    pub object: Option<ObjectRef>,
    /// The field path in that object (`spec.triggers[0].metadata.query`), when one applies.
    pub path: Option<String>,
    /// The `serverAddress` it concerns, as written in the trigger, when one applies.
    pub server: Option<String>,
}

impl Note {
    /// A note with only a message.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            object: None,
            path: None,
            server: None,
        }
    }

    /// Names the object and field path the note concerns.
    #[must_use]
    pub fn at(mut self, object: ObjectRef, path: impl Into<String>) -> Self {
        self.object = Some(object);
        self.path = Some(path.into()).filter(|p: &String| !p.is_empty());
        self
    }

    /// Names the server the note concerns.
    #[must_use]
    pub fn server(mut self, address: impl Into<String>) -> Self {
        self.server = Some(address.into());
        self
    }

    /// Where the note points, for one-line renderings: `ScaledObject ns/name, spec.…`.
    #[must_use]
    pub fn place(&self) -> Option<String> {
        match (&self.object, &self.path) {
            (Some(o), Some(p)) => Some(format!("{o}, {p}")),
            (Some(o), None) => Some(o.to_string()),
            (None, Some(p)) => Some(p.clone()),
            (None, None) => None,
        }
    }
}

/// The message, followed by the place in parentheses when there is one.
impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match self.place() {
            Some(p) => write!(f, " ({p})"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_says_its_place_after_the_message() {
        let o = ObjectRef {
            api_version: "keda.sh/v1alpha1".to_owned(),
            kind: "ScaledObject".to_owned(),
            namespace: Some("default".to_owned()),
            name: Some("api".to_owned()),
        };
        let n = Note::new("the query `up` was not checked")
            .at(o, "spec.triggers[0].metadata.query")
            .server("http://prom:9090");
        assert_eq!(
            n.to_string(),
            "the query `up` was not checked (ScaledObject default/api, spec.triggers[0].metadata.query)"
        );
        assert_eq!(Note::new("x").to_string(), "x");
    }
}
