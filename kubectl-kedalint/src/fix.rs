//! `--fix` and `--diff`: apply the edits that rules attach to findings, byte-exact, and relint.
//!
//! Rules only attach a [`Fix`] (byte-range edits) to a finding; everything else happens here:
//! choosing which fixes apply (`changes_behaviour` ones only with `--unsafe-fixes`), skipping a
//! fix whose edits overlap an edit already taken, copying every other byte unchanged, relinting,
//! and repeating a few rounds because one fix can make another possible.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::Range;
use std::time::Duration;

use kedalint_rules::lint::{Inventory, ParsedFile, inventory_of, lint_parsed};
use kedalint_rules::{Fix, Settings, SourceFile};
use similar::{Algorithm, TextDiff};

use crate::discover::STDIN_NAME;
use crate::render::Linted;
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
///
/// Edits taken are kept ordered by position, so each fix is checked against its neighbours only
/// (a scan of every edit taken per fix was quadratic in a file of many findings).
#[must_use]
pub fn apply_fixes<'a>(text: &str, fixes: impl IntoIterator<Item = &'a Fix>) -> (String, usize) {
    let mut fixes: Vec<&Fix> = fixes
        .into_iter()
        .filter(|f| !f.edits.is_empty() && f.edits.iter().all(|e| valid(text, &e.span)))
        .collect();
    fixes.sort_by_key(|f| f.edits.iter().map(|e| (e.span.start, e.span.end)).min());
    let mut taken_fixes: HashSet<Vec<(usize, usize, &str)>> = HashSet::new();
    // Every edit taken, by (start, end): no two conflict, so their ends never decrease.
    let mut taken: BTreeMap<(usize, usize), &str> = BTreeMap::new();
    let mut applied = 0;
    for fix in fixes {
        let key: Vec<_> = fix
            .edits
            .iter()
            .map(|e| (e.span.start, e.span.end, e.replacement.as_str()))
            .collect();
        if taken_fixes.contains(&key) {
            applied += 1;
            continue;
        }
        let self_overlap = fix.edits.iter().enumerate().any(|(i, a)| {
            fix.edits[i + 1..]
                .iter()
                .any(|b| conflicts(&a.span, &b.span))
        });
        let clash = fix.edits.iter().any(|e| {
            // Edits starting after `e` ends cannot conflict with it; going back from there, the
            // first that ends before `e` starts is where conflicts stop.
            taken
                .range(..=(e.span.end, usize::MAX))
                .rev()
                .take_while(|((_, end), _)| *end >= e.span.start)
                .any(|((start, end), _)| conflicts(&(*start..*end), &e.span))
        });
        if self_overlap || clash {
            continue;
        }
        for e in &fix.edits {
            taken.insert((e.span.start, e.span.end), &e.replacement);
        }
        taken_fixes.insert(key);
        applied += 1;
    }
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for ((start, end), replacement) in taken {
        out.push_str(&text[pos..start]);
        out.push_str(replacement);
        pos = end;
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

/// One file fixed: what `--diff` reports, what `--fix` reports, and the change if there is one.
#[derive(Debug)]
pub struct Fixed {
    /// The file as read, linted.
    pub before: Linted,
    /// The file after fixing, relinted; `None` when no fix applied (it is `before`).
    pub after: Option<Linted>,
    /// How many fixes were applied to it.
    pub fixed: usize,
}

impl Fixed {
    /// The file after fixing, linted (`before` when nothing changed).
    #[must_use]
    pub fn after(&self) -> &Linted {
        self.after.as_ref().unwrap_or(&self.before)
    }

    /// The file after fixing, when fixing changed its text.
    #[must_use]
    pub fn changed(&self) -> Option<&Linted> {
        self.after
            .as_ref()
            .filter(|a| a.file.text != self.before.file.text)
    }

    /// The change, when fixing changed the text.
    #[must_use]
    pub fn change(&self) -> Option<Change> {
        self.changed().map(|a| Change {
            name: a.file.name.clone(),
            before: self.before.file.text.clone(),
            after: a.file.text.clone(),
            fixed: self.fixed,
        })
    }
}

/// Applies the applicable fixes to one linted file and relints it against `inventory` (the
/// context from every file as read), up to [`MAX_ROUNDS`] times. Writes nothing.
#[must_use]
pub fn fix_file(
    before: Linted,
    settings: &Settings,
    inventory: &Inventory,
    unsafe_fixes: bool,
) -> Fixed {
    let mut after: Option<Linted> = None;
    let mut fixed = 0;
    for _ in 0..MAX_ROUNDS {
        let current = after.as_ref().unwrap_or(&before);
        let fixes = current
            .report
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .filter(|f| applies(f, unsafe_fixes));
        let (text, n) = apply_fixes(&current.file.text, fixes);
        if text == current.file.text {
            break;
        }
        fixed += n;
        let parsed = ParsedFile::parse(SourceFile::new(current.file.name.clone(), text));
        let report = lint_parsed(&parsed, settings, inventory);
        after = Some(Linted {
            file: parsed.file,
            report,
        });
    }
    Fixed {
        before,
        after,
        fixed,
    }
}

/// What a fixing run did, counted file by file for its closing line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Fixes applied, over all files.
    pub fixed: usize,
    /// Files that changed.
    pub files: usize,
    /// Remaining findings whose fix was not applied because it changes behaviour.
    pub unsafe_left: usize,
}

impl Tally {
    /// Counts one file.
    pub fn add(&mut self, f: &Fixed) {
        if f.after
            .as_ref()
            .is_some_and(|a| a.file.text != f.before.file.text)
        {
            self.fixed += f.fixed;
            self.files += 1;
        }
        self.unsafe_left += f
            .after()
            .report
            .findings
            .iter()
            .filter(|f| f.fix.as_ref().is_some_and(|x| x.changes_behaviour))
            .count();
    }
}

/// What fixing files together produced (every file held: for a few files, as `replay` fixes).
#[derive(Debug)]
pub struct Outcome {
    /// The files that changed, in input order.
    pub changes: Vec<Change>,
}

/// Lints `files` with the context they give each other, then fixes each with [`fix_file`].
#[must_use]
pub fn fix_all(files: Vec<SourceFile>, settings: &Settings, unsafe_fixes: bool) -> Outcome {
    let parsed: Vec<ParsedFile> = files.into_iter().map(ParsedFile::parse).collect();
    let inventory = inventory_of(&parsed);
    let changes = parsed
        .into_iter()
        .filter_map(|p| {
            let report = lint_parsed(&p, settings, &inventory);
            let before = Linted {
                file: p.file,
                report,
            };
            fix_file(before, settings, &inventory, unsafe_fixes).change()
        })
        .collect();
    Outcome { changes }
}

/// "fixed 3 findings in 2 files" (or "would fix …" for `--diff`), with a note about fixes left for
/// `--unsafe-fixes`.
#[must_use]
pub fn summary(tally: Tally, dry_run: bool, unsafe_fixes: bool) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut s = format!(
        "{} {} in {}",
        if dry_run { "would fix" } else { "fixed" },
        plural(tally.fixed, "finding"),
        plural(tally.files, "file")
    );
    let left = tally.unsafe_left;
    if left > 0 && !unsafe_fixes {
        let _ = write!(
            s,
            "; {left} more {} with --unsafe-fixes (they change scaling behaviour)",
            if left == 1 { "finding" } else { "findings" }
        );
    }
    s
}

/// Writes one file's change from `before` to `after`: with `dry_run` (`--diff`) its unified diff on
/// stdout and nothing else; otherwise the file rewritten in place (the text read from stdin is the
/// caller's to write out, fixed or not: see [`passthrough`]).
///
/// # Errors
/// A file that cannot be written.
pub fn emit(name: &str, before: &str, after: &str, dry_run: bool) -> Result<()> {
    if dry_run {
        // A closed pipe (`| head`) is not an error worth a message.
        let diff = unified_diff(name, before, after);
        let _ = std::io::stdout().lock().write_all(diff.as_bytes());
    } else if name != STDIN_NAME {
        std::fs::write(name, after).map_err(|source| Error::Write {
            path: name.to_owned(),
            source,
        })?;
    }
    Ok(())
}

/// Writes the text read from stdin, as fixed, on stdout, so `--fix -` works as a filter.
pub fn passthrough(text: &str) {
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
    fn a_fix_with_one_edit_inside_an_edit_taken_is_skipped_whole_however_far_its_others_lie() {
        let text = "0123456789abcdef";
        let fixes = [
            fix(&[(0..8, "long")], false),
            fix(&[(8..9, "x")], false),
            fix(&[(9..10, "y")], false),
            // One edit far after the others, one inside the first edit taken.
            fix(&[(12..13, "Z"), (4..4, "!")], false),
            fix(&[(10..10, "^")], false),
        ];
        assert_eq!(apply_fixes(text, &fixes), ("longxy^abcdef".to_owned(), 4));
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
