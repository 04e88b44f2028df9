//! Where the cursor is, in words the completion and the hover act on: at a top-level line's
//! start, at a field name in a declaration's block, at an argument name of a call, or at a value
//! of a known kind.
//!
//! Read from the tokens, not the syntax tree: the text being typed rarely parses. Brackets are
//! matched as far as they go; a statement is the tokens since the last separator of its frame
//! (a line break or `;` in a block or at the top level, a `,` in a call or a list).

use crate::ops::{Category, OpSpec};
use crate::syntax::ast::DeclKind;

use super::schema::{self, Expect};

/// A token's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ident,
    Number,
    /// A string literal, closed or not.
    Str,
    Comment,
    Newline,
    Punct(u8),
    /// Brackets already closed, standing for what was inside them.
    Group,
}

/// A token with its byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tok {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Splits a text into tokens; anything unknown is a one-character `Punct`.
pub(crate) fn tokens(text: &str) -> Vec<Tok> {
    let bytes = text.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let kind = match b {
            b' ' | b'\t' => {
                i += 1;
                continue;
            }
            b'\n' | b'\r' => {
                i += 1;
                Kind::Newline
            }
            b'#' => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
                Kind::Comment
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    i += if bytes[i] == b'\\' && i + 1 < bytes.len() && !matches!(bytes[i + 1], b'\n' | b'\r') {
                        2
                    } else {
                        1
                    };
                }
                if i < bytes.len() && bytes[i] == b'"' {
                    i += 1;
                }
                Kind::Str
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // A fraction, but not a range's `..`.
                if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                }
                Kind::Number
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Kind::Ident
            }
            _ => {
                // One character, whole: non-ASCII text outside strings and comments is an error
                // the compiler reports.
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                Kind::Punct(b)
            }
        };
        out.push(Tok { kind, start, end: i });
    }
    out
}

/// A top-level declaration as far as the tokens tell: kind, name and head.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DeclSummary {
    pub(crate) kind: DeclKind,
    pub(crate) name: Option<String>,
    /// The first name after `=`, and whether a `(` follows it (a constructor call rather than
    /// a parent declaration).
    pub(crate) head: Option<(String, bool)>,
}

/// What the cursor is at.
#[derive(Clone, Debug)]
pub(crate) enum Context {
    /// The start of a top-level line: a declaration keyword or a setting.
    TopStart,
    /// A field name in the block of this declaration.
    FieldName(DeclSummary),
    /// An argument name of a call of this op.
    ArgName(&'static OpSpec),
    /// A value of this kind.
    Value(Expect),
    /// Inside a comment or a string, or somewhere nothing is known.
    Nothing,
}

impl PartialEq for Context {
    fn eq(&self, other: &Context) -> bool {
        match (self, other) {
            (Context::TopStart, Context::TopStart) | (Context::Nothing, Context::Nothing) => true,
            (Context::FieldName(a), Context::FieldName(b)) => a == b,
            // An op is its category and name (a `const` catalogue entry has no one address).
            (Context::ArgName(a), Context::ArgName(b)) => a.category == b.category && a.name == b.name,
            (Context::Value(a), Context::Value(b)) => a == b,
            _ => false,
        }
    }
}

/// One level of brackets.
#[derive(Clone, Debug)]
enum Frame {
    Top,
    Block(DeclSummary),
    /// A call's parentheses: the op called, where it is known.
    Call(Option<&'static OpSpec>),
    /// A list's brackets: what its items are.
    List(Expect),
    /// Brackets the server does not follow.
    Other,
}

/// The tokens before the cursor, read as frames of statements.
struct Walk<'t> {
    text: &'t str,
    /// Every declaration of the whole text, to follow inheritance.
    decls: &'t [DeclSummary],
    frames: Vec<(Frame, Vec<Tok>)>,
    /// The top-level statements read so far, as declarations.
    seen: Vec<DeclSummary>,
}

impl<'t> Walk<'t> {
    fn new(text: &'t str, decls: &'t [DeclSummary]) -> Walk<'t> {
        Walk { text, decls, frames: vec![(Frame::Top, vec![])], seen: vec![] }
    }

    fn word(&self, t: &Tok) -> &'t str {
        &self.text[t.start..t.end]
    }

    fn feed(&mut self, t: Tok) {
        if t.kind == Kind::Comment {
            return;
        }
        let Some((frame, _)) = self.frames.last() else { return };
        let separates = match frame {
            Frame::Top | Frame::Block(_) => matches!(t.kind, Kind::Newline | Kind::Punct(b';')),
            Frame::Call(_) | Frame::List(_) => t.kind == Kind::Punct(b','),
            Frame::Other => matches!(t.kind, Kind::Newline | Kind::Punct(b';' | b',')),
        };
        if separates {
            if self.frames.len() == 1 {
                self.end_top_statement();
            } else if let Some((_, stmt)) = self.frames.last_mut() {
                stmt.clear();
            }
            return;
        }
        match t.kind {
            Kind::Newline => {}
            Kind::Punct(b'{') => {
                let frame = match self.frames.last() {
                    Some((Frame::Top, stmt)) => summary(self.text, stmt).map_or(Frame::Other, Frame::Block),
                    _ => Frame::Other,
                };
                self.frames.push((frame, vec![]));
            }
            Kind::Punct(b'(') => {
                let callee = self.callee();
                self.frames.push((Frame::Call(callee), vec![]));
            }
            Kind::Punct(b'[') => {
                let expect = self.expect_before(self.frames.last().map_or(0, |(_, stmt)| stmt.len()));
                self.frames.push((Frame::List(expect), vec![]));
            }
            Kind::Punct(b'}' | b')' | b']') => {
                // An unmatched closer at the top level is the compiler's to report.
                if self.frames.len() > 1 {
                    let closed_block = matches!(self.frames.pop(), Some((Frame::Block(_), _)));
                    if let Some((_, stmt)) = self.frames.last_mut() {
                        stmt.push(Tok { kind: Kind::Group, ..t });
                    }
                    // A block ends its declaration's statement.
                    if closed_block && self.frames.len() == 1 {
                        self.end_top_statement();
                    }
                }
            }
            _ => {
                if let Some((_, stmt)) = self.frames.last_mut() {
                    stmt.push(t);
                }
            }
        }
    }

    /// The op called by a `(` fed now: the name before it, of the category its place expects.
    fn callee(&self) -> Option<&'static OpSpec> {
        let (_, stmt) = self.frames.last()?;
        let last = stmt.last().filter(|t| t.kind == Kind::Ident)?;
        let category = match self.expect_before(stmt.len() - 1) {
            Expect::Ops(c) => Some(c),
            _ => None,
        };
        schema::op(self.word(last), category)
    }

    /// Records the top-level statement read as a declaration, and starts the next.
    fn end_top_statement(&mut self) {
        if let Some((Frame::Top, stmt)) = self.frames.first_mut() {
            if let Some(d) = summary(self.text, stmt) {
                self.seen.push(d);
            }
            stmt.clear();
        }
    }

    /// What value is expected after the first `n` tokens of the innermost frame's statement.
    fn expect_before(&self, n: usize) -> Expect {
        let Some((frame, stmt)) = self.frames.last() else { return Expect::Anything };
        let stmt = &stmt[..n.min(stmt.len())];
        let punct = |i: usize, c: u8| stmt.get(i).is_some_and(|t| t.kind == Kind::Punct(c));
        let ident = |i: usize| stmt.get(i).filter(|t| t.kind == Kind::Ident).map(|t| self.word(t));
        match frame {
            Frame::Top => match (ident(0).and_then(DeclKind::from_keyword), ident(1)) {
                // `unlearn ft = |`
                (Some(kind), Some(_)) if stmt.len() == 3 && punct(2, b'=') => schema::head(kind),
                // `device = |`
                (None, None) if stmt.len() == 2 && punct(1, b'=') => ident(0).map_or(Expect::Anything, schema::setting),
                _ => Expect::Anything,
            },
            Frame::Block(decl) if stmt.len() == 2 && punct(1, b'=') => {
                let name = ident(0).unwrap_or_default();
                let fields = schema::block_fields(decl.kind, self.head_op(decl));
                fields.iter().find(|f| f.name == name).map_or(Expect::Anything, |f| f.expect)
            }
            // `data = toy.|`: the subsets of a dataset.
            Frame::Block(decl) if stmt.len() == 4 && punct(1, b'=') && ident(2).is_some() && punct(3, b'.') => {
                let name = ident(0).unwrap_or_default();
                let fields = schema::block_fields(decl.kind, self.head_op(decl));
                match fields.iter().find(|f| f.name == name) {
                    Some(f) if f.expect == Expect::Subsets => Expect::Words(schema::SUBSETS),
                    _ => Expect::Anything,
                }
            }
            Frame::Call(Some(op)) if stmt.len() == 2 && punct(1, b':') => {
                let name = ident(0).unwrap_or_default();
                op.field(name).map_or(Expect::Anything, |f| schema::field(f, false).expect)
            }
            // A method's one positional argument: the train it unlearns from.
            Frame::Call(Some(op)) if stmt.is_empty() && op.category == Category::Method => {
                Expect::Decls(&[DeclKind::Train])
            }
            Frame::List(expect) if stmt.is_empty() => *expect,
            _ => Expect::Anything,
        }
    }

    /// The context at the end of what was fed.
    fn context(&self) -> Context {
        let Some((frame, stmt)) = self.frames.last() else { return Context::Nothing };
        match frame {
            Frame::Top if stmt.is_empty() => Context::TopStart,
            Frame::Block(decl) if stmt.is_empty() => Context::FieldName(decl.clone()),
            Frame::Call(Some(op)) if stmt.is_empty() && op.category != Category::Method => Context::ArgName(op),
            _ => match self.expect_before(stmt.len()) {
                Expect::Anything => Context::Nothing,
                expect => Context::Value(expect),
            },
        }
    }

    /// The op a declaration's head constructs, following same-kind parents.
    fn head_op(&self, decl: &DeclSummary) -> Option<&'static OpSpec> {
        head_op(decl, self.decls)
    }
}

/// The op a declaration's head constructs (a method, an architecture), following same-kind
/// parents through `decls`.
pub(crate) fn head_op(decl: &DeclSummary, decls: &[DeclSummary]) -> Option<&'static OpSpec> {
    let category = schema::head_category(decl.kind)?;
    let mut at = decl;
    // A chain longer than the declarations is a cycle.
    for _ in 0..=decls.len() {
        let (name, call) = at.head.as_ref()?;
        if *call {
            return schema::op(name, Some(category));
        }
        at = decls.iter().find(|d| d.kind == decl.kind && d.name.as_deref() == Some(name))?;
    }
    None
}

/// A top-level statement read as `KIND NAME [= HEAD …]`, if it starts with a keyword.
fn summary(text: &str, stmt: &[Tok]) -> Option<DeclSummary> {
    let word = |t: &Tok| (t.kind == Kind::Ident).then(|| &text[t.start..t.end]);
    let kind = DeclKind::from_keyword(stmt.first().and_then(word)?)?;
    let name = stmt.get(1).and_then(word).map(str::to_string);
    let head = match (stmt.get(2), stmt.get(3).and_then(word)) {
        (Some(eq), Some(head)) if eq.kind == Kind::Punct(b'=') => {
            let call = stmt.get(4).is_some_and(|t| matches!(t.kind, Kind::Group | Kind::Punct(b'(')));
            Some((head.to_string(), call))
        }
        _ => None,
    };
    Some(DeclSummary { kind, name, head })
}

/// Every top-level declaration of a text.
pub(crate) fn declarations(text: &str) -> Vec<DeclSummary> {
    let mut walk = Walk::new(text, &[]);
    for t in tokens(text) {
        walk.feed(t);
    }
    walk.end_top_statement();
    walk.seen
}

/// The context at byte `offset` of `text`, where a name may be being typed: the name's start is
/// where the context is read.
pub(crate) fn at(text: &str, offset: usize, decls: &[DeclSummary]) -> Context {
    let mut walk = Walk::new(text, decls);
    for t in tokens(text) {
        if t.start >= offset {
            break;
        }
        let inside = t.end > offset;
        // An unclosed string runs to the end of its line.
        let open = match t.kind {
            Kind::Comment => true,
            Kind::Str => t.end - t.start < 2 || !text[..t.end].ends_with('"'),
            _ => false,
        };
        if matches!(t.kind, Kind::Comment | Kind::Str) && (inside || (t.end == offset && open)) {
            return Context::Nothing;
        }
        // The name being typed: the context is read at its start.
        if inside || (t.end == offset && t.kind == Kind::Ident) {
            break;
        }
        walk.feed(t);
    }
    walk.context()
}

/// The name token at byte `offset` (on it or just after it).
pub(crate) fn name_at(text: &str, offset: usize) -> Option<Tok> {
    tokens(text).into_iter().find(|t| t.kind == Kind::Ident && t.start <= offset && offset <= t.end)
}

/// The first token after `t` that is not a space or a comment.
pub(crate) fn next_after(text: &str, t: &Tok) -> Option<Tok> {
    tokens(&text[t.end..]).into_iter().find(|n| n.kind != Kind::Comment).map(|n| Tok {
        start: n.start + t.end,
        end: n.end + t.end,
        ..n
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The context at the `|` of `marked`.
    fn context(marked: &str) -> Context {
        let offset = marked.find('|').unwrap();
        let text = marked.replacen('|', "", 1);
        at(&text, offset, &declarations(&text))
    }

    fn op(name: &str, category: Category) -> &'static OpSpec {
        crate::ops::find(category, name).unwrap()
    }

    #[test]
    fn line_starts_are_keywords_or_field_names() {
        assert_eq!(context("|"), Context::TopStart);
        assert_eq!(context("model net = cnn()\nun|"), Context::TopStart);
        let Context::FieldName(decl) = context("unlearn ft = finetune(original) {\n  epochs = 5\n  l|\n}") else {
            panic!("a field name")
        };
        assert_eq!(decl.kind, DeclKind::Unlearn);
        assert_eq!(decl.head, Some(("finetune".to_string(), true)));
        assert!(matches!(context("unlearn ft = finetune(original) { epochs = 5; |"), Context::FieldName(_)));
        assert!(matches!(context("train a { model = net }\ntrain b = a {\n  |"), Context::FieldName(_)));
    }

    #[test]
    fn values_take_their_kind_from_the_place() {
        assert_eq!(context("unlearn ft = |"), Context::Value(Expect::Ops(Category::Method)));
        assert_eq!(context("unlearn ft = fine|"), Context::Value(Expect::Ops(Category::Method)));
        assert_eq!(context("model net = |"), Context::Value(Expect::Ops(Category::Arch)));
        assert_eq!(context("dataset d {\n  split = |\n}"), Context::Value(Expect::Ops(Category::Split)));
        assert_eq!(context("train t {\n  optim = s|"), Context::Value(Expect::Ops(Category::Optim)));
        assert_eq!(context("train t { model = |"), Context::Value(Expect::Decls(&[DeclKind::Model])));
        assert_eq!(context("evaluate e {\n  metrics = [accuracy, |]"), Context::Value(Expect::Ops(Category::Metric)));
        assert_eq!(context("train t {\n  data = toy.re|"), Context::Value(Expect::Words(schema::SUBSETS)));
        assert_eq!(context("device = |"), Context::Value(Expect::Words(&["auto", "cpu", "cuda"])));
        assert_eq!(context("unlearn ft = finetune(|)"), Context::Value(Expect::Decls(&[DeclKind::Train])));
        assert_eq!(
            context("unlearn n = neggrad_plus(o) {\n  tune = search(sampler: |)"),
            Context::Value(Expect::Words(&["nsga3", "nsga3_optuna5", "random", "tpe"]))
        );
    }

    #[test]
    fn call_arguments_are_the_ops_fields() {
        assert_eq!(context("train t {\n  optim = sgd(lr: 0.1, |)\n}"), Context::ArgName(op("sgd", Category::Optim)));
        assert_eq!(context("dataset d { split = random(|"), Context::ArgName(op("random", Category::Split)));
        // `random` is a split here, not the sampler word.
        assert_eq!(
            context("dataset d {\n  split = random(\n    val: 0.1,\n    f|"),
            Context::ArgName(op("random", Category::Split))
        );
    }

    #[test]
    fn comments_strings_and_plain_values_know_nothing() {
        assert_eq!(context("# unlearn ft = |"), Context::Nothing);
        assert_eq!(context("# a comment|"), Context::Nothing);
        assert_eq!(context("report r { markdown = \"res|"), Context::Nothing);
        assert_eq!(context("train t { epochs = |"), Context::Nothing);
    }

    #[test]
    fn declarations_are_read_with_their_heads() {
        let decls = declarations("model net = cnn(width: 4)\nunlearn a = finetune(o) { lr = 1 }\nunlearn b = a\n");
        assert_eq!(decls.len(), 3);
        assert_eq!(decls[1].head, Some(("finetune".to_string(), true)));
        assert_eq!(decls[2].head, Some(("a".to_string(), false)));
        assert_eq!(head_op(&decls[2], &decls).map(|o| o.name), Some("finetune"));
        let cycle = declarations("unlearn a = b\nunlearn b = a\n");
        assert!(head_op(&cycle[0], &cycle).is_none());
    }

    #[test]
    fn tokens_keep_non_ascii_text_whole() {
        let text = "# ±\nx = \"±\" ± 0..3";
        let kinds: Vec<Kind> = tokens(text).iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Comment,
                Kind::Newline,
                Kind::Ident,
                Kind::Punct(b'='),
                Kind::Str,
                Kind::Punct(0xC2),
                Kind::Number,
                Kind::Punct(b'.'),
                Kind::Punct(b'.'),
                Kind::Number
            ]
        );
    }
}
