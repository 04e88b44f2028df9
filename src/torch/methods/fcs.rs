//! FCS (unlearners.md §3.12, Kaggle 1st): three SGD optimisers over the same parameters, each
//! with its own momentum state: O1 (lr, momentum, weight_decay); O2 (forget_lr,
//! forget_momentum, forget_weight_decay) with a cosine schedule over all contrast steps
//! (T = epochs·#forget batches, η_min = eta_min) stepped after every contrast step; O3
//! (retain_lr × batch / 64, retain_momentum, retain_weight_decay). Everything in train mode.
//!
//! Stage 1 (once): for each shuffled forget batch minimise KL(uniform ‖ softmax(logits)),
//! batchmean; step O1. Stage 2, per epoch: a contrast round over pairs (forget batch, batch of
//! a fresh shuffled retain pass) until the shorter pass ends, with S = z_f·z_rᵀ/τ (z_r
//! detached) and loss = mean of −log_softmax(S) along the retain axis, stepping O2 and then its
//! schedule; then a strengthen round of CE steps with O3 over another fresh shuffled retain
//! pass. Per pair the forget batch goes through the model first, then the retain batch.
//!
//! Losses are recorded per phase: stage 1, then each epoch's contrast and strengthen rounds.

use tch::{Kind, Tensor};

use super::losses::kl_batchmean;
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::models::Model;
use crate::torch::optim::{Masks, Optimizer, Schedule};
use crate::torch::train::{step, EpochLosses};

/// The contrast loss: mean over the `B_f × B_r` entries of `−log_softmax(z_f·z_rᵀ/τ)` along
/// the retain axis.
pub(crate) fn contrast(z_f: &Tensor, z_r: &Tensor, tau: f64) -> Tensor {
    let s = z_f.matmul(&z_r.detach().tr()) / tau;
    -s.log_softmax(1, Kind::Float).mean(Kind::Float)
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch, tau) = (ctx.epochs()?, ctx.batch()?, ctx.float("temperature")?);
    let mut o1 = ctx.sgd("")?;
    let mut o2 = ctx.sgd("forget_")?;
    let retain_lr = ctx.float("retain_lr")? * batch as f64 / 64.0;
    let mut o3 = Optimizer::sgd(retain_lr, ctx.float("retain_momentum")?, ctx.float("retain_weight_decay")?);
    let forget_batches = ctx.split.forget.len().div_ceil(batch as usize);
    let (lr2, sched) = (o2.lr(), Schedule::Cosine { t_max: epochs * forget_batches, eta_min: ctx.float("eta_min")? });
    let phases = 1 + 2 * epochs;

    // Stage 1: forget outputs towards uniform.
    let pass = ctx.forget();
    let m = &ctx.model;
    let losses = steps(m, &mut o1, Masks::default(), ctx.res, &pass, batch, |x, _| {
        let z = m.forward(x, true);
        kl_batchmean(&z.zeros_like(), &z, 1.0)
    });
    ctx.epoch_done(0, phases, losses)?;

    let mut contrast_steps = 0;
    for e in 0..epochs {
        let (forget, retain) = (ctx.forget(), ctx.retain());
        let (m, res): (&Model, _) = (&ctx.model, ctx.res);
        let mut losses = EpochLosses::default();
        for b in 0..forget.batches(batch).min(retain.batches(batch)) {
            let (xf, _) = res.batch(&forget, b, batch);
            let (xr, _) = res.batch(&retain, b, batch);
            let z_f = m.forward(&xf, true);
            let z_r = tch::no_grad(|| m.forward(&xr, true));
            let loss = contrast(&z_f, &z_r, tau);
            step(m, &mut o2, &loss);
            contrast_steps += 1;
            o2.set_lr(sched.lr(lr2, contrast_steps));
            losses.push(&loss, z_f.size()[0]);
        }
        ctx.epoch_done(1 + 2 * e, phases, losses)?;

        let pass = ctx.retain();
        let m = &ctx.model;
        let losses = steps(m, &mut o3, Masks::default(), ctx.res, &pass, batch, |x, y| {
            m.forward(x, true).cross_entropy_for_logits(y)
        });
        ctx.epoch_done(2 + 2 * e, phases, losses)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_loss_is_the_mean_negative_log_softmax_over_retain_columns() {
        let z_f = Tensor::from_slice(&[1.0f32, 0.0, 0.5, 2.0]).view([2, 2]);
        let z_r = Tensor::from_slice(&[0.0f32, 1.0, 1.0, 1.0, -1.0, 0.0]).view([3, 2]);
        let tau = 1.15;
        let mut total = 0.0;
        let (f, r) = (Vec::<f32>::try_from(z_f.view(-1)).unwrap(), Vec::<f32>::try_from(z_r.view(-1)).unwrap());
        for i in 0..2 {
            let s: Vec<f64> =
                (0..3).map(|j| (f[2 * i] * r[2 * j] + f[2 * i + 1] * r[2 * j + 1]) as f64 / tau).collect();
            let lse = s.iter().map(|v| v.exp()).sum::<f64>().ln();
            total += s.iter().map(|v| lse - v).sum::<f64>();
        }
        assert!((contrast(&z_f, &z_r, tau).double_value(&[]) - total / 6.0).abs() < 1e-5);
        // The retain logits carry no gradient.
        let z_r = z_r.set_requires_grad(true);
        let loss = contrast(&z_f.set_requires_grad(true), &z_r, tau);
        let g = Tensor::run_backward(&[loss], &[&z_r], false, true);
        assert!(!g[0].defined() || g[0].abs().max().double_value(&[]) == 0.0);
    }
}
