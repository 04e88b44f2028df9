//! Models: architectures built from PyTorch-named state dicts, and their seeded initialisation.

mod cnn;
pub(crate) mod init;
mod layers;
#[cfg(test)]
mod python_tests;
mod resnet18;
pub(crate) mod rng;
mod script;
#[cfg(test)]
pub(crate) mod script_tests;
#[cfg(test)]
mod tests;
mod tinyvit;

use super::profile::{self, Phase};
use std::cell::Cell;
use std::path::Path;

use tch::{Device, Tensor};

use crate::artifact::{file, NodeFailure};
use crate::torch::data::store;
use layers::Weights;
pub(crate) use script::Source;

/// A state dict: tensors by PyTorch name, in state-dict order.
pub(crate) type StateDict = Vec<(String, Tensor)>;

/// The network itself.
enum Net {
    Cnn(cnn::Cnn),
    ResNet18(resnet18::ResNet18),
    // Boxed: one model per process, and the variants differ a lot in size.
    TinyVit(Box<tinyvit::TinyVit>),
    /// A custom architecture: a TorchScript module (`script.rs`).
    Script(Box<script::Script>),
}

/// A model on a device, built from a state dict.
///
/// Invariant: `named` holds every tensor of the state dict (shallow handles sharing storage with
/// the layers), `params` the trainable ones as views of `flat`, in `flat` order. For a custom
/// model (`Net::Script`), `params` are the module's own parameters, whose data is their view of
/// `flat` (in the module's `named_parameters()` order), and `named` lists them, then the
/// module's buffers.
pub(crate) struct Model {
    net: Net,
    named: StateDict,
    params: Vec<Tensor>,
    /// The names of `params`, same order.
    param_names: Vec<String>,
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
        Ok(Model::of(net, w.finish()?))
    }

    /// Builds a custom model: `source`'s TorchScript module on `device` with the weights of
    /// `tensors` (see `script.rs`).
    pub(crate) fn from_script(source: Source, tensors: StateDict, device: Device) -> Result<Model, NodeFailure> {
        let (script, built) = script::Script::build(source, tensors, device)?;
        Ok(Model::of(Net::Script(Box::new(script)), built))
    }

    fn of(net: Net, built: layers::Built) -> Model {
        Model {
            net,
            named: built.named,
            params: built.params,
            param_names: built.param_names,
            flat: built.flat,
            train_batches: Cell::new(0),
        }
    }

    /// A model of the same architecture (for a custom model, the same module) with the weights
    /// of `tensors`, on the same device.
    pub(crate) fn rebuild(&self, tensors: StateDict) -> Result<Model, NodeFailure> {
        let device = self.flat.device();
        match &self.net {
            Net::Script(s) => Model::from_script(s.source().clone(), tensors, device),
            _ => Model::from_state_dict(tensors, device),
        }
    }

    /// The files defining a custom model's architecture (`None` for munl's own).
    pub(crate) fn source(&self) -> Option<&Source> {
        match &self.net {
            Net::Script(s) => Some(s.source()),
            _ => None,
        }
    }

    /// Writes the model into the entry folder `dir`: `model.safetensors`, and for a custom model
    /// its `module.pt` and `module.json` beside it.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), NodeFailure> {
        store::write_tensors(&dir.join(file::MODEL), &self.state_dict())?;
        match self.source() {
            Some(source) => source.write(dir),
            None => Ok(()),
        }
    }

    /// Logits for a normalised `[B, 3, H, W]` batch; `train` selects BatchNorm's mode (and, for
    /// TinyViT, drop path and whether the attention bias gets a gradient, models.md §2.3).
    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        // A TorchScript module advances its own `num_batches_tracked`.
        if train && !matches!(self.net, Net::Script(_)) {
            self.train_batches.set(self.train_batches.get() + 1);
        }
        let phase = if train { Phase::Forward } else { Phase::EvalForward };
        profile::time(phase, x.device(), || match &self.net {
            Net::Cnn(m) => m.forward(x, train),
            Net::ResNet18(m) => m.forward(x, train),
            Net::TinyVit(m) => m.forward(x, train),
            Net::Script(m) => m.forward(x, train),
        })
    }

    /// The trainable tensors, in the order of the flat buffer.
    pub(crate) fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The PyTorch names of `params()`, same order.
    pub(crate) fn param_names(&self) -> &[String] {
        &self.param_names
    }

    /// The trainable parameters' names in state-dict (module declaration) order, as PyTorch's
    /// `named_parameters()` lists them.
    pub(crate) fn names_in_model_order(&self) -> Vec<&str> {
        if let Net::Script(_) = self.net {
            // `params` are in `named_parameters()` order already.
            return self.param_names.iter().map(String::as_str).collect();
        }
        self.named.iter().map(|(n, _)| n.as_str()).filter(|n| !layers::is_buffer(n)).collect()
    }

    /// The parameter called `name`.
    pub(crate) fn param(&self, name: &str) -> Option<&Tensor> {
        self.param_names.iter().position(|n| n == name).map(|i| &self.params[i])
    }

    /// A flat tensor over all parameters (same layout as `flat()`) whose piece for each
    /// parameter is `piece(name, param)` (of the parameter's shape or broadcastable to it).
    pub(crate) fn flat_map(&self, mut piece: impl FnMut(&str, &Tensor) -> Tensor) -> Tensor {
        let parts: Vec<Tensor> = self
            .param_names
            .iter()
            .zip(&self.params)
            .map(|(n, p)| piece(n, p).expand(p.size().as_slice(), false).reshape([-1]))
            .collect();
        Tensor::cat(&parts, 0).to_kind(tch::Kind::Float)
    }

    /// A 0/1 flat mask that selects the parameters for which `keep(name)` holds.
    pub(crate) fn flat_select(&self, keep: impl Fn(&str) -> bool) -> Tensor {
        let dev = self.flat.device();
        self.flat_map(|n, _| Tensor::from(if keep(n) { 1f32 } else { 0f32 }).to_device(dev))
    }

    /// A tensor of the state dict (parameter or buffer) by name.
    pub(crate) fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.named.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// Overwrites every parameter and buffer with `other`'s (same architecture and shapes).
    pub(crate) fn copy_from(&self, other: &Model) {
        tch::no_grad(|| {
            for ((_, mine), (_, theirs)) in self.named.iter().zip(&other.named) {
                let mut mine = mine.shallow_clone();
                mine.copy_(theirs);
            }
        });
        self.train_batches.set(other.train_batches.get());
    }

    /// An independent copy on the same device (a custom model's module is loaded afresh).
    pub(crate) fn duplicate(&self) -> Result<Model, NodeFailure> {
        let model = self.rebuild(self.named.iter().map(|(n, t)| (n.clone(), t.detach().copy())).collect())?;
        model.train_batches.set(self.train_batches.get());
        Ok(model)
    }

    /// Which architecture this is: `resnet18`, `vit11m`, `cnn`, or `custom` (a TorchScript
    /// module, whose layer names munl does not know).
    pub(crate) fn arch(&self) -> &'static str {
        match self.net {
            Net::Cnn(_) => "cnn",
            Net::ResNet18(_) => "resnet18",
            Net::TinyVit(_) => "vit11m",
            Net::Script(_) => "custom",
        }
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

    /// The first of its tensors holding a NaN or an infinity (see [`non_finite`]). A run that
    /// stores a model must record such weights as a divergence, or [`load`] blames the cache.
    pub(crate) fn non_finite(&self) -> Option<String> {
        non_finite(&self.named)
    }

    /// Number of trainable scalars.
    #[cfg(test)]
    pub(crate) fn parameter_count(&self) -> i64 {
        self.params.iter().map(|p| p.numel() as i64).sum()
    }
}

/// What to do about a stored model that looks corrupt.
const CORRUPT_HELP: &str =
    "run `munl cache verify --evict` to remove corrupt entries and the results computed from them, then run again";

/// Reads a stored model (an input of a node) onto `device`: a custom model when a `module.pt`
/// lies beside `path` (with its `module.json`), else one of munl's architectures.
///
/// A model file that cannot be read, or whose weights are not all finite while the `run.json`
/// beside it records no divergence, is blamed on its cache entry: a run that diverges stores
/// its non-finite weights on purpose and says so in `run.json`, and no run stores them silently
/// (see [`Model::non_finite`]), so such weights were changed after they were stored.
pub(crate) fn load(path: &std::path::Path, device: Device) -> Result<Model, NodeFailure> {
    let tensors = store::read_tensors(path).map_err(|e| {
        NodeFailure::invalid_data(format!("{}; the cache entry holding it may be corrupt", e.message))
            .with_help(CORRUPT_HELP)
    })?;
    if let Some(bad) = non_finite(&tensors) {
        let run = path.with_file_name(crate::artifact::file::RUN);
        let diverged = crate::artifact::read_json::<crate::artifact::RunInfo>(&run).is_ok_and(|r| r.diverged.is_some());
        if !diverged {
            return Err(NodeFailure::invalid_data(format!(
                "the stored model `{}` has non-finite weights ({bad}) but its run did not diverge: \
                 the cache entry holding it may be corrupt",
                path.display()
            ))
            .with_help(CORRUPT_HELP));
        }
    }
    let source = Source::beside(path)?;
    let built = match source {
        Some(source) => Model::from_script(source, tensors, device),
        None => Model::from_state_dict(tensors, device),
    };
    built.map_err(|e| NodeFailure {
        message: format!("`{}`: {}", path.display(), e.message),
        help: e.help.or_else(|| {
            Some(format!("if this file was stored by munl, its cache entry may be corrupt: {CORRUPT_HELP}"))
        }),
        ..e
    })
}

/// The first floating-point tensor holding a NaN or an infinity, as "`name` holds NaN".
fn non_finite(tensors: &[(String, Tensor)]) -> Option<String> {
    tensors.iter().filter(|(_, t)| t.is_floating_point()).find_map(|(name, t)| {
        if t.isfinite().all().int64_value(&[]) != 0 {
            return None;
        }
        let what = if t.isnan().any().int64_value(&[]) != 0 { "NaN" } else { "an infinity" };
        Some(format!("`{name}` holds {what}"))
    })
}
