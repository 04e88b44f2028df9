//! Models: architectures built from PyTorch-named state dicts, and their seeded initialisation.

mod cnn;
pub(crate) mod init;
mod layers;
mod resnet18;
#[cfg(test)]
mod tests;
mod tinyvit;

use std::cell::Cell;

use tch::{Device, Tensor};

use crate::exec::NodeFailure;
use layers::Weights;

/// A state dict: tensors by PyTorch name, in state-dict order.
pub(crate) type StateDict = Vec<(String, Tensor)>;

/// The network itself.
enum Net {
    Cnn(cnn::Cnn),
    ResNet18(resnet18::ResNet18),
    // Boxed: one model per process, and the variants differ a lot in size.
    TinyVit(Box<tinyvit::TinyVit>),
}

/// A model on a device, built from a state dict.
///
/// Invariant: `named` holds every tensor of the state dict (shallow handles sharing storage with
/// the layers), `params` the trainable ones as views of `flat`, in `flat` order.
pub(crate) struct Model {
    net: Net,
    named: StateDict,
    params: Vec<Tensor>,
    flat: Tensor,
    /// Train-mode forward passes since loading, added to every `num_batches_tracked` on save.
    train_batches: Cell<i64>,
}

impl Model {
    /// Builds the model a state dict describes (ResNet-18 if it has `layer1.0.conv1.weight`,
    /// TinyViT-11M if it has `patch_embed.seq.0.c.weight`, the CNN if it has `fc1.weight`) on
    /// `device`.
    pub(crate) fn from_state_dict(tensors: StateDict, device: Device) -> Result<Model, NodeFailure> {
        let mut w = Weights::new(tensors, device);
        let net = if w.has("layer1.0.conv1.weight") {
            Net::ResNet18(resnet18::ResNet18::new(&mut w)?)
        } else if w.has("patch_embed.seq.0.c.weight") {
            Net::TinyVit(Box::new(tinyvit::TinyVit::new(&mut w)?))
        } else if w.has("fc1.weight") {
            Net::Cnn(cnn::Cnn::new(&mut w)?)
        } else {
            return Err(NodeFailure::new("the weights are neither a `resnet18`, a `vit11m` nor a `cnn`"));
        };
        let built = w.finish()?;
        Ok(Model { net, named: built.named, params: built.params, flat: built.flat, train_batches: Cell::new(0) })
    }

    /// Logits for a normalised `[B, 3, H, W]` batch; `train` selects BatchNorm's mode (and, for
    /// TinyViT, drop path and whether the attention bias gets a gradient, models.md §2.3).
    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        if train {
            self.train_batches.set(self.train_batches.get() + 1);
        }
        match &self.net {
            Net::Cnn(m) => m.forward(x, train),
            Net::ResNet18(m) => m.forward(x, train),
            Net::TinyVit(m) => m.forward(x, train),
        }
    }

    /// The trainable tensors, in the order of the flat buffer.
    pub(crate) fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// All trainable scalars as one buffer; the parameters are views of it.
    pub(crate) fn flat(&self) -> &Tensor {
        &self.flat
    }

    /// The state dict as PyTorch would save it after the same forward passes (every
    /// `num_batches_tracked` advanced by the train-mode passes).
    pub(crate) fn state_dict(&self) -> StateDict {
        let n = self.train_batches.get();
        self.named
            .iter()
            .map(|(name, t)| {
                let t = if name.ends_with("num_batches_tracked") { t + n } else { t.detach() };
                (name.clone(), t)
            })
            .collect()
    }

    /// Number of trainable scalars.
    #[cfg(test)]
    pub(crate) fn parameter_count(&self) -> i64 {
        self.params.iter().map(|p| p.numel() as i64).sum()
    }
}

/// Reads a model file onto `device`.
pub(crate) fn load(path: &std::path::Path, device: Device) -> Result<Model, NodeFailure> {
    let tensors = crate::torch::data::store::read_tensors(path)?;
    Model::from_state_dict(tensors, device)
        .map_err(|e| NodeFailure { message: format!("`{}`: {}", path.display(), e.message), help: e.help })
}
