//! The CSV rendering: the long format, one line per shown row, seed and metric.

use std::fmt::Write as _;

use super::present::Labels;
use crate::artifact::table::Table;

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(x: &str) -> String {
    if x.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", x.replace('"', "\"\""))
    } else {
        x.to_string()
    }
}

/// Long CSV: `dataset,model,method,seed,metric,value`, one line per shown row, seed and metric
/// (an undefined value is empty). Aggregates are in the JSON.
pub(crate) fn csv(t: &Table, l: &Labels) -> String {
    let mut s = String::from("dataset,model,method,seed,metric,value\n");
    let get = |v: &[String], i: usize| csv_field(v.get(i).map_or("", String::as_str));
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        for seed in &row.seeds {
            for c in &t.columns {
                let value = seed.values.get(c).copied().flatten().filter(|v| v.is_finite());
                let _ = writeln!(
                    s,
                    "{},{},{},{},{c},{}",
                    get(&l.datasets, i),
                    get(&l.models, i),
                    csv_field(l.method(i)),
                    seed.seed,
                    value.map_or(String::new(), |v| format!("{v}"))
                );
            }
        }
    }
    s
}
