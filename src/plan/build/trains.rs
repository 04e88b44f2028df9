//! `train` declarations: a seeded initialisation and a training run per seed.

use super::{at_seed, Builder, Data, Spec};
use crate::lower::Experiment;
use crate::ops::{self, Category};
use crate::plan::{NodeId, Paths, Payload};

/// The train nodes of every `train` declaration, by declaration index and then seed index.
pub(in crate::plan) fn trains(b: &mut Builder, exp: &Experiment, data: &Data) -> Vec<Vec<NodeId>> {
    let mut trains = vec![];
    for (i, t) in exp.trains.iter().enumerate() {
        let ids: Vec<NodeId> = exp.seeds.iter().map(|&seed| train_at(b, exp, data, i, seed)).collect();
        b.declare(&t.name, ids.clone());
        trains.push(ids);
    }
    trains
}

/// The `train` node of `exp.trains[t]` at `seed`, with its seeded initialisation.
pub(in crate::plan) fn train_at(b: &mut Builder, exp: &Experiment, data: &Data, t: usize, seed: u64) -> NodeId {
    let t = &exp.trains[t];
    let (d, s) = data[t.dataset];
    let ds = &exp.datasets[t.dataset];
    let model = &exp.models[t.model];
    let init = b.add(Spec {
        op: &model.arch.op,
        version: ops::version(Category::Arch, &model.arch.op),
        payload: Payload::Init { args: model.arch.args.clone(), classes: ds.classes },
        inputs: vec![],
        coords: at_seed(seed),
        paths: Paths::default(),
        label: format!("init {} ({} classes) [seed={seed}]", model.name, ds.classes),
        decl: &model.name,
        span: model.span,
    });
    b.declare_also(&model.name, init);
    b.add(Spec {
        op: "train",
        version: ops::version(Category::Train, "train"),
        payload: Payload::Train { recipe: t.params.clone(), subset: t.subset.clone() },
        inputs: vec![("init".into(), init), ("data".into(), d), ("split".into(), s)],
        coords: at_seed(seed),
        paths: Paths::default(),
        label: format!("train {} [seed={seed}]", t.name),
        decl: &t.name,
        span: t.span,
    })
}
