//! The JSON facts nodes write: `dataset.json`, `run.json`, `metrics.json`, `distance.json`,
//! `trial.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `dataset.json`: facts about a decoded dataset.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DatasetInfo {
    /// The source op (`mnist`, `fashion_mnist`, `synthetic`): selects normalisation and augmentation.
    pub source: String,
    pub classes: usize,
    /// Images `0..n_train` are the official train part, the rest the official test part.
    pub n_train: usize,
    pub n_test: usize,
    /// Stored image shape `[C, H, W]` (before the model-input transform).
    pub shape: [usize; 3],
}

/// `run.json`: facts about one training or unlearning run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    /// Wall time of the method call alone (evaluation.md §4): no loading, no evaluation.
    pub seconds: f64,
    /// Mean training loss per epoch (the quantity each method minimises); an epoch whose loss
    /// was not finite is `null`.
    pub epoch_losses: Vec<Option<f64>>,
    pub device: String,
    /// Where the run's loss first became NaN or infinite, when it did. A final unlearning run
    /// goes on to its end as the reference's does; the model is what the method left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverged: Option<String>,
    /// Where the run's time went, when the run was profiled (`munl run --timings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Phases>,
}

/// Seconds of a run by phase, each timed after a synchronisation of the device (`munl run
/// --timings`): building batches, train-mode forward passes, eval-mode forward passes (a
/// method's own evaluations, or a method that trains in eval mode, as NG+ does), backward passes
/// and optimiser steps; `other` is the rest of the run's `seconds` (losses included).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Phases {
    pub data: f64,
    pub train_forward: f64,
    pub eval_forward: f64,
    pub backward: f64,
    pub optimizer: f64,
    pub other: f64,
}

/// `metrics.json`: the measurements of one model.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub retain_acc: f64,
    pub forget_acc: f64,
    pub val_acc: f64,
    pub test_acc: f64,
    /// `None` when the attack could not be run (see `unavailable`).
    pub mia_val: Option<f64>,
    pub mia_test: Option<f64>,
    /// The measured model's `run.json` seconds (0 for an initialisation).
    pub seconds: f64,
    /// Why a measurement is missing, by metric column (`mia_val`, `mia_test`): e.g. a diverged
    /// model's NaN losses, which the attacker cannot fit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unavailable: BTreeMap<String, String>,
    /// The measured run's divergence (`run.json`), carried into the tables' footnotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverged: Option<String>,
    /// Distances to the reference model, when the `distance` metric asked for them (read from
    /// the separate `distance.json` of the same model and seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distances: Option<Distances>,
}

/// `distance.json`: weight-space distances of a model θ to the reference θ_ref of the same seed,
/// over the trainable parameters (buffers excluded), evaluation.md §4.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Distances {
    /// ‖θ − θ_ref‖.
    pub l2: f64,
    /// ‖θ − θ_ref‖ / ‖θ‖ (Golatkar-style; [AMBIGUOUS] which model normalises: the measured one).
    pub l2_normalised: f64,
    /// ‖θ‖.
    pub l2_norm: f64,
    /// ‖θ/‖θ‖ − θ_ref/‖θ_ref‖‖.
    pub normalised_distance: f64,
}

/// `trial.json`: the outcome of one search trial (evaluation.md §5).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct TrialResult {
    /// The four objectives of "objective10"; `None` stands for +∞ (JSON has no infinity): the
    /// evaluation failed or the run diverged, which the reference scores +∞ (§5.4).
    pub(crate) objectives: Vec<Option<f64>>,
    /// Why the objectives are infinite, when they are.
    pub(crate) note: Option<String>,
    /// Wall time of the method itself.
    pub(crate) seconds: f64,
}
