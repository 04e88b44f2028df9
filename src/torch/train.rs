//! The reference trainer for Original and Retrain models (node kind `train`, unlearners.md §2),
//! and the loop pieces every method shares: one optimiser step, per-epoch loss bookkeeping with
//! a single host read per epoch, and the run's output files.

use super::profile::{self, Phase};
use std::path::Path;
use std::time::Instant;

use tch::{Device, Tensor};

use super::data::resident::{Pass, Resident};
use super::data::store;
use super::device;
use super::fields;
use super::models::{self, Model};
use super::optim::{Optimizer, Schedule};
use crate::artifact::file;
use crate::artifact::{NodeFailure, RunInfo};
use crate::backend::Job;
use crate::plan::Payload;
use crate::stats::mt19937::Mt19937;
use crate::stats::split::Split;

/// The data-order seed re-applied before every training and unlearning run (unlearners.md §1).
pub(crate) const DATA_SEED: u32 = 123;

/// Backpropagates `loss` into the model's parameters and applies one optimiser update.
pub(crate) fn step(model: &Model, opt: &mut Optimizer, loss: &Tensor) {
    let device = loss.device();
    let grads = profile::time(Phase::Backward, device, || Tensor::run_backward(&[loss], model.params(), false, false));
    profile::time(Phase::Optimizer, device, || opt.step(model.flat(), model.params(), &grads));
}

/// The losses of one epoch's batches, kept on the device until the epoch ends.
#[derive(Default)]
pub(crate) struct EpochLosses {
    losses: Vec<Tensor>,
    sizes: Vec<i64>,
}

impl EpochLosses {
    /// Records a batch's (scalar) loss and its size.
    pub(crate) fn push(&mut self, loss: &Tensor, size: i64) {
        self.losses.push(loss.detach());
        self.sizes.push(size);
    }

    /// The sample-weighted mean loss of the epoch: one device → host copy. A non-finite batch
    /// loss fails the node, naming the first batch where it happened (both 1-based).
    pub(crate) fn finish(self, epoch: usize) -> Result<f64, NodeFailure> {
        if self.losses.is_empty() {
            return Ok(0.0);
        }
        let host = Tensor::stack(&self.losses, 0).to_device(Device::Cpu).to_kind(tch::Kind::Double);
        let values = Vec::<f64>::try_from(&host)?;
        if let Some(b) = values.iter().position(|v| !v.is_finite()) {
            let what = if values[b].is_nan() { "NaN" } else { "infinite" };
            return Err(NodeFailure::diverged(format!("loss became {what} at epoch {}, batch {}", epoch + 1, b + 1))
                .with_help("the run diverged: lower the learning rate (`lr`) or check the input model"));
        }
        let total: i64 = self.sizes.iter().sum();
        let sum: f64 = values.iter().zip(&self.sizes).map(|(v, &n)| v * n as f64).sum();
        Ok(sum / total as f64)
    }
}

/// Writes the model (`model.safetensors`, and a custom model's `module.pt` and `module.json`) and
/// `run.json`; `diverged` says where the loss first stopped being finite, for a run that went on
/// regardless.
pub(crate) fn write_run(
    out: &Path,
    model: &Model,
    seconds: f64,
    epoch_losses: Vec<f64>,
    diverged: Option<String>,
    device: Device,
) -> Result<(), NodeFailure> {
    model.write(out)?;
    let epoch_losses = epoch_losses.into_iter().map(|l| l.is_finite().then_some(l)).collect();
    let phases = profile::finish(seconds);
    let info = RunInfo { seconds, epoch_losses, device: device::describe(device), diverged, phases };
    store::write_json(&out.join(file::RUN), &info)
}

/// The sample indices a `train` node trains on: `train` = retain ++ forget (the reference
/// concatenates the two datasets in that order before shuffling, unlearners.md §2), or `retain`.
fn subset(subset: &str, split: &Split) -> Result<Vec<i64>, NodeFailure> {
    match subset {
        "train" => Ok(split.retain.iter().chain(&split.forget).copied().collect()),
        "retain" => Ok(split.retain.clone()),
        _ => Err(NodeFailure::new("a `train` node trains on `<dataset>.train` or `<dataset>.retain`")),
    }
}

/// Runs a `train` node: the model from its `init` weights, `epochs` shuffled passes in train
/// mode with CE, one optimiser step per batch and one schedule step per epoch.
pub(crate) fn train(job: &Job<'_>, res: &Resident, split: &Split, init_dir: &Path) -> Result<(), NodeFailure> {
    let node = job.node;
    let Payload::Train { subset: trained_on, .. } = &node.payload else {
        return Err(NodeFailure::new(format!("`{}` is not a training run", node.label)));
    };
    let epochs = fields::of(node).count("epochs")? as usize;
    let batch = fields::of(node).count("batch")?;
    let augment = match fields::of(node).word("augment")? {
        "reference" => true,
        "none" => false,
        other => return Err(NodeFailure::new(format!("unknown `augment` value `{other}`"))),
    };
    let indices = subset(trained_on, split)?;
    let model = models::load(&init_dir.join(file::MODEL), res.device)?;
    let mut opt = Optimizer::from_call(fields::of(node).value("optim")?)?;
    let sched = Schedule::from_call(fields::of(node).value("sched")?, epochs)?;

    let start = Instant::now();
    let lr0 = opt.lr();
    let mut rng = Mt19937::new(DATA_SEED);
    let mut epoch_losses = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        opt.set_lr(sched.lr(lr0, epoch));
        let pass = res.shuffled(&indices, &mut rng, augment);
        let losses = ce_epoch(&model, &mut opt, res, &pass, batch, 1.0);
        let mean = losses.finish(epoch)?;
        (job.progress)(epoch as u64 + 1, epochs as u64, &format!("loss {mean:.4}"));
        epoch_losses.push(mean);
    }
    device::synchronize(res.device);
    let seconds = start.elapsed().as_secs_f64();
    // An Original or Retrain that diverges fails: everything downstream compares with it. Its
    // last step may make the weights non-finite with no loss left to show it.
    if let Some(bad) = model.non_finite() {
        return Err(NodeFailure::diverged(format!("the weights became non-finite ({bad}) in the last epoch"))
            .with_help("the run diverged: lower the learning rate (`lr`) or check the input model"));
    }
    write_run(job.out, &model, seconds, epoch_losses, None, res.device)
}

/// One train-mode pass minimising `sign · CE` per batch (sign −1 ascends the loss, §3.2).
pub(crate) fn ce_epoch(
    model: &Model,
    opt: &mut Optimizer,
    res: &Resident,
    pass: &Pass,
    batch: i64,
    sign: f64,
) -> EpochLosses {
    let mut losses = EpochLosses::default();
    for b in 0..pass.batches(batch) {
        let (x, y) = res.batch(pass, b, batch);
        let ce = model.forward(&x, true).cross_entropy_for_logits(&y);
        let loss = if sign == 1.0 { ce } else { ce * sign };
        step(model, opt, &loss);
        losses.push(&loss, y.size()[0]);
    }
    losses
}
