//! Field paths such as `spec.triggers[0].metadata.query`: the symbolic location of a finding.

use std::fmt;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A path from a document's root to a node, printed the way `kubectl explain` and API server
/// errors print them: `spec.triggers[0].metadata["ignoreNullValue"]` only when a key needs quoting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<PathSegment>);

impl FieldPath {
    /// The empty path (the document root).
    #[must_use]
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with a key appended.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(PathSegment::Key(key.to_owned()));
        next
    }

    /// This path with an index appended.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(PathSegment::Index(index));
        next
    }

    /// The segments.
    #[must_use]
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// Parses the printed form back (used by tests and configuration).
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut out = Vec::new();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            if !name.is_empty() {
                out.push(PathSegment::Key(name.to_owned()));
            }
            while let Some((idx, tail)) = rest.split_once(']') {
                if let Ok(i) = idx.parse() {
                    out.push(PathSegment::Index(i));
                }
                rest = tail.trim_start_matches('[');
            }
        }
        Self(out)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSegment::Index(n) => write!(f, "[{n}]")?,
                PathSegment::Key(k)
                    if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathSegment::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_api_server_errors() {
        let p = FieldPath::root()
            .key("spec")
            .key("triggers")
            .index(0)
            .key("metadata")
            .key("query");
        assert_eq!(p.to_string(), "spec.triggers[0].metadata.query");
        let a = FieldPath::root()
            .key("metadata")
            .key("annotations")
            .key("kedalint.io/ignore");
        assert_eq!(
            a.to_string(),
            "metadata.annotations[\"kedalint.io/ignore\"]"
        );
        assert_eq!(FieldPath::parse("spec.triggers[0].metadata.query"), p);
    }
}
