//! The `split` node: the train / val / retain / forget / test index sets of the reference's
//! main split (op `random`, datasets.md §3, `stats::split`) or of a U-LiRA shadow run (op `lira`,
//! §4, `stats::lira`), stored as `split.safetensors`.

use std::path::Path;

use tch::{Kind, Tensor};

use super::data::store;
use super::fields;
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
    let fraction = |name: &str| {
        let f = fields::of(node).float(name)?;
        if (0.0..=1.0).contains(&f) {
            Ok(f)
        } else {
            Err(NodeFailure::new(format!("`{name}` must be a fraction, got {f}")))
        }
    };
    let split = match node.op.as_str() {
        "random" => {
            // The legacy RandomState only takes 32-bit integer seeds.
            let seed = u32::try_from(fields::of(node).natural("seed")?)
                .map_err(|_| NodeFailure::new("`seed` must be an integer in 0..2^32"))?;
            reference_split(info.n_train, info.n_test, fraction("val")?, fraction("forget")?, seed)
        }
        "lira" => {
            // `default_rng` takes any u64 seed.
            let (seed, shadow, draw) = (
                fields::of(node).natural("seed")?,
                fields::of(node).natural("shadow")?,
                fields::of(node).natural("draw")?,
            );
            lira_split(info.n_train, fraction("val")?, fraction("forget")?, seed, shadow, draw)
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
