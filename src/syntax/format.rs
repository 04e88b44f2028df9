//! `munl fmt`: one canonical layout for `.munl` files, comments kept.
//!
//! The formatter parses the file (a file that does not parse is not formatted: its syntax errors
//! are returned), then prints the tree again. The tree has the span of every token, so the text
//! between two tokens (separators, line breaks and comments, nothing else) is re-read from the
//! source to keep the comments and the blank lines where they were. Literals (numbers, strings)
//! are copied as written, so `0.10` stays `0.10`: the layout changes, the meaning never does.
//!
//! The rules:
//!
//! - One item per line at the top level and one field per line in a block, indented by two
//!   spaces; `;` between items or fields becomes a line break. Items are written
//!   `KIND NAME = HEAD {`, `name = value`, `import "path" as name`, with single spaces around
//!   `=`, after `,` and `:`, and none inside brackets or around `.` and `..`.
//! - Blank lines between items and fields are kept, a run of them collapsed into one; blank
//!   lines at the start or end of a file, block or bracket are removed. The file ends with one
//!   line break, and no line ends with spaces.
//! - Comments stay where they were: a comment on its own line stays on its own line, indented
//!   as what follows it; a comment at the end of a line stays at the end of that line. Comment
//!   text is kept as written (trailing spaces removed).
//! - Alignment. A *run* is a sequence of items or fields of one block (or of the top level) that
//!   follow each other with no blank line between them (comment lines do not end a run); an item
//!   that spans several lines ends its run (it still belongs to the run above it). In a run, the
//!   `=` of every item that has one is aligned one space after the longest name, and the
//!   end-of-line comments of its one-line items are aligned two spaces after the longest of those
//!   lines. Any other end-of-line comment is two spaces after its code. Nothing else is aligned:
//!   not the `{` of one-line blocks, not the arguments of calls.
//! - A block written on one line stays on one line, `{ epochs = 3; lr = 0.05 }`, when its
//!   declaration fits in 100 columns (counted without the alignment padding); otherwise it is
//!   laid out one field per line. An empty block with no comment is `{}`.
//! - Brackets (`(...)`, `[...]`) written on one line stay on one line, whatever their length,
//!   without a trailing comma: the line breaks inside a bracket are the author's. A bracket whose
//!   content spans lines is laid out with its content one level deeper, one line per source line
//!   (elements that shared a line still do), every line ending in `,`, and the closing bracket
//!   on its own line.

use super::ast::{Arg, Decl, Expr, ExprKind, File, Item};
use super::error::SyntaxError;
use crate::span::Span;

/// The widest a declaration with a one-line block may be and stay on one line.
const WIDTH: usize = 100;

/// Formats a whole file, or returns its syntax errors (the same as [`super::parse`]'s).
pub(crate) fn format(text: &str) -> Result<String, Vec<SyntaxError>> {
    let file = super::parse::file(text)?;
    let lines = Printer { text }.file(&file);
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

/// What a line between two tokens holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Line<'t> {
    Blank,
    /// A comment on a line of its own, from `#`.
    Comment(&'t str),
}

/// The text between two tokens: separators, spaces, line breaks and comments.
struct Gap<'t> {
    /// A comment at the end of the line of the token before the gap.
    trailing: Option<&'t str>,
    /// The lines that follow, up to the line of the token after the gap.
    lines: Vec<Line<'t>>,
    /// Whether the gap holds a line break.
    breaks: bool,
}

/// Reads a gap. `after_token` is false at the start of the file, where a comment on the first
/// line is a comment of its own, not the end of a line of code.
fn gap(text: &str, after_token: bool) -> Gap<'_> {
    let segments = split_lines(text);
    let last = segments.len() - 1;
    fn comment(segment: &str) -> Option<&str> {
        segment.find('#').map(|at| segment[at..].trim_end())
    }
    let mut trailing = None;
    let mut lines = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if i == 0 && after_token {
            trailing = comment(segment);
        } else if let Some(c) = comment(segment) {
            lines.push(Line::Comment(c));
        } else if i < last && segment.trim().is_empty() {
            lines.push(Line::Blank);
        }
    }
    Gap { trailing, lines, breaks: last > 0 }
}

/// Splits at every line break the grammar knows: `\n`, `\r\n` and a lone `\r`.
fn split_lines(text: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                segments.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                segments.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    segments.push(&text[start..]);
    segments
}

/// Columns, as a terminal counts them for the text of `.munl` files.
fn width(s: &str) -> usize {
    s.chars().count()
}

fn indentation(level: usize) -> String {
    "  ".repeat(level)
}

/// Lines under construction: blank lines are held back until a line follows, so that a block
/// or bracket never starts or ends with one, and a run of them is one.
#[derive(Default)]
struct Sink {
    lines: Vec<String>,
    blank: bool,
}

impl Sink {
    fn line(&mut self, line: String) {
        if self.blank && !self.lines.is_empty() {
            self.lines.push(String::new());
        }
        self.blank = false;
        self.lines.push(line);
    }

    /// Comment lines at `level`, and blank lines.
    fn trivia(&mut self, level: usize, lines: &[Line<'_>]) {
        for line in lines {
            match line {
                Line::Blank => self.blank = true,
                Line::Comment(c) => self.line(format!("{}{c}", indentation(level))),
            }
        }
    }
}

/// Appends `piece` to the line being built: its first line continues `current`, its other
/// lines follow (the last becoming the line being built).
fn append(lines: &mut Vec<String>, current: &mut String, piece: Vec<String>) {
    let mut piece = piece.into_iter();
    current.push_str(&piece.next().unwrap_or_default());
    for line in piece {
        lines.push(std::mem::replace(current, line));
    }
}

/// An item or a field, printed but not yet placed: its name part, whether `=` follows (and
/// then is aligned), and what comes after.
struct Entry<'t> {
    /// Comment and blank lines before it.
    leading: Vec<Line<'t>>,
    /// `seeds`, `unlearn ft`, `import "a.munl" as a`.
    left: String,
    eq: bool,
    /// What follows ` = ` (or the name and a space): the rest of the first line, then whole
    /// lines, indented.
    body: Vec<String>,
    trailing: Option<&'t str>,
}

impl Entry<'_> {
    /// The entry's lines with its `=` at column `indent + pad + 1`.
    fn lines(&self, level: usize, pad: usize) -> Vec<String> {
        let mut first = indentation(level) + &self.left;
        if self.eq {
            first.push_str(&" ".repeat(pad.saturating_sub(width(&self.left))));
            first.push_str(" = ");
        } else if !self.body[0].is_empty() {
            first.push(' ');
        }
        first.push_str(&self.body[0]);
        std::iter::once(first).chain(self.body[1..].iter().cloned()).collect()
    }
}

/// Places entries at `level`: their leading comments, alignment in runs, end-of-line comments;
/// then `closing`, the comment lines after the last entry.
fn place(level: usize, entries: &[Entry<'_>], closing: &[Line<'_>]) -> Vec<String> {
    let mut sink = Sink::default();
    let mut start = 0;
    while start < entries.len() {
        let mut end = start + 1;
        while end < entries.len() && entries[end - 1].body.len() == 1 && !entries[end].leading.contains(&Line::Blank) {
            end += 1;
        }
        let run = &entries[start..end];
        let pad = run.iter().filter(|e| e.eq).map(|e| width(&e.left)).max().unwrap_or(0);
        let printed: Vec<Vec<String>> = run.iter().map(|e| e.lines(level, pad)).collect();
        let column = run
            .iter()
            .zip(&printed)
            .filter(|(e, lines)| e.trailing.is_some() && lines.len() == 1)
            .map(|(_, lines)| width(&lines[0]) + 2)
            .max()
            .unwrap_or(0);
        for (entry, mut lines) in run.iter().zip(printed) {
            sink.trivia(level, &entry.leading);
            if let Some(comment) = entry.trailing {
                let one_line = lines.len() == 1;
                let last = lines.last_mut().expect("an entry has a line");
                let at = if one_line { column } else { width(last) + 2 };
                let spaces = at - width(last);
                last.push_str(&" ".repeat(spaces));
                last.push_str(comment);
            }
            for line in lines {
                sink.line(line);
            }
        }
        start = end;
    }
    sink.trivia(level, closing);
    sink.lines
}

/// One element of a bracket.
#[derive(Clone, Copy)]
enum Element<'a> {
    Expr(&'a Expr),
    Arg(&'a Arg),
}

impl Element<'_> {
    fn span(self) -> Span {
        match self {
            Element::Expr(e) => e.span,
            Element::Arg(a) => a.span,
        }
    }
}

struct Printer<'t> {
    text: &'t str,
}

impl<'t> Printer<'t> {
    /// The gaps before, between and after `spans`, from byte `start` to byte `end`.
    fn gaps(&self, start: usize, spans: &[Span], end: usize, after_token: bool) -> Vec<Gap<'t>> {
        let mut gaps = Vec::with_capacity(spans.len() + 1);
        let mut at = start;
        for span in spans {
            gaps.push(gap(&self.text[at..span.start], after_token || at != start));
            at = span.end;
        }
        gaps.push(gap(&self.text[at..end], after_token || at != start));
        gaps
    }

    fn file(&self, file: &File) -> Vec<String> {
        let spans: Vec<Span> = file.items.iter().map(item_span).collect();
        let gaps = self.gaps(0, &spans, self.text.len(), false);
        let entries = self.entries(&gaps, file.items.iter().map(|item| self.item(item, 0)));
        place(0, &entries, &gaps[spans.len()].lines)
    }

    /// Entries with the comments of the gaps around them (`gaps` has one more than entries).
    fn entries(&self, gaps: &[Gap<'t>], printed: impl Iterator<Item = (String, bool, Vec<String>)>) -> Vec<Entry<'t>> {
        printed
            .enumerate()
            .map(|(i, (left, eq, body))| Entry {
                leading: gaps[i].lines.clone(),
                left,
                eq,
                body,
                trailing: gaps[i + 1].trailing,
            })
            .collect()
    }

    /// An item's name part, whether `=` follows, and the rest.
    fn item(&self, item: &Item, level: usize) -> (String, bool, Vec<String>) {
        match item {
            Item::Import(i) => {
                let path = &self.text[i.path_span.start..i.path_span.end];
                (format!("import {path} as {}", i.alias.name), false, vec![String::new()])
            }
            Item::Setting(s) => (s.name.name.clone(), true, self.expr(&s.value, level)),
            Item::Decl(d) => self.decl(d, level),
        }
    }

    fn decl(&self, d: &Decl, level: usize) -> (String, bool, Vec<String>) {
        let left = format!("{} {}", d.kind.keyword(), d.name.name);
        let mut body = match &d.head {
            Some(head) => self.expr(head, level),
            None => vec![String::new()],
        };
        let before_block = d.head.as_ref().map_or(d.name.span.end, |h| h.span.end);
        if !self.text[..d.span.end].ends_with('}') {
            return (left, d.head.is_some(), body);
        }
        let open = before_block + self.text[before_block..].find('{').expect("a block opens with `{`");
        let close = d.span.end - 1;
        let spans: Vec<Span> = d.fields.iter().map(|f| f.span).collect();
        let gaps = self.gaps(open + 1, &spans, close, true);
        let values: Vec<Vec<String>> = d.fields.iter().map(|f| self.expr(&f.value, level + 1)).collect();
        let separator = if body[0].is_empty() && body.len() == 1 { "" } else { " " };
        let commented = gaps.iter().any(|g| g.trailing.is_some() || g.lines.iter().any(|l| *l != Line::Blank));
        let one_line = !gaps.iter().any(|g| g.breaks) && body.len() == 1 && values.iter().all(|v| v.len() == 1);
        if d.fields.is_empty() && !commented {
            body.last_mut().expect("a line").push_str(&format!("{separator}{{}}"));
            return (left, d.head.is_some(), body);
        }
        if one_line {
            let fields: Vec<String> =
                d.fields.iter().zip(&values).map(|(f, v)| format!("{} = {}", f.name.name, v[0])).collect();
            let block = format!("{{ {} }}", fields.join("; "));
            let eq = if d.head.is_some() { 3 } else { 1 };
            if level * 2 + width(&left) + eq + width(&body[0]) + separator.len() + width(&block) <= WIDTH {
                body[0].push_str(&format!("{separator}{block}"));
                return (left, d.head.is_some(), body);
            }
        }
        let mut first = format!("{separator}{{");
        if let Some(comment) = gaps[0].trailing {
            first.push_str("  ");
            first.push_str(comment);
        }
        let printed = d.fields.iter().zip(values).map(|(f, v)| (f.name.name.clone(), true, v));
        let entries = self.entries(&gaps, printed);
        let mut block = vec![first];
        block.extend(place(level + 1, &entries, &gaps[spans.len()].lines));
        block.push(format!("{}}}", indentation(level)));
        let mut last = body.pop().expect("a line");
        append(&mut body, &mut last, block);
        body.push(last);
        (left, d.head.is_some(), body)
    }

    /// An expression whose first line continues a line at `level`; its other lines are whole.
    fn expr(&self, e: &Expr, level: usize) -> Vec<String> {
        let source = &self.text[e.span.start..e.span.end];
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Bool(_) => vec![source.to_owned()],
            ExprKind::Range { .. } => {
                let (start, end) = source.split_once("..").expect("a range has `..`");
                vec![format!("{}..{}", start.trim(), end.trim())]
            }
            ExprKind::Path(parts) => {
                vec![parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".")]
            }
            ExprKind::List(items) => {
                let elements: Vec<Element<'_>> = items.iter().map(Element::Expr).collect();
                self.bracket(('[', ']'), e.span.start, &elements, e.span.end - 1, level)
            }
            ExprKind::Call { callee, args } => {
                let open = callee.span.end + self.text[callee.span.end..].find('(').expect("a call has `(`");
                let close = self.text[..e.span.end].trim_end().len() - 1;
                let elements: Vec<Element<'_>> = args.iter().map(Element::Arg).collect();
                let mut lines = vec![callee.name.clone()];
                let mut current = lines.pop().expect("a line");
                append(&mut lines, &mut current, self.bracket(('(', ')'), open, &elements, close, level));
                lines.push(current);
                lines
            }
            ExprKind::Applied { head, args } => {
                let mut lines = self.expr(head, level);
                let open = head.span.end + self.text[head.span.end..].find('(').expect("applied to `(`");
                let elements: Vec<Element<'_>> = args.iter().map(Element::Arg).collect();
                let applied = self.bracket(('(', ')'), open, &elements, e.span.end - 1, level);
                let mut current = lines.pop().expect("a line");
                append(&mut lines, &mut current, applied);
                lines.push(current);
                lines
            }
        }
    }

    fn element(&self, element: Element<'_>, level: usize) -> Vec<String> {
        match element {
            Element::Expr(e) => self.expr(e, level),
            Element::Arg(a) => {
                let mut value = self.expr(&a.value, level);
                if let Some(name) = &a.name {
                    value[0].insert_str(0, &format!("{}: ", name.name));
                }
                value
            }
        }
    }

    /// `(...)` or `[...]` with its brackets at bytes `open` and `close`.
    fn bracket(
        &self,
        (open_char, close_char): (char, char),
        open: usize,
        elements: &[Element<'_>],
        close: usize,
        level: usize,
    ) -> Vec<String> {
        let spans: Vec<Span> = elements.iter().map(|e| e.span()).collect();
        let gaps = self.gaps(open + 1, &spans, close, true);
        let commented = gaps.iter().any(|g| g.trailing.is_some() || g.lines.iter().any(|l| *l != Line::Blank));
        let breaks = gaps.iter().any(|g| g.breaks);
        if !commented && (!breaks || elements.is_empty()) {
            // One line (an element may still span lines: its own brackets do).
            let mut lines = Vec::new();
            let mut current = open_char.to_string();
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    current.push_str(", ");
                }
                append(&mut lines, &mut current, self.element(*element, level));
            }
            current.push(close_char);
            lines.push(current);
            return lines;
        }
        let inner = level + 1;
        let mut first = open_char.to_string();
        if let Some(comment) = gaps[0].trailing {
            first.push_str("  ");
            first.push_str(comment);
        }
        let mut sink = Sink::default();
        sink.trivia(inner, &gaps[0].lines);
        let mut current: Option<String> = None;
        for (i, element) in elements.iter().enumerate() {
            let printed = self.element(*element, inner);
            let mut line = match current.take() {
                Some(mut line) if !gaps[i].breaks => {
                    line.push_str(", ");
                    line
                }
                _ => indentation(inner),
            };
            let mut lines = Vec::new();
            append(&mut lines, &mut line, printed);
            for l in lines {
                sink.line(l);
            }
            // The line ends here when the next gap breaks it; the comma and comment go with it.
            let after = &gaps[i + 1];
            if after.breaks {
                line.push(',');
                if let Some(comment) = after.trailing {
                    line.push_str("  ");
                    line.push_str(comment);
                }
                sink.line(line);
                sink.trivia(inner, &after.lines);
            } else {
                current = Some(line);
            }
        }
        if let Some(mut line) = current {
            // The last element shared its line with the closing bracket.
            line.push(',');
            sink.line(line);
        }
        let mut lines = vec![first];
        lines.extend(sink.lines);
        lines.push(format!("{}{close_char}", indentation(level)));
        lines
    }
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Import(i) => i.span,
        Item::Setting(s) => s.span,
        Item::Decl(d) => d.span,
    }
}
