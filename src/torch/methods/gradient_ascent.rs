//! GA (unlearners.md §3.2): minimise −CE on the shuffled forget set in train mode, SGD without
//! a schedule, plain images. The recorded epoch loss is the minimised quantity, −CE.

use super::Ctx;
use crate::torch::train::{ce_epoch, EpochLosses};

/// One GA epoch.
pub(crate) fn epoch(ctx: &mut Ctx<'_>, _e: usize) -> EpochLosses {
    let pass = ctx.res.shuffled(&ctx.split.forget, ctx.rng, false);
    ce_epoch(ctx.model, ctx.opt, ctx.res, &pass, ctx.hyper.batch, -1.0)
}
