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
    /// Wall time of the method in the trial (not its evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seconds: Option<f64>,
}

/// The names of objective10's four objectives, in order, for tables: |RA(U) − RA(R)| / 3,
/// |FA(U) − FA(R)| / 3, |VA(U) − VA(R)| / 3 and 2·|ValMIA(U) − 0.5| (U the trial's model, R the
/// Retrain model of the seed), all minimised.
pub(crate) const OBJECTIVES: [&str; 4] = ["retain_gap", "forget_gap", "val_gap", "mia_gap"];

impl SearchResult {
    /// `trials.csv`: one row per trial — its number and state, each searched field, the four
    /// named objectives (empty for +∞), the score, the method's seconds, whether it is the best,
    /// the note and the trial's key (`munl show FILE KEY` opens it).
    pub(crate) fn csv(&self) -> String {
        let fields: std::collections::BTreeSet<&String> = self.trials.iter().flat_map(|t| t.values.keys()).collect();
        let mut head: Vec<String> = vec!["number".into(), "state".into()];
        head.extend(fields.iter().map(|f| f.to_string()));
        head.extend(OBJECTIVES.iter().map(|o| o.to_string()));
        head.extend(["score", "seconds", "best", "note", "key"].map(String::from));
        let mut out = head.iter().map(|h| crate::artifact::csv_field(h)).collect::<Vec<_>>().join(",");
        out.push('\n');
        let number = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        for (i, t) in self.trials.iter().enumerate() {
            let mut row = vec![t.number.to_string(), t.state.clone()];
            row.extend(fields.iter().map(|f| t.values.get(*f).map_or(String::new(), |v| v.to_string())));
            row.extend((0..OBJECTIVES.len()).map(|k| number(t.objectives.get(k).copied().flatten())));
            row.extend([number(t.score), number(t.seconds), (self.best == Some(i)).to_string()]);
            row.extend([t.note.clone().unwrap_or_default(), t.key.clone().unwrap_or_default()]);
            out.push_str(&row.iter().map(|x| crate::artifact::csv_field(x)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}
