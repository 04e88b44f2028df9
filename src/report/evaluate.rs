//! The `evaluate` node: collect `metrics.json` of every (model, seed), derive indiscernibility
//! and RTE per seed, aggregate over seeds.

use std::collections::BTreeMap;

use crate::exec::{Job, Metrics, NodeFailure};
use crate::ops::Value;

use super::table::{Aggregate, Row, SeedRow, Table, COLUMNS};

/// Computes `table.json` from the measure inputs (roles `ROW/SEED`).
pub(crate) fn evaluate(job: &Job<'_>) -> Result<(), NodeFailure> {
    let node = job.node;
    let list = |name: &str| match node.param(name) {
        Some(Value::List(items)) => items.clone(),
        _ => vec![],
    };
    let metrics: Vec<String> = list("metrics").iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    let seeds: Vec<u64> = list("seeds").iter().filter_map(|v| v.as_i64()).map(|s| s as u64).collect();
    let rows = node.param("rows").and_then(Value::as_i64).unwrap_or(0) as usize;
    let shown = node.param("shown").and_then(Value::as_i64).unwrap_or(rows as i64) as usize;
    let reference = node.param("reference").and_then(Value::as_i64).map(|r| r as usize);
    let columns: Vec<String> =
        COLUMNS.iter().filter(|(_, m, _)| metrics.iter().any(|x| x == m)).map(|(c, _, _)| c.to_string()).collect();

    let read = |row: usize, seed: u64| -> Result<Metrics, NodeFailure> {
        let role = format!("{row}/{seed}");
        let input = job.input(&role).ok_or_else(|| NodeFailure::new(format!("missing measurement `{role}`")))?;
        let path = input.dir.join("metrics.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| NodeFailure::new(format!("{}: {e}", path.display())))
    };
    let mut measured: Vec<Vec<Metrics>> = vec![];
    for row in 0..rows {
        measured.push(seeds.iter().map(|&s| read(row, s)).collect::<Result<_, _>>()?);
    }

    let mut table = Table { columns: columns.clone(), shown, reference, rows: vec![] };
    for per_seed in &measured {
        let mut seed_rows = vec![];
        for (i, m) in per_seed.iter().enumerate() {
            let reference_seconds = reference.map(|r| measured[r][i].seconds);
            let all = values(m, reference_seconds);
            let values = columns.iter().map(|c| (c.clone(), all.get(c.as_str()).copied().flatten())).collect();
            seed_rows.push(SeedRow { seed: seeds[i], values });
        }
        let summary = columns
            .iter()
            .map(|c| {
                let xs: Vec<f64> = seed_rows.iter().filter_map(|r| r.values[c]).collect();
                (c.clone(), Aggregate::from(crate::stats::summary::summarize(&xs)))
            })
            .collect();
        table.rows.push(Row { seeds: seed_rows, summary });
    }
    let path = job.out.join("table.json");
    let text = serde_json::to_string_pretty(&table).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| NodeFailure::new(format!("cannot write {}: {e}", path.display())))
}

/// Every column's value for one measurement; derived metrics per evaluation.md §4.
fn values(m: &Metrics, reference_seconds: Option<f64>) -> BTreeMap<&'static str, Option<f64>> {
    let rte = match reference_seconds {
        Some(r) if m.seconds > 0.0 => Some(r / m.seconds),
        _ => None,
    };
    BTreeMap::from([
        ("retain_acc", Some(m.retain_acc)),
        ("forget_acc", Some(m.forget_acc)),
        ("val_acc", Some(m.val_acc)),
        ("test_acc", Some(m.test_acc)),
        ("mia_val", Some(m.mia_val)),
        ("mia_test", Some(m.mia_test)),
        // [AMBIGUOUS] in the spec: the paper's Indisc is read from the *test* MIA.
        ("indiscernibility", Some(1.0 - (2.0 * m.mia_test - 1.0).abs())),
        ("seconds", Some(m.seconds)),
        ("rte", rte),
    ])
}
