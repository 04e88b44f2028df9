//! From pest pairs to the AST, and from pest failures to [`SyntaxError`]s.
//!
//! The grammar (grammar/munl.pest) accepts a little more than the language so that errors
//! about literals (escapes, number ranges, unterminated strings) and argument order can be
//! reported here, all at once and with precise spans, rather than as the first grammar failure.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::{Arg, Decl, DeclKind, Expr, ExprKind, Field, File, Ident, Import, Item, Setting};
use super::error::SyntaxError;
use crate::diag;
use crate::span::Span;

use grammar::{MunlParser, Rule};

mod grammar {
    // The derive emits `pub enum Rule`; it is private to this module all the same.
    #![allow(unreachable_pub)]

    /// The pest parser generated from grammar/munl.pest.
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/munl.pest"]
    pub(super) struct MunlParser;
}

/// How deep brackets may nest. The grammar is recursive, so a file of thousands of nested
/// brackets would overflow the stack; no experiment needs more than a handful of levels.
pub(super) const MAX_NESTING: usize = 64;

/// Parses a whole file; errors are sorted by position.
pub(super) fn file(text: &str) -> Result<File, Vec<SyntaxError>> {
    if let Some(span) = too_deep(text) {
        return Err(vec![SyntaxError::TooDeep { max: MAX_NESTING, span }]);
    }
    let mut errors = match MunlParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let mut builder = Builder::default();
            let file = builder.file(pairs.next().expect("`file` matched"));
            if builder.errors.is_empty() {
                return Ok(file);
            }
            builder.errors
        }
        // pest stops at the first failure; each item is parsed on its own to find the others.
        Err(err) => Some(per_item(text)).filter(|e| !e.is_empty()).unwrap_or_else(|| grammar_failure(text, &err)),
    };
    errors.sort_by_key(|e| (e.span().start, e.span().end));
    errors.dedup();
    Err(errors)
}

/// Every syntax error of a file the grammar failed on: the file cut into its top-level items
/// (`item_starts`), each parsed as a file of its own, with the first grammar error of each item
/// that fails and the literal errors of those that parse, pointing into the whole file. Empty
/// when the file holds a single item, or when the pieces all parse (the cut was wrong): the
/// caller then reports the whole file's failure.
fn per_item(text: &str) -> Vec<SyntaxError> {
    let starts = item_starts(text);
    if starts.len() < 2 {
        return vec![];
    }
    let mut errors = vec![];
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let item = &text[start..end];
        let found = match MunlParser::parse(Rule::file, item) {
            Ok(mut pairs) => {
                let mut builder = Builder::default();
                builder.file(pairs.next().expect("`file` matched"));
                builder.errors
            }
            Err(err) => grammar_failure(item, &err),
        };
        errors.extend(found.into_iter().map(|e| e.shifted(start)));
    }
    errors
}

/// Where the top-level items of a possibly broken file start: the offsets of the lines that
/// begin, at column 0, a declaration (`KIND NAME`), an import (`import "…"`) or, outside
/// brackets, anything else (a setting, or a stray word to report). Inside a `(` or `[` left open
/// a line `NAME = …` starts an item too: no argument or list item has that form. Brackets
/// are counted outside strings and comments; a string ends at the end of its line, as in the
/// grammar. The first item starts at 0, with the comments above it.
fn item_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut open: Vec<char> = vec![];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let word_len = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(line.len());
        let word = &line[..word_len];
        let after = line[word_len..].trim_start_matches([' ', '\t']);
        let starts_word = line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        let declaration = DeclKind::from_keyword(word).is_some()
            && after.len() < line.len() - word_len
            && after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        let import = word == "import" && after.starts_with('"');
        let setting = after.starts_with('=') && !after.starts_with("==");
        let item = starts_word && (declaration || import || open.is_empty() || (setting && open.last() != Some(&'{')));
        if item {
            if offset > 0 {
                starts.push(offset);
            }
            open.clear();
        }
        let (mut in_string, mut escaped) = (false, false);
        for c in line.chars() {
            if in_string {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => escaped = false,
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '#' => break,
                '(' | '[' | '{' => open.push(c),
                ')' | ']' | '}' if open.last().is_some_and(|&o| closing(o) == c) => {
                    open.pop();
                }
                _ => {}
            }
        }
        offset += line.len();
    }
    starts
}

/// The pair's span without trailing spaces and comments: a non-atomic rule that ends in a
/// repetition (`path`, a declaration without block) swallows the whitespace and comments the
/// repetition skipped before failing, so it ends where its last child ends.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let start = pair.as_span().start();
    let end = match pair.clone().into_inner().last() {
        Some(last) => span_of(&last).end,
        None => pair.as_span().end(),
    };
    Span::new(start, end)
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident { name: pair.as_str().to_owned(), span: span_of(&pair) }
}

/// Punctuation and separators: rules only so that errors can name them, no AST content.
fn is_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::eq
            | Rule::setting_eq
            | Rule::colon
            | Rule::comma
            | Rule::dot
            | Rule::lbrace
            | Rule::rbrace
            | Rule::lparen
            | Rule::rparen
            | Rule::lbracket
            | Rule::rbracket
            | Rule::sep
            | Rule::EOI
    )
}

/// The non-token children of a pair.
fn children<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner().filter(|p| !is_token(p.as_rule()))
}

/// Builds the AST from a successful parse, collecting literal and argument-order errors.
/// On an error it substitutes a placeholder value and goes on, so every error is found.
#[derive(Default)]
struct Builder {
    errors: Vec<SyntaxError>,
}

impl Builder {
    fn file(&mut self, pair: Pair<'_, Rule>) -> File {
        let items = children(pair)
            .map(|p| match p.as_rule() {
                Rule::import => Item::Import(self.import(p)),
                Rule::setting => Item::Setting(self.setting(p)),
                Rule::declaration => Item::Decl(self.declaration(p)),
                rule => unreachable!("top-level {rule:?}"),
            })
            .collect();
        File { items }
    }

    fn import(&mut self, pair: Pair<'_, Rule>) -> Import {
        let span = span_of(&pair);
        let mut inner = children(pair).filter(|p| !matches!(p.as_rule(), Rule::import_kw | Rule::as_kw));
        let path_pair = inner.next().expect("import path");
        let path_span = span_of(&path_pair);
        let path = self.string(path_pair);
        let alias = ident(inner.next().expect("import alias"));
        Import { path, path_span, alias, span }
    }

    fn setting(&mut self, pair: Pair<'_, Rule>) -> Setting {
        let span = span_of(&pair);
        let mut inner = children(pair);
        let name = ident(inner.next().expect("setting name"));
        let value = self.expr(inner.next().expect("setting value"));
        Setting { name, value, span }
    }

    fn declaration(&mut self, pair: Pair<'_, Rule>) -> Decl {
        let span = span_of(&pair);
        let mut inner = children(pair);
        let kind_pair = inner.next().expect("declaration kind");
        let kind = DeclKind::from_keyword(kind_pair.as_str()).expect("the grammar's keywords");
        let name = ident(inner.next().expect("declaration name"));
        let mut head = None;
        let mut fields = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::expr => head = Some(self.expr(p)),
                Rule::block => fields = children(p).map(|f| self.field(f)).collect(),
                rule => unreachable!("declaration part {rule:?}"),
            }
        }
        Decl { kind, kind_span: span_of(&kind_pair), name, head, fields, span }
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> Field {
        let span = span_of(&pair);
        let mut inner = children(pair);
        let name = ident(inner.next().expect("field name"));
        let value = self.expr(inner.next().expect("field value"));
        Field { name, value, span }
    }

    /// `pair` is an `expr`, whose only child is the actual expression.
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        let inner = pair.into_inner().next().expect("expression");
        let kind = match inner.as_rule() {
            Rule::number => self.number(&inner),
            Rule::range => self.range(inner),
            Rule::string => ExprKind::Str(self.string(inner)),
            Rule::bool => ExprKind::Bool(inner.as_str() == "true"),
            Rule::list => ExprKind::List(children(inner).map(|e| self.expr(e)).collect()),
            Rule::call => self.call(inner, span),
            Rule::path => ExprKind::Path(children(inner).map(ident).collect()),
            rule => unreachable!("expression {rule:?}"),
        };
        Expr { kind, span }
    }

    fn number(&mut self, pair: &Pair<'_, Rule>) -> ExprKind {
        let text = pair.as_str();
        if is_float(text) {
            let value: f64 = text.parse().expect("the grammar's float syntax");
            if value.is_finite() {
                return ExprKind::Float(value);
            }
            self.errors.push(SyntaxError::FloatOverflow { literal: text.to_owned(), span: span_of(pair) });
            return ExprKind::Float(0.0);
        }
        ExprKind::Int(self.int(pair).unwrap_or(0))
    }

    /// The value of an integer literal; `None` (error recorded) if it overflows.
    fn int(&mut self, pair: &Pair<'_, Rule>) -> Option<i64> {
        // The grammar only lets digits through, so overflow is the only failure.
        let parsed = pair.as_str().parse().ok();
        if parsed.is_none() {
            self.errors.push(SyntaxError::IntOverflow { literal: pair.as_str().to_owned(), span: span_of(pair) });
        }
        parsed
    }

    fn range(&mut self, pair: Pair<'_, Rule>) -> ExprKind {
        let mut bound = |p: Pair<'_, Rule>| {
            if is_float(p.as_str()) {
                self.errors.push(SyntaxError::RangeBound { span: span_of(&p) });
                return 0;
            }
            self.int(&p).unwrap_or(0)
        };
        let mut inner = pair.into_inner();
        let start = bound(inner.next().expect("range start"));
        let end = bound(inner.next().expect("range end"));
        ExprKind::Range { start, end }
    }

    /// The string's value with escapes resolved; records bad escapes and a missing quote.
    fn string(&mut self, pair: Pair<'_, Rule>) -> String {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let body = inner.next().expect("string body");
        let closed = inner.next().is_some();
        let base = body.as_span().start();
        let mut value = String::with_capacity(body.as_str().len());
        let mut chars = body.as_str().char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((j, other)) => {
                    let end = j + other.len_utf8();
                    self.errors.push(SyntaxError::BadEscape {
                        escape: body.as_str()[i..end].to_owned(),
                        span: Span::new(base + i, base + end),
                    });
                }
                // A backslash at the end of the line: the string is unterminated, said below.
                None => {}
            }
        }
        if !closed {
            self.errors.push(SyntaxError::UnterminatedString { span });
        }
        value
    }

    /// `name(args)`, or `name(args)(applied)` (`span` is the whole expression's).
    fn call(&mut self, pair: Pair<'_, Rule>, span: Span) -> ExprKind {
        let mut inner = children(pair);
        let callee = ident(inner.next().expect("callee"));
        let mut args = vec![];
        let mut applied = None;
        for p in inner {
            match p.as_rule() {
                Rule::applied => applied = Some(p),
                _ => args.push(p),
            }
        }
        let args: Vec<Arg> = args.into_iter().map(|a| self.arg(a)).collect();
        self.check_order(&args);
        let head = ExprKind::Call { callee, args };
        match applied {
            None => head,
            Some(applied) => {
                let head_span = Span::new(span.start, span_of(&applied).start);
                let args: Vec<Arg> = children(applied).map(|a| self.arg(a)).collect();
                self.check_order(&args);
                ExprKind::Applied { head: Box::new(Expr { kind: head, span: head_span }), args }
            }
        }
    }

    /// Positional arguments precede named ones.
    fn check_order(&mut self, args: &[Arg]) {
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref().map(|n| (n, a.span))) {
            let (named_name, named_span) = named;
            for arg in args.iter().filter(|a| a.name.is_none() && a.span.start > named_span.start) {
                self.errors.push(SyntaxError::PositionalAfterNamed {
                    named_name: named_name.name.clone(),
                    span: arg.span,
                    named: named_span,
                });
            }
        }
    }

    fn arg(&mut self, pair: Pair<'_, Rule>) -> Arg {
        let span = span_of(&pair);
        let mut name = None;
        let mut value = None;
        for p in children(pair) {
            match p.as_rule() {
                Rule::arg_name => name = Some(ident(p)),
                Rule::expr => value = Some(self.expr(p)),
                rule => unreachable!("argument part {rule:?}"),
            }
        }
        Arg { name, value: value.expect("argument value"), span }
    }
}

/// Whether a `number` literal is a float: it has a fraction or an exponent.
fn is_float(literal: &str) -> bool {
    literal.contains(['.', 'e', 'E'])
}

/// Turns pest's failure into errors a user can act on.
///
/// The failure is often a consequence of an unterminated string earlier on (the rest of the
/// line was swallowed), so those are reported instead of it when there are any.
fn grammar_failure(text: &str, err: &pest::error::Error<Rule>) -> Vec<SyntaxError> {
    let pos = match err.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let lexed = lex(text, pos);
    if lexed.unterminated.iter().any(|s| s.start <= pos) {
        return lexed.unterminated.into_iter().map(|span| SyntaxError::UnterminatedString { span }).collect();
    }
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let (found, found_span) = found_at(text, pos);
    if pos >= text.len() {
        if let Some((open, span)) = lexed.open_at_pos {
            return vec![SyntaxError::Unclosed { open, close: closing(open), span }];
        }
    }
    // `import` then a name: the import's path is missing, not a misspelt declaration keyword.
    if positives.contains(&Rule::setting_eq) && !positives.contains(&Rule::string) {
        if let Some(error) = misspelt_kind(text, pos) {
            return vec![error];
        }
    }
    let words = expected_words(positives);
    // Two things on one line is the likeliest cause when a separator, but not `=`, would have
    // done; the separator depends on whether this is inside a block.
    let help = (words.contains(&"a newline") && !words.contains(&"`=`") && found.starts_with('`')).then(|| {
        if words.contains(&"`}`") {
            "fields are separated by a newline or `;`"
        } else {
            "settings and declarations are separated by a newline or `;`"
        }
        .to_owned()
    });
    let expected = match words.as_slice() {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    vec![SyntaxError::Unexpected { expected, found, span: found_span, help }]
}

/// The bracket that closes `open`.
fn closing(open: char) -> char {
    match open {
        '{' => '}',
        '(' => ')',
        _ => ']',
    }
}

/// What the lexical pass found.
struct Lexed {
    /// Every string literal without a closing quote.
    unterminated: Vec<Span>,
    /// The innermost bracket still open at the failure position.
    open_at_pos: Option<(char, Span)>,
}

/// The first bracket that opens nesting level `MAX_NESTING + 1`, outside strings and comments.
/// A plain scan, not the grammar: it must not recurse itself.
fn too_deep(text: &str) -> Option<Span> {
    let (mut depth, mut in_string, mut escaped, mut in_comment) = (0usize, false, false, false);
    for (i, c) in text.char_indices() {
        match c {
            '\n' => (in_string, in_comment) = (false, false),
            _ if in_comment => {}
            _ if in_string => {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => escaped = false,
                }
                continue;
            }
            '"' => in_string = true,
            '#' => in_comment = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Span::new(i, i + 1));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        escaped = false;
    }
    None
}

/// Runs the grammar's `lex` rule, which matches strings and comments whole so that quotes and
/// brackets inside them are not mistaken for code.
fn lex(text: &str, pos: usize) -> Lexed {
    let mut lexed = Lexed { unterminated: Vec::new(), open_at_pos: None };
    let Ok(mut pairs) = MunlParser::parse(Rule::lex, text) else {
        // Cannot happen (`lex` accepts any text); there is simply nothing to add then.
        return lexed;
    };
    let mut open: Vec<(char, Span)> = Vec::new();
    for token in pairs.next().expect("`lex` matched").into_inner() {
        let span = span_of(&token);
        match token.as_rule() {
            Rule::string if token.clone().into_inner().nth(1).is_none() => lexed.unterminated.push(span),
            Rule::lex_open if span.start < pos => {
                open.push((token.as_str().chars().next().expect("one bracket"), span));
            }
            Rule::lex_close if span.start < pos => {
                let close = token.as_str().chars().next().expect("one bracket");
                if open.last().is_some_and(|&(o, _)| closing(o) == close) {
                    open.pop();
                }
            }
            _ => {}
        }
    }
    lexed.open_at_pos = open.pop();
    lexed
}

/// `modle net = …` at the top level fails as a setting named `modle` that lacks its `=`.
/// When that name is close to a declaration keyword, say so instead.
fn misspelt_kind(text: &str, pos: usize) -> Option<SyntaxError> {
    let before = text[..pos].trim_end_matches([' ', '\t']);
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_ascii_alphanumeric() || c == '_')
        .last()
        .map(|(i, _)| i)?;
    let name = &before[start..];
    let next_is_name = text[pos..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    let suggestion = diag::did_you_mean(name, DeclKind::ALL.map(DeclKind::keyword))?;
    next_is_name.then(|| SyntaxError::UnknownKind {
        name: name.to_owned(),
        suggestion,
        span: Span::new(start, before.len()),
    })
}

/// Describes the text at `pos` for "found …", with the span to label.
fn found_at(text: &str, pos: usize) -> (String, Span) {
    let rest = &text[pos..];
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_owned(), Span::new(pos, pos));
    };
    if rest.starts_with('\n') || rest.starts_with("\r\n") {
        return ("end of line".to_owned(), Span::new(pos, pos));
    }
    if first == '"' {
        return ("a string".to_owned(), Span::new(pos, pos + 1));
    }
    let word_len = if first.is_ascii_alphanumeric() || first == '_' || first == '-' {
        1 + rest[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len() - 1)
    } else {
        first.len_utf8()
    };
    let word = &rest[..word_len];
    (format!("`{word}`"), Span::new(pos, pos + word_len))
}

/// Words for what pest expected, most specific first: `` `=` ``, `a field name`, `` `}` ``.
fn expected_words(positives: &[Rule]) -> Vec<&'static str> {
    let has = |rule| positives.contains(&rule);
    let ends_something =
        [Rule::sep, Rule::EOI, Rule::comma, Rule::rparen, Rule::rbracket, Rule::rbrace].into_iter().any(has);
    let starts_item = [Rule::kind, Rule::setting_name, Rule::field_name].into_iter().any(has);
    let mut words: Vec<(u8, &str)> = Vec::new();
    for &rule in positives {
        // `(`, `.` and `:` could continue what came before, but when the construct could also
        // end here, the end is what was most likely missing.
        if ends_something && matches!(rule, Rule::lparen | Rule::dot | Rule::colon) {
            continue;
        }
        // Where an item could start, a blank line could too, but is never what is missing.
        if starts_item && matches!(rule, Rule::sep | Rule::EOI) {
            continue;
        }
        let (rank, word) = match rule {
            Rule::kind | Rule::setting_name if has(Rule::kind) && has(Rule::setting_name) => {
                (0, "a setting or declaration")
            }
            // `import` starts an item too, but is rarely what was meant.
            Rule::import_kw if has(Rule::kind) || has(Rule::setting_name) => continue,
            Rule::import_kw => (0, "`import`"),
            Rule::as_kw => (3, "`as`"),
            Rule::kind => (0, "a declaration keyword"),
            Rule::setting_name => (0, "a setting name"),
            Rule::decl_name => (1, "a declaration name"),
            Rule::field_name => (1, "a field name"),
            Rule::arg => (1, "an argument"),
            Rule::arg_name => (1, "an argument name"),
            Rule::ident => (1, "a name"),
            Rule::expr => (2, "a value"),
            Rule::number => (2, "a number"),
            Rule::string => (2, "a string"),
            Rule::string_close => (2, "`\"`"),
            Rule::bool => (2, "`true` or `false`"),
            Rule::range => (2, "a range"),
            Rule::list => (2, "a list"),
            Rule::call => (2, "a call"),
            Rule::path => (2, "a name"),
            // After `import`, `=` would make it a setting called `import`: not what was meant.
            Rule::setting_eq if has(Rule::string) => continue,
            Rule::eq | Rule::setting_eq => (3, "`=`"),
            Rule::colon => (4, "`:`"),
            Rule::dot => (4, "`.`"),
            Rule::lparen => (4, "`(`"),
            Rule::lbracket => (4, "`[`"),
            Rule::lbrace => (5, "`{`"),
            Rule::comma => (6, "`,`"),
            Rule::rparen => (7, "`)`"),
            Rule::rbracket => (7, "`]`"),
            Rule::rbrace => (7, "`}`"),
            Rule::sep => {
                words.push((8, "a newline"));
                (9, "`;`")
            }
            // Whatever else ends the file ends it just as well at the end of a line.
            Rule::EOI if has(Rule::sep) => continue,
            Rule::EOI => (10, "end of file"),
            _ => (11, "something else"),
        };
        words.push((rank, word));
    }
    words.sort();
    let mut seen = Vec::new();
    words.retain(|&(_, w)| {
        let new = !seen.contains(&w);
        seen.push(w);
        new
    });
    words.into_iter().map(|(_, w)| w).collect()
}
