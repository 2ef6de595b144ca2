//! Unit tests of the replay model, each with its numbers worked out by hand from notes/replay-semantics.md.
