//! Artifact files in and out: safetensors for tensors, JSON for facts (the contract in
//! `artifact`, whose JSON helpers this re-exports). Every error names the file,
//! because a user can only act on a path.

use std::path::Path;

use tch::{Kind, Tensor};

use crate::artifact::NodeFailure;
pub(crate) use crate::artifact::{read_json, write_json};

/// Reads every tensor of a safetensors file, on the CPU.
pub(crate) fn read_tensors(path: &Path) -> Result<Vec<(String, Tensor)>, NodeFailure> {
    Tensor::read_safetensors(path).map_err(|e| NodeFailure::io(format!("cannot read `{}`: {e}", path.display())))
}

/// Writes named tensors (moved to the CPU and made contiguous first) as one safetensors file.
pub(crate) fn write_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), NodeFailure> {
    let host: Vec<(&str, Tensor)> =
        tensors.iter().map(|(n, t)| (n.as_str(), t.detach().to_device(tch::Device::Cpu).contiguous())).collect();
    Tensor::write_safetensors(&host, path)
        .map_err(|e| NodeFailure::io(format!("cannot write `{}`: {e}", path.display())))
}

/// The tensor called `name` in `tensors`, checked to be 1-D of `kind`.
pub(crate) fn take_1d(
    tensors: &mut Vec<(String, Tensor)>,
    name: &str,
    kind: Kind,
    path: &Path,
) -> Result<Tensor, NodeFailure> {
    let pos = tensors
        .iter()
        .position(|(n, _)| n == name)
        .ok_or_else(|| NodeFailure::invalid_data(format!("`{}` has no tensor `{name}`", path.display())))?;
    let (_, t) = tensors.swap_remove(pos);
    if t.dim() != 1 || t.kind() != kind {
        return Err(NodeFailure::invalid_data(format!(
            "`{}`: tensor `{name}` is {:?} {:?}, expected 1-D {kind:?}",
            path.display(),
            t.kind(),
            t.size()
        )));
    }
    Ok(t)
}

/// A 1-D i64 tensor's values on the host.
pub(crate) fn to_i64_vec(t: &Tensor) -> Result<Vec<i64>, NodeFailure> {
    let t = t.to_device(tch::Device::Cpu).to_kind(Kind::Int64).contiguous();
    Ok(Vec::<i64>::try_from(&t)?)
}
