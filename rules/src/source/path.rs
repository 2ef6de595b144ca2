//! Field paths such as `spec.triggers[0].metadata.query`: the symbolic location of a finding.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

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
///
/// Rules build a path for every field they look at, most of which never reach a finding, so a
/// longer path shares the shorter one it extends: [`key`](Self::key) and [`index`](Self::index)
/// add one link, whatever the depth.
#[derive(Clone, Default)]
pub struct FieldPath(Option<Arc<Link>>);

/// The last segment of a path, and the path before it.
struct Link {
    parent: FieldPath,
    segment: PathSegment,
    /// How many segments the path has, this one included.
    len: usize,
}

impl FieldPath {
    /// The empty path (the document root).
    #[must_use]
    pub fn root() -> Self {
        Self(None)
    }

    fn push(&self, segment: PathSegment) -> Self {
        Self(Some(Arc::new(Link {
            parent: self.clone(),
            segment,
            len: self.len() + 1,
        })))
    }

    /// How many segments the path has.
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |l| l.len)
    }

    /// This path with a key appended.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        self.push(PathSegment::Key(key.to_owned()))
    }

    /// This path with an index appended.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        self.push(PathSegment::Index(index))
    }

    /// The segments, from the root.
    #[must_use]
    pub fn segments(&self) -> Vec<&PathSegment> {
        let mut out: Vec<&PathSegment> = self.links().map(|l| &l.segment).collect();
        out.reverse();
        out
    }

    /// The links from the last segment back to the root.
    fn links(&self) -> impl Iterator<Item = &Link> {
        std::iter::successors(self.0.as_deref(), |l| l.parent.0.as_deref())
    }

    /// Parses the printed form back (used by tests and configuration).
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut out = Self::root();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            if !name.is_empty() {
                out = out.key(name);
            }
            while let Some((idx, tail)) = rest.split_once(']') {
                if let Ok(i) = idx.parse() {
                    out = out.index(i);
                }
                rest = tail.trim_start_matches('[');
            }
        }
        out
    }
}

impl PartialEq for FieldPath {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.links().zip(other.links()).all(|(a, b)| {
                // Paths built from the same prefix share it: nothing further to compare.
                std::ptr::eq(a, b) || a.segment == b.segment
            })
    }
}

impl Eq for FieldPath {}

impl Hash for FieldPath {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.len().hash(state);
        for l in self.links() {
            l.segment.hash(state);
        }
    }
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FieldPath").field(&self.segments()).finish()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments().into_iter().enumerate() {
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
