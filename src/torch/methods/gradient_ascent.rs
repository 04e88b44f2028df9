//! GA (unlearners.md §3.2): minimise −CE on the shuffled forget set in train mode, SGD without
//! a schedule, plain images. The recorded epoch loss is the minimised quantity, −CE.

use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::optim::Masks;

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch) = (ctx.epochs()?, ctx.batch()?);
    let mut opt = ctx.sgd("")?;
    for e in 0..epochs {
        let pass = ctx.forget();
        let m = &ctx.model;
        let losses = steps(m, &mut opt, Masks::default(), ctx.res, &pass, batch, |x, y| {
            -m.forward(x, true).cross_entropy_for_logits(y)
        });
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}
