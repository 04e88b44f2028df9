//! One node of the plan: an operation applied to inputs, identified by its key.

use std::collections::BTreeMap;

use crate::digest::Key;
use crate::ops::Value;
use crate::span::Span;

/// What a node computes; fixes the artifact files it produces (see `artifact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// Decode a dataset source into `data.safetensors`.
    Dataset,
    /// Compute split indices into `split.safetensors`.
    Split,
    /// A model's seeded initial weights, `model.safetensors`.
    Init,
    /// Original / Retrain training, `model.safetensors` + `run.json`.
    Train,
    /// An unlearning method, `model.safetensors` + `run.json`.
    Unlearn,
    /// Accuracies and MIA of one model, `metrics.json`.
    Measure,
    /// A hyper-parameter search of one method on one seed: its trials and their objectives,
    /// `search.json`. Each trial is a cache entry of its own (kind `trial`), keyed by its
    /// sampled values; only the search node is in the plan.
    Search,
    /// One trial of a search: the method with sampled values, scored against Retrain,
    /// `trial.json` (no weights are kept).
    Trial,
    /// One `evaluate` declaration's table over models and seeds, `table.json`.
    Evaluate,
    /// One `report` declaration's rendered files.
    Report,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Dataset => "dataset",
            NodeKind::Split => "split",
            NodeKind::Init => "init",
            NodeKind::Train => "train",
            NodeKind::Unlearn => "unlearn",
            NodeKind::Measure => "measure",
            NodeKind::Search => "search",
            NodeKind::Trial => "trial",
            NodeKind::Evaluate => "evaluate",
            NodeKind::Report => "report",
        }
    }
}

/// Index of a node in its plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct NodeId(pub usize);

/// A planned node. Everything that determines its result is in `key`.
/// Serialisable so that a worker process can compute it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub key: Key,
    pub kind: NodeKind,
    pub op: String,
    pub version: u32,
    /// Resolved parameters; all of them are in the key.
    pub params: BTreeMap<String, Value>,
    /// Inputs in declared order, each with its role (`data`, `split`, `init`, `original`, …).
    pub inputs: Vec<(String, NodeId)>,
    /// The model seed, for nodes that depend on a model initialisation.
    pub seed: Option<u64>,
    /// Run-time facts that are not meaning and so not in the key: resolved data folders,
    /// report output paths, row labels of tables.
    pub env: BTreeMap<String, String>,
    /// The logical name, e.g. `unlearn ft [seed=0]`: what the user sees and what the cache
    /// remembers the last key of.
    pub label: String,
    /// The declaration that caused this node, for plans and runtime errors.
    pub decl: String,
    pub span: Span,
}

impl Node {
    pub(crate) fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }
}
