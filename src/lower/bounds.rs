//! Checks of a lowered file that no single field shows: whether each trained model can take its
//! dataset's images, and whether the plan stays within munl's limit on nodes. Both run on a
//! file without other errors, whose indices hold.

use crate::ops::{self, limits, Value};
use crate::syntax::ast::{File, Item};

use super::cx::Cx;
use super::{Dataset, Experiment, LowerError, Model, ModelRef};

/// Height and width of the images a dataset's models see, known without reading data: the
/// `shape` of generated images, else the input size of the source (or of the benchmark dataset
/// an `image_folder` is `like`).
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
    pub(super) fn plan_size(&mut self, exp: &Experiment, file: &File) {
        let seeds = exp.seeds.len();
        // Per seed: an init per model and class count, a run per `train` and `unlearn`, and per
        // evaluated model a measurement (and a distance).
        let inits: std::collections::HashSet<(usize, i64)> =
            exp.trains.iter().map(|t| (t.model, exp.datasets.get(t.dataset).map_or(0, |d| d.classes))).collect();
        let mut per_seed = inits.len() + exp.trains.len() + exp.unlearns.len();
        for e in &exp.evaluates {
            let listed = |r: usize| e.models.contains(&ModelRef::Train(r));
            let rows = e.models.len() + usize::from(e.reference.is_some_and(|r| !listed(r)));
            let distance = e.metrics.contains(&ops::Metric::Distance) && e.reference.is_some();
            per_seed += rows * (1 + usize::from(distance));
        }
        let mut nodes = 2 * exp.datasets.len() + seeds * per_seed + exp.evaluates.len() + exp.reports.len();
        for u in &exp.unlearns {
            // A search node per searched seed, with its seed's Original and Retrain (on the same
            // model and dataset, so one init), which merge with the file's own at its seeds.
            nodes += u.search.as_ref().map_or(0, |s| 4 * s.settings.seeds.len());
        }
        let limit = limits::NODES;
        if nodes <= limit.max {
            return;
        }
        let first = file.items.iter().find_map(|i| match i {
            Item::Decl(d) => Some(d.name.span),
            Item::Setting(_) => None,
        });
        let decls = exp.datasets.len()
            + exp.models.len()
            + exp.trains.len()
            + exp.unlearns.len()
            + exp.evaluates.len()
            + exp.reports.len();
        let (span, what) = match (self.seeds_span, first) {
            (Some(span), _) if seeds > 1 => (span, format!("{seeds} seeds × {per_seed} nodes per seed")),
            (_, Some(span)) => (span, format!("{decls} declarations")),
            (Some(span), None) => (span, format!("{seeds} seeds")),
            (None, None) => return,
        };
        self.errors.push(LowerError::PlanTooLarge {
            nodes,
            limit: limit.max,
            span,
            what,
            help: limit.why.map(|why| format!("{why}: use fewer seeds or declarations, or split the file")),
        });
    }
}
