//! FT (unlearners.md §3.1): CE on the shuffled retain set in train mode, SGD with a cosine
//! schedule over the method's epochs (T = epochs, η_min = 0), plain images.

use super::Ctx;
use crate::torch::optim::Schedule;
use crate::torch::train::{ce_epoch, EpochLosses};

/// One FT epoch.
pub(crate) fn epoch(ctx: &mut Ctx<'_>, e: usize) -> EpochLosses {
    let sched = Schedule::Cosine { t_max: ctx.hyper.epochs, eta_min: 0.0 };
    ctx.opt.set_lr(sched.lr(ctx.hyper.lr, e));
    let pass = ctx.res.shuffled(&ctx.split.retain, ctx.rng, false);
    ce_epoch(ctx.model, ctx.opt, ctx.res, &pass, ctx.hyper.batch, 1.0)
}
