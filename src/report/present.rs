//! What every format shows the same way: the row labels of a report, the groups of a grouped
//! report, the column headers, the paper-shaped column selection and the number cells. A leaf:
//! the format renderers import it, it imports none of them.

use crate::artifact::table::{Aggregate, Table, COLUMNS};

/// What a report says about its rows besides the numbers: the evaluation's name and, per row of
/// the table, the method (declaration) name, the dataset and the architecture.
#[derive(Clone, Debug, Default)]
pub(crate) struct Labels {
    pub(crate) title: String,
    pub(crate) methods: Vec<String>,
    /// Dataset declaration name per row ("" when the plan does not say).
    pub(crate) datasets: Vec<String>,
    /// Architecture (`cnn`, `resnet18`, …) per row ("" when the plan does not say).
    pub(crate) models: Vec<String>,
}

impl Labels {
    /// The method name of a row ("?" past the end of the labels).
    pub(crate) fn method(&self, row: usize) -> &str {
        self.methods.get(row).map_or("?", String::as_str)
    }

    /// The method's name, marked when it is the reference.
    pub(crate) fn shown_name(&self, t: &Table, row: usize) -> String {
        if t.reference == Some(row) {
            format!("{} (reference)", self.method(row))
        } else {
            self.method(row).to_string()
        }
    }
}

/// One table of a grouped report (one `evaluate` node per group, each with its own reference and
/// ranking) and where it sits on the grouping dimensions.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    /// (dimension, value as shown), in the file's order of dimensions; every group of a report
    /// has the same dimensions in the same order (`render` checks).
    pub(crate) coords: Vec<(String, String)>,
    pub(crate) table: Table,
}

impl Group {
    /// The coordinates' values: one cell per grouping dimension.
    pub(crate) fn values(&self) -> Vec<&str> {
        self.coords.iter().map(|(_, v)| v.as_str()).collect()
    }

    /// The coordinates as a heading or a label: `frac = 0.1, ft.lr = 0.01`.
    pub(crate) fn name(&self) -> String {
        self.coords.iter().map(|(d, v)| format!("{d} = {v}")).collect::<Vec<_>>().join(", ")
    }
}

/// One setting of a report across settings: an evaluation's table (or one group's table of a
/// grouped evaluation) with the names of its rows. Methods are matched across settings by name.
#[derive(Clone, Debug)]
pub(crate) struct Setting {
    /// The evaluation as the report names it: `bench`, or `mr.bench` for an imported one.
    pub(crate) evaluation: String,
    /// The group's coordinates (dimension, value shown); empty for an ungrouped evaluation.
    pub(crate) coords: Vec<(String, String)>,
    /// The names of the table's rows (`title` is the evaluation's name).
    pub(crate) labels: Labels,
    pub(crate) table: Table,
}

/// The rows (by index) that some group ranks, in row order: the columns of a grouped report's
/// rank-per-group table.
pub(crate) fn ranked_rows(groups: &[Group]) -> Vec<usize> {
    let rows = groups.iter().map(|g| g.table.rows.len()).max().unwrap_or(0);
    (0..rows).filter(|&i| groups.iter().any(|g| g.table.ranking.iter().any(|r| r.row == i))).collect()
}

/// The distinct values, in order of first appearance.
pub(crate) fn distinct<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = vec![];
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The grouping dimensions of a report, in order (none for no groups).
pub(crate) fn dimensions(groups: &[Group]) -> Vec<&str> {
    groups.first().map_or_else(Vec::new, |g| g.coords.iter().map(|(d, _)| d.as_str()).collect())
}

/// The header of a table column ("?" for a column `COLUMNS` does not know).
pub(crate) fn header(column: &str) -> &'static str {
    COLUMNS.iter().find(|(c, _, _)| *c == column).map_or("?", |(_, _, h)| h)
}

/// The paper-shaped summary (evaluation.md §6): column, header.
pub(crate) const PAPER: &[(&str, &str)] = &[
    ("retain_acc", "RA"),
    ("forget_acc", "FA"),
    ("test_acc", "TA"),
    ("rr", "RR"),
    ("fr", "FR"),
    ("tr", "TR"),
    ("retdev", "RetDev"),
    ("indiscernibility", "Indisc"),
    ("mia_test", "T-MIA"),
    ("rte", "RTE"),
    ("ulira_p", "U-LiRA P"),
    ("ulira_auc", "U-LiRA AUC"),
    ("ulira_nan", "U-LiRA NaN"),
    ("ulira_logit_auc", "LiRA-conf. AUC"),
];

/// The paper columns this table has.
pub(crate) fn paper_columns(t: &Table) -> Vec<(&'static str, &'static str)> {
    PAPER.iter().copied().filter(|(c, _)| t.columns.iter().any(|x| x == c)).collect()
}

/// The paper columns any of the groups' tables has.
pub(crate) fn paper_columns_in(groups: &[Group]) -> Vec<(&'static str, &'static str)> {
    PAPER.iter().copied().filter(|(c, _)| groups.iter().any(|g| g.table.columns.iter().any(|x| x == c))).collect()
}

/// A number to four decimals, "–" when it is not finite.
pub(crate) fn cell(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "–".into()
    }
}

/// A per-seed or derived value, "–" when undefined.
pub(crate) fn opt(x: Option<f64>) -> String {
    x.map_or("–".into(), cell)
}

/// `mean ± half-width` (the half-width only when there are two seeds or more and it is defined).
pub(crate) fn pm(a: &Aggregate, spread: f64) -> String {
    if !a.mean.is_finite() {
        "–".into()
    } else if a.n > 1 && spread.is_finite() {
        format!("{} ± {}", cell(a.mean), cell(spread))
    } else {
        cell(a.mean)
    }
}

/// Whether a column is one of U-LiRA's, whose aggregates are over samples, not seeds.
pub(crate) fn is_ulira(column: &str) -> bool {
    column.starts_with("ulira")
}

/// The number of seeds behind the aggregates (the largest n of any cell but U-LiRA's).
pub(crate) fn seeds_of(t: &Table) -> usize {
    t.rows.iter().flat_map(|r| r.summary.iter()).filter(|(c, _)| !is_ulira(c)).map(|(_, a)| a.n).max().unwrap_or(0)
}

/// The number of seeds behind the aggregates of any group.
pub(crate) fn seeds_in(groups: &[Group]) -> usize {
    groups.iter().map(|g| seeds_of(&g.table)).max().unwrap_or(0)
}
