//! The artifact contract: the files each node kind leaves in its cache entry, the structs
//! behind its JSON files, the helpers that read and write them, and the typed failure a node
//! returns instead. A leaf: the engine, the backends, the reports and the CLI all read it, and
//! it reads none of them.
//!
//! | kind | files |
//! |---|---|
//! | dataset | [`file::DATA`] (`images` u8 `[N, C, H, W]`, `labels` i64 `[N]`, official train part first) and [`file::DATASET`] ([`DatasetInfo`]) |
//! | split | [`file::SPLIT`] (`train`, `val`, `retain`, `forget`, `test`: i64 global indices) |
//! | init, train, unlearn | [`file::MODEL`] (state dict, PyTorch names); a custom model also [`file::MODULE`] (TorchScript) and [`file::MODULE_NAMES`] (its parameter and buffer names); train and unlearn also [`file::RUN`] ([`RunInfo`]) |
//! | measure | [`file::METRICS`] ([`Metrics`]) and [`file::LOSSES`] (per-sample losses) |
//! | distance | [`file::DISTANCE`] ([`Distances`]) |
//! | predict | [`file::SCORES`] (`stats::ulira::PoolScores`: per official-train sample, correctness and logit-scaled confidence) |
//! | membership | [`file::MEMBERSHIP`] ([`Membership`]) |
//! | trial | [`file::TRIAL`] ([`TrialResult`]; no weights) |
//! | search | [`file::SEARCH`] ([`SearchResult`]) |
//! | evaluate | [`file::TABLE`] ([`table::Table`]) |
//! | report | the rendered files, at the paths the report declares |
//!
//! Tensors are safetensors with PyTorch-compatible names, everything else JSON; never pickle
//! (a custom model's `module.pt` is TorchScript, read by libtorch's loader; the weights munl uses
//! are those of its safetensors file).

mod failure;
mod info;
mod json;
mod membership;
mod search;
pub(crate) mod table;

pub(crate) use failure::panic_text;
pub use failure::{FailureKind, NodeFailure};
pub(crate) use info::TrialResult;
pub use info::{DatasetInfo, Distances, Metrics, Phases, RunInfo};
pub(crate) use json::{read_json, write_json};
pub(crate) use membership::{Attack, Estimate, Membership};
pub(crate) use search::{SearchResult, TrialRecord, BEST_AMONG_FIRST, OBJECTIVES};

/// File names inside a cache entry.
pub(crate) mod file {
    /// A model's state dict.
    pub(crate) const MODEL: &str = "model.safetensors";
    /// A custom model's architecture: its TorchScript module, beside [`MODEL`].
    pub(crate) const MODULE: &str = "module.pt";
    /// A custom model's parameter and buffer names, in the order of its [`MODULE`].
    pub(crate) const MODULE_NAMES: &str = "module.json";
    /// Facts about a training or unlearning run.
    pub(crate) const RUN: &str = "run.json";
    /// A decoded dataset's images and labels.
    pub(crate) const DATA: &str = "data.safetensors";
    /// Facts about a decoded dataset.
    pub(crate) const DATASET: &str = "dataset.json";
    /// A split's index sets.
    pub(crate) const SPLIT: &str = "split.safetensors";
    /// One model's measurements.
    pub(crate) const METRICS: &str = "metrics.json";
    /// One model's per-sample losses.
    pub(crate) const LOSSES: &str = "losses.safetensors";
    /// Weight distances of one model to the reference.
    pub(crate) const DISTANCE: &str = "distance.json";
    /// One search trial's objectives.
    pub(crate) const TRIAL: &str = "trial.json";
    /// One search's trials and best.
    pub(crate) const SEARCH: &str = "search.json";
    /// The same trials as a table, one row per trial (what Optuna's `trials_dataframe()` gives).
    pub(crate) const TRIALS: &str = "trials.csv";
    /// One evaluation's table.
    pub(crate) const TABLE: &str = "table.json";
    /// U-LiRA's per-sample scores of one model.
    pub(crate) const SCORES: &str = "scores.safetensors";
    /// U-LiRA's attack on one model family.
    pub(crate) const MEMBERSHIP: &str = "membership.json";
    /// The JSON facts `munl show` prints, in this order.
    /// The values an `unlearn` run received, in `.munl` spelling (a tuned method's best).
    pub(crate) const VALUES: &str = "values.json";
    pub(crate) const SHOWN: &[&str] = &[DATASET, RUN, VALUES, METRICS, SEARCH];
}

/// A CSV field, quoted when it holds a separator, a quote or a line break.
pub(crate) fn csv_field(x: &str) -> String {
    if x.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", x.replace('"', "\"\""))
    } else {
        x.to_string()
    }
}
