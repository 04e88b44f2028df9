//! `python("methods/mine.py")(original)`: a method written in PyTorch, run in a Python process.
//!
//! The worker hands the code the Original's weights and the dataset exactly as munl stores them
//! (safetensors, no pickles), the split, the fields, the device and the seed in a request file,
//! and runs `python -m munl._run REQUEST` with munl's package on the path (`python/munl/`,
//! embedded in the binary). The package builds munl's architecture, calls the function, checks
//! what it returns (a module with the architecture's names and shapes, giving `[B, classes]`
//! logits) and writes the weights and a reply: the method's own time (for RTE: the process's
//! start and torch's import are not the method's), its per-epoch losses and divergence, or the
//! Python exception with its place in the method's code. Everything Python prints goes to the
//! node's log, `python.log`, kept with its result.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use super::Ctx;
use crate::artifact::{file, NodeFailure};
use crate::backend::Job;
use crate::lower::python::FUNCTION;
use crate::ops::{Augment, Value};
use crate::torch::data::{facts, store};
use crate::torch::device;

/// What a Python method's run needs besides the `Ctx`: from the job.
#[derive(Clone, Debug)]
pub(crate) struct PyJob {
    file: PathBuf,
    dataset: PathBuf,
    log: PathBuf,
    seed: u64,
}

impl PyJob {
    pub(crate) fn of(job: &Job<'_>) -> Result<PyJob, NodeFailure> {
        let node = job.node;
        let file = node.paths.code.clone().ok_or_else(|| NodeFailure::new("a Python method's node has no file"))?;
        let data = job.input("data").ok_or_else(|| NodeFailure::new("the node has no `data` input"))?;
        Ok(PyJob {
            file,
            dataset: data.dir.join(file::DATA),
            log: job.out.join(crate::torch::python::LOG),
            seed: node.seed().unwrap_or(0),
        })
    }
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let job = ctx.python.clone().ok_or_else(|| NodeFailure::new("a Python method runs only with its job"))?;
    let scratch = tempfile::Builder::new()
        .prefix("munl-python-run.")
        .tempdir()
        .map_err(|e| NodeFailure::io(format!("cannot make a scratch folder: {e}")))?;
    let at = |name: &str| scratch.path().join(name);
    store::write_tensors(&at("original.safetensors"), &ctx.model.state_dict())?;
    let info = &ctx.res.info;
    let f = facts(&info.source)?;
    // How Python builds the architecture: munl's, from its name and fields, or a custom one
    // from its TorchScript module (written beside the weights).
    let arch_args = match ctx.model.arch() {
        "cnn" => json!({ "width": ctx.model.tensor("conv1.weight").map_or(32, |t| t.size()[0]) }),
        "vit11m" => json!({ "img_size": info.shape[1] }),
        _ => json!({}),
    };
    if let Some(source) = ctx.model.source() {
        source.write(scratch.path())?;
    }
    let fields: BTreeMap<&str, serde_json::Value> =
        ctx.params.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.as_str(), v.canonical())).collect();
    let function = ctx.params.get(FUNCTION).and_then(Value::as_str).unwrap_or("unlearn").to_string();
    let request = json!({
        "file": job.file,
        "function": function,
        "fields": fields,
        "device": device::describe(ctx.res.device),
        "seed": job.seed,
        "arch": { "name": ctx.model.arch(), "args": arch_args, "module": at(file::MODULE) },
        "classes": ctx.classes,
        "model": at("original.safetensors"),
        "dataset": job.dataset,
        "facts": {
            "mean": f.mean,
            "std": f.std,
            "augment": match f.augment { Augment::None => "none", Augment::Flip => "flip", Augment::CropFlip => "crop_flip" },
        },
        "split": { "retain": ctx.split.retain, "forget": ctx.split.forget, "val": ctx.split.val },
        "out": at("unlearned.safetensors"),
        "reply": at("reply.json"),
    });
    store::write_json(&at("request.json"), &request)?;
    let reply = crate::torch::python::run("_run", &job.file, &at("request.json"), &at("reply.json"), &job.log)?;
    // The same architecture (the same module, for a custom one) with the returned weights; a
    // name or shape that does not fit fails here too.
    ctx.model = ctx.model.rebuild(store::read_tensors(&at("unlearned.safetensors"))?)?;
    ctx.losses = reply.losses.iter().map(|l| l.unwrap_or(f64::NAN)).collect();
    ctx.own_seconds = reply.seconds;
    if let Some(why) = reply.diverged {
        if !ctx.continue_on_divergence {
            return Err(NodeFailure::diverged(why));
        }
        ctx.diverged.get_or_insert(why);
    }
    Ok(())
}
