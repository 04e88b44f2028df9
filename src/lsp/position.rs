//! Byte offsets (munl's spans) to LSP positions and back. LSP counts lines from 0 and columns in
//! UTF-16 code units (the encoding every client must support); a line ends at `\n`, `\r\n` or
//! `\r`.

use lsp_types::{Position, Range};

use crate::span::Span;

/// Where each line of a text starts, to convert offsets without rescanning the text.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// The byte offset of every line's first character; `starts[0] == 0`.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> LineIndex<'a> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 2;
                    continue;
                }
                b'\r' | b'\n' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { text, starts }
    }

    /// The position of a byte offset. An offset past the end is the end; one inside a
    /// character (never given by munl's spans) is that character's start.
    pub(crate) fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The last line starting at or before `offset`.
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let units: usize = self.text[self.starts[line]..offset].chars().map(char::len_utf16).sum();
        Position { line: to_u32(line), character: to_u32(units) }
    }

    /// The range of a span.
    pub(crate) fn range(&self, span: Span) -> Range {
        Range { start: self.position(span.start), end: self.position(span.end.max(span.start)) }
    }

    /// The byte offset of a position. A line past the last is the end of the text; a column
    /// past the end of its line is the line's end; a column inside a character's UTF-16
    /// encoding (half of a surrogate pair) is that character's start.
    pub(crate) fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else { return self.text.len() };
        let end = self.line_end(position.line as usize);
        let mut units = 0usize;
        for (i, c) in self.text[start..end].char_indices() {
            units += c.len_utf16();
            if units > position.character as usize {
                return start + i;
            }
        }
        end
    }

    /// The byte offset where a line's content ends (before its line break).
    fn line_end(&self, line: usize) -> usize {
        let Some(&next) = self.starts.get(line + 1) else { return self.text.len() };
        let bytes = self.text.as_bytes();
        let mut end = next;
        if end > 0 && bytes[end - 1] == b'\n' {
            end -= 1;
        }
        if end > self.starts[line] && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        end
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn ascii_offsets_are_columns() {
        let text = "seeds = 0..3\ndevice = auto\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), pos(0, 0));
        assert_eq!(index.position(5), pos(0, 5));
        assert_eq!(index.position(12), pos(0, 12));
        assert_eq!(index.position(13), pos(1, 0));
        assert_eq!(index.position(19), pos(1, 6));
        assert_eq!(index.position(text.len()), pos(2, 0));
        assert_eq!(index.position(text.len() + 10), pos(2, 0));
    }

    #[test]
    fn columns_count_utf16_units_not_bytes() {
        // `±` is 2 bytes and 1 UTF-16 unit; `𝔸` is 4 bytes and 2 units (a surrogate pair).
        let text = "# ± tolerance\nx = \"±𝔸\"; lrr = 1\n";
        let index = LineIndex::new(text);
        let comment_end = text.find('\n').unwrap();
        assert_eq!(index.position(comment_end), pos(0, 13));
        let lrr = text.find("lrr").unwrap();
        // `x = "±𝔸"; ` is 5 + 1 + 2 + 3 = 11 units before `lrr`, in 14 bytes.
        assert_eq!(lrr - (comment_end + 1), 14);
        assert_eq!(index.position(lrr), pos(1, 11));
        assert_eq!(index.range(Span::new(lrr, lrr + 3)), Range { start: pos(1, 11), end: pos(1, 14) });
        // Back again, and positions inside a character land on its start.
        assert_eq!(index.offset(pos(1, 11)), lrr);
        let blackboard = text.find('𝔸').unwrap();
        assert_eq!(index.offset(pos(1, 6)), blackboard);
        assert_eq!(index.offset(pos(1, 7)), blackboard, "the middle of a surrogate pair");
        assert_eq!(index.offset(pos(1, 8)), blackboard + 4);
    }

    #[test]
    fn every_line_break_style_counts() {
        let text = "a\r\nb\rc\nd";
        let index = LineIndex::new(text);
        assert_eq!(index.position(3), pos(1, 0));
        assert_eq!(index.position(5), pos(2, 0));
        assert_eq!(index.position(7), pos(3, 0));
        // A column past the end of a line is its end, before the line break.
        assert_eq!(index.offset(pos(0, 9)), 1);
        assert_eq!(index.offset(pos(2, 9)), 6);
        assert_eq!(index.offset(pos(3, 9)), 8);
        assert_eq!(index.offset(pos(9, 0)), 8);
    }

    #[test]
    fn offsets_inside_a_character_and_reversed_spans_are_safe() {
        let text = "±";
        let index = LineIndex::new(text);
        assert_eq!(index.position(1), pos(0, 0));
        assert_eq!(index.range(Span { start: 2, end: 0 }), Range { start: pos(0, 1), end: pos(0, 1) });
    }

    #[test]
    fn round_trips_every_character_boundary() {
        let text = "# ±\ndataset d { source = mnist(\"ü/𝔸\") }\r\n\nmodel m = cnn()";
        let index = LineIndex::new(text);
        for (offset, _) in text.char_indices() {
            // The `\n` of a `\r\n` is inside one line break: no position points there.
            if text[..offset].ends_with('\r') {
                continue;
            }
            assert_eq!(index.offset(index.position(offset)), offset, "offset {offset}");
        }
    }
}
