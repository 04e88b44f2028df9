//! One node of the plan: an operation applied to inputs, identified by its key.
//!
//! What a node computes is its [`Payload`], one typed variant per kind; where it reads or writes
//! outside the cache is its [`Paths`], a separate type that the key never sees. A node with its
//! inputs' cache entries and an empty folder is all any executor needs (see `backend`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Key;
use crate::lower::{Dist, ExportMode};
use crate::ops::{Format, Metric, Value};
use crate::search::SamplerKind;
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
    /// Accuracies and MIA of one model, `metrics.json`; or (op `distance`) its weight distances
    /// to the reference, `distance.json`; or (op `predict`) its U-LiRA scores,
    /// `scores.safetensors`; or (op `membership`) U-LiRA's attack on a model family over its
    /// runs, `membership.json`.
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

/// An op's fields by name, typed and complete: lowering filled every default from the catalogue.
pub(crate) type Params = BTreeMap<String, Value>;

/// What one node computes, with everything that determines its result (the key hashes it).
/// Ops of the catalogue (sources, splits, architectures, the training recipe, methods) carry
/// their fields as [`Params`], checked against the catalogue; the engine's own kinds carry
/// typed specifications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Payload {
    /// The source's fields, without its location (a [`Paths`] fact); `limit` keeps the first
    /// images of each official part; `content` fingerprints user data (official files are
    /// identified by their published checksums instead).
    Dataset {
        args: Params,
        limit: Option<i64>,
        content: Option<String>,
    },
    Split {
        args: Params,
    },
    /// The architecture's fields and the class count of the dataset it is trained on.
    Init {
        args: Params,
        classes: i64,
    },
    /// The recipe (epochs, batch, optim, sched, augment) and the subset trained on.
    Train {
        recipe: Params,
        subset: String,
    },
    /// The method's hyper-parameters; a tuned node also has its searches as inputs, and the
    /// engine fills in their best values (exported as `export` says) before dispatching it.
    Unlearn {
        hyper: Params,
        export: Option<ExportMode>,
    },
    /// Accuracies and MIA of the `model` input.
    Measure,
    /// Weight distances of the `model` input to the `reference` input.
    Distance,
    /// U-LiRA's per-sample scores of the `model` input on the official train part of its
    /// `data` input (op `predict`).
    Predict,
    /// U-LiRA's attack on one model family: inputs `{i}/scores` (a `predict` node) and
    /// `{i}/split` (its run's U-LiRA split) for each run i in (shadow, draw) order (op
    /// `membership`).
    Membership,
    Search(SearchSpec),
    /// The method's hyper-parameters of one trial: the fixed ones and the sampled ones.
    Trial {
        hyper: Params,
    },
    Evaluate(EvaluateSpec),
    Report(ReportSpec),
}

/// A hyper-parameter search of one method on one seed (evaluation.md §5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SearchSpec {
    /// The method's fields that are not searched.
    pub(crate) fixed: Params,
    /// The searched fields with their distributions, in the order they are suggested.
    pub(crate) space: Vec<(String, Dist)>,
    pub(crate) sampler: SamplerKind,
    /// Completed trials wanted.
    pub(crate) trials: usize,
    /// Trials with a larger `batch` are pruned (UTKFace, unlearners.md §1).
    pub(crate) prune_batch_above: Option<i64>,
}

/// One evaluation's table: which metrics, over how many rows and seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct EvaluateSpec {
    pub(crate) metrics: Vec<Metric>,
    /// Rows measured: the listed models, then the reference if it was not listed.
    pub(crate) rows: usize,
    /// Rows shown in reports (the listed models).
    pub(crate) shown: usize,
    pub(crate) seeds: Vec<u64>,
    /// The reference's row.
    pub(crate) reference: Option<usize>,
    /// Per row, where its model comes from (`table.json` `rows[].model`); a tuned method's
    /// searches are the inputs `ROW/search/K`, whose best values the table shows as used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) models: Vec<RowModel>,
    /// What the rows were trained on, in words: `dataset`, `model` and each training's recipe,
    /// for a report's heading.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) context: Vec<(String, String)>,
}

/// What a table row's model is: the op that made it and the values it was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RowModel {
    /// `train` or `unlearn`.
    pub(crate) kind: NodeKind,
    /// The method (`finetune`), or `train`.
    pub(crate) op: String,
    /// The fields as planned, in `.munl` spelling; a searched field holds its pre-search value.
    pub(crate) values: BTreeMap<String, String>,
    /// The fields the file wrote; the others are defaults (an `unlearn`'s only).
    pub(crate) written: Vec<String>,
    /// The fields a search chooses.
    pub(crate) searched: Vec<String>,
    pub(crate) export: Option<ExportMode>,
    /// The model's key at each replicate (seed), in the table's order.
    pub(crate) keys: Vec<String>,
}

/// One report of an evaluation: what its rows are called and which formats it renders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReportSpec {
    /// The evaluation's name, the report's title.
    pub(crate) title: String,
    /// Per table row: the declaration name, the dataset (declaration name) and the architecture.
    pub(crate) rows: Vec<RowLabel>,
    pub(crate) formats: Vec<Format>,
    /// One per table input when the evaluation groups by dimensions (inputs `table/0`,
    /// `table/1`, …): each group's coordinates, as (dimension, value shown) in the file's
    /// order of dimensions. Empty for an ungrouped evaluation, whose one input is `table`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) groups: Vec<Vec<(String, String)>>,
    /// A report across settings (`evaluate = [mr.bench, cv.bench]`): one per input `table/0`,
    /// `table/1`, … — each listed evaluation's table, or each group's of a grouped one. `rows`
    /// and `groups` are then empty: every setting names its own rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) settings: Vec<SettingLabel>,
}

/// What a report across settings knows of one setting besides its table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SettingLabel {
    /// The evaluation as the report names it: `bench`, or `mr.bench` for an imported one.
    pub(crate) evaluation: String,
    /// The group's coordinates (dimension, value shown) when the evaluation is grouped by
    /// dimensions; empty otherwise.
    pub(crate) coords: Vec<(String, String)>,
    /// Per table row, as `ReportSpec::rows`.
    pub(crate) rows: Vec<RowLabel>,
}

/// The names a report shows for one table row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RowLabel {
    pub(crate) name: String,
    pub(crate) dataset: String,
    pub(crate) arch: String,
}

impl Payload {
    pub(crate) fn kind(&self) -> NodeKind {
        match self {
            Payload::Dataset { .. } => NodeKind::Dataset,
            Payload::Split { .. } => NodeKind::Split,
            Payload::Init { .. } => NodeKind::Init,
            Payload::Train { .. } => NodeKind::Train,
            Payload::Unlearn { .. } => NodeKind::Unlearn,
            Payload::Measure | Payload::Distance | Payload::Predict | Payload::Membership => NodeKind::Measure,
            Payload::Search(_) => NodeKind::Search,
            Payload::Trial { .. } => NodeKind::Trial,
            Payload::Evaluate(_) => NodeKind::Evaluate,
            Payload::Report(_) => NodeKind::Report,
        }
    }

    /// The op's fields of a catalogue op (method hyper-parameters, the recipe, a source's or an
    /// architecture's fields); empty for the engine's own kinds.
    pub(crate) fn params(&self) -> &Params {
        static EMPTY: Params = BTreeMap::new();
        match self {
            Payload::Dataset { args, .. } | Payload::Split { args } | Payload::Init { args, .. } => args,
            Payload::Train { recipe, .. } => recipe,
            Payload::Unlearn { hyper, .. } | Payload::Trial { hyper } => hyper,
            Payload::Search(s) => &s.fixed,
            _ => &EMPTY,
        }
    }
}

/// Where a node reads or writes outside the cache: facts of this machine, never of the
/// node's meaning, so no key contains them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Paths {
    /// The resolved data folder (or archive) of a dataset source.
    pub(crate) data: Option<PathBuf>,
    /// Whether missing official files may be fetched into `data`: only under the data root,
    /// never into a folder an absolute path names.
    #[serde(default)]
    pub(crate) fetch: bool,
    /// The files a report writes, by format.
    pub(crate) outputs: Vec<(Format, PathBuf)>,
    /// The Python file a `python(…)` op runs (its content is in the key, as the `@code` field).
    #[serde(default)]
    pub(crate) code: Option<PathBuf>,
    /// The fields the file wrote (the others are defaults, or searched), for `munl show`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) written: Vec<String>,
}

/// A node's coordinates: the named dimensions it was expanded over (today the model `seed`).
pub(crate) type Coords = BTreeMap<String, u64>;

/// Index of a node in its plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct NodeId(pub usize);

/// A planned node. Everything that determines its result is in `key`: op, version, payload,
/// input keys and coordinates. Serialisable so that a worker process can compute it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub key: Key,
    pub op: String,
    pub(crate) version: u32,
    pub(crate) payload: Payload,
    /// Inputs in declared order, each with its role (`data`, `split`, `init`, `original`, …).
    pub inputs: Vec<(String, NodeId)>,
    pub(crate) coords: Coords,
    pub(crate) paths: Paths,
    /// The logical name, e.g. `unlearn ft [seed=0]`: what the user sees and what the cache
    /// remembers the last key of.
    pub label: String,
    /// The declaration that caused this node, for plans and runtime errors.
    pub(crate) decl: String,
    /// Where the declaration is: `span` in source `source` (0 the file compiled, then the files
    /// it imports, in the order they were loaded).
    pub(crate) span: Span,
    #[serde(default)]
    pub(crate) source: usize,
}

impl Node {
    pub fn kind(&self) -> NodeKind {
        self.payload.kind()
    }

    /// The model seed, for nodes that depend on a model initialisation.
    pub fn seed(&self) -> Option<u64> {
        self.coords.get("seed").copied()
    }

    /// The resolved data folder of a dataset node.
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.paths.data.as_deref()
    }

    /// The files a report node writes outside the cache.
    pub fn output_paths(&self) -> impl Iterator<Item = &std::path::Path> {
        self.paths.outputs.iter().map(|(_, p)| p.as_path())
    }
}
