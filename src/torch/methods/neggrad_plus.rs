//! NG+ (unlearners.md §3.4): per shuffled retain batch, `α·CE(retain) − (1 − α)·CE(forget)`
//! with the next batch of a cycling forget order, one SGD step, no schedule. The model stays in
//! eval mode for the whole run (reference quirk: BatchNorm uses and keeps its running
//! statistics). The L2-to-original term has weight 0 in the reference and is left out.

use tch::Tensor;

use super::Ctx;
use crate::artifact::NodeFailure;
use crate::torch::train::{step, EpochLosses};

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch, alpha) = (ctx.epochs()?, ctx.batch()?, ctx.float("alpha")?);
    let mut opt = ctx.sgd("")?;
    for e in 0..epochs {
        // Each epoch reshuffles both loaders; the forget order of this epoch's first pass is
        // the one replayed when the forget batches run out (the reference caches that pass).
        let retain = ctx.retain();
        let forget = ctx.forget();
        let forget_batches = forget.batches(batch);
        let (m, res) = (&ctx.model, ctx.res);
        let mut losses = EpochLosses::default();
        for b in 0..retain.batches(batch) {
            let (xr, yr) = res.batch(&retain, b, batch);
            let n = yr.size()[0];
            let loss = if forget_batches == 0 {
                m.forward(&xr, false).cross_entropy_for_logits(&yr) * alpha
            } else {
                let (xf, yf) = res.batch(&forget, b % forget_batches, batch);
                // In eval mode a sample's logits do not depend on its batch, so one forward
                // pass over both batches gives the two losses with half the kernel launches.
                let logits = m.forward(&Tensor::cat(&[xr, xf], 0), false);
                let ce_r = logits.narrow(0, 0, n).cross_entropy_for_logits(&yr);
                let ce_f = logits.narrow(0, n, yf.size()[0]).cross_entropy_for_logits(&yf);
                ce_r * alpha - ce_f * (1.0 - alpha)
            };
            step(m, &mut opt, &loss);
            losses.push(&loss, n);
        }
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}
