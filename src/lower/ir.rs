//! The lowered experiment: names resolved, inheritance applied, every field typed and defaulted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ops::{Call, Value};
use crate::span::Span;

/// A whole `.munl` file after lowering.
#[derive(Clone, Debug)]
pub(crate) struct Experiment {
    /// Model seeds: every model-dependent node exists once per seed.
    pub(crate) seeds: Vec<u64>,
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    pub(crate) device: String,
    /// The folder of the `.munl` file; report paths are relative to it.
    pub(crate) base_dir: PathBuf,
    pub(crate) datasets: Vec<Dataset>,
    pub(crate) models: Vec<Model>,
    pub(crate) trains: Vec<Train>,
    pub(crate) unlearns: Vec<Unlearn>,
    pub(crate) evaluates: Vec<Evaluate>,
    pub(crate) reports: Vec<Report>,
}

/// `dataset NAME { source = …; split = …; limit = … }`
#[derive(Clone, Debug)]
pub(crate) struct Dataset {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) source: Call,
    pub(crate) split: Call,
    pub(crate) limit: Option<i64>,
    /// Known from the source without reading data.
    pub(crate) classes: i64,
}

/// `model NAME = arch(…)`
#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) arch: Call,
}

/// `train NAME { model = …; data = DATASET.SUBSET; … }`
#[derive(Clone, Debug)]
pub(crate) struct Train {
    pub(crate) name: String,
    pub(crate) span: Span,
    /// Index into `Experiment::models`.
    pub(crate) model: usize,
    /// Index into `Experiment::datasets`.
    pub(crate) dataset: usize,
    /// `train`, `retain`, …
    pub(crate) subset: String,
    /// epochs, batch, optim, sched, augment.
    pub(crate) params: BTreeMap<String, Value>,
}

/// `unlearn NAME = method(TRAIN) { … }`
#[derive(Clone, Debug)]
pub(crate) struct Unlearn {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) method: String,
    /// Index into `Experiment::trains`: the model to unlearn from.
    pub(crate) from: usize,
    /// Every method field, defaults filled in.
    pub(crate) params: BTreeMap<String, Value>,
}

/// A model an evaluation measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModelRef {
    Train(usize),
    Unlearn(usize),
}

/// `evaluate NAME { models = […]; reference = …; metrics = […] }`
#[derive(Clone, Debug)]
pub(crate) struct Evaluate {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) models: Vec<ModelRef>,
    /// Index into `Experiment::trains`, the model others are compared with (Retrain).
    pub(crate) reference: Option<usize>,
    pub(crate) metrics: Vec<String>,
}

/// `report NAME { markdown = "…"; csv = "…" }`
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) name: String,
    pub(crate) span: Span,
    /// Index into `Experiment::evaluates`.
    pub(crate) evaluate: usize,
    /// Format (`markdown`, `csv`, `json`) → path relative to `base_dir`, in format order.
    pub(crate) outputs: Vec<(String, String)>,
}

impl Experiment {
    /// The name of a measured model.
    pub(crate) fn model_name(&self, m: ModelRef) -> &str {
        match m {
            ModelRef::Train(i) => &self.trains[i].name,
            ModelRef::Unlearn(i) => &self.unlearns[i].name,
        }
    }
}
