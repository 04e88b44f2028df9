//! `table.json`: what an `evaluate` node produces and a `report` renders.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ops::Metric;
use crate::stats::summary::Summary;

/// Columns in display order, with the metric that brings each and its header.
pub(crate) const COLUMNS: &[(&str, Metric, &str)] = &[
    ("retain_acc", Metric::Accuracy, "retain acc"),
    ("forget_acc", Metric::Accuracy, "forget acc"),
    ("val_acc", Metric::Accuracy, "val acc"),
    ("test_acc", Metric::Accuracy, "test acc"),
    ("mia_val", Metric::Mia, "val MIA"),
    ("mia_test", Metric::Mia, "test MIA"),
    ("indiscernibility", Metric::Indiscernibility, "indisc."),
    ("seconds", Metric::Rte, "time (s)"),
    ("rte", Metric::Rte, "RTE"),
    ("rr", Metric::Retention, "RR"),
    ("fr", Metric::Retention, "FR"),
    ("tr", Metric::Retention, "TR"),
    ("retdev", Metric::Retention, "RetDev"),
    ("sape_retain", Metric::Sape, "SAPE RA"),
    ("sape_forget", Metric::Sape, "SAPE FA"),
    ("sape_val", Metric::Sape, "SAPE VA"),
    ("sape_test", Metric::Sape, "SAPE TA"),
    // Weight distances (`distance.json`'s l2, l2_normalised, l2_norm, normalised_distance),
    // named for what they measure: ‖θ − θ_ref‖, ‖θ − θ_ref‖ / ‖θ‖, ‖θ‖, ‖θ/‖θ‖ − θ_ref/‖θ_ref‖‖.
    ("l2_to_ref", Metric::Distance, "L2 to ref."),
    ("l2_to_ref_relative", Metric::Distance, "L2 to ref. / ‖θ‖"),
    ("weight_norm", Metric::Distance, "‖θ‖"),
    ("unit_l2_to_ref", Metric::Distance, "L2 of unit θ to ref."),
    ("ulira_p", Metric::Ulira, "U-LiRA P"),
    ("ulira_acc", Metric::Ulira, "U-LiRA acc."),
    ("ulira_auc", Metric::Ulira, "U-LiRA AUC"),
    ("ulira_nan", Metric::Ulira, "U-LiRA NaN"),
    ("ulira_logit_p", Metric::Ulira, "LiRA-conf. P"),
    ("ulira_logit_acc", Metric::Ulira, "LiRA-conf. acc."),
    ("ulira_logit_auc", Metric::Ulira, "LiRA-conf. AUC"),
];

/// One evaluation's numbers. Rows are the evaluated models in declaration order (the reference
/// last if it was not listed); names are not here — they belong to the report.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Table {
    pub(crate) columns: Vec<String>,
    /// Rows shown in reports (the reference, if added only for RTE, is not).
    pub(crate) shown: usize,
    pub(crate) reference: Option<usize>,
    pub(crate) rows: Vec<Row>,
    /// Shown rows other than the reference, best first (with `retention` and a reference only).
    #[serde(default)]
    pub(crate) ranking: Vec<Ranked>,
    /// What the rows were trained on, in `.munl` spelling: (`dataset` | `model`, text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) context: Vec<(String, String)>,
}

/// Where a row's model comes from: the op that made it and the values it was made with.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Provenance {
    /// `train` or `unlearn`.
    pub(crate) kind: String,
    /// The method (`finetune`), or `train`.
    pub(crate) op: String,
    /// The values the runs used, in `.munl` spelling: a tuned method's searched fields hold
    /// the best trial's values (after the export rule).
    pub(crate) values: BTreeMap<String, String>,
    /// An `unlearn`'s values: `written` (by the file), `default` (the catalogue's) or
    /// `searched` (the best trial's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) origins: BTreeMap<String, String>,
    /// A tuned method's searches (one per searched seed), every trial with its values and
    /// objectives: what the best values were chosen from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) searches: Vec<crate::artifact::SearchResult>,
}

/// One model: a value per seed and column, and the aggregate over seeds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Row {
    pub(crate) seeds: Vec<SeedRow>,
    /// Mean over the seeds of each column, i.e. for `rr`, `fr`, `tr`, `retdev` the *mean of the
    /// per-seed ratios* (each seed paired with the reference's same seed).
    pub(crate) summary: BTreeMap<String, Aggregate>,
    /// `rr`, `fr`, `tr`, `retdev` as *ratio of means*: mean accuracy over the seeds divided by the
    /// reference's mean accuracy (the third-party reproduction's reading, evaluation.md §6).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) ratio_of_means: BTreeMap<String, Option<f64>>,
    /// Indiscernibility of the mean test MIA over the seeds, `1 − |2·mean(T-MIA) − 1|`: the
    /// reference's Indisc column (all 17 rows of its table, evaluation.md §6) and the ranking's
    /// tie-breaker. The per-seed mean is `summary["indiscernibility"]`, which is lower near 0.5
    /// (the function is concave).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) indisc_of_mean: Option<f64>,
    /// Where the row's model comes from (absent from tables of older munl versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<Provenance>,
}

impl Row {
    /// The value the paper-shaped tables show for `column`: the aggregate over seeds, except
    /// Indisc, which the reference computes from the mean T-MIA (no spread).
    pub(crate) fn paper(&self, column: &str) -> Option<Aggregate> {
        let summary = self.summary.get(column).copied();
        if column != "indiscernibility" {
            return summary;
        }
        let n = summary.map_or(0, |a| a.n);
        Some(Aggregate { n, mean: self.indisc_of_mean.unwrap_or(f64::NAN), std: f64::NAN, ci95: f64::NAN })
    }
}

/// One model seed's values; `None` where a value is undefined (e.g. RTE of a zero-time model).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct SeedRow {
    pub(crate) seed: u64,
    /// The key of the model measured (its cache entry: `munl show FILE KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) key: Option<String>,
    pub(crate) values: BTreeMap<String, Option<f64>>,
    /// Why values of this model and seed are missing: the run diverged, a metric could not be
    /// computed (e.g. "mia_test unavailable: …"). Reports print them as footnotes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) notes: Vec<String>,
}

/// Mean, sample standard deviation and 95% CI half-width (Student t) over the seeds. NaN (no
/// defined value) is written as JSON `null` and read back as NaN.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Aggregate {
    pub(crate) n: usize,
    #[serde(deserialize_with = "nan_if_null")]
    pub(crate) mean: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub(crate) std: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub(crate) ci95: f64,
}

impl From<Summary> for Aggregate {
    fn from(s: Summary) -> Aggregate {
        Aggregate { n: s.n, mean: s.mean, std: s.std, ci95: s.ci95 }
    }
}

impl Aggregate {
    /// The mean, `None` when undefined.
    pub(crate) fn value(&self) -> Option<f64> {
        Some(self.mean).filter(|m| m.is_finite())
    }
}

fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A method's place in the ranking (evaluation.md §6): by RetDev as ratio of means, ascending;
/// equal RetDev broken by the mean Indisc, descending; undefined values last.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Ranked {
    /// Index into `Table::rows`.
    pub(crate) row: usize,
    /// 1-based position.
    pub(crate) rank: usize,
    /// RetDev, ratio of means (the ranking key).
    pub(crate) retdev: Option<f64>,
    /// Indisc of the mean test MIA over the seeds (the tie-breaker).
    pub(crate) indisc: Option<f64>,
    /// Why the row ranks last, when its RetDev is unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    /// Rows whose 95 % CI of the per-seed RetDev overlaps this row's: statistically tied.
    pub(crate) tied_with: Vec<usize>,
}
