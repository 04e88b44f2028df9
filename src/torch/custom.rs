//! The initial model of a custom architecture (`model net = python("models/net.py", class:
//! "Net")`): `munl._script` constructs the class under the node's seed and compiles it to
//! TorchScript, which munl's own trainer and methods then run (`models/script.rs`). The entry
//! holds `module.pt`, `module.json` and `model.safetensors`, and Python's log.

use std::collections::BTreeMap;

use serde_json::json;

use crate::artifact::{file, NodeFailure};
use crate::backend::Job;
use crate::lower::python::{CLASS, CODE};
use crate::ops::Value;
use crate::plan::Payload;
use crate::torch::data::store;

pub(crate) fn init(job: &Job<'_>) -> Result<(), NodeFailure> {
    let node = job.node;
    let Payload::Init { args, classes } = &node.payload else {
        return Err(NodeFailure::new(format!("`{}` is not an initialisation", node.label)));
    };
    let code = node.paths.code.as_ref().ok_or_else(|| NodeFailure::new("a custom architecture's node has no file"))?;
    let seed = node.seed().ok_or_else(|| NodeFailure::new("an initialisation needs a seed"))?;
    let class = args
        .get(CLASS)
        .and_then(Value::as_str)
        .ok_or_else(|| NodeFailure::new("a custom architecture names no class"))?;
    let fields: BTreeMap<&str, serde_json::Value> = args
        .iter()
        .filter(|(k, _)| k.as_str() != CODE && k.as_str() != CLASS)
        .map(|(k, v)| (k.as_str(), v.canonical()))
        .collect();
    let scratch = tempfile::Builder::new()
        .prefix("munl-python-init.")
        .tempdir()
        .map_err(|e| NodeFailure::io(format!("cannot make a scratch folder: {e}")))?;
    let (request, reply) = (scratch.path().join("request.json"), scratch.path().join("reply.json"));
    store::write_json(
        &request,
        &json!({
            "file": code,
            "class": class,
            "fields": fields,
            "classes": classes,
            "seed": seed,
            "out": job.out,
            "reply": reply,
        }),
    )?;
    crate::torch::python::run("_script", code, &request, &reply, &job.out.join(crate::torch::python::LOG))?;
    for name in [file::MODEL, "module.pt", "module.json"] {
        if !job.out.join(name).is_file() {
            return Err(NodeFailure::new(format!("munl's Python side wrote no `{name}`")));
        }
    }
    Ok(())
}
