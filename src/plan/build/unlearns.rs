//! `unlearn` declarations: a run per seed, and for a tuned method one search per searched seed
//! whose best trial sets the runs' searched fields.

use super::{at_seed, train_at, Builder, Data, Spec};
use crate::lower::{Experiment, Search, Unlearn};
use crate::ops::{self, Category};
use crate::plan::{NodeId, Params, Paths, Payload, SearchSpec};

/// UTKFace trials with a batch size above this are pruned (unlearners.md §1).
const UTKFACE_BATCH_LIMIT: i64 = 128;

/// The unlearn nodes of every `unlearn` declaration, by declaration index and then seed index.
pub(in crate::plan) fn unlearns(
    b: &mut Builder,
    exp: &Experiment,
    data: &Data,
    trains: &[Vec<NodeId>],
) -> Vec<Vec<NodeId>> {
    let mut unlearns = vec![];
    for u in &exp.unlearns {
        let (d, s) = data[exp.trains[u.from].dataset];
        let searches = u.search.as_ref().map(|search| searches(b, exp, data, u, search)).unwrap_or_default();
        let ids: Vec<NodeId> = exp
            .seeds
            .iter()
            .enumerate()
            .map(|(i, &seed)| {
                let mut inputs = vec![("original".into(), trains[u.from][i]), ("data".into(), d), ("split".into(), s)];
                // The best trial's values replace the searched fields at run time; the
                // searches' keys stand for them here.
                inputs.extend(searches.iter().enumerate().map(|(k, id)| (format!("search/{k}"), *id)));
                b.add(Spec {
                    op: &u.method,
                    version: ops::version(Category::Method, &u.method),
                    payload: Payload::Unlearn {
                        hyper: u.params.clone(),
                        export: u.search.as_ref().map(|s| s.settings.export),
                    },
                    inputs,
                    coords: at_seed(seed),
                    paths: Paths::default(),
                    label: format!("unlearn {} [seed={seed}]", u.name),
                    decl: &u.name,
                    span: u.span,
                })
            })
            .collect();
        b.declare(&u.name, ids.clone());
        unlearns.push(ids);
    }
    unlearns
}

/// One `search` node per searched seed of a tuned `unlearn`: the method's fixed values, the
/// searched space, the sampler settings, and the Original and Retrain models of that seed.
fn searches(b: &mut Builder, exp: &Experiment, data: &Data, u: &Unlearn, search: &Search) -> Vec<NodeId> {
    let (d, s) = data[exp.trains[u.from].dataset];
    let ds = &exp.datasets[exp.trains[u.from].dataset];
    let fixed: Params = u
        .params
        .iter()
        .filter(|(k, _)| !search.space.iter().any(|(n, _)| n == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let spec = SearchSpec {
        fixed,
        space: search.space.clone(),
        sampler: search.settings.sampler,
        trials: search.settings.trials,
        prune_batch_above: (ds.source.op == "utkface").then_some(UTKFACE_BATCH_LIMIT),
    };
    search
        .settings
        .seeds
        .iter()
        .map(|&seed| {
            let original = train_at(b, exp, data, u.from, seed);
            let reference = train_at(b, exp, data, search.reference, seed);
            b.add(Spec {
                op: &u.method,
                version: ops::version(Category::Method, &u.method),
                payload: Payload::Search(spec.clone()),
                inputs: vec![
                    ("original".into(), original),
                    ("reference".into(), reference),
                    ("data".into(), d),
                    ("split".into(), s),
                ],
                coords: at_seed(seed),
                paths: Paths::default(),
                label: format!("search {} [seed={seed}]", u.name),
                decl: &u.name,
                span: u.span,
            })
        })
        .collect()
}
