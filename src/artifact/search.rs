//! `search.json`: every trial of one search and the best one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ops::Value;

/// `search.json`: every trial of one search, in trial-number order, and the best one.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct SearchResult {
    pub(crate) trials: Vec<TrialRecord>,
    /// Index into `trials` of the completed trial with the smallest Euclidean norm of its
    /// objectives (the first on ties) among the first `best_among_first` completed ones; `None`
    /// when no trial completed.
    pub(crate) best: Option<usize>,
    /// How many completed trials, in trial-number order, the best is chosen among: the
    /// reference's 100 even when a study ran more (evaluation.md §5.3, U-LiRA's 200 trials).
    #[serde(default = "reference_selection")]
    pub(crate) best_among_first: usize,
}

/// The reference chooses each study's best among its first 100 completed trials.
pub(crate) const BEST_AMONG_FIRST: usize = 100;

fn reference_selection() -> usize {
    BEST_AMONG_FIRST
}

/// One trial of a search.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct TrialRecord {
    pub(crate) number: usize,
    /// The sampled values (the searched fields only).
    pub(crate) values: BTreeMap<String, Value>,
    /// `complete` or `pruned`.
    pub(crate) state: String,
    /// `None` entries stand for +∞.
    pub(crate) objectives: Vec<Option<f64>>,
    /// Euclidean norm of the objectives (+∞ as `None`).
    pub(crate) score: Option<f64>,
    pub(crate) note: Option<String>,
    /// The trial's cache key (hex), which `munl cache gc` keeps while the search is reachable.
    pub(crate) key: Option<String>,
}
