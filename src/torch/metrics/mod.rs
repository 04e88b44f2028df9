//! Measurements of a model (node kind `measure`, evaluation.md §1–4): accuracies, per-sample
//! losses and the membership-inference attacks built on them; U-LiRA's per-model scores and its
//! attack on a model family (`ulira`).

mod accuracy;
pub(crate) mod distance;
pub(crate) mod losses;
pub(crate) mod measure;
pub(crate) mod objectives;
pub(crate) mod ulira;

/// Evaluation batch size: large, since nothing is kept for backpropagation.
pub(crate) const EVAL_BATCH: i64 = 1024;
