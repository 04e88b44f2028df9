//! The building blocks of both architectures, holding tensors taken by PyTorch state-dict name.
//!
//! A model is built from a state dict (`Weights`): every layer takes its tensors by name and
//! checks their shapes, so a file from another architecture or class count is an error naming
//! the tensor, not a shape panic deep inside a forward pass.

use std::collections::HashMap;

use tch::{Device, Kind, Tensor};

use super::StateDict;
use crate::artifact::NodeFailure;
use crate::torch::panic;

/// BatchNorm hyper-parameters of every model here (models.md §1.1: eps 1e-5, momentum 0.1).
const BN_EPS: f64 = 1e-5;
const BN_MOMENTUM: f64 = 0.1;

/// Whether a state-dict entry is a BatchNorm buffer rather than a trainable tensor.
pub(crate) fn is_buffer(name: &str) -> bool {
    ["running_mean", "running_var", "num_batches_tracked"].iter().any(|b| name.ends_with(b))
}

/// A state dict being consumed by a model builder.
///
/// Trainable tensors live in one contiguous float buffer, `flat`, as views in name order, so an
/// optimiser updates all of them with a handful of kernels instead of a few per tensor (the
/// step is launch-bound on a GPU, architecture.md §4).
///
/// Invariant: every tensor handed out is on `device`; trainable ones are views of `flat` that
/// require gradients, buffers own their storage and do not. `params` lists the trainable views
/// in `flat` order; `named` keeps the order in which the architecture took its tensors.
pub(crate) struct Weights {
    device: Device,
    flat: Tensor,
    pending: HashMap<String, Tensor>,
    named: StateDict,
    params: Vec<Tensor>,
    param_names: Vec<String>,
}

impl Weights {
    /// Wraps a loaded state dict, copying its trainable tensors into a flat buffer on `device`.
    pub(crate) fn new(tensors: StateDict, device: Device) -> Weights {
        let mut tensors = tensors;
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let total: i64 = tensors.iter().filter(|(n, _)| !is_buffer(n)).map(|(_, t)| t.numel() as i64).sum();
        let flat = Tensor::zeros([total], (Kind::Float, device));
        let mut pending = HashMap::new();
        let mut params = Vec::new();
        let mut param_names = Vec::new();
        let mut offset = 0;
        tch::no_grad(|| {
            for (name, t) in tensors {
                if is_buffer(&name) {
                    pending.insert(name, t);
                    continue;
                }
                let n = t.numel() as i64;
                let mut view = flat.narrow(0, offset, n).view(t.size().as_slice());
                view.copy_(&t);
                let view = view.set_requires_grad(true);
                params.push(view.shallow_clone());
                param_names.push(name.clone());
                pending.insert(name, view);
                offset += n;
            }
        });
        Weights { device, flat, pending, named: Vec::new(), params, param_names }
    }

    /// The shape of a tensor not yet taken.
    pub(crate) fn shape(&self, name: &str) -> Option<Vec<i64>> {
        self.pending.get(name).map(Tensor::size)
    }

    /// Whether a tensor of this name is present (and not yet taken).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.pending.contains_key(name)
    }

    fn take(&mut self, name: &str, shape: &[i64], trainable: bool) -> Result<Tensor, NodeFailure> {
        let t = self
            .pending
            .remove(name)
            .ok_or_else(|| NodeFailure::new(format!("the weights have no tensor `{name}`")))?;
        if t.size() != shape {
            return Err(NodeFailure::new(format!(
                "tensor `{name}` has shape {:?}, the architecture needs {shape:?}",
                t.size()
            )));
        }
        if trainable == is_buffer(name) {
            return Err(NodeFailure::new(format!("tensor `{name}` is not where the architecture expects it")));
        }
        let t = if trainable {
            t
        } else {
            let kind = if name.ends_with("num_batches_tracked") { Kind::Int64 } else { Kind::Float };
            t.to_device(self.device).to_kind(kind).detach()
        };
        self.named.push((name.to_string(), t.shallow_clone()));
        Ok(t)
    }

    /// Takes a trainable tensor.
    pub(crate) fn param(&mut self, name: &str, shape: &[i64]) -> Result<Tensor, NodeFailure> {
        self.take(name, shape, true)
    }

    /// Takes a buffer (no gradient).
    pub(crate) fn buffer(&mut self, name: &str, shape: &[i64]) -> Result<Tensor, NodeFailure> {
        self.take(name, shape, false)
    }

    /// Ends building: any tensor left over means the file is not of this architecture.
    pub(crate) fn finish(self) -> Result<Built, NodeFailure> {
        if let Some(extra) = self.pending.keys().min() {
            return Err(NodeFailure::new(format!(
                "the weights have a tensor `{extra}` that the architecture does not use"
            )));
        }
        Ok(Built { named: self.named, params: self.params, param_names: self.param_names, flat: self.flat })
    }
}

/// What a finished build hands to the model (see `Weights` for the invariants).
pub(crate) struct Built {
    pub(crate) named: StateDict,
    pub(crate) params: Vec<Tensor>,
    /// The names of `params`, same order.
    pub(crate) param_names: Vec<String>,
    pub(crate) flat: Tensor,
}

/// A 2-D convolution without bias (every convolution here is followed by a BatchNorm).
pub(crate) struct Conv {
    weight: Tensor,
    stride: i64,
    padding: i64,
    groups: i64,
}

impl Conv {
    /// Takes `{prefix}.weight` of shape `[out, inp, k, k]`.
    pub(crate) fn new(
        w: &mut Weights,
        prefix: &str,
        inp: i64,
        out: i64,
        k: i64,
        stride: i64,
        padding: i64,
    ) -> Result<Conv, NodeFailure> {
        Conv::grouped(w, prefix, inp, out, k, stride, padding, 1)
    }

    /// Takes `{prefix}.weight` of shape `[out, inp / groups, k, k]` for a convolution in `groups`
    /// groups (TinyViT's depth-wise convs have `groups = inp = out`, models.md §2.1).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn grouped(
        w: &mut Weights,
        prefix: &str,
        inp: i64,
        out: i64,
        k: i64,
        stride: i64,
        padding: i64,
        groups: i64,
    ) -> Result<Conv, NodeFailure> {
        let weight = w.param(&format!("{prefix}.weight"), &[out, inp / groups, k, k])?;
        Ok(Conv { weight, stride, padding, groups })
    }

    /// The convolution of `x`.
    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        x.conv2d(&self.weight, None::<Tensor>, [self.stride; 2], [self.padding; 2], [1, 1], self.groups)
    }
}

/// BatchNorm2d with PyTorch's buffers; `num_batches_tracked` is kept in the model (see
/// `Model::state_dict`) instead of being incremented by a kernel per layer and batch.
pub(crate) struct BatchNorm {
    weight: Tensor,
    bias: Tensor,
    running_mean: Tensor,
    running_var: Tensor,
}

impl BatchNorm {
    /// Takes `{prefix}.{weight,bias,running_mean,running_var,num_batches_tracked}`.
    pub(crate) fn new(w: &mut Weights, prefix: &str, channels: i64) -> Result<BatchNorm, NodeFailure> {
        let weight = w.param(&format!("{prefix}.weight"), &[channels])?;
        let bias = w.param(&format!("{prefix}.bias"), &[channels])?;
        let running_mean = w.buffer(&format!("{prefix}.running_mean"), &[channels])?;
        let running_var = w.buffer(&format!("{prefix}.running_var"), &[channels])?;
        let _tracked = w.buffer(&format!("{prefix}.num_batches_tracked"), &[])?;
        Ok(BatchNorm { weight, bias, running_mean, running_var })
    }

    /// Batch statistics (and a running-statistics update) in train mode, running statistics in
    /// eval mode; the running variance uses the unbiased batch variance, as PyTorch does.
    ///
    /// Like PyTorch's `F.batch_norm`, it refuses batch statistics over a single value per channel
    /// (libtorch itself does not check: the unbiased variance divides by zero and the running
    /// variance becomes NaN), which a last batch of one image meets where the feature map is
    /// 1×1 (ResNet-18's last stage on 32×32 images).
    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let size = x.size();
        if train && size.len() > 1 && size[0] * size[2..].iter().product::<i64>() == 1 {
            panic::abort(
                NodeFailure::refused(format!(
                    "a batch of one image reached a BatchNorm layer in training mode (input size {size:?}), \
                     which needs more than one value per channel (PyTorch refuses it too)"
                ))
                .with_help(
                    "the data leaves a last batch of a single image: change `batch` (or the dataset's size) \
                     so that no batch holds one image",
                ),
            );
        }
        x.batch_norm(
            Some(&self.weight),
            Some(&self.bias),
            Some(&self.running_mean),
            Some(&self.running_var),
            train,
            BN_MOMENTUM,
            BN_EPS,
            true,
        )
    }
}

/// A fully connected layer with bias.
pub(crate) struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    /// Takes `{prefix}.weight` `[out, inp]` and `{prefix}.bias` `[out]`.
    pub(crate) fn new(w: &mut Weights, prefix: &str, inp: i64, out: i64) -> Result<Linear, NodeFailure> {
        let weight = w.param(&format!("{prefix}.weight"), &[out, inp])?;
        let bias = w.param(&format!("{prefix}.bias"), &[out])?;
        Ok(Linear { weight, bias })
    }

    /// `x·Wᵀ + b`.
    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

/// LayerNorm eps of TinyViT (models.md §2.1: PyTorch's default 1e-5).
const LN_EPS: f64 = 1e-5;

/// LayerNorm over the last dimension, with weight and bias.
pub(crate) struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    dim: i64,
}

impl LayerNorm {
    /// Takes `{prefix}.weight` and `{prefix}.bias`, both `[dim]`.
    pub(crate) fn new(w: &mut Weights, prefix: &str, dim: i64) -> Result<LayerNorm, NodeFailure> {
        let weight = w.param(&format!("{prefix}.weight"), &[dim])?;
        let bias = w.param(&format!("{prefix}.bias"), &[dim])?;
        Ok(LayerNorm { weight, bias, dim })
    }

    /// `x` normalised over its last dimension, scaled and shifted.
    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        x.layer_norm([self.dim], Some(&self.weight), Some(&self.bias), LN_EPS, true)
    }
}
