//! The lowered experiment: names resolved, inheritance applied, every field typed and defaulted.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ops::{Call, Value};
use crate::span::Span;

/// A whole `.munl` file after lowering.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// Model seeds: every model-dependent node exists once per seed.
    pub seeds: Vec<u64>,
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// The folder of the `.munl` file; report paths are relative to it.
    pub base_dir: PathBuf,
    pub datasets: Vec<Dataset>,
    pub models: Vec<Model>,
    pub trains: Vec<Train>,
    pub unlearns: Vec<Unlearn>,
    pub evaluates: Vec<Evaluate>,
    pub reports: Vec<Report>,
}

/// `dataset NAME { source = …; split = …; limit = … }`
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    pub span: Span,
    pub source: Call,
    pub split: Call,
    pub limit: Option<i64>,
    /// Known from the source without reading data.
    pub classes: i64,
}

/// `model NAME = arch(…)`
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub span: Span,
    pub arch: Call,
}

/// `train NAME { model = …; data = DATASET.SUBSET; … }`
#[derive(Clone, Debug)]
pub struct Train {
    pub name: String,
    pub span: Span,
    /// Index into `Experiment::models`.
    pub model: usize,
    /// Index into `Experiment::datasets`.
    pub dataset: usize,
    /// `train`, `retain`, …
    pub subset: String,
    /// epochs, batch, optim, sched, augment.
    pub params: BTreeMap<String, Value>,
}

/// `unlearn NAME = method(TRAIN) { … }`
#[derive(Clone, Debug)]
pub struct Unlearn {
    pub name: String,
    pub span: Span,
    pub method: String,
    /// Index into `Experiment::trains`: the model to unlearn from.
    pub from: usize,
    /// Every method field, defaults filled in.
    pub params: BTreeMap<String, Value>,
}

/// A model an evaluation measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelRef {
    Train(usize),
    Unlearn(usize),
}

/// `evaluate NAME { models = […]; reference = …; metrics = […] }`
#[derive(Clone, Debug)]
pub struct Evaluate {
    pub name: String,
    pub span: Span,
    pub models: Vec<ModelRef>,
    /// Index into `Experiment::trains`, the model others are compared with (Retrain).
    pub reference: Option<usize>,
    pub metrics: Vec<String>,
}

/// `report NAME { markdown = "…"; csv = "…" }`
#[derive(Clone, Debug)]
pub struct Report {
    pub name: String,
    pub span: Span,
    /// Index into `Experiment::evaluates`.
    pub evaluate: usize,
    /// Format (`markdown`, `csv`, `json`) → path relative to `base_dir`, in format order.
    pub outputs: Vec<(String, String)>,
}

impl Experiment {
    /// The name of a measured model.
    pub fn model_name(&self, m: ModelRef) -> &str {
        match m {
            ModelRef::Train(i) => &self.trains[i].name,
            ModelRef::Unlearn(i) => &self.unlearns[i].name,
        }
    }
}
