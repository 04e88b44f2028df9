//! The errors of the syntax phase: grammar failures and invalid literals.
//!
//! Errors carry spans only; the CLI attaches the source text when it renders them. Codes are
//! stable (tests and users may match on them), messages follow the house style: lowercase, no
//! trailing period, source fragments in backticks.

use miette::Diagnostic;
use thiserror::Error;

use crate::span::Span;

/// One syntax error of a `.munl` file.
#[derive(Clone, Debug, PartialEq, Eq, Error, Diagnostic)]
pub(crate) enum SyntaxError {
    /// The grammar could not continue at `span`.
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(munl::syntax::unexpected))]
    Unexpected {
        /// What could have come next, in words (`` `=`, a field name or `}` ``).
        expected: String,
        /// What is there instead (`` `mnist` ``, `end of line`).
        found: String,
        #[label("expected {expected}")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    /// A top-level line starts with a name close to a declaration keyword, followed by a name.
    #[error("unknown declaration kind `{name}`")]
    #[diagnostic(
        code(munl::syntax::unknown_kind),
        help("did you mean `{suggestion}`? declarations start with `dataset`, `model`, `train`, `unlearn`, `evaluate` or `report`")
    )]
    UnknownKind {
        name: String,
        suggestion: String,
        #[label("not a declaration kind")]
        span: Span,
    },

    /// Brackets nested deeper than any experiment needs; parsing them could exhaust the stack.
    #[error("brackets nested more than {max} deep")]
    #[diagnostic(
        code(munl::syntax::too_deep),
        help("a `.munl` value nests a few levels (a list of calls of lists); flatten this one")
    )]
    TooDeep {
        max: usize,
        #[label("this bracket opens level {}", max + 1)]
        span: Span,
    },

    /// The file ended inside a `{`, `(` or `[`.
    #[error("unclosed `{open}`")]
    #[diagnostic(code(munl::syntax::unclosed), help("add the matching `{close}`"))]
    Unclosed {
        open: char,
        close: char,
        #[label("this `{open}` is never closed")]
        span: Span,
    },

    /// A string literal with no closing quote on its line.
    #[error("unterminated string")]
    #[diagnostic(
        code(munl::syntax::unterminated_string),
        help("strings end on the line they start on; add the closing `\"`")
    )]
    UnterminatedString {
        #[label("this string has no closing `\"`")]
        span: Span,
    },

    /// A backslash escape other than `\"`, `\\`, `\n`, `\t`.
    #[error("unknown escape `{escape}` in string")]
    #[diagnostic(
        code(munl::syntax::bad_escape),
        help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\` for a backslash")
    )]
    BadEscape {
        escape: String,
        #[label("unknown escape")]
        span: Span,
    },

    /// An integer literal outside the range of `i64`.
    #[error("integer `{literal}` is out of range")]
    #[diagnostic(
        code(munl::syntax::int_overflow),
        help("integers lie between -9223372036854775808 and 9223372036854775807")
    )]
    IntOverflow {
        literal: String,
        #[label("does not fit in a 64-bit integer")]
        span: Span,
    },

    /// A decimal or exponent literal too large for an `f64`.
    #[error("number `{literal}` is out of range")]
    #[diagnostic(code(munl::syntax::float_overflow))]
    FloatOverflow {
        literal: String,
        #[label("too large for a 64-bit float")]
        span: Span,
    },

    /// A range bound with a fraction or exponent.
    #[error("range bounds must be integers")]
    #[diagnostic(code(munl::syntax::range_bound))]
    RangeBound {
        #[label("not an integer")]
        span: Span,
    },

    /// A positional argument written after a named one.
    #[error("positional argument after a named argument")]
    #[diagnostic(
        code(munl::syntax::positional_after_named),
        help("positional arguments come first; name this one or move it before `{named_name}`")
    )]
    PositionalAfterNamed {
        named_name: String,
        #[label("positional argument")]
        span: Span,
        #[label("named argument `{named_name}` comes before it")]
        named: Span,
    },
}

impl SyntaxError {
    /// The same error found in a slice of the file that starts at byte `by`, pointing into the
    /// whole file.
    pub(super) fn shifted(mut self, by: usize) -> SyntaxError {
        let shift = |s: &mut Span| *s = Span::new(s.start + by, s.end + by);
        match &mut self {
            SyntaxError::PositionalAfterNamed { span, named, .. } => {
                shift(span);
                shift(named);
            }
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::UnknownKind { span, .. }
            | SyntaxError::Unclosed { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::UnterminatedString { span }
            | SyntaxError::BadEscape { span, .. }
            | SyntaxError::IntOverflow { span, .. }
            | SyntaxError::FloatOverflow { span, .. }
            | SyntaxError::RangeBound { span } => shift(span),
        }
        self
    }

    /// Where the error is primarily located; errors are reported in this order.
    pub(crate) fn span(&self) -> Span {
        match self {
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::UnknownKind { span, .. }
            | SyntaxError::Unclosed { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::UnterminatedString { span }
            | SyntaxError::BadEscape { span, .. }
            | SyntaxError::IntOverflow { span, .. }
            | SyntaxError::FloatOverflow { span, .. }
            | SyntaxError::RangeBound { span }
            | SyntaxError::PositionalAfterNamed { span, .. } => *span,
        }
    }
}
