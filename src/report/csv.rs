//! The CSV rendering: the long format, one line per shown row, seed and metric; a grouped
//! report adds a column per grouping dimension after `method`, a report across settings also
//! the evaluation before `dataset`.

use std::fmt::Write as _;

use super::present::{dimensions, distinct, is_ulira, Group, Labels, Setting};
use crate::artifact::csv_field;
use crate::artifact::table::Table;

/// Long CSV: `dataset,model,method,op,seed,metric,value,key,hp.<field>…`, one line per shown
/// row, seed and metric (an undefined value is empty): `op` is the method (or `train`), `key` the
/// measured model's cache key, and a column `hp.<field>` per hyper-parameter of any row holds the
/// value the row's runs used (empty where its op has no such field). Aggregates are in the JSON,
/// except U-LiRA's, which exist only over a model's runs: they have an empty seed, and their CI
/// half-widths are `<metric>_ci95`.
pub(crate) fn csv(t: &Table, l: &Labels) -> String {
    let fields = hyper_fields([t]);
    let mut s = head(&[], &[], &fields);
    lines(&mut s, &[], &[], &fields, t, l);
    s
}

/// Long CSV of a grouped report: `dataset,model,method,op,<dimension>…,seed,metric,value,key,
/// hp.<field>…`, each group's lines with its coordinates, groups in order.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> String {
    let fields = hyper_fields(groups.iter().map(|g| &g.table));
    let mut s = head(&[], &dimensions(groups), &fields);
    for g in groups {
        lines(&mut s, &[], &g.values(), &fields, &g.table, l);
    }
    s
}

/// Long CSV of a report across settings: `evaluation,dataset,model,method,op,<dimension>…,seed,
/// metric,value,key,hp.<field>…`, each setting's lines led by its evaluation, with a column per
/// dimension of any setting (in order of first appearance; empty where a setting lacks it),
/// settings in order.
pub(crate) fn across(settings: &[Setting]) -> String {
    let dims = distinct(settings.iter().flat_map(|s| s.coords.iter().map(|(d, _)| d.as_str())));
    let fields = hyper_fields(settings.iter().map(|s| &s.table));
    let mut s = head(&["evaluation"], &dims, &fields);
    for setting in settings {
        let value = |d: &&str| setting.coords.iter().find(|(x, _)| x == d).map_or("", |(_, v)| v.as_str());
        let values: Vec<&str> = dims.iter().map(value).collect();
        lines(&mut s, &[&setting.evaluation], &values, &fields, &setting.table, &setting.labels);
    }
    s
}

/// Every hyper-parameter of the shown rows' models, sorted: a column each.
fn hyper_fields<'a>(tables: impl IntoIterator<Item = &'a Table>) -> Vec<String> {
    let mut fields: Vec<String> = tables
        .into_iter()
        .flat_map(|t| t.rows.iter().take(t.shown))
        .filter_map(|r| r.model.as_ref())
        .flat_map(|m| m.values.keys().cloned())
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

/// The header line: the columns `first` before `dataset`, a column per grouping dimension after
/// `op`, a column per hyper-parameter after `key`.
fn head(first: &[&str], dims: &[&str], fields: &[String]) -> String {
    let mut s: String = first.iter().map(|c| format!("{},", csv_field(c))).collect();
    s.push_str("dataset,model,method,op");
    for d in dims {
        let _ = write!(s, ",{}", csv_field(d));
    }
    s.push_str(",seed,metric,value,key");
    for f in fields {
        let _ = write!(s, ",{}", csv_field(&format!("hp.{f}")));
    }
    s.push('\n');
    s
}

/// A value in `.munl` spelling as a CSV cell: a plain string without its quotes.
fn plain(value: &str) -> String {
    let unquoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).filter(|v| !v.contains('"'));
    csv_field(unquoted.unwrap_or(value))
}

/// One table's lines, led by the cells `first` (a setting's evaluation), with the cells `lead` (a
/// group's coordinates) after `op` and the row's value of each of `fields` after `key`.
fn lines(s: &mut String, first: &[&str], lead: &[&str], fields: &[String], t: &Table, l: &Labels) {
    let get = |v: &[String], i: usize| csv_field(v.get(i).map_or("", String::as_str));
    let first: String = first.iter().map(|v| format!("{},", csv_field(v))).collect();
    let lead: String = lead.iter().map(|v| format!(",{}", csv_field(v))).collect();
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let op = row.model.as_ref().map_or(String::new(), |m| csv_field(&m.op));
        let hyper: String = fields
            .iter()
            .map(|f| {
                format!(",{}", row.model.as_ref().and_then(|m| m.values.get(f)).map_or(String::new(), |v| plain(v)))
            })
            .collect();
        let named =
            format!("{first}{},{},{},{op}{lead}", get(&l.datasets, i), get(&l.models, i), csv_field(l.method(i)));
        for seed in &row.seeds {
            let key = seed.key.as_deref().unwrap_or("");
            for c in &t.columns {
                let value = seed.values.get(c).copied().flatten().filter(|v| v.is_finite());
                let value = value.map_or(String::new(), |v| format!("{v}"));
                let _ = writeln!(s, "{named},{},{c},{value},{key}{hyper}", seed.seed);
            }
        }
        for c in t.columns.iter().filter(|c| is_ulira(c)) {
            let Some(a) = row.summary.get(c) else { continue };
            let number = |x: f64| if x.is_finite() { format!("{x}") } else { String::new() };
            for (metric, value) in [(c.clone(), a.mean), (format!("{c}_ci95"), a.ci95)] {
                let _ = writeln!(s, "{named},,{metric},{},{hyper}", number(value));
            }
        }
    }
}
