//! The boundary between the engine and whatever computes nodes.
//!
//! Artifact contract — the files each kind writes into its output folder (all tensors as
//! safetensors with PyTorch-compatible names, everything else JSON; never pickle):
//!
//! | kind | files |
//! |---|---|
//! | dataset | `data.safetensors` (`images` u8 `[N, C, H, W]`, `labels` i64 `[N]`, official train part first) and `dataset.json` (`DatasetInfo`) |
//! | split | `split.safetensors` (`train`, `val`, `retain`, `forget`, `test`: i64 global indices) |
//! | init, train, unlearn | `model.safetensors` (state dict, PyTorch names); train and unlearn also `run.json` (`RunInfo`) |
//! | measure | `metrics.json` (`Metrics`) |
//! | evaluate, report | written by the engine itself, not by a backend |

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::digest::Key;
use crate::plan::Node;

/// One committed input of a job.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub role: &'a str,
    pub node: &'a Node,
    pub key: Key,
    /// The folder of its cache entry: read-only.
    pub dir: &'a Path,
}

/// What a backend is asked to do: compute `node` from `inputs` into the empty folder `out`.
pub struct Job<'a> {
    pub node: &'a Node,
    pub inputs: Vec<Input<'a>>,
    pub out: &'a Path,
    /// Reports progress within the node (done, total, a short message such as the loss).
    pub progress: &'a (dyn Fn(u64, u64, &str) + Sync),
}

impl<'a> Job<'a> {
    /// The input with this role; the planner guarantees the roles each kind needs.
    pub fn input(&self, role: &str) -> Option<&Input<'a>> {
        self.inputs.iter().find(|i| i.role == role)
    }
}

/// Computes nodes. Implementations must be usable from several worker threads at once.
pub trait Backend: Sync {
    /// Runs one job. On error nothing of `out` is kept.
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure>;
}

/// Why a node failed, in words for the user; the engine adds which declaration it was.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeFailure {
    pub message: String,
    pub help: Option<String>,
}

impl NodeFailure {
    pub fn new(message: impl Into<String>) -> NodeFailure {
        NodeFailure { message: message.into(), help: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> NodeFailure {
        self.help = Some(help.into());
        self
    }
}

impl<E: std::fmt::Display> From<E> for NodeFailure {
    fn from(e: E) -> NodeFailure {
        NodeFailure::new(e.to_string())
    }
}

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
    /// Mean training loss per epoch (the quantity each method minimises).
    pub epoch_losses: Vec<f64>,
    pub device: String,
}

/// `metrics.json`: the measurements of one model.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub retain_acc: f64,
    pub forget_acc: f64,
    pub val_acc: f64,
    pub test_acc: f64,
    pub mia_val: f64,
    pub mia_test: f64,
    /// The measured model's `run.json` seconds (0 for an initialisation).
    pub seconds: f64,
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
