//! Unlearning methods (node kind `unlearn`): each starts from the `original` model, runs its
//! epochs on plain (non-augmented) images with the data order seeded by 123, and writes the
//! result like a training run. The method files hold each method's per-epoch procedure.

mod finetune;
mod gradient_ascent;
mod neggrad_plus;

use std::path::Path;
use std::time::Instant;

use super::data::resident::Resident;
use super::device;
use super::models::{self, Model};
use super::optim::Optimizer;
use super::train::{self, count, float, EpochLosses};
use crate::exec::{Job, NodeFailure};
use crate::stats::mt19937::Mt19937;
use crate::stats::split::Split;

/// The generic hyper-parameters of a method (unlearners.md §1) plus NG+'s `alpha`.
pub(crate) struct Hyper {
    pub(crate) epochs: usize,
    pub(crate) batch: i64,
    pub(crate) lr: f64,
    pub(crate) alpha: f64,
}

/// What a method's epoch sees.
pub(crate) struct Ctx<'a> {
    pub(crate) model: &'a Model,
    pub(crate) opt: &'a mut Optimizer,
    pub(crate) res: &'a Resident,
    pub(crate) split: &'a Split,
    pub(crate) rng: &'a mut Mt19937,
    pub(crate) hyper: &'a Hyper,
}

/// Runs an `unlearn` node on the model in `original_dir`.
pub(crate) fn unlearn(job: &Job<'_>, res: &Resident, split: &Split, original_dir: &Path) -> Result<(), NodeFailure> {
    let node = job.node;
    let epoch: fn(&mut Ctx<'_>, usize) -> EpochLosses = match node.op.as_str() {
        "finetune" => finetune::epoch,
        "gradient_ascent" => gradient_ascent::epoch,
        "neggrad_plus" => neggrad_plus::epoch,
        other => return Err(NodeFailure::new(format!("the torch backend has no method `{other}`"))),
    };
    let hyper = Hyper {
        epochs: count(node, "epochs", 10)? as usize,
        batch: count(node, "batch", 256)?,
        lr: float(node, "lr", 0.01)?,
        alpha: float(node, "alpha", 0.95)?,
    };
    let momentum = float(node, "momentum", 0.9)?;
    let weight_decay = float(node, "weight_decay", 0.0)?;
    let model = models::load(&original_dir.join("model.safetensors"), res.device)?;
    let mut opt = Optimizer::sgd(hyper.lr, momentum, weight_decay);

    let start = Instant::now();
    let mut rng = Mt19937::new(train::DATA_SEED);
    let mut epoch_losses = Vec::with_capacity(hyper.epochs);
    for e in 0..hyper.epochs {
        let mut ctx = Ctx { model: &model, opt: &mut opt, res, split, rng: &mut rng, hyper: &hyper };
        let mean = epoch(&mut ctx, e).finish(e)?;
        (job.progress)(e as u64 + 1, hyper.epochs as u64, &format!("loss {mean:.4}"));
        epoch_losses.push(mean);
    }
    device::synchronize(res.device);
    let seconds = start.elapsed().as_secs_f64();
    train::write_run(job.out, &model, seconds, epoch_losses, res.device)
}
