//! torchvision's ResNet-18 with the ImageNet stem, used at every input size (models.md §1.1):
//! PyTorch state-dict names, BasicBlocks with 1×1 stride-2 `downsample.{0,1}` shortcuts.

use tch::Tensor;

use super::layers::{BatchNorm, Conv, Linear, Weights};
use crate::artifact::NodeFailure;

/// `(planes, stride of the first block)` of `layer1..layer4`.
pub(crate) const STAGES: [(i64, i64); 4] = [(64, 1), (128, 2), (256, 2), (512, 2)];

/// One BasicBlock: conv3×3–BN–ReLU–conv3×3–BN, plus the shortcut, then ReLU.
struct Block {
    conv1: Conv,
    bn1: BatchNorm,
    conv2: Conv,
    bn2: BatchNorm,
    downsample: Option<(Conv, BatchNorm)>,
}

impl Block {
    fn new(w: &mut Weights, prefix: &str, inp: i64, planes: i64, stride: i64) -> Result<Block, NodeFailure> {
        let conv1 = Conv::new(w, &format!("{prefix}.conv1"), inp, planes, 3, stride, 1)?;
        let bn1 = BatchNorm::new(w, &format!("{prefix}.bn1"), planes)?;
        let conv2 = Conv::new(w, &format!("{prefix}.conv2"), planes, planes, 3, 1, 1)?;
        let bn2 = BatchNorm::new(w, &format!("{prefix}.bn2"), planes)?;
        let downsample = if stride != 1 || inp != planes {
            Some((
                Conv::new(w, &format!("{prefix}.downsample.0"), inp, planes, 1, stride, 0)?,
                BatchNorm::new(w, &format!("{prefix}.downsample.1"), planes)?,
            ))
        } else {
            None
        };
        Ok(Block { conv1, bn1, conv2, bn2, downsample })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let out = self.bn1.forward(&self.conv1.forward(x), train).relu_();
        let out = self.bn2.forward(&self.conv2.forward(&out), train);
        let shortcut = match &self.downsample {
            Some((conv, bn)) => bn.forward(&conv.forward(x), train),
            None => x.shallow_clone(),
        };
        (out + shortcut).relu_()
    }
}

/// The ResNet-18.
pub(crate) struct ResNet18 {
    conv1: Conv,
    bn1: BatchNorm,
    blocks: Vec<Block>,
    fc: Linear,
}

impl ResNet18 {
    /// Builds the network from a state dict; the class count is read from `fc.weight`.
    pub(crate) fn new(w: &mut Weights) -> Result<ResNet18, NodeFailure> {
        let classes = w.shape("fc.weight").map_or(0, |s| s[0]);
        let conv1 = Conv::new(w, "conv1", 3, 64, 7, 2, 3)?;
        let bn1 = BatchNorm::new(w, "bn1", 64)?;
        let mut blocks = Vec::new();
        let mut inp = 64;
        for (i, (planes, stride)) in STAGES.into_iter().enumerate() {
            blocks.push(Block::new(w, &format!("layer{}.0", i + 1), inp, planes, stride)?);
            blocks.push(Block::new(w, &format!("layer{}.1", i + 1), planes, planes, 1)?);
            inp = planes;
        }
        let fc = Linear::new(w, "fc", 512, classes)?;
        Ok(ResNet18 { conv1, bn1, blocks, fc })
    }

    /// Logits; `train` selects BatchNorm's mode.
    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let mut x =
            self.bn1.forward(&self.conv1.forward(x), train).relu_().max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        for block in &self.blocks {
            x = block.forward(&x, train);
        }
        self.fc.forward(&x.adaptive_avg_pool2d([1, 1]).flatten(1, -1))
    }
}
