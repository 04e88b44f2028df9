//! A node that failed at run time, pointing back at the declaration that caused it.

use miette::Diagnostic;
use thiserror::Error;

use crate::span::Span;

/// A runtime failure of one node, e.g. a NaN loss in `unlearn ngp`.
#[derive(Clone, Debug, Error, Diagnostic)]
#[error("`{label}` failed: {message}")]
#[diagnostic(code(munl::exec::node_failed))]
pub(crate) struct ExecError {
    pub(crate) label: String,
    pub(crate) message: String,
    #[label("in this declaration")]
    pub(crate) span: Span,
    #[help]
    pub(crate) help: Option<String>,
}
