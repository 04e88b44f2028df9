//! Pure-Rust numerics of the benchmark (no torch): NumPy's legacy MT19937 and the reference's
//! main data split, NumPy's `default_rng` (PCG64) and the U-LiRA shadow splits, scikit-learn's
//! stratified splitter and logistic-regression attacker, the reference MIA protocol, and
//! seed-level summary statistics.
//!
//! Everything here reproduces the Python reference bit-for-bit where the spec says it can
//! (index arrays, MIA values on the test vectors); see `spec/attack.md` and `spec/datasets.md` §3–4.

pub(crate) mod lira;
pub(crate) mod logistic;
pub(crate) mod mia;
pub(crate) mod mt19937;
pub(crate) mod pcg64;
pub(crate) mod shuffle;
pub(crate) mod split;
pub(crate) mod stratified;
pub(crate) mod summary;
