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

use kedalint_rules::lint::{Inventory, ParsedFile, inventory_of, lint_file, lint_parsed};
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
    let mut close =
        |(r, g, d): (Range<usize>, isize, isize), grown: &mut isize, growing: &mut isize| {
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
        // Document by document, as the lint pass does: no tree of the whole file is held.
        let file = SourceFile::new(current.file.name.clone(), text);
        let report = lint_file(&file, settings, inventory);
        after = Some(Linted { file, report });
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
        if f.changed().is_some() {
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

/// Regions of changed lines this close are diffed together.
const JOIN: usize = 2 * CONTEXT;

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
/// region needs, and is the same on every run. The hunks are grouped as in one diff of the whole
/// texts (3 lines of context, hunks whose context would overlap joined), and the diff is that
/// diff, except that where many lines repeat, an equally short one may be chosen.
#[must_use]
pub fn unified_diff_of(name: &str, before: &str, after: &str, spans: &[Span]) -> String {
    if before == after {
        return String::new();
    }
    let (old_lines, new_lines) = (line_starts(before), line_starts(after));
    let mut ops: Vec<DiffOp> = Vec::new();
    let (mut old_at, mut new_at) = (0, 0);
    for (o, n) in line_regions(before, after, &old_lines, &new_lines, spans) {
        push_op(&mut ops, equal(old_at, new_at, o.start - old_at));
        let region = TextDiff::configure()
            .algorithm(Algorithm::Myers)
            .diff_lines(
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
            let olds = o.map(|i| (old_sign, line(before, &old_lines, i)));
            let news = n.map(|i| ('+', line(after, &new_lines, i)));
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

/// The line ranges of `before` and `after` to diff: each span widened to whole lines, joined with
/// the next when they are [`JOIN`] lines apart or less, then widened over the equal lines around
/// it that repeat a line inside (a whole-text diff may slide an inserted or deleted run of lines
/// along such lines, and must find the same place here).
fn line_regions(
    before: &str,
    after: &str,
    old_lines: &[usize],
    new_lines: &[usize],
    spans: &[Span],
) -> Vec<(Range<usize>, Range<usize>)> {
    let mut out: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for span in spans {
        let o0 = start_line(before, old_lines, span.old.start);
        let n0 = start_line(after, new_lines, span.new.start);
        // Through the line holding the span's end (the line after it when the span ends a line:
        // a `\r` may join it to that line in one text and not the other).
        let o1 = (start_line(before, old_lines, span.old.end) + 1).min(old_lines.len() - 1);
        let n1 = (start_line(after, new_lines, span.new.end) + 1).min(new_lines.len() - 1);
        match out.last_mut() {
            Some((o, n)) if o0 <= o.end + JOIN => {
                o.end = o.end.max(o1);
                n.end = n.end.max(n1);
            }
            _ => out.push((o0..o1, n0..n1)),
        }
    }
    let mut widened: Vec<(Range<usize>, Range<usize>)> = Vec::with_capacity(out.len());
    let (old_count, new_count) = (old_lines.len() - 1, new_lines.len() - 1);
    for (mut o, mut n) in out {
        let inside: HashSet<&str> = o
            .clone()
            .map(|i| line(before, old_lines, i))
            .chain(n.clone().map(|i| line(after, new_lines, i)))
            .collect();
        let (old_floor, new_floor) = widened.last().map_or((0, 0), |(o, n)| (o.end, n.end));
        while o.start > old_floor
            && n.start > new_floor
            && inside.contains(line(before, old_lines, o.start - 1))
        {
            o.start -= 1;
            n.start -= 1;
        }
        while o.end < old_count
            && n.end < new_count
            && inside.contains(line(before, old_lines, o.end))
        {
            o.end += 1;
            n.end += 1;
        }
        match widened.last_mut() {
            Some((lo, ln)) if o.start <= lo.end => {
                lo.end = lo.end.max(o.end);
                ln.end = ln.end.max(n.end);
            }
            _ => widened.push((o, n)),
        }
    }
    widened
}

fn line<'a>(text: &'a str, starts: &[usize], i: usize) -> &'a str {
    &text[starts[i]..starts[i + 1]]
}

/// The first line to diff for a change starting at byte `at`: the line holding it, or the line
/// before when `at` follows a `\r` (whether a line ends there depends on the byte at `at`, which
/// the change may alter), or the last line when `at` is the end of a text whose last line has no
/// newline (what is added there joins it).
fn start_line(text: &str, starts: &[usize], at: usize) -> usize {
    let mut i = starts.partition_point(|s| *s <= at).saturating_sub(1);
    let lines = starts.len() - 1;
    if i == lines && i > 0 && !text.ends_with(['\n', '\r']) {
        i -= 1;
    }
    if i > 0 && starts[i] == at && text.as_bytes()[at - 1] == b'\r' {
        i -= 1;
    }
    i
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

    /// The diff `similar` makes of the whole texts, with no deadline: what [`unified_diff_of`]
    /// must equal.
    fn whole_text_diff(name: &str, before: &str, after: &str) -> String {
        TextDiff::configure()
            .algorithm(Algorithm::Myers)
            .diff_lines(before, after)
            .unified_diff()
            .context_radius(CONTEXT)
            .header(&format!("a/{name}"), &format!("b/{name}"))
            .to_string()
    }

    /// `text` linted alone and fixed.
    fn fixed(text: &str, unsafe_fixes: bool) -> Fixed {
        let settings = Settings::default();
        let parsed = ParsedFile::parse(SourceFile::new("t.yaml".to_owned(), text.to_owned()));
        let inventory = inventory_of(std::slice::from_ref(&parsed));
        let report = lint_parsed(&parsed, &settings, &inventory);
        let before = Linted {
            file: parsed.file,
            report,
        };
        fix_file(before, &settings, &inventory, unsafe_fixes)
    }

    fn yaml_files(dir: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("a readable yaml file"))
            .collect()
    }

    /// Asserts that fixing `text` gives the diff a whole-text diff gives; returns that diff.
    fn assert_diff_is_the_whole_text_one(text: &str, unsafe_fixes: bool) -> String {
        let f = fixed(text, unsafe_fixes);
        let after = &f.after().file.text;
        let ours = unified_diff_of("t.yaml", text, after, &f.spans);
        assert_eq!(
            ours,
            whole_text_diff("t.yaml", text, after),
            "fixing:\n{text}"
        );
        ours
    }

    #[test]
    fn the_diff_of_every_fixture_and_example_fixed_is_the_whole_text_diff() {
        let mut texts = yaml_files("../tests/fixtures/fix");
        texts.extend(yaml_files("../examples"));
        // Fixes in many documents of one file, and files without a final newline.
        let all = texts.join("---\n");
        let trimmed: Vec<String> = texts.iter().map(|t| t.trim_end().to_owned()).collect();
        texts.push(all);
        texts.extend(trimmed);
        let mut changed = 0;
        for text in &texts {
            for unsafe_fixes in [false, true] {
                if !assert_diff_is_the_whole_text_one(text, unsafe_fixes).is_empty() {
                    changed += 1;
                }
            }
        }
        assert!(changed > 20, "only {changed} of the files changed");
    }

    /// A small deterministic generator, so the cases are the same on every run.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(self.0 >> 33).expect("31 bits fit") % n.max(1)
        }
    }

    /// Edits at line starts or inside lines, `gap` lines apart from a first line, each replacing,
    /// inserting or deleting whole lines or part of one; some lines repeat, so the diff has
    /// choices to make.
    fn edits_every(text: &str, first: usize, gap: usize, rng: &mut Lcg) -> Vec<Fix> {
        let starts = line_starts(text);
        let lines = starts.len() - 1;
        let mut fixes = Vec::new();
        let mut at = first;
        while at < lines {
            let (s, e) = (starts[at], starts[at + 1]);
            let edit = match rng.below(6) {
                0 => (s..e, "replaced\n"),
                1 => (s..s, "inserted\n"),
                2 => (s..e, ""),
                3 => (s..s, "  key: value\n  key: value\n"),
                4 => (s + 1.min(e - s)..s + 1.min(e - s), "x"),
                _ => (s..e, "  key: value\n"),
            };
            fixes.push(fix(&[edit], false));
            at += gap;
        }
        fixes
    }

    /// 400 generated texts (some without a final newline, some with CRLF) and their edits over 1 to
    /// 4 rounds: `(before, after, our diff, the whole-text diff)`. One line in `repeats` is one of
    /// three lines found many times in a YAML file; the others are distinct.
    fn generated_diffs(repeats: usize) -> Vec<(String, String, String, String)> {
        let mut rng = Lcg(15);
        (0..400)
            .map(|case| {
                let lines = 1 + rng.below(60);
                let mut text: String = (0..lines)
                    .map(|i| match rng.below(3 * repeats) {
                        0 => "  key: value\n".to_owned(),
                        1 => "\n".to_owned(),
                        2 => "---\n".to_owned(),
                        _ => format!("line {i}\n"),
                    })
                    .collect();
                if case % 5 == 0 {
                    text.pop();
                }
                if case % 7 == 0 {
                    text = text.replace('\n', "\r\n");
                }
                let before = text.clone();
                let mut spans = Vec::new();
                for _ in 0..=rng.below(MAX_ROUNDS) {
                    // From the first line or the last, every 3 to 7 lines, or anywhere.
                    let first = match rng.below(3) {
                        0 => 0,
                        1 => line_starts(&text).len().saturating_sub(2),
                        _ => rng.below(lines),
                    };
                    let fixes = edits_every(&text, first, 3 + rng.below(5), &mut rng);
                    let (next, _, edits) = apply_edits(&text, &fixes);
                    spans = compose(&spans, &edits);
                    text = next;
                }
                let ours = unified_diff_of("f", &before, &text, &spans);
                let whole = whole_text_diff("f", &before, &text);
                (before, text, ours, whole)
            })
            .collect()
    }

    #[test]
    fn the_diff_of_edits_in_up_to_four_rounds_is_the_whole_text_diff() {
        for (before, after, ours, whole) in generated_diffs(4) {
            assert_eq!(ours, whole, "{before:?} -> {after:?}");
        }
    }

    #[test]
    fn where_many_lines_repeat_the_diff_has_the_whole_text_diffs_hunks_and_counts() {
        // Lines that repeat make equally short diffs: a whole-text diff and the diff of a region
        // may then pick different ones (a deleted and an inserted line in the other order).
        let shape = |d: &str| {
            let lines: Vec<&str> = d.lines().collect();
            let headers: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with("@@"))
                .collect();
            let count = |sign: char| lines.iter().filter(|l| l.starts_with(sign)).count();
            (headers.join("\n"), count('-'), count('+'))
        };
        let cases = generated_diffs(1);
        let same = cases
            .iter()
            .filter(|(_, _, ours, whole)| ours == whole)
            .count();
        for (before, after, ours, whole) in &cases {
            assert_eq!(shape(ours), shape(whole), "{before:?} -> {after:?}");
        }
        assert!(same >= 390, "only {same} of 400 identical");
    }

    #[test]
    fn the_spans_of_several_rounds_cover_every_byte_that_changed() {
        let before = "0123456789";
        let (one, _, e1) = apply_edits(before, &[fix(&[(2..4, "ab"), (8..8, "++")], false)]);
        let (two, _, e2) = apply_edits(&one, &[fix(&[(4..5, "")], false)]);
        assert_eq!(two, "01ab567++89");
        let spans = compose(&compose(&[], &e1), &e2);
        assert_eq!(
            spans,
            [
                Span {
                    old: 2..5,
                    new: 2..4
                },
                Span {
                    old: 8..8,
                    new: 7..9
                }
            ]
        );
    }

    #[test]
    fn a_large_file_gets_one_small_hunk_per_fixed_document_whatever_the_timing() {
        let one = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../examples/inference-p95-latency.yaml"),
        )
        .expect("the example");
        let single = assert_diff_is_the_whole_text_one(&one, false);
        let hunks_of = |d: &str| d.matches("\n@@ -").count();
        let longest = |d: &str| {
            d.split("\n@@ -")
                .skip(1)
                .map(|h| h.lines().count())
                .max()
                .unwrap_or(0)
        };
        assert!(hunks_of(&single) > 0, "the example has fixes: {single}");
        let copies = 2_000;
        let many = format!("---\n{}\n", one.trim_end()).repeat(copies);
        let f = fixed(&many, false);
        let d = unified_diff_of("t.yaml", &many, &f.after().file.text, &f.spans);
        assert_eq!(hunks_of(&d), copies * hunks_of(&single));
        assert!(
            longest(&d) <= longest(&single) + 1,
            "a hunk of {} lines",
            longest(&d)
        );
    }
}
