//! Why a node failed: a kind the engine can act on, and words for the user.

use serde::{Deserialize, Serialize};

/// What went wrong, as the engine and the searches need to tell it apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A loss became NaN or infinite: the method ran, the numbers did not hold. A search scores
    /// such a trial +∞ instead of failing (evaluation.md §5.4).
    Diverged,
    /// The op does not run on these inputs (e.g. a method the reference cannot run on TinyViT).
    Refused,
    /// An input file is missing, corrupt or not what its format promises.
    InvalidData,
    /// Reading or writing a file failed.
    Io,
    /// Anything else: a libtorch error, a panic, a broken invariant.
    Internal,
}

/// A node's failure; the engine adds which declaration it was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeFailure {
    pub kind: FailureKind,
    pub message: String,
    pub help: Option<String>,
}

impl NodeFailure {
    /// A failure of this kind.
    pub fn of(kind: FailureKind, message: impl Into<String>) -> NodeFailure {
        NodeFailure { kind, message: message.into(), help: None }
    }

    /// An internal failure (a libtorch error, a broken invariant).
    pub fn new(message: impl Into<String>) -> NodeFailure {
        NodeFailure::of(FailureKind::Internal, message)
    }

    /// A non-finite loss.
    pub fn diverged(message: impl Into<String>) -> NodeFailure {
        NodeFailure::of(FailureKind::Diverged, message)
    }

    /// An op that does not run on its inputs.
    pub fn refused(message: impl Into<String>) -> NodeFailure {
        NodeFailure::of(FailureKind::Refused, message)
    }

    /// A missing or corrupt input file.
    pub fn invalid_data(message: impl Into<String>) -> NodeFailure {
        NodeFailure::of(FailureKind::InvalidData, message)
    }

    /// A failed read or write.
    pub fn io(message: impl Into<String>) -> NodeFailure {
        NodeFailure::of(FailureKind::Io, message)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> NodeFailure {
        self.help = Some(help.into());
        self
    }
}

/// Errors of libraries (tch, serde, std) are internal unless their caller says otherwise.
impl<E: std::fmt::Display> From<E> for NodeFailure {
    fn from(e: E) -> NodeFailure {
        NodeFailure::new(e.to_string())
    }
}

/// The message a panic carried (`panic!` with a literal or a formatted string), if any.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied())
}
