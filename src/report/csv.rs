//! The CSV rendering: the long format, one line per shown row, seed and metric; a grouped
//! report adds a column per grouping dimension after `method`, a report across settings also
//! the evaluation before `dataset`.

use std::fmt::Write as _;

use super::present::{dimensions, distinct, is_ulira, Group, Labels, Setting};
use crate::artifact::csv_field;
use crate::artifact::table::Table;

/// Long CSV: `dataset,model,method,seed,metric,value`, one line per shown row, seed and metric
/// (an undefined value is empty). Aggregates are in the JSON, except U-LiRA's, which exist only
/// over a model's runs: they have an empty seed, and their CI half-widths are `<metric>_ci95`.
pub(crate) fn csv(t: &Table, l: &Labels) -> String {
    let mut s = head(&[], &[]);
    lines(&mut s, &[], &[], t, l);
    s
}

/// Long CSV of a grouped report: `dataset,model,method,<dimension>…,seed,metric,value`, each
/// group's lines with its coordinates, groups in order.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> String {
    let mut s = head(&[], &dimensions(groups));
    for g in groups {
        lines(&mut s, &[], &g.values(), &g.table, l);
    }
    s
}

/// Long CSV of a report across settings: `evaluation,dataset,model,method,<dimension>…,seed,
/// metric,value`, each setting's lines led by its evaluation, with a column per dimension of any
/// setting (in order of first appearance; empty where a setting lacks it), settings in order.
pub(crate) fn across(settings: &[Setting]) -> String {
    let dims = distinct(settings.iter().flat_map(|s| s.coords.iter().map(|(d, _)| d.as_str())));
    let mut s = head(&["evaluation"], &dims);
    for setting in settings {
        let value = |d: &&str| setting.coords.iter().find(|(x, _)| x == d).map_or("", |(_, v)| v.as_str());
        let values: Vec<&str> = dims.iter().map(value).collect();
        lines(&mut s, &[&setting.evaluation], &values, &setting.table, &setting.labels);
    }
    s
}

/// The header line: the columns `first` before `dataset`, a column per grouping dimension after
/// `method`.
fn head(first: &[&str], dims: &[&str]) -> String {
    let mut s: String = first.iter().map(|c| format!("{},", csv_field(c))).collect();
    s.push_str("dataset,model,method");
    for d in dims {
        let _ = write!(s, ",{}", csv_field(d));
    }
    s.push_str(",seed,metric,value\n");
    s
}

/// One table's lines, led by the cells `first` (a setting's evaluation), with the cells `lead` (a
/// group's coordinates) after `method`.
fn lines(s: &mut String, first: &[&str], lead: &[&str], t: &Table, l: &Labels) {
    let get = |v: &[String], i: usize| csv_field(v.get(i).map_or("", String::as_str));
    let first: String = first.iter().map(|v| format!("{},", csv_field(v))).collect();
    let lead: String = lead.iter().map(|v| format!(",{}", csv_field(v))).collect();
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        for seed in &row.seeds {
            for c in &t.columns {
                let value = seed.values.get(c).copied().flatten().filter(|v| v.is_finite());
                let _ = writeln!(
                    s,
                    "{first}{},{},{}{lead},{},{c},{}",
                    get(&l.datasets, i),
                    get(&l.models, i),
                    csv_field(l.method(i)),
                    seed.seed,
                    value.map_or(String::new(), |v| format!("{v}"))
                );
            }
        }
        for c in t.columns.iter().filter(|c| is_ulira(c)) {
            let Some(a) = row.summary.get(c) else { continue };
            let number = |x: f64| if x.is_finite() { format!("{x}") } else { String::new() };
            for (metric, value) in [(c.clone(), a.mean), (format!("{c}_ci95"), a.ci95)] {
                let _ = writeln!(
                    s,
                    "{first}{},{},{}{lead},,{metric},{}",
                    get(&l.datasets, i),
                    get(&l.models, i),
                    csv_field(l.method(i)),
                    number(value)
                );
            }
        }
    }
}
