//! The small CPU-friendly CNN (catalogue op `cnn`): two conv–BN–ReLU–max-pool stages, an
//! adaptive average pool to 4×4 (so any square input of at least 4 pixels works) and two linear
//! layers. Names follow PyTorch's conventions for the same module tree.

use tch::Tensor;

use super::layers::{BatchNorm, Conv, Linear, Weights};
use crate::artifact::NodeFailure;

/// Width of the hidden linear layer.
pub(crate) const HIDDEN: i64 = 128;
/// Side of the pooled feature map fed to `fc1`.
pub(crate) const POOLED: i64 = 4;

/// The CNN with its layers.
pub(crate) struct Cnn {
    conv1: Conv,
    bn1: BatchNorm,
    conv2: Conv,
    bn2: BatchNorm,
    fc1: Linear,
    fc2: Linear,
}

impl Cnn {
    /// Builds the CNN from a state dict; `width` and `classes` are read from the tensors.
    pub(crate) fn new(w: &mut Weights) -> Result<Cnn, NodeFailure> {
        let width = w.shape("conv1.weight").map_or(0, |s| s[0]);
        let classes = w.shape("fc2.weight").map_or(0, |s| s[0]);
        Ok(Cnn {
            conv1: Conv::new(w, "conv1", 3, width, 3, 1, 1)?,
            bn1: BatchNorm::new(w, "bn1", width)?,
            conv2: Conv::new(w, "conv2", width, 2 * width, 3, 1, 1)?,
            bn2: BatchNorm::new(w, "bn2", 2 * width)?,
            fc1: Linear::new(w, "fc1", 2 * width * POOLED * POOLED, HIDDEN)?,
            fc2: Linear::new(w, "fc2", HIDDEN, classes)?,
        })
    }

    /// Logits; `train` selects BatchNorm's mode.
    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let x =
            self.bn1.forward(&self.conv1.forward(x), train).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let x =
            self.bn2.forward(&self.conv2.forward(&x), train).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let x = x.adaptive_avg_pool2d([POOLED, POOLED]).flatten(1, -1);
        self.fc2.forward(&self.fc1.forward(&x).relu())
    }
}
