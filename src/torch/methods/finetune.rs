//! FT (unlearners.md §3.1): CE on the shuffled retain set in train mode, SGD with a cosine
//! schedule over the method's epochs (T = epochs, η_min = 0), plain images.

use super::{ce_epochs, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::optim::{Masks, Schedule};

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let mut opt = ctx.sgd("")?;
    let (lr0, sched) = (opt.lr(), Schedule::Cosine { t_max: ctx.epochs()?, eta_min: 0.0 });
    ce_epochs(ctx, &mut opt, Masks::default(), |e| sched.lr(lr0, e), Ctx::retain)
}
