//! `evaluate` and `report` declarations: a measurement per (model, seed), a table over them,
//! and the table's renderings.

use std::collections::{BTreeMap, BTreeSet};

use super::{keyed, Builder, Data, Point, Points, Spec};
use crate::lower::{EvalRef, Experiment, ModelRef, SEED};
use crate::ops::{self, Category, Metric};
use crate::plan::{
    Coords, EvaluateSpec, NodeId, NodeKind, Params, Paths, Payload, ReportSpec, RowLabel, RowModel, SettingLabel,
};

/// Each evaluation's table nodes, one per group (a point of the dimensions its models vary along
/// that it does not aggregate over), with the models of its rows (the reference last if it was
/// not listed), by declaration index.
pub(in crate::plan) type Tables = Vec<Table>;

/// One evaluation's table nodes (one per group) and the models of its rows.
pub(in crate::plan) type Table = (Vec<(Point, NodeId)>, Vec<ModelRef>);

/// The table nodes of every `evaluate` declaration, with their measurements.
pub(in crate::plan) fn evaluates(
    b: &mut Builder,
    exp: &Experiment,
    data: &Data,
    trains: &[Points<NodeId>],
    unlearns: &[Points<NodeId>],
) -> Tables {
    let mut tables = vec![];
    for e in &exp.evaluates {
        let mut rows: Vec<ModelRef> = e.models.clone();
        if let Some(r) = e.reference {
            if !rows.contains(&ModelRef::Train(r)) {
                rows.push(ModelRef::Train(r));
            }
        }
        let mut along: BTreeSet<&str> = BTreeSet::new();
        for &m in &rows {
            along.extend(exp.model_ref_dims(m));
        }
        let over: BTreeSet<&str> = e.over.iter().map(String::as_str).filter(|d| along.contains(d)).collect();
        let grouping: BTreeSet<&str> = along.difference(&over).copied().collect();
        // Aggregated over the seeds alone, a table's replicates are the seeds, as they always
        // were; over other dimensions too, they are numbered.
        let replicates = Point::all(exp, &over);
        let by_seed = over.len() == 1 && over.contains(SEED);
        let replicate_ids: Vec<u64> = if by_seed {
            replicates.iter().filter_map(Point::seed).collect()
        } else {
            (0..replicates.len() as u64).collect()
        };
        // Files without U-LiRA keep their keys: a measurement per run, as always.
        let measuring = e.metrics.iter().any(|m| *m != Metric::Ulira);
        let mut groups = vec![];
        for group in Point::all(exp, &grouping) {
            let mut table_inputs = vec![];
            let mut models = vec![];
            for (row, &m) in rows.iter().enumerate() {
                let mut replicate_models = vec![];
                let dataset = dataset_of(exp, m);
                let dims = exp.model_ref_dims(m);
                let name = exp.model_name(m);
                // U-LiRA: a prediction per run, one attack over them all.
                let mut runs = vec![];
                for (replicate, id) in replicates.iter().zip(&replicate_ids) {
                    let point = merge(&group, replicate);
                    let at = point.project(&dims);
                    let (d, s) = data[dataset][&at.project(&exp.split_dims(dataset))];
                    let model = match m {
                        ModelRef::Train(i) => trains[i][&at],
                        ModelRef::Unlearn(i) => unlearns[i][&at],
                    };
                    replicate_models.push(model);
                    // One of this model's measurements at this point, labelled `{op} {name} [..]`.
                    let mut measurement = |op: &str, category: Category, payload, inputs| {
                        b.add(Spec {
                            op,
                            version: ops::version(category, op),
                            payload,
                            inputs,
                            coords: keyed(&at),
                            paths: Paths::default(),
                            label: format!("{op} {name}{}", at.suffix(exp)),
                            decl: &e.name,
                            span: e.span,
                        })
                    };
                    if measuring {
                        let inputs = vec![("model".into(), model), ("data".into(), d), ("split".into(), s)];
                        table_inputs.push((
                            format!("{row}/{id}"),
                            measurement("measure", Category::Engine, Payload::Measure, inputs),
                        ));
                    }
                    if let (true, Some(r)) = (e.metrics.contains(&Metric::Distance), e.reference) {
                        let reference = trains[r][&point.project(&exp.train_dims(r))];
                        let inputs = vec![("model".into(), model), ("reference".into(), reference)];
                        let distance = measurement("distance", Category::Metric, Payload::Distance, inputs);
                        table_inputs.push((format!("{row}/{id}/distance"), distance));
                    }
                    if e.metrics.contains(&Metric::Ulira) {
                        let inputs = vec![("model".into(), model), ("data".into(), d)];
                        runs.push((measurement("predict", Category::Engine, Payload::Predict, inputs), s));
                    }
                }
                // A tuned method's values are its searches' best: the table reads them there.
                if let Some(&first) = replicate_models.first() {
                    let searches: Vec<NodeId> = b
                        .node(first)
                        .inputs
                        .iter()
                        .filter(|(role, _)| role.starts_with("search/"))
                        .map(|(_, id)| *id)
                        .collect();
                    for (k, id) in searches.into_iter().enumerate() {
                        table_inputs.push((format!("{row}/search/{k}"), id));
                    }
                }
                models.push(row_model(b, exp, m, &replicate_models));
                if !runs.is_empty() {
                    let mut attack_inputs = vec![];
                    for (i, (predict, split)) in runs.into_iter().enumerate() {
                        attack_inputs.push((format!("{i}/scores"), predict));
                        attack_inputs.push((format!("{i}/split"), split));
                    }
                    let membership = b.add(Spec {
                        op: "membership",
                        version: ops::version(Category::Engine, "membership"),
                        payload: Payload::Membership,
                        inputs: attack_inputs,
                        coords: Coords::new(),
                        paths: Paths::default(),
                        label: format!("membership {name}{}", group.project(&dims).suffix(exp)),
                        decl: &e.name,
                        span: e.span,
                    });
                    table_inputs.push((format!("{row}/ulira"), membership));
                }
            }
            let reference = e.reference.and_then(|r| rows.iter().position(|m| *m == ModelRef::Train(r)));
            let spec = EvaluateSpec {
                metrics: e.metrics.clone(),
                rows: rows.len(),
                shown: e.models.len(),
                seeds: replicate_ids.clone(),
                reference,
                models,
                context: context(exp, &rows),
            };
            let id = b.add(Spec {
                op: "evaluate",
                version: ops::version(Category::Engine, "evaluate"),
                payload: Payload::Evaluate(spec),
                inputs: table_inputs,
                coords: Coords::new(),
                paths: Paths::default(),
                label: format!("evaluate {}{}", e.name, group.suffix(exp)),
                decl: &e.name,
                span: e.span,
            });
            groups.push((group, id));
        }
        b.declare(&e.name, groups.iter().map(|(_, id)| *id).collect());
        tables.push((groups, rows));
    }
    tables
}

/// The coordinates of both points.
fn merge(a: &Point, b: &Point) -> Point {
    let mut out = a.clone();
    for (dim, value) in b.iter() {
        out = out.with(dim, value);
    }
    out
}

/// The node of every `report` declaration; `imported` holds the tables of each file `exp`
/// imports, in `exp.imports` order.
pub(in crate::plan) fn reports(b: &mut Builder, exp: &Experiment, tables: &Tables, imported: &[Tables]) {
    for r in &exp.reports {
        // Each listed evaluation's file and tables.
        let sources: Vec<(&EvalRef, &Experiment, &Table)> = r
            .evaluates
            .iter()
            .map(|at| match at.import {
                Some(i) => (at, &exp.imports[i].experiment, &imported[i][at.index]),
                None => (at, exp, &tables[at.index]),
            })
            .collect();
        let formats = r.outputs.iter().map(|(f, _)| *f).collect();
        let (inputs, spec) = match sources.as_slice() {
            // An ungrouped evaluation has one table, `table`, as it always had; a grouped one a
            // table per group, `table/0`, `table/1`, …, with each group's coordinates.
            [(at, of, (groups, rows))] if !r.across => {
                let rows = row_labels(of, rows);
                let (inputs, groups) = match groups.as_slice() {
                    [(group, table)] if group.is_empty() => (vec![("table".to_string(), *table)], vec![]),
                    _ => (
                        groups.iter().enumerate().map(|(i, (_, table))| (format!("table/{i}"), *table)).collect(),
                        groups.iter().map(|(group, _)| group.shown(of)).collect(),
                    ),
                };
                (inputs, ReportSpec { title: at.name.clone(), rows, formats, groups, settings: vec![] })
            }
            // Across settings: every table of every listed evaluation, as `table/0`, `table/1`, …
            _ => {
                let mut inputs = vec![];
                let mut settings = vec![];
                for (at, of, (groups, rows)) in &sources {
                    let rows = row_labels(of, rows);
                    for (group, table) in groups {
                        inputs.push((format!("table/{}", inputs.len()), *table));
                        settings.push(SettingLabel {
                            evaluation: at.name.clone(),
                            coords: group.shown(of),
                            rows: rows.clone(),
                        });
                    }
                }
                (inputs, ReportSpec { title: r.name.clone(), rows: vec![], formats, groups: vec![], settings })
            }
        };
        let outputs = r.outputs.iter().map(|(format, path)| (*format, exp.base_dir.join(path))).collect();
        let id = b.add(Spec {
            op: "report",
            version: ops::version(Category::Engine, "report"),
            payload: Payload::Report(spec),
            inputs,
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

/// The names a report shows for an evaluation's rows: declaration, dataset, architecture.
fn row_labels(exp: &Experiment, rows: &[ModelRef]) -> Vec<RowLabel> {
    let train_of = |m: ModelRef| match m {
        ModelRef::Train(i) => i,
        ModelRef::Unlearn(i) => exp.unlearns[i].from,
    };
    rows.iter()
        .map(|&m| RowLabel {
            name: exp.model_name(m).to_string(),
            dataset: exp.datasets[dataset_of(exp, m)].name.clone(),
            arch: exp.models[exp.trains[train_of(m)].model].arch.op.clone(),
        })
        .collect()
}

/// Where a row's model comes from: its op, values and origins (from its first replicate) and
/// its key at every replicate.
fn row_model(b: &Builder, exp: &Experiment, m: ModelRef, replicates: &[NodeId]) -> RowModel {
    let keys = replicates.iter().map(|id| b.node(*id).key.hex()).collect();
    let shown = |params: &Params| -> BTreeMap<String, String> {
        params.iter().filter(|(k, _)| !k.starts_with('@')).map(|(k, v)| (k.clone(), v.to_string())).collect()
    };
    let first = replicates.first().map(|id| b.node(*id));
    match (m, first.map(|n| &n.payload)) {
        (ModelRef::Unlearn(i), Some(Payload::Unlearn { hyper, export })) => {
            let u = &exp.unlearns[i];
            RowModel {
                kind: NodeKind::Unlearn,
                op: u.method.clone(),
                values: shown(hyper),
                written: u.written.clone(),
                searched: u.search.iter().flat_map(|s| s.space.iter().map(|(n, _)| n.clone())).collect(),
                export: *export,
                keys,
            }
        }
        (ModelRef::Train(i), Some(Payload::Train { recipe, subset })) => {
            let t = &exp.trains[i];
            let mut values = shown(recipe);
            values.insert("data".into(), format!("{}.{subset}", exp.datasets[t.dataset].name));
            values.insert("model".into(), exp.models[t.model].name.clone());
            RowModel {
                kind: NodeKind::Train,
                op: "train".into(),
                values,
                written: t.written.clone(),
                searched: vec![],
                export: None,
                keys,
            }
        }
        _ => RowModel {
            kind: NodeKind::Train,
            op: String::new(),
            values: BTreeMap::new(),
            written: vec![],
            searched: vec![],
            export: None,
            keys,
        },
    }
}

/// The rows' data and architecture in `.munl` spelling, for a report's heading: each dataset
/// declaration (source, split, limit) and model declaration the rows use, once each.
fn context(exp: &Experiment, rows: &[ModelRef]) -> Vec<(String, String)> {
    let train_of = |m: ModelRef| match m {
        ModelRef::Train(i) => i,
        ModelRef::Unlearn(i) => exp.unlearns[i].from,
    };
    let mut out: Vec<(String, String)> = vec![];
    let mut push = |what: &str, text: String| {
        let entry = (what.to_string(), text);
        if !out.contains(&entry) {
            out.push(entry);
        }
    };
    for &m in rows {
        let d = &exp.datasets[dataset_of(exp, m)];
        let limit = d.limit.map_or(String::new(), |l| format!(", limit {l}"));
        let source = crate::ops::Value::Call(d.source.clone());
        let split = crate::ops::Value::Call(d.split.clone());
        push("dataset", format!("{}: {source}, split {split}{limit}", d.name));
    }
    for &m in rows {
        let model = &exp.models[exp.trains[train_of(m)].model];
        push("model", format!("{} = {}", model.name, crate::ops::Value::Call(model.arch.clone())));
    }
    out
}

/// The dataset (declaration index) a measured model was trained on.
fn dataset_of(exp: &Experiment, m: ModelRef) -> usize {
    match m {
        ModelRef::Train(i) => exp.trains[i].dataset,
        ModelRef::Unlearn(i) => exp.trains[exp.unlearns[i].from].dataset,
    }
}
