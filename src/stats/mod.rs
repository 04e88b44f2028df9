//! Pure-Rust numerics of the benchmark (no torch): NumPy's legacy MT19937 and the reference's
//! main data split, NumPy's `default_rng` (PCG64) and the U-LiRA shadow splits, scikit-learn's
//! stratified splitter and logistic-regression attacker, the reference MIA protocol,
//! seed-level summary statistics, and the (truncated) normal distribution's special functions
//! of the TPE sampler (SciPy's, as Optuna ports them).
//!
//! Everything here reproduces the Python reference bit-for-bit where the spec says it can
//! (index arrays, MIA values on the test vectors); see `spec/attack.md` and `spec/datasets.md` §3–4.
//! The normal functions are the exception: they are not verified against Optuna (see `normal`).

pub(crate) mod lira;
pub(crate) mod logistic;
pub(crate) mod mia;
pub(crate) mod mt19937;
pub(crate) mod normal;
pub(crate) mod pcg64;
pub(crate) mod shuffle;
pub(crate) mod split;
pub(crate) mod stratified;
pub(crate) mod summary;
pub(crate) mod ulira;
