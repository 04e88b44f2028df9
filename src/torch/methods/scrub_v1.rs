//! SCRUB v1 (unlearners.md §5, "SCRUBOLD"; not benchmarked): the student is the model itself,
//! the teacher a frozen copy of the original (eval mode); Adam(lr, weight_decay). With
//! KL_T(s, t) = (T²/B)·Σ_b Σ_c p_t·(log p_t − log p_s) (T = `kd_t`) and the smoothing term
//! D = smoothing·Σ_params ‖θ − θ_avg‖ (Frobenius norm per parameter tensor), per epoch
//! e = 1..E, student in train mode:
//! 1. if e ≤ `msteps`, a "max" pass over the shuffled forget set: loss = −KL_T + D;
//! 2. a "min" pass over the shuffled retain set: loss = gamma·CE + alpha·KL_T + beta·0 + D;
//! 3. if e ≥ `sstart`, update the average: θ_avg ← θ on its first update, then the running mean
//!    θ_avg ← θ_avg + (θ − θ_avg)/(n + 1) (PyTorch's `AveragedModel`, parameters only).
//!
//! The averaged copy starts as a copy of the original (`AveragedModel` deep-copies the student
//! when it is built), so until epoch `sstart` the smoothing term pulls towards the original.
//! The final student is returned.
//!
//! [QUIRK] The intended forget batch size is never applied: forget batches use `batch`.
//! [DEAD] `beta` multiplies the "kd" extra-distillation term, which is zero.
//! §5 states no learning-rate schedule and no checkpoint selection for v1, so neither is
//! applied ([AMBIGUOUS]: the upstream SCRUB code this derives from decays the lr at fixed
//! epochs; the catalogue has no fields for it). The smoothing term is added to both passes as
//! in the upstream `train_distill`.

use tch::Tensor;

use super::losses::kl_batchmean;
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::models::Model;
use crate::torch::optim::{Masks, Optimizer};

/// A running average of a model's flat parameters, with views shaped like its parameters.
pub(crate) struct Average {
    flat: Tensor,
    views: Vec<Tensor>,
    /// How many updates so far.
    n: i64,
}

impl Average {
    /// Starts as a copy of `model`'s parameters, with no update counted.
    pub(crate) fn new(model: &Model) -> Average {
        let flat = model.flat().detach().copy();
        let mut offset = 0;
        let views = model
            .params()
            .iter()
            .map(|p| {
                let n = p.numel() as i64;
                let v = flat.narrow(0, offset, n).view(p.size().as_slice());
                offset += n;
                v
            })
            .collect();
        Average { flat, views, n: 0 }
    }

    /// `AveragedModel.update_parameters`: a copy on the first update, then the running mean.
    pub(crate) fn update(&mut self, model: &Model) {
        tch::no_grad(|| {
            if self.n == 0 {
                self.flat.copy_(model.flat());
            } else {
                let step = (model.flat() - &self.flat) / (self.n + 1) as f64;
                let _ = self.flat.g_add_(&step);
            }
        });
        self.n += 1;
    }

    /// Σ over parameters of ‖θ − θ_avg‖ (Frobenius), differentiable in `model`'s parameters.
    pub(crate) fn distance(&self, model: &Model) -> Tensor {
        let norms: Vec<Tensor> = model.params().iter().zip(&self.views).map(|(p, a)| (p - a).norm()).collect();
        Tensor::stack(&norms, 0).sum(tch::Kind::Float)
    }
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch, t) = (ctx.epochs()?, ctx.batch()?, ctx.float("kd_t")?);
    let (gamma, alpha, smoothing) = (ctx.float("gamma")?, ctx.float("alpha")?, ctx.float("smoothing")?);
    let (msteps, sstart) = (ctx.count("msteps")? as usize, ctx.count("sstart")? as usize);
    let teacher = ctx.teacher()?;
    let target = |x: &Tensor| tch::no_grad(|| teacher.forward(x, false));
    let kl_t = |x: &Tensor, z: &Tensor| kl_batchmean(&target(x), z, t) * (t * t);
    let mut opt = Optimizer::adam(ctx.float("lr")?, ctx.float("weight_decay")?);
    let mut average = Average::new(&ctx.model);
    let phases = epochs + msteps.min(epochs);
    let mut phase = 0;
    for e in 1..=epochs {
        if e <= msteps {
            let pass = ctx.forget();
            let m = &ctx.model;
            let losses = steps(m, &mut opt, Masks::default(), ctx.res, &pass, batch, |x, _| {
                -kl_t(x, &m.forward(x, true)) + average.distance(m) * smoothing
            });
            ctx.epoch_done(phase, phases, losses)?;
            phase += 1;
        }
        let pass = ctx.retain();
        let m = &ctx.model;
        let losses = steps(m, &mut opt, Masks::default(), ctx.res, &pass, batch, |x, y| {
            let z = m.forward(x, true);
            z.cross_entropy_for_logits(y) * gamma + kl_t(x, &z) * alpha + average.distance(m) * smoothing
        });
        ctx.epoch_done(phase, phases, losses)?;
        phase += 1;
        if e >= sstart {
            average.update(&ctx.model);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::torch::methods::tests::fixture;

    #[test]
    fn average_starts_at_the_model_then_copies_then_averages() {
        let f = fixture();
        let m = f.model.duplicate().unwrap();
        let mut avg = Average::new(&m);
        let d = avg.distance(&m);
        assert_eq!(d.double_value(&[]), 0.0);
        // The norm's gradient at zero distance is zero, not NaN.
        let g = Tensor::run_backward(&[d], m.params(), false, false);
        assert!(g.iter().all(|g| !g.defined() || g.abs().max().double_value(&[]) == 0.0));
        let original = m.flat().copy();
        let _ = tch::no_grad(|| m.flat().shallow_clone().g_add_scalar_(1.0));
        avg.update(&m); // first update: a copy (θ + 1)
        assert!(avg.flat.allclose(&(&original + 1.0), 1e-6, 1e-6, false));
        let _ = tch::no_grad(|| m.flat().shallow_clone().g_add_scalar_(2.0));
        avg.update(&m); // mean of θ + 1 and θ + 3
        assert!(avg.flat.allclose(&(&original + 2.0), 1e-5, 1e-5, false));
        let n = m.parameter_count() as f64;
        // Each view is its parameter's piece: distance = Σ_params √(numel)·1.
        let want: f64 = m.params().iter().map(|p| (p.numel() as f64).sqrt()).sum();
        assert!((avg.distance(&m).double_value(&[]) - want).abs() < 1e-3 * n.sqrt());
    }
}
