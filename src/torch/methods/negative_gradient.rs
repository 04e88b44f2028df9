//! NG (unlearners.md §5, implemented by the reference but not benchmarked): one shuffled pass
//! per epoch over retain ∪ forget; per-sample CE, negated for forget samples, each clamped to
//! `[0, 1/C]`, then averaged; SGD with cosine(T = epochs). The clamp zeroes every negated
//! forget term (and caps retain terms at 1/C), so forget samples contribute no gradient.

use tch::Kind;

use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::metrics::losses::per_sample;
use crate::torch::optim::{Masks, Schedule};

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch) = (ctx.epochs()?, ctx.batch()?);
    let mut opt = ctx.sgd("")?;
    let (lr0, sched) = (opt.lr(), Schedule::Cosine { t_max: epochs, eta_min: 0.0 });
    let all: Vec<i64> = ctx.split.retain.iter().chain(&ctx.split.forget).copied().collect();
    let is_forget = ctx.forget_flags();
    let cap = 1.0 / ctx.classes as f64;
    for e in 0..epochs {
        opt.set_lr(sched.lr(lr0, e));
        let pass = ctx.shuffled(&all, false);
        let (m, res) = (&ctx.model, ctx.res);
        let mut b = 0;
        let losses = steps(m, &mut opt, Masks::default(), res, &pass, batch, |x, y| {
            let forget = is_forget.index_select(0, &res.batch_indices(&pass, b, batch));
            b += 1;
            let ce = per_sample(&m.forward(x, true), y);
            let signed = ce.where_self(&forget.logical_not(), &-&ce);
            signed.clamp(0.0, cap).mean(Kind::Float)
        });
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}
