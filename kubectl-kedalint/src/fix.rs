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

use kedalint_rules::lint::{Inventory, ParsedFile, inventory_of, lint_parsed};
use kedalint_rules::{Fix, Settings, SourceFile};
use similar::udiff::UnifiedHunkHeader;
use similar::{Algorithm, DiffOp, DiffTag, TextDiff, group_diff_ops};

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
    let (out, applied, _) = apply_edits(text, fixes);
    (out, applied)
}

/// One edit taken: the byte range it replaced and the length of what replaced it.
type Taken = (Range<usize>, usize);

/// [`apply_fixes`], also giving the edits taken, in position order.
fn apply_edits<'a>(
    text: &str,
    fixes: impl IntoIterator<Item = &'a Fix>,
) -> (String, usize, Vec<Taken>) {
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
    let mut edits = Vec::with_capacity(taken.len());
    for ((start, end), replacement) in taken {
        out.push_str(&text[pos..start]);
        out.push_str(replacement);
        pos = end;
        edits.push((start..end, replacement.len()));
    }
    out.push_str(&text[pos..]);
    (out, applied, edits)
}

/// Where two texts differ: a byte range of the text as read and the range that replaced it in
/// the text as fixed. Every byte outside the spans is the same in both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The range in the text as read.
    pub old: Range<usize>,
    /// The range in the text as fixed.
    pub new: Range<usize>,
}

/// Composes the spans changed so far (from the text as read to `current`) with one round's edits
/// (ranges of `current`, in position order, none overlapping): the spans from the text as read to
/// the text after the round. Spans and edits that overlap or touch become one span.
fn compose(spans: &[Span], edits: &[Taken]) -> Vec<Span> {
    // Both lists in `current`'s coordinates: a span moves by how much it grew, an edit by how
    // much it grows the text.
    let mut items: Vec<(Range<usize>, isize, isize)> = spans
        .iter()
        .map(|s| (s.new.clone(), len_diff(s.new.len(), s.old.len()), 0))
        .chain(
            edits
                .iter()
                .map(|(r, n)| (r.clone(), 0, len_diff(*n, r.len()))),
        )
        .collect();
    items.sort_by_key(|(r, _, _)| (r.start, r.end));
    // `grown`: how much longer `current` is than the text as read before the point reached;
    // `growing`: how much longer the round makes the text before it.
    let (mut grown, mut growing) = (0isize, 0isize);
    let mut out: Vec<Span> = Vec::new();
    let mut group: Option<(Range<usize>, isize, isize)> = None;
    let mut close = |(r, g, d): (Range<usize>, isize, isize), grown: &mut isize, growing: &mut isize| {
        let old = shift(r.start, -*grown)..shift(r.end, -(*grown + g));
        let new = shift(r.start, *growing)..shift(r.end, *growing + d);
        *grown += g;
        *growing += d;
        out.push(Span { old, new });
    };
    for (r, g, d) in items {
        group = match group {
            Some((gr, gg, gd)) if r.start <= gr.end => {
                Some((gr.start..gr.end.max(r.end), gg + g, gd + d))
            }
            Some(done) => {
                close(done, &mut grown, &mut growing);
                Some((r, g, d))
            }
            None => Some((r, g, d)),
        };
    }
    if let Some(done) = group {
        close(done, &mut grown, &mut growing);
    }
    out
}

fn len_diff(a: usize, b: usize) -> isize {
    a.cast_signed() - b.cast_signed()
}

fn shift(pos: usize, by: isize) -> usize {
    pos.saturating_add_signed(by)
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
    /// Where the text as fixed differs from the text as read, in position order.
    pub spans: Vec<Span>,
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
    let mut spans = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let current = after.as_ref().unwrap_or(&before);
        let fixes = current
            .report
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .filter(|f| applies(f, unsafe_fixes));
        let (text, n, edits) = apply_edits(&current.file.text, fixes);
        if text == current.file.text {
            break;
        }
        fixed += n;
        spans = compose(&spans, &edits);
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
        spans,
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

/// Writes one file's change, when fixing changed it: with `dry_run` (`--diff`) its unified diff on
/// stdout and nothing else; otherwise the file rewritten in place (the text read from stdin is the
/// caller's to write out, fixed or not: see [`passthrough`]).
///
/// # Errors
/// A file that cannot be written.
pub fn emit(fixed: &Fixed, dry_run: bool) -> Result<()> {
    let Some(after) = fixed.changed() else {
        return Ok(());
    };
    let name = after.file.name.as_str();
    if dry_run {
        let before = fixed.before.file.text.as_str();
        let diff = unified_diff_of(name, before, &after.file.text, &fixed.spans);
        // A closed pipe (`| head`) is not an error worth a message.
        let _ = std::io::stdout().lock().write_all(diff.as_bytes());
    } else if name != STDIN_NAME {
        std::fs::write(name, &after.file.text).map_err(|source| Error::Write {
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

/// A unified diff (`git apply` and `patch -p1` read it) from `before` to `after` of file `name`,
/// with 3 lines of context and GNU-style hunk ranges; empty when the texts are equal. The lines
/// between the first and the last that differ are diffed as one region: use [`unified_diff_of`]
/// when the spans that differ are known.
#[must_use]
pub fn unified_diff(name: &str, before: &str, after: &str) -> String {
    let prefix = before
        .bytes()
        .zip(after.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = before.as_bytes()[prefix..]
        .iter()
        .rev()
        .zip(after.as_bytes()[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let span = Span {
        old: prefix..before.len() - suffix,
        new: prefix..after.len() - suffix,
    };
    unified_diff_of(name, before, after, &[span])
}

/// [`unified_diff`] from the spans where `before` and `after` differ (every byte outside them is
/// the same in both, as [`Fixed::spans`]): only the lines around each span are diffed (Myers, as
/// `similar` does, with no deadline), so the diff takes time linear in the file plus what each
/// region needs, and is the same on every run. The hunks are those of one diff of the whole
/// texts: 3 lines of context, hunks whose context would overlap joined.
#[must_use]
pub fn unified_diff_of(name: &str, before: &str, after: &str, spans: &[Span]) -> String {
    if before == after {
        return String::new();
    }
    let (old_lines, new_lines) = (line_starts(before), line_starts(after));
    let line = |starts: &[usize], i: usize| starts[i]..starts[i + 1];
    let mut ops: Vec<DiffOp> = Vec::new();
    let (mut old_at, mut new_at) = (0, 0);
    for (o, n) in line_regions(before, after, &old_lines, &new_lines, spans) {
        push_op(&mut ops, equal(old_at, new_at, o.start - old_at));
        let region = TextDiff::configure().algorithm(Algorithm::Myers).diff_lines(
            &before[old_lines[o.start]..old_lines[o.end]],
            &after[new_lines[n.start]..new_lines[n.end]],
        );
        for op in region.ops() {
            push_op(&mut ops, moved(*op, o.start, n.start));
        }
        (old_at, new_at) = (o.end, n.end);
    }
    push_op(
        &mut ops,
        equal(old_at, new_at, old_lines.len() - 1 - old_at),
    );
    let mut out = String::new();
    for hunk in group_diff_ops(ops, CONTEXT) {
        if out.is_empty() {
            let _ = writeln!(out, "--- a/{name}\n+++ b/{name}");
        }
        let _ = writeln!(out, "{}", UnifiedHunkHeader::new(&hunk));
        for op in &hunk {
            let (tag, o, n) = op.as_tag_tuple();
            let (old_sign, o, n) = match tag {
                DiffTag::Equal => (' ', o, 0..0),
                DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => ('-', o, n),
            };
            let olds = o.map(|i| (old_sign, &before[line(&old_lines, i)]));
            let news = n.map(|i| ('+', &after[line(&new_lines, i)]));
            for (sign, text) in olds.chain(news) {
                out.push(sign);
                out.push_str(text);
                if !text.ends_with(['\r', '\n']) {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// Where each line of `text` starts, as `similar` splits lines (after `\n`, `\r\n` or a lone
/// `\r`), then `text.len()`.
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, b) in bytes.iter().enumerate() {
        let ends = *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if ends && i + 1 < bytes.len() {
            starts.push(i + 1);
        }
    }
    if !text.is_empty() {
        starts.push(text.len());
    }
    starts
}

/// The line ranges of `before` and `after` to diff: each span widened to whole lines (a line that
/// may end differently in the two texts, after a `\r`, taken too), joined where they meet.
fn line_regions(
    before: &str,
    after: &str,
    old_lines: &[usize],
    new_lines: &[usize],
    spans: &[Span],
) -> Vec<(Range<usize>, Range<usize>)> {
    // The line holding byte `at` (the last line when `at` is the end).
    let line_of = |starts: &[usize], at: usize| {
        starts
            .partition_point(|s| *s <= at)
            .saturating_sub(1)
            .min(starts.len().saturating_sub(2))
    };
    let after_cr = |text: &str, at: usize| at > 0 && text.as_bytes()[at - 1] == b'\r';
    let mut out: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for span in spans {
        let mut o0 = line_of(old_lines, span.old.start);
        let mut n0 = line_of(new_lines, span.new.start);
        // A line start right after `\r` depends on the byte that follows, which differs.
        if old_lines[o0] == span.old.start && after_cr(before, span.old.start) && o0 > 0 {
            o0 -= 1;
        }
        if new_lines[n0] == span.new.start && after_cr(after, span.new.start) && n0 > 0 {
            n0 -= 1;
        }
        // Through the line holding the span's last byte and the line after its end (which may
        // be joined to it in one text and not the other), up to the end of the text.
        let o1 = (line_of(old_lines, span.old.end) + 1).min(old_lines.len().saturating_sub(1));
        let n1 = (line_of(new_lines, span.new.end) + 1).min(new_lines.len().saturating_sub(1));
        match out.last_mut() {
            Some((o, n)) if o0 <= o.end || n0 <= n.end => {
                o.end = o.end.max(o1);
                n.end = n.end.max(n1);
            }
            _ => out.push((o0..o1, n0..n1)),
        }
    }
    out
}

fn equal(old_index: usize, new_index: usize, len: usize) -> DiffOp {
    DiffOp::Equal {
        old_index,
        new_index,
        len,
    }
}

/// `op` of a region moved to the lines where the region starts.
fn moved(op: DiffOp, old: usize, new: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => equal(old + old_index, new + new_index, len),
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old + old_index,
            old_len,
            new_index: new + new_index,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old + old_index,
            new_index: new + new_index,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old + old_index,
            old_len,
            new_index: new + new_index,
            new_len,
        },
    }
}

/// Appends `op`, joining runs of equal lines (hunks are split on the length of a whole run) and
/// dropping empty ones.
fn push_op(ops: &mut Vec<DiffOp>, op: DiffOp) {
    if let DiffOp::Equal { len, .. } = op {
        if len == 0 {
            return;
        }
        if let Some(DiffOp::Equal { len: last, .. }) = ops.last_mut() {
            *last += len;
            return;
        }
    }
    ops.push(op);
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
