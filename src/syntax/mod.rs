//! The first phase: `.munl` text to a syntax tree.
//!
//! The grammar lives in grammar/munl.pest; this is the only module that knows pest. The tree
//! ([`ast`]) records what was written, with spans; names are resolved by the lowering phase.
//! Literal errors (bad escapes, out-of-range numbers, unterminated strings) and argument order
//! are checked here, and all such errors of a file are reported together. pest stops at a
//! grammar failure, so a file that fails is cut into its top-level items and each is parsed on
//! its own: every failing item's first error is reported.

pub(crate) mod ast;
mod error;
mod format;
#[cfg(test)]
mod format_tests;
mod parse;
#[cfg(test)]
mod tests;

pub(crate) use error::SyntaxError;
pub(crate) use format::format;

use crate::source::Source;

/// Parses a whole `.munl` file. On failure, returns every error found, in source order.
pub(crate) fn parse(source: &Source) -> Result<ast::File, Vec<SyntaxError>> {
    parse::file(&source.text)
}
