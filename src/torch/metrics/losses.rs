//! Per-sample cross-entropy (evaluation.md §2): no reduction, computed in float32 and widened to
//! float64 for the attacker, as the reference does (attack.md §6).

use tch::{Reduction, Tensor};

/// The CE loss of each sample of a batch, `f32 [B]` on the device.
pub(crate) fn per_sample(logits: &Tensor, labels: &Tensor) -> Tensor {
    logits.cross_entropy_loss::<Tensor>(labels, None, Reduction::None, -100, 0.0)
}
