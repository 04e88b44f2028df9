//! Checks of a lowered file that no single field shows: whether each trained model can take its
//! dataset's images, and whether the plan stays within munl's limit on nodes. Both run on a
//! file without other errors, whose indices hold.

use crate::ops::{self, limits, Value};
use crate::span::Span;

use super::cx::Cx;
use super::{Dataset, Experiment, LowerError, Model, ModelRef};

/// Height and width of the images a dataset's models see, known without reading data: the
/// `shape` of generated images, else the input size of the source (or of the benchmark dataset
/// an `image_folder` or `arrays` is `like`).
fn image_size(ds: &Dataset) -> Option<(i64, i64)> {
    if let Some(Value::List(shape)) = ds.source.args.get("shape") {
        return match shape[..] {
            [_, ref h, ref w] => Some((h.as_i64()?, w.as_i64()?)),
            _ => None,
        };
    }
    let source = match ds.source.args.get("like").and_then(Value::as_str) {
        Some(like) => like,
        None => ds.source.op.as_str(),
    };
    let side = i64::try_from(ops::facts(source)?.input_size).ok()?;
    Some((side, side))
}

/// Why `model` cannot take images of `h × w` pixels, with a suggestion, if it cannot.
fn misfit(model: &Model, ds: &Dataset, (h, w): (i64, i64)) -> Option<(String, String, String)> {
    match model.arch.op.as_str() {
        "cnn" if h.min(w) < limits::CNN_MIN_SIDE => {
            let min = limits::CNN_MIN_SIDE;
            let fix = if ds.source.op == "synthetic" {
                format!("give `synthetic` a `shape` of at least [3, {min}, {min}]")
            } else {
                "use `resnet18()`, which takes images of any size".into()
            };
            Some((
                format!("`cnn` needs at least {min}×{min} pixels"),
                format!("its two 2×2 max-pools take a side of {min} to 1; {fix}"),
                format!("needs at least {min}×{min} pixels"),
            ))
        }
        "vit11m" => {
            let size = model.arch.args.get("img_size").and_then(Value::as_i64)?;
            if (h, w) == (size, size) {
                return None;
            }
            let fix = if h == w && h % 32 == 0 {
                format!("write `vit11m(img_size: {h})`")
            } else {
                "TinyViT takes square images whose side is a multiple of 32 (the reference uses 32 and 224)".into()
            };
            Some((
                format!("`vit11m` is built for {size}×{size} pixels (`img_size`)"),
                fix,
                format!("built for {size}×{size} pixels"),
            ))
        }
        _ => None,
    }
}

impl Cx<'_> {
    /// Every `train` declaration's model can take the images of its dataset: a `cnn` needs a
    /// side of at least `limits::CNN_MIN_SIDE` (libtorch rejects smaller ones mid-run), and a
    /// `vit11m` is built for images of its `img_size` (the reference asserts it).
    pub(super) fn inputs_fit(&mut self, exp: &Experiment) {
        for t in &exp.trains {
            let (Some(model), Some(ds)) = (exp.models.get(t.model), exp.datasets.get(t.dataset)) else { continue };
            let Some((h, w)) = image_size(ds) else { continue };
            let Some((needs, help, label)) = misfit(model, ds, (h, w)) else { continue };
            self.errors.push(LowerError::InputSize {
                model: model.name.clone(),
                dataset: ds.name.clone(),
                reason: format!("they are {h}×{w} pixels, and {needs}"),
                span: t.span,
                model_span: model.span,
                needs: label,
                dataset_span: ds.span,
                has: format!("{h}×{w} pixels"),
                help: Some(help),
            });
        }
    }

    /// The plan stays within `limits::NODES`. Counted from the lowered file as planning adds
    /// nodes, before equal nodes merge, so the count is an upper bound; it grows with the seeds
    /// times the model-dependent declarations.
    pub(super) fn plan_size(&mut self, exp: &Experiment) {
        let seeds = exp.seeds.len() as u128;
        let counts = node_counts(exp, seeds);
        let nodes = counts.iter().map(|(n, ..)| *n).fold(0, u128::saturating_add);
        let limit = limits::NODES;
        if nodes <= limit.max as u128 {
            return;
        }
        let Some((most, span, decl)) = counts.into_iter().max_by_key(|(n, ..)| *n) else { return };
        let (span, what) = match self.seeds_span {
            // Seeds multiply everything: point at them when they are what makes it large.
            Some(at) if seeds > 1 && exp.dims.is_empty() => {
                let total = |s| node_counts(exp, s).iter().map(|(n, ..)| *n).fold(0, u128::saturating_add);
                (at, format!("{seeds} seeds × {} nodes per seed", total(1) - total(0)))
            }
            _ => (span, format!("{decl} alone has {most} nodes")),
        };
        self.errors.push(LowerError::PlanTooLarge {
            nodes: usize::try_from(nodes).unwrap_or(usize::MAX),
            limit: limit.max,
            span,
            what,
            help: limit
                .why
                .map(|why| format!("{why}: use fewer seeds, dimension values or declarations, or split the file")),
        });
    }
}

/// The nodes each declaration plans with `seeds` seeds, without building anything: one per point
/// of the dimensions it varies along (equal nodes merge, so a bound where they would). Reports
/// count one each, under no declaration's name.
fn node_counts(exp: &Experiment, seeds: u128) -> Vec<(u128, Span, String)> {
    let points = |dims: &std::collections::BTreeSet<&str>| -> u128 {
        exp.ordered(dims)
            .iter()
            .map(|d| exp.dims.iter().find(|x| x.name == *d).map_or(seeds, |dim| dim.shown.len() as u128))
            .fold(1, u128::saturating_mul)
    };
    let mut counts: Vec<(u128, Span, String)> = vec![];
    for (i, d) in exp.datasets.iter().enumerate() {
        counts.push((2 * points(&exp.split_dims(i)), d.span, format!("dataset `{}`", d.name)));
    }
    // One initialisation per model and class count, shared by the trainings that use them.
    let mut inits = std::collections::BTreeSet::new();
    for (i, t) in exp.trains.iter().enumerate() {
        let classes = exp.datasets.get(t.dataset).map_or(0, |d| d.classes);
        let init = if inits.insert((t.model, classes)) { points(&exp.model_dims(t.model)) } else { 0 };
        counts.push((points(&exp.train_dims(i)) + init, t.span, format!("train `{}`", t.name)));
    }
    for (i, u) in exp.unlearns.iter().enumerate() {
        let runs = points(&exp.unlearn_dims(i));
        // A search per searched seed at each of the run's other points, with its seed's Original
        // and Retrain and their initialisation (most merge with the file's own).
        let searches = u.search.as_ref().map_or(0, |s| {
            let per_seed = runs / seeds.max(1);
            4 * s.settings.seeds.len() as u128 * per_seed
        });
        counts.push((runs + searches, u.span, format!("unlearn `{}`", u.name)));
    }
    for e in &exp.evaluates {
        let distance = e.metrics.contains(&ops::Metric::Distance) && e.reference.is_some();
        let mut rows: Vec<ModelRef> = e.models.clone();
        rows.extend(e.reference.map(ModelRef::Train).filter(|r| !e.models.contains(r)));
        let measured: u128 = rows.iter().map(|m| points(&exp.model_ref_dims(*m))).sum();
        let mut along = std::collections::BTreeSet::new();
        rows.iter().for_each(|m| along.extend(exp.model_ref_dims(*m)));
        let groups = points(&along.into_iter().filter(|d| !e.over.iter().any(|o| o == d)).collect());
        let n = measured.saturating_mul(1 + u128::from(distance)).saturating_add(groups);
        counts.push((n, e.span, format!("evaluate `{}`", e.name)));
    }
    for r in &exp.reports {
        counts.push((1, r.span, format!("report `{}`", r.name)));
    }
    counts
}
