//! munl's bounds on the numbers a file gives, each with where it comes from. A bound sits far
//! above what the reference uses and low enough that a value `munl check` accepts cannot exhaust
//! memory, overflow, or crash libtorch later: every number reaches the backend in range. Numbers
//! that only steer the arithmetic (rates, temperatures) need only be finite.
//!
//! The reasons are part of the diagnostics (`epochs` above 10 000 says "munl's limit on epochs;
//! the reference trains for at most 182"), so they name the reference's own largest value.

use super::spec::Limit;

/// Every seed munl takes (model seeds, split, data and search seeds) fits NumPy's legacy
/// `RandomState`, which takes 32-bit seeds.
pub(crate) const SEED: Limit<i64> = Limit::new(u32::MAX as i64, "seeds are 32-bit, as NumPy's RandomState takes them");

/// Model seeds of a file (`seeds = a..b`) and of a search (`search(seeds: …)`): each multiplies
/// the nodes of every model-dependent declaration.
pub(crate) const SEEDS: Limit<usize> = Limit::new(10_000, "munl's limit on seeds; the reference uses 10");

/// Values of one dimension (`dim shadow = 0..64`, `each(…)`): each multiplies the nodes of
/// every declaration that varies along it.
pub(crate) const DIM: Limit<usize> =
    Limit::new(10_000, "munl's limit on a dimension's values; U-LiRA's largest has 64 (shadow models)");

/// Nodes of a whole plan: planning and the `munl plan` table take time and memory per node.
pub(crate) const NODES: Limit<usize> =
    Limit::new(100_000, "munl's limit on planned nodes; the whole reference benchmark plans about 4 500");

pub(crate) const EPOCHS: Limit<i64> =
    Limit::new(10_000, "munl's limit on epochs; the reference trains for at most 182");

/// PRMQ's fractional epochs.
pub(crate) const EPOCHS_FRACTIONAL: Limit<f64> =
    Limit::new(10_000.0, "munl's limit on epochs; the reference trains for at most 182");

/// A per-epoch list (RNI's fine-tuning learning rates) has at most one entry per epoch.
pub(crate) const PER_EPOCH: Limit<usize> = Limit::new(10_000, "one per epoch, and munl's limit on epochs is 10000");

/// 2^16: a full batch of any reference dataset (60 000 MNIST images) still fits.
pub(crate) const BATCH: Limit<i64> = Limit::new(65_536, "munl's limit on batch sizes; the reference uses at most 256");

/// Learning rates, weight decays, penalty weights and temperatures: any finite number. They
/// cost no time or memory, and a huge one only makes the run diverge, which munl reports as such
/// (its tests force divergence with `lr = 1e30`).
pub(crate) const FINITE: Limit<f64> = Limit::natural(f64::MAX);

/// An integer field of a Python method.
pub(crate) const PYTHON_INT: Limit<i64> =
    Limit::new(1 << 53, "munl's limit on a Python method's integers: exact as a JSON number");

pub(crate) const CLASSES: Limit<i64> =
    Limit::new(100_000, "munl's limit on classes; the reference has at most 100 (CIFAR-100)");

/// Images of a generated dataset part, and a dataset's `limit`.
pub(crate) const IMAGES: Limit<i64> =
    Limit::new(10_000_000, "munl's limit on images; the reference's largest train part has 60 000 (MNIST)");

/// Height and width of an image, and TinyViT's `img_size`.
pub(crate) const SIDE: Limit<i64> =
    Limit::new(4_096, "munl's limit on image sides; the reference's largest is 224 (UTKFace)");

/// `[channels, height, width]`.
pub(crate) const SHAPE_LEN: usize = 3;

/// Bytes of a generated dataset, `(size + test) × channels × height × width`: 4 GiB.
pub(crate) const GENERATED_BYTES: Limit<u64> =
    Limit::new(1 << 32, "munl's limit on generated data; CIFAR-10 holds 184 MB");

/// At 1024 the `cnn` has about twice ResNet-18's 11 M weights: it is meant for CPU runs.
pub(crate) const WIDTH: Limit<i64> =
    Limit::new(1_024, "munl's limit on `cnn` widths: at 1024 it has twice ResNet-18's weights");

/// CF-k's and EU-k's trained blocks (ResNet-18 has 4, TinyViT 3).
pub(crate) const BLOCKS: Limit<i64> = Limit::new(10, "the reference searches 1 to 10 blocks");

/// EU-k's unused `training_epoch_factor`.
pub(crate) const EPOCH_FACTOR: Limit<i64> = Limit::new(10, "the reference searches 1 to 10");

/// Completed trials per searched seed.
pub(crate) const TRIALS: Limit<i64> =
    Limit::new(10_000, "munl's limit on trials; the reference runs 100 per seed (200 for U-LiRA)");

/// The smallest image side the `cnn` takes: its two 2×2 max-pools without padding take a side
/// of 4 to 2 to 1; a smaller side leaves the second nothing to pool, which libtorch rejects.
pub(crate) const CNN_MIN_SIDE: i64 = 4;
