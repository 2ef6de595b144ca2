//! Positions: LSP counts lines and UTF-16 code units (or bytes once UTF-8 is negotiated), the
//! engine counts bytes. Every conversion between the two, and the edits `didChange` carries.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// How the client counts characters within a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes of UTF-8 (`positionEncoding: "utf-8"`).
    Utf8,
    /// UTF-16 code units, LSP's default.
    Utf16,
}

impl Encoding {
    fn width(self, c: char) -> usize {
        match self {
            Self::Utf8 => c.len_utf8(),
            Self::Utf16 => c.len_utf16(),
        }
    }
}

/// Line starts of a text, to turn byte offsets into positions and back.
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`. Lines end at `\n` (a `\r` before it belongs to the line, as the engine
    /// counts).
    #[must_use]
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// The position of a byte offset; an offset inside a character counts from its start.
    #[must_use]
    pub fn position(&self, offset: usize, encoding: Encoding) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let character = self.text[self.starts[line]..offset]
            .chars()
            .map(|c| encoding.width(c))
            .sum::<usize>();
        Position::new(saturate(line), saturate(character))
    }

    /// The range of a byte span.
    #[must_use]
    pub fn range(&self, span: &std::ops::Range<usize>, encoding: Encoding) -> Range {
        Range::new(
            self.position(span.start, encoding),
            self.position(span.end, encoding),
        )
    }

    /// The byte offset of a position. A line past the end means the end of the text; a character
    /// past the end of its line means the end of that line (the LSP rule); a position inside a
    /// character (half a surrogate pair) means that character's start.
    #[must_use]
    pub fn offset(&self, position: Position, encoding: Encoding) -> usize {
        let line = position.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return self.text.len();
        };
        let end = self.line_end(line);
        let want = position.character as usize;
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            let next = units + encoding.width(c);
            if next > want {
                return start + i;
            }
            units = next;
        }
        end
    }

    /// The byte offset where a 0-based line's content ends (before its `\n`).
    #[must_use]
    pub fn line_end(&self, line: usize) -> usize {
        self.starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next - 1)
    }

    /// The byte offset where a 0-based line starts, if the text has that line.
    #[must_use]
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Applies one `didChange` content change: a whole new text when it has no range, else the
/// replacement of that range.
pub fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent, encoding: Encoding) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let index = LineIndex::new(text);
            let start = index.offset(range.start, encoding);
            let end = index.offset(range.end, encoding).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn utf16_positions_count_a_character_outside_the_basic_plane_twice() {
        let text = "a: 😀x\nb: é\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.position(x, Encoding::Utf16), pos(0, 5));
        assert_eq!(index.position(x, Encoding::Utf8), pos(0, 7));
        assert_eq!(index.offset(pos(0, 5), Encoding::Utf16), x);
        let e_end = text.len() - 1;
        assert_eq!(index.position(e_end, Encoding::Utf16), pos(1, 4));
        assert_eq!(index.offset(pos(1, 4), Encoding::Utf16), e_end);
    }

    #[test]
    fn positions_past_a_line_or_the_text_clamp_to_their_ends() {
        let text = "ab\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(pos(0, 99), Encoding::Utf16), 2);
        assert_eq!(index.offset(pos(7, 0), Encoding::Utf16), text.len());
        assert_eq!(index.position(99, Encoding::Utf16), pos(1, 2));
    }

    #[test]
    fn half_a_surrogate_pair_means_the_start_of_its_character() {
        let text = "😀b";
        assert_eq!(LineIndex::new(text).offset(pos(0, 1), Encoding::Utf16), 0);
    }

    #[test]
    fn incremental_changes_replace_their_range_and_full_changes_the_whole_text() {
        let mut text = "query: rate(x[1m])\n".to_owned();
        let change = |range: Option<Range>, new: &str| TextDocumentContentChangeEvent {
            range,
            range_length: None,
            text: new.to_owned(),
        };
        apply_change(
            &mut text,
            change(Some(Range::new(pos(0, 14), pos(0, 16))), "5m"),
            Encoding::Utf16,
        );
        assert_eq!(text, "query: rate(x[5m])\n");
        apply_change(
            &mut text,
            change(Some(Range::new(pos(1, 0), pos(1, 0))), "b: 1\n"),
            Encoding::Utf16,
        );
        assert_eq!(text, "query: rate(x[5m])\nb: 1\n");
        apply_change(&mut text, change(None, "new"), Encoding::Utf16);
        assert_eq!(text, "new");
    }
}
