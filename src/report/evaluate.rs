//! The `evaluate` node: collect `metrics.json` of every (model, seed), derive indiscernibility,
//! RTE, retention (RR, FR, TR, RetDev) and SAPE per seed against the reference's same seed,
//! aggregate over seeds, add the ratio-of-means retention and the ranking.

use std::collections::BTreeMap;

use crate::artifact::file;
use crate::artifact::{read_json, write_json};
use crate::artifact::{Attack, Estimate, Membership, Metrics, NodeFailure};
use crate::backend::Job;
use crate::ops::Metric;
use crate::plan::{EvaluateSpec, NodeKind, Payload, RowModel};

use super::derived::{indiscernibility, rank, ratio_of_means, retdev, retention, sape};
use crate::artifact::table::{Aggregate, Provenance, Row, SeedRow, Table, COLUMNS};

/// Computes `table.json` from the measure inputs (roles `ROW/SEED`).
pub(crate) fn evaluate(job: &Job<'_>) -> Result<(), NodeFailure> {
    let Payload::Evaluate(spec) = &job.node.payload else {
        return Err(NodeFailure::new(format!("`{}` is not an evaluation", job.node.label)));
    };
    let EvaluateSpec { metrics, rows, shown, seeds, reference, models, context } = spec;
    let read = |row: usize, seed: u64| -> Result<Metrics, NodeFailure> {
        let role = format!("{row}/{seed}");
        let input = job.input(&role).ok_or_else(|| NodeFailure::new(format!("missing measurement `{role}`")))?;
        let mut m: Metrics = read_json(&input.dir.join(file::METRICS))?;
        if let Some(d) = job.input(&format!("{role}/distance")) {
            m.distances = Some(read_json(&d.dir.join(file::DISTANCE))?);
        }
        Ok(m)
    };
    // U-LiRA alone needs no per-replicate measurement.
    let measuring = metrics.iter().any(|m| *m != Metric::Ulira);
    let mut measured: Vec<Vec<Metrics>> = vec![];
    for row in 0..*rows {
        let row_seeds: &[u64] = if measuring { seeds } else { &[] };
        measured.push(row_seeds.iter().map(|&s| read(row, s)).collect::<Result<_, _>>()?);
    }
    let mut table = tabulate(metrics, seeds, *shown, *reference, &measured);
    if metrics.contains(&Metric::Ulira) {
        for (row, r) in table.rows.iter_mut().enumerate() {
            let role = format!("{row}/ulira");
            let input = job.input(&role).ok_or_else(|| NodeFailure::new(format!("missing U-LiRA attack `{role}`")))?;
            let attack: Membership = read_json(&input.dir.join(file::MEMBERSHIP))?;
            r.summary.extend(ulira_columns(&attack));
        }
    }
    table.context = context.clone();
    for (row, (r, model)) in table.rows.iter_mut().zip(models).enumerate() {
        r.model = Some(provenance(job, row, model)?);
        for (seed, key) in r.seeds.iter_mut().zip(&model.keys) {
            seed.key = Some(key.clone());
        }
    }
    write_json(&job.out.join(file::TABLE), &table)
}

/// A row's provenance: its planned values, with a tuned method's searched fields replaced by
/// the best trial's (inputs `ROW/search/K`), as the run received them.
fn provenance(job: &Job<'_>, row: usize, model: &RowModel) -> Result<Provenance, NodeFailure> {
    let searches: Vec<std::path::PathBuf> =
        (0..).map_while(|k| job.input(&format!("{row}/search/{k}")).map(|i| i.dir.to_path_buf())).collect();
    let best = match model.export {
        Some(export) if !searches.is_empty() => {
            let dirs: Vec<&std::path::Path> = searches.iter().map(|d| d.as_path()).collect();
            crate::exec::best_values(&model.op, export, &dirs)?
        }
        _ => Default::default(),
    };
    let mut values = model.values.clone();
    let mut origins = std::collections::BTreeMap::new();
    for (field, value) in &best {
        values.insert(field.clone(), value.to_string());
    }
    // Tables planned before trainings recorded their written fields have none: no origins.
    if model.kind == NodeKind::Unlearn || !model.written.is_empty() {
        for field in model.values.keys() {
            let origin = if best.contains_key(field) {
                "searched"
            } else if model.written.contains(field) {
                "written"
            } else {
                "default"
            };
            origins.insert(field.clone(), origin.to_string());
        }
    }
    let searches = searches.iter().map(|d| read_json(&d.join(file::SEARCH))).collect::<Result<_, _>>()?;
    Ok(Provenance { kind: model.kind.as_str().to_string(), op: model.op.clone(), values, origins, searches })
}

/// The U-LiRA columns of one model family: each summary with its 95 % CI over samples (as
/// `ci95`; `n` is the number of samples attacked, `std` undefined).
fn ulira_columns(m: &Membership) -> Vec<(String, Aggregate)> {
    let of = |a: &Attack, e: fn(&Attack) -> Estimate| {
        let e = e(a);
        Aggregate { n: a.samples, mean: e.value.unwrap_or(f64::NAN), std: f64::NAN, ci95: e.ci95.unwrap_or(f64::NAN) }
    };
    let share = |a: &Attack| Aggregate {
        n: a.samples,
        mean: a.nan_fraction.unwrap_or(f64::NAN),
        std: f64::NAN,
        ci95: f64::NAN,
    };
    [
        ("ulira_p", of(&m.correctness, |a| a.mean_p)),
        ("ulira_acc", of(&m.correctness, |a| a.balanced_accuracy)),
        ("ulira_auc", of(&m.correctness, |a| a.auc)),
        ("ulira_nan", share(&m.correctness)),
        ("ulira_logit_p", of(&m.logit, |a| a.mean_p)),
        ("ulira_logit_acc", of(&m.logit, |a| a.balanced_accuracy)),
        ("ulira_logit_auc", of(&m.logit, |a| a.auc)),
    ]
    .into_iter()
    .map(|(c, a)| (c.to_string(), a))
    .collect()
}

/// The table of `measured[row][seed index]`: the requested metrics' columns per seed, their
/// aggregates, the ratio-of-means retention and the ranking (with `retention` and a reference).
pub(crate) fn tabulate(
    metrics: &[Metric],
    seeds: &[u64],
    shown: usize,
    reference: Option<usize>,
    measured: &[Vec<Metrics>],
) -> Table {
    let columns: Vec<String> =
        COLUMNS.iter().filter(|(_, m, _)| metrics.contains(m)).map(|(c, _, _)| c.to_string()).collect();
    let mut table =
        Table { columns: columns.clone(), shown, reference, rows: vec![], ranking: vec![], context: vec![] };
    // Every value is computed; the hidden ones only serve the ratio of means and the ranking.
    let mut hidden: Vec<BTreeMap<String, Aggregate>> = vec![];
    for per_seed in measured {
        let mut seed_rows = vec![];
        let mut all_rows = vec![];
        for (i, m) in per_seed.iter().enumerate() {
            let all = values(m, reference.map(|r| &measured[r][i]));
            let values = columns.iter().map(|c| (c.clone(), all.get(c.as_str()).copied().flatten())).collect();
            seed_rows.push(SeedRow { seed: seeds[i], key: None, values, notes: notes(m) });
            all_rows.push(all);
        }
        let aggregate = |c: &str| {
            let xs: Vec<f64> = all_rows.iter().filter_map(|r| r.get(c).copied().flatten()).collect();
            Aggregate::from(crate::stats::summary::summarize(&xs))
        };
        let summary = columns.iter().map(|c| (c.clone(), aggregate(c))).collect();
        hidden.push(COLUMNS.iter().map(|(c, _, _)| (c.to_string(), aggregate(c))).collect());
        let indisc_of_mean = metrics
            .contains(&Metric::Indiscernibility)
            .then(|| aggregate("mia_test").value().and_then(indiscernibility))
            .flatten();
        table.rows.push(Row {
            seeds: seed_rows,
            summary,
            ratio_of_means: BTreeMap::new(),
            indisc_of_mean,
            model: None,
        });
    }
    let retention_wanted = metrics.contains(&Metric::Retention);
    if let (true, Some(r)) = (retention_wanted, reference) {
        let full = |i: usize| Row {
            seeds: vec![],
            summary: hidden[i].clone(),
            ratio_of_means: BTreeMap::new(),
            indisc_of_mean: hidden[i].get("mia_test").and_then(|a| a.value()).and_then(indiscernibility),
            model: None,
        };
        let reference_row = full(r);
        let romeans: Vec<_> = (0..table.rows.len()).map(|i| ratio_of_means(&full(i), &reference_row)).collect();
        for (row, rom) in table.rows.iter_mut().zip(romeans) {
            row.ratio_of_means = rom.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        }
        // Rank on the full aggregates (Indisc breaks ties even when it is not a shown column).
        let ranking_view = Table {
            columns: vec![],
            shown,
            reference,
            rows: (0..table.rows.len())
                .map(|i| Row { ratio_of_means: table.rows[i].ratio_of_means.clone(), ..full(i) })
                .collect(),
            ranking: vec![],
            context: vec![],
        };
        table.ranking = rank(&ranking_view);
    }
    table
}

/// Why a measurement lacks values: the run's divergence, then each unavailable metric.
fn notes(m: &Metrics) -> Vec<String> {
    let diverged = m.diverged.iter().map(|d| format!("the run diverged ({d})"));
    diverged.chain(m.unavailable.iter().map(|(column, why)| format!("`{column}` unavailable: {why}"))).collect()
}

/// Every column's value for one measurement, against the reference's measurement of the same
/// seed where there is one; derived metrics per evaluation.md §4.
fn values(m: &Metrics, reference: Option<&Metrics>) -> BTreeMap<&'static str, Option<f64>> {
    let rte = match reference {
        Some(r) if m.seconds > 0.0 => Some(r.seconds / m.seconds),
        _ => None,
    };
    let ratio = |f: fn(&Metrics) -> f64| reference.and_then(|r| retention(f(m), f(r)));
    let error = |f: fn(&Metrics) -> f64| reference.and_then(|r| sape(f(r), f(m)));
    let (rr, fr, tr) = (ratio(|x| x.retain_acc), ratio(|x| x.forget_acc), ratio(|x| x.test_acc));
    BTreeMap::from([
        ("retain_acc", Some(m.retain_acc)),
        ("forget_acc", Some(m.forget_acc)),
        ("val_acc", Some(m.val_acc)),
        ("test_acc", Some(m.test_acc)),
        ("mia_val", m.mia_val),
        ("mia_test", m.mia_test),
        // [AMBIGUOUS] in the spec: the paper's Indisc is read from the *test* MIA.
        ("indiscernibility", m.mia_test.and_then(indiscernibility)),
        ("seconds", Some(m.seconds)),
        ("rte", rte),
        ("rr", rr),
        ("fr", fr),
        ("tr", tr),
        ("retdev", retdev(rr, fr, tr)),
        ("sape_retain", error(|x| x.retain_acc)),
        ("sape_forget", error(|x| x.forget_acc)),
        ("sape_val", error(|x| x.val_acc)),
        ("sape_test", error(|x| x.test_acc)),
        ("l2_to_ref", m.distances.map(|d| d.l2)),
        ("l2_to_ref_relative", m.distances.map(|d| d.l2_normalised)),
        ("weight_norm", m.distances.map(|d| d.l2_norm)),
        ("unit_l2_to_ref", m.distances.map(|d| d.normalised_distance)),
    ])
}
