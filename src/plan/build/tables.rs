//! `evaluate` and `report` declarations: a measurement per (model, seed), a table over them,
//! and the table's renderings.

use super::{at_seed, Builder, Data, Spec};
use crate::lower::{Experiment, ModelRef};
use crate::ops::{self, Category, Metric};
use crate::plan::{Coords, EvaluateSpec, NodeId, Paths, Payload, ReportSpec, RowLabel};

/// Each evaluation's table node with the models of its rows (the reference last if it was
/// not listed), by declaration index.
pub(in crate::plan) type Tables = Vec<(NodeId, Vec<ModelRef>)>;

/// The table node of every `evaluate` declaration, with its measurements.
pub(in crate::plan) fn evaluates(
    b: &mut Builder,
    exp: &Experiment,
    data: &Data,
    trains: &[Vec<NodeId>],
    unlearns: &[Vec<NodeId>],
) -> Tables {
    let mut tables = vec![];
    for e in &exp.evaluates {
        let mut rows: Vec<ModelRef> = e.models.clone();
        if let Some(r) = e.reference {
            if !rows.contains(&ModelRef::Train(r)) {
                rows.push(ModelRef::Train(r));
            }
        }
        let mut inputs = vec![];
        for (row, &m) in rows.iter().enumerate() {
            let (d, s) = data[dataset_of(exp, m)];
            let ids = match m {
                ModelRef::Train(i) => &trains[i],
                ModelRef::Unlearn(i) => &unlearns[i],
            };
            let name = exp.model_name(m);
            for (i, &seed) in exp.seeds.iter().enumerate() {
                let measure = b.add(Spec {
                    op: "measure",
                    version: ops::version(Category::Engine, "measure"),
                    payload: Payload::Measure,
                    inputs: vec![("model".into(), ids[i]), ("data".into(), d), ("split".into(), s)],
                    coords: at_seed(seed),
                    paths: Paths::default(),
                    label: format!("measure {name} [seed={seed}]"),
                    decl: &e.name,
                    span: e.span,
                });
                inputs.push((format!("{row}/{seed}"), measure));
                if let (true, Some(r)) = (e.metrics.contains(&Metric::Distance), e.reference) {
                    let distance = b.add(Spec {
                        op: "distance",
                        version: ops::version(Category::Metric, "distance"),
                        payload: Payload::Distance,
                        inputs: vec![("model".into(), ids[i]), ("reference".into(), trains[r][i])],
                        coords: at_seed(seed),
                        paths: Paths::default(),
                        label: format!("distance {name} [seed={seed}]"),
                        decl: &e.name,
                        span: e.span,
                    });
                    inputs.push((format!("{row}/{seed}/distance"), distance));
                }
            }
        }
        let reference = e.reference.and_then(|r| rows.iter().position(|m| *m == ModelRef::Train(r)));
        let spec = EvaluateSpec {
            metrics: e.metrics.clone(),
            rows: rows.len(),
            shown: e.models.len(),
            seeds: exp.seeds.clone(),
            reference,
        };
        let id = b.add(Spec {
            op: "evaluate",
            version: ops::version(Category::Engine, "evaluate"),
            payload: Payload::Evaluate(spec),
            inputs,
            coords: Coords::new(),
            paths: Paths::default(),
            label: format!("evaluate {}", e.name),
            decl: &e.name,
            span: e.span,
        });
        b.declare(&e.name, vec![id]);
        tables.push((id, rows));
    }
    tables
}

/// The node of every `report` declaration.
pub(in crate::plan) fn reports(b: &mut Builder, exp: &Experiment, tables: &Tables) {
    for r in &exp.reports {
        let (table, rows) = &tables[r.evaluate];
        let e = &exp.evaluates[r.evaluate];
        let train_of = |m: ModelRef| match m {
            ModelRef::Train(i) => i,
            ModelRef::Unlearn(i) => exp.unlearns[i].from,
        };
        let rows = rows
            .iter()
            .map(|&m| RowLabel {
                name: exp.model_name(m).to_string(),
                dataset: exp.datasets[dataset_of(exp, m)].name.clone(),
                arch: exp.models[exp.trains[train_of(m)].model].arch.op.clone(),
            })
            .collect();
        let spec = ReportSpec { title: e.name.clone(), rows, formats: r.outputs.iter().map(|(f, _)| *f).collect() };
        let outputs = r.outputs.iter().map(|(format, path)| (*format, exp.base_dir.join(path))).collect();
        let id = b.add(Spec {
            op: "report",
            version: ops::version(Category::Engine, "report"),
            payload: Payload::Report(spec),
            inputs: vec![("table".into(), *table)],
            coords: Coords::new(),
            paths: Paths { outputs, ..Paths::default() },
            label: format!("report {}", r.name),
            decl: &r.name,
            span: r.span,
        });
        b.declare_also(&format!("report {}", r.name), id);
        if !b.is_declared(&r.name) {
            b.declare(&r.name, vec![id]);
        }
        b.add_report(id);
    }
}

/// The dataset (declaration index) a measured model was trained on.
fn dataset_of(exp: &Experiment, m: ModelRef) -> usize {
    match m {
        ModelRef::Train(i) => exp.trains[i].dataset,
        ModelRef::Unlearn(i) => exp.trains[exp.unlearns[i].from].dataset,
    }
}
