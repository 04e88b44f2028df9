//! Unlearning methods (node kind `unlearn`, unlearners.md §3 and §5). Each starts from the
//! `original` model and changes it in place; the data order is seeded with 123 before the
//! method starts, and only the method itself is timed (for RTE), not loading or writing.
//!
//! One file per method holds its procedure as the spec states it; this file holds what they
//! share: reading hyper-parameters (complete: lowering filled the catalogue defaults), the passes over
//! the method's data, per-epoch loss bookkeeping, teacher copies and seeded random draws.

mod losses;
mod reinit;
mod select;
#[cfg(test)]
mod tests;
mod trial;

pub(crate) use trial::trial;

use super::profile::{self, Phase};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use tch::Tensor;

use super::data::resident::{Pass, Resident};
use super::device;
use super::fields::Fields;
use super::models::{self, rng::GLOBAL_RNG, Model};
use super::optim::{Masks, Optimizer};
use super::train::{self, EpochLosses};
use crate::artifact::{file, FailureKind, NodeFailure};
use crate::backend::Job;
use crate::ops::Value;
use crate::stats::mt19937::Mt19937;
use crate::stats::split::Split;

/// A method's procedure: changes `ctx.model` in place.
type Method = fn(&mut Ctx<'_>) -> Result<(), NodeFailure>;

/// The implementation files of the catalogue's methods, each named after its op and defining
/// `run`; a new method is one word here.
macro_rules! methods {
    ($($op:ident),* $(,)?) => {
        $(mod $op;)*

        fn method(op: &str) -> Option<Method> {
            match op {
                $(stringify!($op) => Some($op::run),)*
                _ => None,
            }
        }
    };
}

methods!(
    finetune,
    gradient_ascent,
    successive_random_labels,
    neggrad_plus,
    bad_teacher,
    ct,
    salun,
    kde,
    fcs,
    scrub,
    scrub_v1,
    cf_k,
    eu_k,
    cfw,
    negative_gradient,
    python,
    msg,
    prmq,
    rni,
    fisher,
    influence,
);

/// Reports progress: (done, total, message).
pub(crate) type Progress<'a> = &'a (dyn Fn(u64, u64, &str) + Sync);

/// What a method sees: its hyper-parameters, the model being unlearned, the data and the
/// seeded generators.
pub(crate) struct Ctx<'a> {
    op: &'a str,
    params: BTreeMap<String, Value>,
    /// The model being unlearned; it starts as the original.
    pub(crate) model: Model,
    pub(crate) res: &'a Resident,
    pub(crate) split: &'a Split,
    /// Data order and augmentation draws: MT19937 seeded with 123 (unlearners.md §1).
    pub(crate) rng: Mt19937,
    pub(crate) classes: i64,
    progress: Progress<'a>,
    /// Mean loss per epoch (or phase), written to `run.json`.
    pub(crate) losses: Vec<f64>,
    /// Go on through a non-finite loss (final runs) instead of failing (search trials, whose
    /// divergence scores +∞).
    pub(crate) continue_on_divergence: bool,
    /// Where the loss first became non-finite, when `continue_on_divergence` let the run go on.
    pub(crate) diverged: Option<String>,
    /// How many seeded torch draws the method has made (each gets its own seed).
    draws: Cell<i64>,
    /// A Python method's file, data and log (`python.rs`).
    pub(crate) python: Option<python::PyJob>,
    /// The method's own time where it measured it (a Python method: not the process's start).
    pub(crate) own_seconds: Option<f64>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        op: &'a str,
        params: BTreeMap<String, Value>,
        model: Model,
        res: &'a Resident,
        split: &'a Split,
        progress: Progress<'a>,
    ) -> Ctx<'a> {
        let classes = res.info.classes as i64;
        Ctx {
            op,
            params,
            model,
            res,
            split,
            rng: Mt19937::new(train::DATA_SEED),
            classes,
            progress,
            losses: Vec::new(),
            continue_on_divergence: false,
            diverged: None,
            draws: Cell::new(0),
            python: None,
            own_seconds: None,
        }
    }

    /// The method's hyper-parameters, for typed reads (complete: lowering filled every default).
    fn fields(&self) -> Fields<'_> {
        Fields::new(self.op, &self.params)
    }

    /// A hyper-parameter that counts something (epochs, batch sizes): at least 1.
    pub(crate) fn count(&self, name: &str) -> Result<i64, NodeFailure> {
        self.fields().count(name)
    }

    /// A number.
    pub(crate) fn float(&self, name: &str) -> Result<f64, NodeFailure> {
        self.fields().float(name)
    }

    /// `true` or `false`.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, NodeFailure> {
        self.fields().flag(name)
    }

    /// A number or a list of numbers, as a list.
    pub(crate) fn floats(&self, name: &str) -> Result<Vec<f64>, NodeFailure> {
        self.fields().floats(name)
    }

    /// `epochs` as a count.
    pub(crate) fn epochs(&self) -> Result<usize, NodeFailure> {
        Ok(self.count("epochs")? as usize)
    }

    /// `batch`.
    pub(crate) fn batch(&self) -> Result<i64, NodeFailure> {
        self.count("batch")
    }

    /// SGD from the fields `{prefix}lr`, `{prefix}momentum`, `{prefix}weight_decay`.
    pub(crate) fn sgd(&self, prefix: &str) -> Result<Optimizer, NodeFailure> {
        Ok(Optimizer::sgd(
            self.float(&format!("{prefix}lr"))?,
            self.float(&format!("{prefix}momentum"))?,
            self.float(&format!("{prefix}weight_decay"))?,
        ))
    }

    /// A frozen copy of the model as it is now: the teacher of distillation methods, taken
    /// before the method changes anything. Evaluate it under `tch::no_grad`, in eval mode.
    pub(crate) fn teacher(&self) -> Result<Model, NodeFailure> {
        self.model.duplicate()
    }

    /// A shuffled pass over `indices`; `augment` selects the dataset's reference augmentation
    /// (profile AUG_RETAIN for EU-k's retain set, datasets.md §2.3), else plain images.
    pub(crate) fn shuffled(&mut self, indices: &[i64], augment: bool) -> Pass {
        self.res.shuffled(indices, &mut self.rng, augment)
    }

    /// A plain shuffled pass over the retain set (profile PLAIN).
    pub(crate) fn retain(&mut self) -> Pass {
        self.res.shuffled(&self.split.retain, &mut self.rng, false)
    }

    /// A plain shuffled pass over the forget set (profile PLAIN).
    pub(crate) fn forget(&mut self) -> Pass {
        self.res.shuffled(&self.split.forget, &mut self.rng, false)
    }

    /// `bool [N]` over the whole dataset, on the device: true for forget samples (the origin
    /// flag of methods that iterate retain ∪ forget).
    pub(crate) fn forget_flags(&self) -> Tensor {
        let n = (self.res.info.n_train + self.res.info.n_test) as i64;
        let flags = Tensor::zeros([n], (tch::Kind::Bool, self.res.device));
        let idx = Tensor::from_slice(&self.split.forget).to_device(self.res.device);
        flags.index_fill(0, &idx, 1)
    }

    /// Ends epoch `e` of `total`: one host read of the losses, a progress report, and the mean
    /// kept for `run.json`. A non-finite loss fails the node naming the epoch and batch, or, with
    /// `continue_on_divergence`, is recorded (the first one) and the epoch's mean is NaN.
    pub(crate) fn epoch_done(&mut self, e: usize, total: usize, losses: EpochLosses) -> Result<f64, NodeFailure> {
        let mean = match losses.finish(e) {
            Ok(mean) => mean,
            Err(f) if f.kind == FailureKind::Diverged && self.continue_on_divergence => {
                self.diverged.get_or_insert(f.message);
                f64::NAN
            }
            Err(f) => return Err(f),
        };
        (self.progress)(e as u64 + 1, total as u64, &format!("loss {mean:.4}"));
        self.losses.push(mean);
        Ok(mean)
    }

    /// Runs `draw` with libtorch's global generator seeded for this method's next random draw
    /// (seed 123, 124, … per draw), holding the lock that keeps concurrent initialisations and
    /// methods from interleaving their draws. The reference seeds once with 123 and draws from
    /// one stream; torch's stream cannot be matched anyway, and a seed per draw keeps every
    /// draw reproducible however many threads run.
    pub(crate) fn seeded<T>(&self, draw: impl FnOnce() -> T) -> T {
        let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(i64::from(train::DATA_SEED) + self.draws.get());
        self.draws.set(self.draws.get() + 1);
        draw()
    }

    /// Fails for methods that the reference cannot run on TinyViT.
    pub(crate) fn refuse_vit(&self, why: &str) -> Result<(), NodeFailure> {
        if self.model.arch() == "vit11m" {
            return Err(NodeFailure::refused(format!("`{}` does not run on `vit11m`: {why}", self.op)).with_help(
                "the reference crashes here too (its TinyViT caches the attention bias in eval mode, so no gradient reaches it), so there are no reference results to compare with",
            ));
        }
        Ok(())
    }

    /// Fails for methods that find layers by the names of munl's own architectures, on a custom
    /// model (a TorchScript module, whose layers munl knows only as parameters): `why` says what
    /// the method looks for.
    pub(crate) fn refuse_custom(&self, why: &str) -> Result<(), NodeFailure> {
        if self.model.arch() == "custom" {
            let help = "methods that treat all parameters alike run on any model (`finetune`, `gradient_ascent`, \
                        `neggrad_plus`, `scrub`, `salun`, …); this one needs `resnet18`, `vit11m` or `cnn`";
            let message = format!("`{}` does not run on a custom model: {why}", self.op);
            return Err(NodeFailure::refused(message).with_help(help));
        }
        Ok(())
    }
}

/// Runs an `unlearn` node on the model in `original_dir`.
pub(crate) fn unlearn(job: &Job<'_>, res: &Resident, split: &Split, original_dir: &Path) -> Result<(), NodeFailure> {
    let node = job.node;
    let Some(run) = method(&node.op) else {
        return Err(NodeFailure::new(format!("the torch backend has no method `{}`", node.op)));
    };
    // A tuned method's best values are already in `params`: the engine resolved its searches.
    let model = models::load(&original_dir.join(file::MODEL), res.device)?;
    let mut ctx = Ctx::new(&node.op, node.payload.params().clone(), model, res, split, job.progress);
    if node.op == "python" {
        ctx.python = Some(python::PyJob::of(job)?);
    }
    // A final run goes on through a non-finite loss, as the reference's does: its model and
    // where it diverged are kept, and the tables mark what cannot be measured.
    ctx.continue_on_divergence = true;
    let start = Instant::now();
    run(&mut ctx)?;
    device::synchronize(res.device);
    let seconds = ctx.own_seconds.unwrap_or_else(|| start.elapsed().as_secs_f64());
    // Non-finite weights are stored only with their divergence recorded, even when no loss showed
    // it (a last step, a method without a loss): a reader blames unrecorded ones on the cache.
    if ctx.diverged.is_none() {
        ctx.diverged = ctx.model.non_finite().map(|bad| format!("the weights became non-finite ({bad})"));
    }
    train::write_run(job.out, &ctx.model, seconds, ctx.losses, ctx.diverged, res.device)
}

/// `epochs` epochs of CE steps in train mode, the way FT, CT, MSG, SRL and SalUn train: each
/// epoch sets the learning rate `lr(e)`, draws its data with `pass`, and takes one step per batch
/// of `batch` through `opt` with `masks`.
pub(crate) fn ce_epochs<'a>(
    ctx: &mut Ctx<'a>,
    opt: &mut Optimizer,
    masks: Masks<'_>,
    lr: impl Fn(usize) -> f64,
    pass: impl Fn(&mut Ctx<'a>) -> Pass,
) -> Result<(), NodeFailure> {
    let (epochs, batch) = (ctx.epochs()?, ctx.batch()?);
    for e in 0..epochs {
        opt.set_lr(lr(e));
        let data = pass(ctx);
        let m = &ctx.model;
        let losses = steps(m, opt, masks, ctx.res, &data, batch, |x, y| m.forward(x, true).cross_entropy_for_logits(y));
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}

/// One pass of optimiser steps over `pass` in batches of `batch`: per batch, `loss(x, y)` (the
/// caller picks the model's mode inside), one update of `ctx.model` through `opt` with
/// `masks`. Returns the batch losses for `Ctx::epoch_done`.
pub(crate) fn steps(
    model: &Model,
    opt: &mut Optimizer,
    masks: Masks<'_>,
    res: &Resident,
    pass: &Pass,
    batch: i64,
    mut loss: impl FnMut(&Tensor, &Tensor) -> Tensor,
) -> EpochLosses {
    let mut losses = EpochLosses::default();
    for b in 0..pass.batches(batch) {
        let (x, y) = res.batch(pass, b, batch);
        let l = loss(&x, &y);
        let device = l.device();
        let grads =
            profile::time(Phase::Backward, device, || Tensor::run_backward(&[&l], model.params(), false, false));
        profile::time(Phase::Optimizer, device, || opt.step_masked(model.flat(), model.params(), &grads, masks));
        losses.push(&l, y.size()[0]);
    }
    losses
}
