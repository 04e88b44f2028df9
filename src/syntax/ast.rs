//! The syntax tree of a `.munl` file: what was written, with spans, before any name is resolved.
//!
//! Every node keeps the byte span it was parsed from so that later phases can point at it.
//! Nothing here is checked beyond the grammar and literal values (escapes, number ranges,
//! argument order); names, fields and types are the lowering phase's business.

use crate::span::Span;

/// A parsed file: its settings and declarations in source order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct File {
    pub items: Vec<Item>,
}

/// One top-level line: an import, a setting or a declaration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Item {
    Import(Import),
    Setting(Setting),
    Decl(Decl),
}

/// `import "other.munl" as alias`: the other file's declarations, visible as `alias.NAME`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Import {
    /// The path as written (escapes resolved), relative to the importing file's folder.
    pub path: String,
    pub path_span: Span,
    pub alias: Ident,
    pub span: Span,
}

/// A file-wide setting, `seeds = 0..3`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Setting {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// The keyword a declaration starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DeclKind {
    Dataset,
    Model,
    Train,
    Unlearn,
    Evaluate,
    Report,
    /// `dim NAME = values`: a dimension declarations can vary along.
    Dim,
}

impl DeclKind {
    /// Every kind, in the order the language documents them.
    pub(crate) const ALL: [DeclKind; 7] = [
        DeclKind::Dataset,
        DeclKind::Model,
        DeclKind::Train,
        DeclKind::Unlearn,
        DeclKind::Evaluate,
        DeclKind::Report,
        DeclKind::Dim,
    ];

    /// The keyword as written in source.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            DeclKind::Dataset => "dataset",
            DeclKind::Model => "model",
            DeclKind::Train => "train",
            DeclKind::Unlearn => "unlearn",
            DeclKind::Evaluate => "evaluate",
            DeclKind::Report => "report",
            DeclKind::Dim => "dim",
        }
    }

    /// The kind whose keyword is `word`, if any.
    pub(crate) fn from_keyword(word: &str) -> Option<DeclKind> {
        DeclKind::ALL.into_iter().find(|kind| kind.keyword() == word)
    }
}

/// `KIND NAME [= HEAD] [{ FIELDS }]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Decl {
    pub kind: DeclKind,
    pub kind_span: Span,
    pub name: Ident,
    /// The expression after `=`: a same-kind declaration to inherit from, or a constructor call.
    pub head: Option<Expr>,
    /// The block's fields in source order; empty when there is no block.
    pub fields: Vec<Field>,
    pub span: Span,
}

/// `NAME = expr` inside a declaration's block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Field {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ident {
    pub name: String,
    pub span: Span,
}

/// A value expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// What an expression is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExprKind {
    /// A literal without fraction or exponent, `256`, `-3`.
    Int(i64),
    /// A literal with a fraction or an exponent, `0.1`, `5e-4`; always finite.
    Float(f64),
    /// A string literal, escapes already resolved.
    Str(String),
    Bool(bool),
    /// `start..end`, half-open; bounds are integers, not checked for order here.
    Range {
        start: i64,
        end: i64,
    },
    List(Vec<Expr>),
    /// `callee(args)`; positional arguments precede named ones (checked by the parser).
    Call {
        callee: Ident,
        args: Vec<Arg>,
    },
    /// A call applied to a second argument list: `python("methods/mine.py")(original)`, an op
    /// made from a file and then given its inputs. `head` is the `Call`.
    Applied {
        head: Box<Expr>,
        args: Vec<Arg>,
    },
    /// One or more dotted names: `mnist.retain`, `cosine`, `original`.
    Path(Vec<Ident>),
}

/// One argument of a call: positional (`original`) or named (`lr: 0.1`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}
