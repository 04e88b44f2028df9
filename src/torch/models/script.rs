//! Custom architectures: a TorchScript module (`module.pt`) trained by munl's own trainer and
//! methods.
//!
//! A custom model's entry holds, beside `model.safetensors` (the state dict, authoritative):
//! * `module.pt`: `torch.jit.script(Wrap(module))`, whose `forward(x)` maps a normalised
//!   float32 `[B, 3, H, W]` batch to `[B, classes]` logits and whose exported
//!   `munl_buffers()` returns the module's buffers (the live tensors) in `module.json` order.
//!   Its parameter names carry the wrapper's `inner.` prefix, which is not part of munl's names.
//! * `module.json`: `{"params": [...], "buffers": [...]}`, the state-dict names of the
//!   parameters (in `named_parameters()` order) and of the buffers (in `munl_buffers()` order).
//!
//! munl keeps its own layout: the trainable scalars live in one flat float buffer, and every
//! module parameter is pointed at its view of it (`set_data`, PyTorch's `p.data = view`), so the
//! optimiser's in-place updates of the buffer are what the module computes with. The buffers
//! stay the module's own tensors, overwritten in place with the stored values; BatchNorm
//! updates them (running statistics, `num_batches_tracked`) in train-mode passes by itself.
//! The state dict is the parameters (module order), then the buffers (`module.json` order).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use tch::{CModule, Device, IValue, Kind, Tensor};

use super::layers::Built;
use super::StateDict;
use crate::artifact::{file, NodeFailure};
use crate::torch::panic;

/// The prefix the TorchScript wrapper adds to every parameter name.
const INNER: &str = "inner.";

/// The exported method returning the module's buffers.
const BUFFERS_METHOD: &str = "munl_buffers";

/// `module.json`: the state-dict names of the module's parameters and buffers.
#[derive(Deserialize)]
struct Names {
    params: Vec<String>,
    buffers: Vec<String>,
}

/// The files that define a custom architecture, as stored: kept to write them beside every
/// model derived from this one, and to load independent copies of the module.
#[derive(Clone)]
pub(crate) struct Source {
    /// `module.pt`.
    module: Arc<[u8]>,
    /// `module.json`.
    names_json: Arc<[u8]>,
}

impl Source {
    /// The module files beside a stored model, or `None` when it is one of munl's own
    /// architectures (no `module.pt` there).
    pub(crate) fn beside(model_file: &Path) -> Result<Option<Source>, NodeFailure> {
        let module = model_file.with_file_name(file::MODULE);
        if !module.exists() {
            return Ok(None);
        }
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| NodeFailure::io(format!("cannot read `{}`: {e}", path.display())))
        };
        let names = model_file.with_file_name(file::MODULE_NAMES);
        Ok(Some(Source { module: read(&module)?.into(), names_json: read(&names)?.into() }))
    }

    /// The source of `module.pt` and `module.json` as bytes.
    #[cfg(test)]
    pub(crate) fn from_bytes(module: Vec<u8>, names_json: Vec<u8>) -> Source {
        Source { module: module.into(), names_json: names_json.into() }
    }

    /// Writes `module.pt` and `module.json` into `dir`.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), NodeFailure> {
        for (name, bytes) in [(file::MODULE, &self.module), (file::MODULE_NAMES, &self.names_json)] {
            let path = dir.join(name);
            std::fs::write(&path, &bytes[..])
                .map_err(|e| NodeFailure::io(format!("cannot write `{}`: {e}", path.display())))?;
        }
        Ok(())
    }

    fn names(&self) -> Result<Names, NodeFailure> {
        serde_json::from_slice(&self.names_json).map_err(|e| {
            NodeFailure::invalid_data(format!("the custom model's `{}` is not valid: {e}", file::MODULE_NAMES))
        })
    }
}

/// A custom model's TorchScript module.
pub(crate) struct Script {
    /// `RefCell`: switching between train and eval mode takes the module mutably.
    module: RefCell<CModule>,
    /// The mode the module is in (`None` until the first forward pass sets it).
    train: Cell<Option<bool>>,
    source: Source,
}

impl Script {
    /// Loads `source`'s module on `device` and gives it the weights of `tensors` (every
    /// parameter and buffer `module.json` lists, nothing else): its parameters become views of
    /// a new flat buffer, its buffers are overwritten in place.
    pub(crate) fn build(source: Source, tensors: StateDict, device: Device) -> Result<(Script, Built), NodeFailure> {
        let names = source.names()?;
        let module = CModule::load_data_on_device(&mut &source.module[..], device).map_err(|e| {
            NodeFailure::invalid_data(format!("cannot load the custom model's `{}`: {}", file::MODULE, first_line(&e)))
        })?;
        let mut stored: HashMap<String, Tensor> = tensors.into_iter().collect();
        let mut take = |name: &str, like: &Tensor| -> Result<Tensor, NodeFailure> {
            let t =
                stored.remove(name).ok_or_else(|| NodeFailure::new(format!("the weights have no tensor `{name}`")))?;
            if t.size() != like.size() {
                return Err(NodeFailure::new(format!(
                    "tensor `{name}` has shape {:?}, the custom model's module needs {:?}",
                    t.size(),
                    like.size()
                )));
            }
            Ok(t)
        };

        let module_params = module.named_parameters().map_err(|e| NodeFailure::new(first_line(&e)))?;
        let listed: Vec<&str> = module_params.iter().map(|(n, _)| n.strip_prefix(INNER).unwrap_or(n)).collect();
        if listed != names.params {
            return Err(NodeFailure::invalid_data(format!(
                "the parameters of the custom model's `{}` ({}) are not those `{}` lists ({})",
                file::MODULE,
                listed.join(", "),
                file::MODULE_NAMES,
                names.params.join(", ")
            )));
        }
        if let Some((name, p)) = module_params.iter().find(|(_, p)| p.kind() != Kind::Float) {
            return Err(NodeFailure::invalid_data(format!(
                "the custom model's parameter `{}` is {:?}: munl trains float32 parameters",
                name.strip_prefix(INNER).unwrap_or(name),
                p.kind()
            )));
        }
        let total: i64 = module_params.iter().map(|(_, p)| p.numel() as i64).sum();
        let flat = Tensor::zeros([total], (Kind::Float, device));
        let (mut named, mut params, mut param_names) = (Vec::new(), Vec::new(), Vec::new());
        let mut offset = 0;
        for ((_, p), name) in module_params.into_iter().zip(names.params) {
            let value = take(&name, &p)?;
            let n = p.numel() as i64;
            let view = tch::no_grad(|| {
                let mut view = flat.narrow(0, offset, n).view(p.size().as_slice());
                view.copy_(&value);
                view
            });
            let mut p = p;
            p.set_data(&view);
            if p.data_ptr() != view.data_ptr() {
                return Err(NodeFailure::new(format!(
                    "the custom model's parameter `{name}` could not be placed in munl's parameter buffer"
                )));
            }
            let p = p.set_requires_grad(true);
            named.push((name.clone(), p.shallow_clone()));
            params.push(p);
            param_names.push(name);
            offset += n;
        }

        let buffers = module_buffers(&module)?;
        if buffers.len() != names.buffers.len() {
            return Err(NodeFailure::invalid_data(format!(
                "the custom model's `{BUFFERS_METHOD}()` returns {} tensors, `{}` lists {} buffers",
                buffers.len(),
                file::MODULE_NAMES,
                names.buffers.len()
            )));
        }
        for (b, name) in buffers.into_iter().zip(names.buffers) {
            let value = take(&name, &b)?;
            tch::no_grad(|| b.shallow_clone().copy_(&value));
            named.push((name, b));
        }
        if let Some(extra) = stored.keys().min() {
            return Err(NodeFailure::new(format!(
                "the weights have a tensor `{extra}` that the custom model does not use"
            )));
        }
        let script = Script { module: RefCell::new(module), train: Cell::new(None), source };
        Ok((script, Built { named, params, param_names, flat }))
    }

    /// Logits for a normalised `[B, 3, H, W]` batch, with the module in train or eval mode.
    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        if self.train.get() != Some(train) {
            let mut module = self.module.borrow_mut();
            let switched = if train { module.f_set_train() } else { module.f_set_eval() };
            if let Err(e) = switched {
                panic::abort(NodeFailure::new(format!("the custom model cannot change mode: {}", first_line(&e))));
            }
            self.train.set(Some(train));
        }
        let y = self.module.borrow().forward_ts(&[x]).unwrap_or_else(|e| {
            panic::abort(NodeFailure::new(format!("the custom model's forward pass failed: {}", first_line(&e))))
        });
        let batch = x.size().first().copied().unwrap_or(0);
        if y.dim() != 2 || y.size()[0] != batch {
            panic::abort(NodeFailure::new(format!(
                "the custom model's forward pass returned shape {:?} for a batch of {batch}: it must return \
                 `[batch, classes]` logits",
                y.size()
            )));
        }
        y
    }

    /// The files that define it.
    pub(crate) fn source(&self) -> &Source {
        &self.source
    }
}

/// The tensors `munl_buffers()` returns: the module's live buffers.
fn module_buffers(module: &CModule) -> Result<Vec<Tensor>, NodeFailure> {
    let no_args: [IValue; 0] = [];
    let out = module.method_is(BUFFERS_METHOD, &no_args).map_err(|e| {
        NodeFailure::invalid_data(format!(
            "the custom model's `{}` has no working `{BUFFERS_METHOD}()`: {}",
            file::MODULE,
            first_line(&e)
        ))
    })?;
    let not_tensors =
        || NodeFailure::invalid_data(format!("the custom model's `{BUFFERS_METHOD}()` must return a list of tensors"));
    match out {
        IValue::TensorList(ts) => Ok(ts),
        IValue::GenericList(items) => items
            .into_iter()
            .map(|v| match v {
                IValue::Tensor(t) => Ok(t),
                _ => Err(not_tensors()),
            })
            .collect(),
        _ => Err(not_tensors()),
    }
}

/// The first line of a libtorch error (the rest is its C++ source location and backtrace).
fn first_line(e: &tch::TchError) -> String {
    let text = e.to_string();
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string()
}
