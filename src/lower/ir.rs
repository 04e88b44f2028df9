//! The lowered experiment: names resolved, inheritance applied, every field typed and defaulted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ops::{Call, Format, Metric, Value};
use crate::search::SamplerKind;
use crate::span::Span;

/// A whole `.munl` file after lowering.
#[derive(Clone, Debug)]
pub(crate) struct Experiment {
    /// Model seeds: every model-dependent node exists once per seed (the built-in dimension
    /// `seed`).
    pub(crate) seeds: Vec<u64>,
    /// The other dimensions, declared (`dim`) or inline (`each`), in file order.
    pub(crate) dims: Vec<Dim>,
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
    /// The file's index among the compiled sources (0 for the file compiled; see `compile`).
    pub(crate) source: usize,
    /// The files it imports (`import "…" as alias`), lowered, in file order.
    pub(crate) imports: Vec<Imported>,
}

/// `import "mnist_resnet18.munl" as mr`: another file, lowered on its own (its settings, data
/// and dimensions are its own), whose declarations this file names as `mr.NAME`.
#[derive(Clone, Debug)]
pub(crate) struct Imported {
    pub(crate) alias: String,
    /// The path as written in the `import` line.
    pub(crate) path: String,
    pub(crate) experiment: Experiment,
}

/// A dimension: its name and its values as written (for labels and report columns). Fields
/// that vary along it hold a `Value::Dim` with the values typed for them.
#[derive(Clone, Debug)]
pub(crate) struct Dim {
    pub(crate) name: String,
    pub(crate) shown: Vec<String>,
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
    /// The code of a custom architecture (`python("models/net.py", class: "Net")`); `function`
    /// is the class.
    pub(crate) code: Option<PyCode>,
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
    /// The fields the block wrote (inherited ones included), in order: the others are defaults.
    pub(crate) written: Vec<String>,
}

/// `unlearn NAME = method(TRAIN) { … }`
#[derive(Clone, Debug)]
pub(crate) struct Unlearn {
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) method: String,
    /// Index into `Experiment::trains`: the model to unlearn from.
    pub(crate) from: usize,
    /// Every method field, defaults filled in (a searched field holds its default).
    pub(crate) params: BTreeMap<String, Value>,
    /// `tune = search(…)`: the searched fields and how.
    pub(crate) search: Option<Search>,
    /// The code of a Python method (`python("file.py")(original)`); `None` for a catalogue one.
    pub(crate) code: Option<PyCode>,
    /// The fields the block wrote (inherited ones included), in order: the others are defaults.
    pub(crate) written: Vec<String>,
}

/// The code a Python op runs.
#[derive(Clone, Debug)]
pub(crate) struct PyCode {
    /// The file, absolute (resolved against the `.munl` file's folder).
    pub(crate) file: std::path::PathBuf,
    /// The function it defines that munl calls.
    pub(crate) function: String,
    /// The fingerprint of the file, its local modules and the Python and torch versions.
    pub(crate) digest: String,
}

/// A hyper-parameter search of one `unlearn` declaration (evaluation.md §5).
#[derive(Clone, Debug)]
pub(crate) struct Search {
    /// The `search(…)` call's fields, resolved.
    pub(crate) settings: SearchSettings,
    /// Searched fields in the order the reference suggests them (`OpSpec::suggestion_order`).
    pub(crate) space: Vec<(String, Dist)>,
    /// Index into `Experiment::trains`: the Retrain model the objectives compare with.
    pub(crate) reference: usize,
}

/// The fields of `tune = search(…)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SearchSettings {
    /// Completed trials per searched seed.
    pub(crate) trials: usize,
    /// The model seeds searched.
    pub(crate) seeds: Vec<u64>,
    pub(crate) sampler: SamplerKind,
    pub(crate) export: ExportMode,
    /// Dimensions whose coordinates the searches run at only some of (by value index), the
    /// best trial over all of them setting the runs at every coordinate: U-LiRA searches
    /// shadows 0–31 of draw 0 for all 64 × 10.
    pub(crate) at: Vec<(String, Vec<u64>)>,
}

/// How a tuned method takes its best trial's values (unlearners.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ExportMode {
    /// With the method's export rule from the catalogue (dropped fields, truncations).
    Reference,
    /// As they were searched.
    Searched,
}

impl ExportMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ExportMode::Reference => "reference",
            ExportMode::Searched => "searched",
        }
    }
}

/// A search distribution of one field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Dist {
    Uniform(f64, f64),
    LogUniform(f64, f64),
    IntUniform(i64, i64),
    /// One of these numbers (e.g. batch sizes).
    Choice(Vec<Value>),
    /// A single value, used without randomness (the reference's pinned momentum 0.9).
    Fixed(Value),
}

impl Dist {
    /// In `.munl` form for keys and explanations, e.g. `log_uniform(field: "lr", low: 1e-5,
    /// high: 0.1)`; never read back.
    pub(crate) fn to_value(&self, field: &str) -> Value {
        let mut args = BTreeMap::from([("field".to_string(), Value::Str(field.to_string()))]);
        let op = match self {
            Dist::Uniform(a, b) | Dist::LogUniform(a, b) => {
                args.insert("low".into(), Value::Float(*a));
                args.insert("high".into(), Value::Float(*b));
                if matches!(self, Dist::Uniform(..)) {
                    "uniform"
                } else {
                    "log_uniform"
                }
            }
            Dist::IntUniform(a, b) => {
                args.insert("low".into(), Value::Int(*a));
                args.insert("high".into(), Value::Int(*b));
                "int_uniform"
            }
            Dist::Choice(items) => {
                args.insert("choices".into(), Value::List(items.clone()));
                "choice"
            }
            Dist::Fixed(v) => {
                args.insert("value".into(), v.clone());
                "fixed"
            }
        };
        Value::Call(Call { op: op.into(), args })
    }
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
    pub(crate) metrics: Vec<Metric>,
    /// The dimensions aggregated over (`seed` by default); the models' other dimensions group
    /// the rows, one table per group.
    pub(crate) over: Vec<String>,
    pub(crate) over_span: Span,
}

/// `report NAME { markdown = "…"; csv = "…" }`
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) name: String,
    pub(crate) span: Span,
    /// The evaluations reported: one, or with `across` the settings of a report across them.
    pub(crate) evaluates: Vec<EvalRef>,
    /// Whether `evaluate` is a list: a report across settings (ranks per setting, mean rank,
    /// top-group counts, one long CSV) even of a single evaluation.
    pub(crate) across: bool,
    /// Format → path relative to `base_dir`, in format order.
    pub(crate) outputs: Vec<(Format, String)>,
}

/// An evaluation a report names: this file's (`bench`) or an imported file's (`mr.bench`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EvalRef {
    /// Index into `Experiment::imports`, `None` for this file.
    pub(crate) import: Option<usize>,
    /// Index into that file's `Experiment::evaluates`.
    pub(crate) index: usize,
    /// As written: `bench`, `mr.bench`.
    pub(crate) name: String,
}

impl Experiment {
    /// How many declarations the file has (not counting its imports').
    pub(crate) fn declarations(&self) -> usize {
        self.datasets.len()
            + self.models.len()
            + self.trains.len()
            + self.unlearns.len()
            + self.evaluates.len()
            + self.reports.len()
    }

    /// The dimensions in the order labels and reports show them: the file's, then `seed`.
    pub(crate) fn ordered<'a>(&'a self, dims: &BTreeSet<&str>) -> Vec<&'a str> {
        let named = self.dims.iter().map(|d| d.name.as_str()).filter(|d| dims.contains(d));
        named.chain(dims.contains(super::SEED).then_some(super::SEED)).collect()
    }

    /// The dimensions a dataset's decoded source varies along.
    pub(crate) fn source_dims(&self, d: usize) -> BTreeSet<&str> {
        let mut out = BTreeSet::new();
        self.datasets[d].source.args.values().for_each(|v| v.dims(&mut out));
        out
    }

    /// The dimensions a dataset's split varies along (its source's and its own).
    pub(crate) fn split_dims(&self, d: usize) -> BTreeSet<&str> {
        let mut out = self.source_dims(d);
        self.datasets[d].split.args.values().for_each(|v| v.dims(&mut out));
        out
    }

    /// The dimensions a model declaration's initialisation varies along, `seed` included.
    pub(crate) fn model_dims(&self, m: usize) -> BTreeSet<&str> {
        let mut out = BTreeSet::from([super::SEED]);
        self.models[m].arch.args.values().for_each(|v| v.dims(&mut out));
        out
    }

    /// The dimensions a training varies along: its model's, its data's and its own.
    pub(crate) fn train_dims(&self, t: usize) -> BTreeSet<&str> {
        let train = &self.trains[t];
        let mut out = self.model_dims(train.model);
        out.extend(self.split_dims(train.dataset));
        train.params.values().for_each(|v| v.dims(&mut out));
        out
    }

    /// The dimensions an unlearning varies along: its original's and its own (its searches'
    /// reference is trained on the same data, so it adds none the original lacks but its own).
    pub(crate) fn unlearn_dims(&self, u: usize) -> BTreeSet<&str> {
        let unlearn = &self.unlearns[u];
        let mut out = self.train_dims(unlearn.from);
        unlearn.params.values().for_each(|v| v.dims(&mut out));
        if let Some(search) = &unlearn.search {
            out.extend(self.train_dims(search.reference));
        }
        out
    }

    /// The dimensions of a measured model.
    pub(crate) fn model_ref_dims(&self, m: ModelRef) -> BTreeSet<&str> {
        match m {
            ModelRef::Train(i) => self.train_dims(i),
            ModelRef::Unlearn(i) => self.unlearn_dims(i),
        }
    }

    /// The name of a measured model.
    pub(crate) fn model_name(&self, m: ModelRef) -> &str {
        match m {
            ModelRef::Train(i) => &self.trains[i].name,
            ModelRef::Unlearn(i) => &self.unlearns[i].name,
        }
    }
}
