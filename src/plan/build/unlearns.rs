//! `unlearn` declarations: a run per point, and for a tuned method one search per searched seed
//! (at the run's other coordinates) whose best trial sets the runs' searched fields.

use super::{keyed, train_at, Builder, Data, Point, Points, Spec};
use crate::lower::{Experiment, Search, SEED};
use crate::ops::{self, Category};
use crate::plan::{NodeId, Params, Paths, Payload, SearchSpec};

/// UTKFace trials with a batch size above this are pruned (unlearners.md §1).
const UTKFACE_BATCH_LIMIT: i64 = 128;

/// The unlearn nodes of every `unlearn` declaration, by declaration index and point.
pub(in crate::plan) fn unlearns(
    b: &mut Builder,
    exp: &Experiment,
    data: &Data,
    trains: &[Points<NodeId>],
) -> Vec<Points<NodeId>> {
    let mut unlearns = vec![];
    for (i, u) in exp.unlearns.iter().enumerate() {
        let dataset = exp.trains[u.from].dataset;
        let split_dims = exp.split_dims(dataset);
        let train_dims = exp.train_dims(u.from);
        let mut nodes = Points::new();
        let mut ids = vec![];
        // Runs that differ only in coordinates their searches fix pool the same searches
        // (U-LiRA's 640 runs of a method, the seeds of a benchmark): built once.
        let mut pooled: Points<Vec<NodeId>> = Points::new();
        for point in Point::all(exp, &exp.unlearn_dims(i)) {
            let (d, s) = data[dataset][&point.project(&split_dims)];
            let searches = match &u.search {
                None => vec![],
                Some(search) => {
                    let mut free = point.with(SEED, 0);
                    for (dim, _) in &search.settings.at {
                        free = free.with(dim, 0);
                    }
                    pooled.entry(free).or_insert_with(|| searches(b, exp, data, i, search, &point)).clone()
                }
            };
            let mut inputs = vec![
                ("original".into(), trains[u.from][&point.project(&train_dims)]),
                ("data".into(), d),
                ("split".into(), s),
            ];
            // The best trial's values replace the searched fields at run time; the searches'
            // keys stand for them here.
            inputs.extend(searches.iter().enumerate().map(|(k, id)| (format!("search/{k}"), *id)));
            let id = b.add(Spec {
                op: &u.method,
                version: ops::version(Category::Method, &u.method),
                payload: Payload::Unlearn {
                    hyper: point.bind_all(&u.params),
                    export: u.search.as_ref().map(|s| s.settings.export),
                },
                inputs,
                coords: keyed(&point),
                paths: Paths {
                    code: u.code.as_ref().map(|c| c.file.clone()),
                    written: u.written.clone(),
                    ..Paths::default()
                },
                label: format!("unlearn {}{}", u.name, point.suffix(exp)),
                decl: &u.name,
                span: u.span,
            });
            ids.push(id);
            nodes.insert(point, id);
        }
        b.declare(&u.name, ids);
        unlearns.push(nodes);
    }
    unlearns
}

/// The `search` nodes a run at `point` pools: one per searched seed, at the run's other
/// coordinates, each with the method's fixed values there, the searched space, the sampler
/// settings, and the Original and Retrain models of that seed.
fn searches(b: &mut Builder, exp: &Experiment, data: &Data, u: usize, search: &Search, point: &Point) -> Vec<NodeId> {
    let unlearn = &exp.unlearns[u];
    let dataset = exp.trains[unlearn.from].dataset;
    let ds = &exp.datasets[dataset];
    // Every combination of the restricted coordinates and the searched seeds, at the run's
    // other coordinates.
    let mut points = vec![point.clone()];
    for (dim, indices) in &search.settings.at {
        points = points.iter().flat_map(|p| indices.iter().map(move |i| p.with(dim, *i))).collect();
    }
    points = points.iter().flat_map(|p| search.settings.seeds.iter().map(move |s| p.with(SEED, *s))).collect();
    points
        .iter()
        .map(|at| {
            // The method's fixed values where the search runs.
            let fixed: Params = unlearn
                .params
                .iter()
                .filter(|(k, _)| !search.space.iter().any(|(n, _)| n == *k))
                .map(|(k, v)| (k.clone(), at.bind(v)))
                .collect();
            let spec = SearchSpec {
                fixed,
                space: search.space.clone(),
                sampler: search.settings.sampler,
                trials: search.settings.trials,
                prune_batch_above: (ds.source.op == "utkface").then_some(UTKFACE_BATCH_LIMIT),
            };
            let original = train_at(b, exp, data, unlearn.from, at);
            let reference = train_at(b, exp, data, search.reference, at);
            let (d, s) = data[dataset][&at.project(&exp.split_dims(dataset))];
            b.add(Spec {
                op: &unlearn.method,
                version: ops::version(Category::Method, &unlearn.method),
                payload: Payload::Search(spec),
                inputs: vec![
                    ("original".into(), original),
                    ("reference".into(), reference),
                    ("data".into(), d),
                    ("split".into(), s),
                ],
                coords: keyed(at),
                paths: Paths { code: unlearn.code.as_ref().map(|c| c.file.clone()), ..Paths::default() },
                label: format!("search {}{}", unlearn.name, at.suffix(exp)),
                decl: &unlearn.name,
                span: unlearn.span,
            })
        })
        .collect()
}
