//! `--fix` and `--diff`: apply the edits that rules attach to findings, byte-exact, and relint.
//!
//! Rules only attach a [`Fix`] (byte-range edits) to a finding; everything else happens here:
//! choosing which fixes apply (`changes_behaviour` ones only with `--unsafe-fixes`), skipping a
//! fix whose edits overlap an edit already taken, copying every other byte unchanged, relinting,
//! and repeating a few rounds because one fix can make another possible.

use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::Range;
use std::time::Duration;

use kedalint_rules::{Fix, Settings, SourceFile};
use similar::{Algorithm, TextDiff};

use crate::discover::STDIN_NAME;
use crate::render::Linted;
use crate::run::lint_all;
use crate::{Error, Result};

/// Most fix-relint rounds: a fix skipped for overlapping another is tried again next round, and a
/// fix can enable another; a rule whose fix does not remove its finding cannot loop for ever.
pub const MAX_ROUNDS: usize = 4;

/// Whether a fix is applied under the given `--unsafe-fixes` choice.
#[must_use]
pub fn applies(fix: &Fix, unsafe_fixes: bool) -> bool {
    !fix.changes_behaviour || unsafe_fixes
}

fn valid(text: &str, span: &Range<usize>) -> bool {
    span.start <= span.end
        && span.end <= text.len()
        && text.is_char_boundary(span.start)
        && text.is_char_boundary(span.end)
}

/// Two edits conflict when their ranges overlap, an insertion falls strictly inside a replaced
/// range, or two insertions land on the same point (their order would be a guess).
fn conflicts(a: &Range<usize>, b: &Range<usize>) -> bool {
    (a.start < b.end && b.start < a.end) || (a.is_empty() && b.is_empty() && a.start == b.start)
}

/// Applies `fixes` to `text`. Fixes are taken in order of their first edit; a fix is applied whole
/// or not at all: it is skipped when any of its edits is out of bounds, splits a character, or
/// conflicts with an edit already taken. A fix identical to one taken counts as applied (two
/// findings with the same remedy). Returns the new text and how many fixes were applied.
#[must_use]
pub fn apply_fixes<'a>(text: &str, fixes: impl IntoIterator<Item = &'a Fix>) -> (String, usize) {
    let mut fixes: Vec<&Fix> = fixes
        .into_iter()
        .filter(|f| !f.edits.is_empty() && f.edits.iter().all(|e| valid(text, &e.span)))
        .collect();
    fixes.sort_by_key(|f| f.edits.iter().map(|e| (e.span.start, e.span.end)).min());
    let mut taken: Vec<&Fix> = Vec::new();
    let mut applied = 0;
    for fix in fixes {
        if taken.iter().any(|t| t.edits == fix.edits) {
            applied += 1;
            continue;
        }
        let self_overlap = fix.edits.iter().enumerate().any(|(i, a)| {
            fix.edits[i + 1..]
                .iter()
                .any(|b| conflicts(&a.span, &b.span))
        });
        let clash = taken
            .iter()
            .flat_map(|t| &t.edits)
            .any(|t| fix.edits.iter().any(|e| conflicts(&t.span, &e.span)));
        if self_overlap || clash {
            continue;
        }
        taken.push(fix);
        applied += 1;
    }
    let mut edits: Vec<_> = taken.iter().flat_map(|f| &f.edits).collect();
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for e in edits {
        out.push_str(&text[pos..e.span.start]);
        out.push_str(&e.replacement);
        pos = e.span.end;
    }
    out.push_str(&text[pos..]);
    (out, applied)
}

/// A file that fixing changed.
#[derive(Debug, Clone)]
pub struct Change {
    /// The file's name as given (a path relative to the working directory, or `<stdin>`).
    pub name: String,
    /// The text as read.
    pub before: String,
    /// The text after every round.
    pub after: String,
    /// How many fixes were applied to it.
    pub fixed: usize,
}

/// What a fixing run produced.
#[derive(Debug)]
pub struct Outcome {
    /// The files as read, linted (what `--diff` reports: nothing was written).
    pub before: Vec<Linted>,
    /// The files after fixing, relinted (what `--fix` reports).
    pub after: Vec<Linted>,
    /// The files that changed, in input order.
    pub changes: Vec<Change>,
}

impl Outcome {
    /// Fixes applied, over all files.
    #[must_use]
    pub fn fixed(&self) -> usize {
        self.changes.iter().map(|c| c.fixed).sum()
    }

    /// Remaining findings whose fix was not applied because it changes behaviour.
    #[must_use]
    pub fn unsafe_left(&self) -> usize {
        self.after
            .iter()
            .flat_map(|l| &l.report.findings)
            .filter(|f| f.fix.as_ref().is_some_and(|x| x.changes_behaviour))
            .count()
    }
}

fn copy(linted: &[Linted]) -> Vec<Linted> {
    linted
        .iter()
        .map(|l| Linted {
            file: l.file.clone(),
            report: l.report.clone(),
        })
        .collect()
}

/// Lints, applies the applicable fixes, relints, up to [`MAX_ROUNDS`] times. Writes nothing.
#[must_use]
pub fn fix_all(files: Vec<SourceFile>, settings: &Settings, unsafe_fixes: bool) -> Outcome {
    let originals: Vec<String> = files.iter().map(|f| f.text.clone()).collect();
    let before = lint_all(files, settings);
    let mut current = copy(&before);
    let mut fixed = vec![0; current.len()];
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        let next: Vec<SourceFile> = current
            .iter()
            .zip(&mut fixed)
            .map(|(l, count)| {
                let fixes = l
                    .report
                    .findings
                    .iter()
                    .filter_map(|f| f.fix.as_ref())
                    .filter(|f| applies(f, unsafe_fixes));
                let (text, n) = apply_fixes(&l.file.text, fixes);
                if text == l.file.text {
                    // Unchanged files keep what they were read as (an oversized input stays one).
                    return l.file.clone();
                }
                changed = true;
                *count += n;
                SourceFile::new(l.file.name.clone(), text)
            })
            .collect();
        if !changed {
            break;
        }
        current = lint_all(next, settings);
    }
    let changes = current
        .iter()
        .zip(originals)
        .zip(fixed)
        .filter(|((l, before), _)| l.file.text != *before)
        .map(|((l, before), fixed)| Change {
            name: l.file.name.clone(),
            before,
            after: l.file.text.clone(),
            fixed,
        })
        .collect();
    Outcome {
        before,
        after: current,
        changes,
    }
}

/// "fixed 3 findings in 2 files" (or "would fix …" for `--diff`), with a note about fixes left for
/// `--unsafe-fixes`.
#[must_use]
pub fn summary(outcome: &Outcome, dry_run: bool, unsafe_fixes: bool) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut s = format!(
        "{} {} in {}",
        if dry_run { "would fix" } else { "fixed" },
        plural(outcome.fixed(), "finding"),
        plural(outcome.changes.len(), "file")
    );
    let left = outcome.unsafe_left();
    if left > 0 && !unsafe_fixes {
        let _ = write!(
            s,
            "; {left} more {} with --unsafe-fixes (they change scaling behaviour)",
            if left == 1 { "finding" } else { "findings" }
        );
    }
    s
}

/// Writes the outcome: with `dry_run` (`--diff`) a unified diff per changed file on stdout and
/// nothing else; otherwise each changed file rewritten in place, and the text read from stdin (fixed
/// or not, so the command works as a filter) on stdout.
///
/// # Errors
/// A file that cannot be written.
pub fn emit(changes: &[Change], stdin_text: Option<&str>, dry_run: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if dry_run {
        for c in changes {
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(unified_diff(&c.name, &c.before, &c.after).as_bytes());
        }
        return Ok(());
    }
    for c in changes.iter().filter(|c| c.name != STDIN_NAME) {
        std::fs::write(&c.name, &c.after).map_err(|source| Error::Write {
            path: c.name.clone(),
            source,
        })?;
    }
    if let Some(text) = stdin_text {
        let _ = out.write_all(text.as_bytes());
    }
    Ok(())
}

/// Context lines around each change in [`unified_diff`].
const CONTEXT: usize = 3;

/// How long one file's line diff may search for the shortest edit script; past it the diff is
/// still correct (applying it gives the fixed file) but may replace a longer run of lines than
/// needed. Fixes change few lines, so real files finish far sooner.
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// A unified diff (`git apply` and `patch -p1` read it) from `before` to `after` of file `name`,
/// with 3 lines of context and GNU-style hunk ranges; empty when the texts are equal.
#[must_use]
pub fn unified_diff(name: &str, before: &str, after: &str) -> String {
    if before == after {
        return String::new();
    }
    TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(before, after)
        .unified_diff()
        .context_radius(CONTEXT)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use kedalint_rules::Edit;

    use super::*;

    fn fix(edits: &[(Range<usize>, &str)], changes_behaviour: bool) -> Fix {
        Fix {
            title: "t".to_owned(),
            edits: edits
                .iter()
                .map(|(span, r)| Edit {
                    span: span.clone(),
                    replacement: (*r).to_owned(),
                })
                .collect(),
            changes_behaviour,
        }
    }

    #[test]
    fn edits_apply_in_position_order_and_leave_every_other_byte() {
        let text = "a: 1 # one\nb: 2\n";
        let fixes = [fix(&[(11..12, "x")], false), fix(&[(3..4, "\"1\"")], false)];
        assert_eq!(
            apply_fixes(text, &fixes),
            ("a: \"1\" # one\nx: 2\n".to_owned(), 2)
        );
    }

    #[test]
    fn an_overlapping_fix_is_skipped_whole() {
        let text = "abcdef";
        let fixes = [
            fix(&[(1..3, "X")], false),
            fix(&[(2..4, "Y"), (5..6, "Z")], false),
        ];
        assert_eq!(apply_fixes(text, &fixes), ("aXdef".to_owned(), 1));
    }

    #[test]
    fn two_insertions_at_one_point_conflict_but_an_identical_fix_counts_once_applied() {
        let text = "ab";
        let same = [fix(&[(1..1, "X")], false), fix(&[(1..1, "X")], false)];
        assert_eq!(apply_fixes(text, &same), ("aXb".to_owned(), 2));
        let different = [fix(&[(1..1, "X")], false), fix(&[(1..1, "Y")], false)];
        assert_eq!(apply_fixes(text, &different).1, 1);
    }

    #[test]
    fn out_of_bounds_or_mid_character_edits_are_never_applied() {
        let text = "é";
        let fixes = [fix(&[(1..2, "")], false), fix(&[(0..9, "")], false)];
        assert_eq!(apply_fixes(text, &fixes), ("é".to_owned(), 0));
    }

    #[test]
    fn unsafe_fixes_apply_only_when_asked() {
        let f = fix(&[(0..1, "")], true);
        assert!(!applies(&f, false));
        assert!(applies(&f, true));
    }

    #[test]
    fn diff_of_a_changed_line_has_context_and_gnu_ranges() {
        let before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified_diff("f.yaml", before, after),
            "--- a/f.yaml\n+++ b/f.yaml\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn diff_marks_a_missing_final_newline_and_handles_pure_insertions() {
        assert_eq!(
            unified_diff("f", "a", "a\nb"),
            "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n\\ No newline at end of file\n"
        );
        assert_eq!(
            unified_diff("f", "", "x\n"),
            "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n"
        );
        assert_eq!(unified_diff("f", "same\n", "same\n"), "");
    }

    #[test]
    fn distant_changes_get_separate_hunks() {
        let before: String = (1..=20).map(|i| format!("l{i}\n")).collect();
        let after = before.replace("l2\n", "two\n").replace("l19\n", "");
        let d = unified_diff("f", &before, &after);
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("@@ -1,5 +1,5 @@\n l1\n-l2\n+two\n"), "{d}");
        assert!(
            d.contains("@@ -16,5 +16,4 @@\n l16\n l17\n l18\n-l19\n l20\n"),
            "{d}"
        );
    }
}
