//! The `split` node: the train / val / retain / forget / test index sets of the reference's
//! main split (op `random`, datasets.md §3, `stats::split`) or of a U-LiRA shadow run (op `lira`,
//! §4, `stats::lira`), stored as `split.safetensors`.

use std::path::Path;

use tch::{Kind, Tensor};

use super::data::store;
use crate::artifact::file;
use crate::artifact::{DatasetInfo, NodeFailure};
use crate::plan::Node;
use crate::stats::lira::lira_split;
use crate::stats::split::{reference_split, Split};

/// The names of the five sets, in file order.
const SETS: [&str; 5] = ["train", "val", "retain", "forget", "test"];

/// Computes the split of the dataset in `data_dir` and writes `split.safetensors` into `out`.
pub(crate) fn build(node: &Node, data_dir: &Path, out: &Path) -> Result<(), NodeFailure> {
    let info: DatasetInfo = store::read_json(&data_dir.join(file::DATASET))?;
    let fraction = |name: &str, default: f64| match node.param(name) {
        None => Ok(default),
        Some(v) => v
            .as_f64()
            .filter(|f| (0.0..=1.0).contains(f))
            .ok_or_else(|| NodeFailure::new(format!("`{name}` must be a fraction, got {v}"))),
    };
    // Non-negative integer parameters; `default_rng` takes any u64 seed.
    let count = |name: &str, default: u64| match node.param(name) {
        None => Ok(default),
        Some(v) => {
            v.as_u64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a non-negative integer, got {v}")))
        }
    };
    let split = match node.op.as_str() {
        "random" => {
            let val = fraction("val", 0.15)?;
            let forget = fraction("forget", 0.10)?;
            // The legacy RandomState only takes 32-bit integer seeds.
            let seed = match node.param("seed") {
                None => 123,
                Some(v) => v
                    .as_u64()
                    .and_then(|s| u32::try_from(s).ok())
                    .ok_or_else(|| NodeFailure::new(format!("`seed` must be an integer in 0..2^32, got {v}")))?,
            };
            reference_split(info.n_train, info.n_test, val, forget, seed)
        }
        "lira" => {
            // Defaults are the reference's command-line defaults (datasets.md §4).
            let val = fraction("val", 0.05)?;
            let forget = fraction("forget", 0.10)?;
            let seed = count("seed", 123)?;
            let shadow = count("shadow", 0)?;
            let draw = count("draw", 0)?;
            lira_split(info.n_train, val, forget, seed, shadow, draw)
        }
        op => return Err(NodeFailure::new(format!("the torch backend has no split `{op}`"))),
    };
    let sets = [&split.train, &split.val, &split.retain, &split.forget, &split.test];
    let tensors: Vec<(String, Tensor)> =
        SETS.iter().zip(sets).map(|(n, s)| (n.to_string(), Tensor::from_slice(s))).collect();
    store::write_tensors(&out.join(file::SPLIT), &tensors)
}

/// Reads `split.safetensors` from a split node's folder.
pub(crate) fn load(dir: &Path) -> Result<Split, NodeFailure> {
    let path = dir.join(file::SPLIT);
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
