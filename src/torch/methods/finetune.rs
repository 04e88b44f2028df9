//! FT (unlearners.md §3.1): CE on the shuffled retain set in train mode, SGD with a cosine
//! schedule over the method's epochs (T = epochs, η_min = 0), plain images.

use super::{steps, Ctx};
use crate::exec::NodeFailure;
use crate::torch::optim::{Masks, Schedule};

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch) = (ctx.epochs()?, ctx.batch()?);
    let mut opt = ctx.sgd("")?;
    let (lr0, sched) = (opt.lr(), Schedule::Cosine { t_max: epochs, eta_min: 0.0 });
    for e in 0..epochs {
        opt.set_lr(sched.lr(lr0, e));
        let pass = ctx.retain();
        let m = &ctx.model;
        let losses = steps(m, &mut opt, Masks::default(), ctx.res, &pass, batch, |x, y| {
            m.forward(x, true).cross_entropy_for_logits(y)
        });
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}
