//! `train` declarations: a seeded initialisation and a training run per point (seed and the
//! dimensions of its model, data and recipe).

use super::{keyed, Builder, Data, Point, Points, Spec};
use crate::lower::Experiment;
use crate::ops::{self, Category};
use crate::plan::{NodeId, Paths, Payload};

/// The train nodes of every `train` declaration, by declaration index and point.
pub(in crate::plan) fn trains(b: &mut Builder, exp: &Experiment, data: &Data) -> Vec<Points<NodeId>> {
    let mut trains = vec![];
    for (t, train) in exp.trains.iter().enumerate() {
        let mut nodes = Points::new();
        let mut ids = vec![];
        for point in Point::all(exp, &exp.train_dims(t)) {
            let id = train_at(b, exp, data, t, &point);
            ids.push(id);
            nodes.insert(point, id);
        }
        b.declare(&train.name, ids);
        trains.push(nodes);
    }
    trains
}

/// The `train` node of `exp.trains[t]` at `point` (which may hold more dimensions than the
/// training varies along), with its seeded initialisation.
pub(in crate::plan) fn train_at(b: &mut Builder, exp: &Experiment, data: &Data, t: usize, point: &Point) -> NodeId {
    let point = point.project(&exp.train_dims(t));
    let t_ = &exp.trains[t];
    let (d, s) = data[t_.dataset][&point.project(&exp.split_dims(t_.dataset))];
    let ds = &exp.datasets[t_.dataset];
    let model = &exp.models[t_.model];
    let at_model = point.project(&exp.model_dims(t_.model));
    let init = b.add(Spec {
        op: &model.arch.op,
        version: ops::version(Category::Arch, &model.arch.op),
        payload: Payload::Init { args: at_model.bind_all(&model.arch.args), classes: ds.classes },
        inputs: vec![],
        coords: keyed(&at_model),
        paths: Paths { code: model.code.as_ref().map(|c| c.file.clone()), ..Paths::default() },
        label: format!("init {} ({} classes){}", model.name, ds.classes, at_model.suffix(exp)),
        decl: &model.name,
        span: model.span,
    });
    b.declare_also(&model.name, init);
    b.add(Spec {
        op: "train",
        version: ops::version(Category::Train, "train"),
        payload: Payload::Train { recipe: point.bind_all(&t_.params), subset: t_.subset.clone() },
        inputs: vec![("init".into(), init), ("data".into(), d), ("split".into(), s)],
        coords: keyed(&point),
        paths: Paths::default(),
        label: format!("train {}{}", t_.name, point.suffix(exp)),
        decl: &t_.name,
        span: t_.span,
    })
}
