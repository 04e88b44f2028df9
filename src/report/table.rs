//! `table.json`: what an `evaluate` node produces and a `report` renders.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::stats::summary::Summary;

/// Columns in display order, with the metric that brings each and its header.
pub(crate) const COLUMNS: &[(&str, &str, &str)] = &[
    ("retain_acc", "accuracy", "retain acc"),
    ("forget_acc", "accuracy", "forget acc"),
    ("val_acc", "accuracy", "val acc"),
    ("test_acc", "accuracy", "test acc"),
    ("mia_val", "mia", "val MIA"),
    ("mia_test", "mia", "test MIA"),
    ("indiscernibility", "indiscernibility", "indisc."),
    ("seconds", "rte", "time (s)"),
    ("rte", "rte", "RTE"),
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
}

/// One model: a value per seed and column, and the aggregate over seeds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Row {
    pub(crate) seeds: Vec<SeedRow>,
    pub(crate) summary: BTreeMap<String, Aggregate>,
}

/// One model seed's values; `None` where a value is undefined (e.g. RTE of a zero-time model).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct SeedRow {
    pub(crate) seed: u64,
    pub(crate) values: BTreeMap<String, Option<f64>>,
}

/// Mean, sample standard deviation and 95% CI half-width (Student t) over the seeds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Aggregate {
    pub(crate) n: usize,
    pub(crate) mean: f64,
    pub(crate) std: f64,
    pub(crate) ci95: f64,
}

impl From<Summary> for Aggregate {
    fn from(s: Summary) -> Aggregate {
        Aggregate { n: s.n, mean: s.mean, std: s.std, ci95: s.ci95 }
    }
}
