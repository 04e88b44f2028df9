//! Accuracy (evaluation.md §1): argmax of the logits (ties → first index) against the labels.

use tch::{Kind, Tensor};

/// Number of correct predictions in a batch, as a device scalar (no host synchronisation).
pub(crate) fn correct(logits: &Tensor, labels: &Tensor) -> Tensor {
    logits.argmax(-1, false).eq_tensor(labels).sum(Kind::Int64)
}
