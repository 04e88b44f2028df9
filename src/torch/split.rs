//! The `split` node: the reference's train / val / retain / forget / test index sets
//! (datasets.md §3), computed by `stats::split` and stored as `split.safetensors`.

use std::path::Path;

use tch::{Kind, Tensor};

use super::data::store;
use crate::exec::{DatasetInfo, NodeFailure};
use crate::plan::Node;
use crate::stats::split::{reference_split, Split};

/// The names of the five sets, in file order.
const SETS: [&str; 5] = ["train", "val", "retain", "forget", "test"];

/// Computes the split of the dataset in `data_dir` and writes `split.safetensors` into `out`.
pub(crate) fn build(node: &Node, data_dir: &Path, out: &Path) -> Result<(), NodeFailure> {
    let info: DatasetInfo = store::read_json(&data_dir.join("dataset.json"))?;
    if node.op != "random" {
        return Err(NodeFailure::new(format!("the torch backend has no split `{}`", node.op)));
    }
    let fraction = |name: &str, default: f64| match node.param(name) {
        None => Ok(default),
        Some(v) => v
            .as_f64()
            .filter(|f| (0.0..=1.0).contains(f))
            .ok_or_else(|| NodeFailure::new(format!("`{name}` must be a fraction, got {v}"))),
    };
    let val = fraction("val", 0.15)?;
    let forget = fraction("forget", 0.10)?;
    let seed = match node.param("seed") {
        None => 123,
        Some(v) => v
            .as_i64()
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| NodeFailure::new(format!("`seed` must be an integer in 0..2^32, got {v}")))?,
    };
    let split = reference_split(info.n_train, info.n_test, val, forget, seed);
    let sets = [&split.train, &split.val, &split.retain, &split.forget, &split.test];
    let tensors: Vec<(String, Tensor)> =
        SETS.iter().zip(sets).map(|(n, s)| (n.to_string(), Tensor::from_slice(s))).collect();
    store::write_tensors(&out.join("split.safetensors"), &tensors)
}

/// Reads `split.safetensors` from a split node's folder.
pub(crate) fn load(dir: &Path) -> Result<Split, NodeFailure> {
    let path = dir.join("split.safetensors");
    let mut tensors = store::read_tensors(&path)?;
    let mut next = |name: &str| store::to_i64_vec(&store::take_1d(&mut tensors, name, Kind::Int64, &path)?);
    Ok(Split {
        train: next("train")?,
        val: next("val")?,
        retain: next("retain")?,
        forget: next("forget")?,
        test: next("test")?,
    })
}
