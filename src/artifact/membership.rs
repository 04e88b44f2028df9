//! `membership.json`: U-LiRA's attack on one model family over its runs (evaluation.md §7).

use serde::{Deserialize, Serialize};

/// Both statistics' summaries: the reference's binary correctness and the logit-scaled
/// confidence of classic LiRA / U-LiRA (Hayes et al. 2024).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Membership {
    /// Runs (shadow, draw) attacked.
    pub(crate) runs: usize,
    pub(crate) correctness: Attack,
    pub(crate) logit: Attack,
}

/// The §7.4 summaries of one statistic; `None` where the number is NaN (JSON has none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Attack {
    pub(crate) samples: usize,
    pub(crate) forgotten_cases: usize,
    pub(crate) never_seen_cases: usize,
    /// Share of forgotten cases whose P is NaN (σ = 0, or an empty never-seen set).
    pub(crate) nan_fraction: Option<f64>,
    pub(crate) never_seen_nan_fraction: Option<f64>,
    /// NaN-mean of P over the forgotten cases (ideal 0.5).
    pub(crate) mean_p: Estimate,
    /// Balanced accuracy of "member iff P > 0.5".
    pub(crate) balanced_accuracy: Estimate,
    /// ROC-AUC of P separating forgotten from never-seen cases.
    pub(crate) auc: Estimate,
}

/// A number with its 95 % CI half-width over samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Estimate {
    pub(crate) value: Option<f64>,
    pub(crate) ci95: Option<f64>,
}

impl Estimate {
    /// From numbers that may be NaN.
    pub(crate) fn of(value: f64, ci95: f64) -> Estimate {
        let finite = |x: f64| x.is_finite().then_some(x);
        Estimate { value: finite(value), ci95: finite(ci95) }
    }
}
