//! IU (unlearners.md §3.9): influence unlearning with a WoodFisher inverse-Fisher–vector
//! product, model in eval mode, θ the concatenation of all trainable parameters.
//!
//! 1. g_F = Σ over forget batches (index order, `batch`) of batch-mean ∇CE × batch length (the
//!    sum of per-sample gradients), g_R likewise over retain; n_F, n_R the set sizes.
//! 2. v = g_F/(n_F + n_R) − g_R·n_F/((n_F + n_R)·n_R).
//! 3. WoodFisher (N = 1000) over single retain samples in index order: the first sample only
//!    sets o = g₀ (k = v); each following one with gradient g: τ = o·g;
//!    k ← k − ((k·g)/(N + τ))·o; o ← o − (τ/(N + τ))·o; 1 002 samples in all (fewer if the
//!    retain set is smaller).
//! 4. θ ← θ + alpha·k.
//!
//! The per-sample gradients are one backward pass each (1 002 passes): quick on the cnn,
//! acceptable on a GPU for ResNet-18. All vectors stay flat on the device; no host reads.
//! `epochs` is [DEAD]. The reference crashes on TinyViT [QUIRK], so `vit11m` is refused.

use tch::{Kind, Tensor};

use super::Ctx;
use crate::artifact::NodeFailure;
use crate::torch::data::resident::Resident;
use crate::torch::models::Model;
use crate::torch::train::EpochLosses;

/// WoodFisher's dampening N.
const DAMPING: f64 = 1000.0;

/// Samples of the WoodFisher loop (indices 0 … 1001).
const SAMPLES: usize = 1002;

/// The gradients of one backward pass as one flat vector in `params()` order (an unused
/// parameter contributes zeros).
pub(super) fn flat_grad(model: &Model, grads: &[Tensor]) -> Tensor {
    let pieces: Vec<Tensor> = model
        .params()
        .iter()
        .zip(grads)
        .map(|(p, g)| if g.defined() { g.reshape([-1]) } else { p.zeros_like().reshape([-1]) })
        .collect();
    Tensor::cat(&pieces, 0)
}

/// The flat gradient of `loss` with respect to every parameter.
fn gradient(model: &Model, loss: &Tensor) -> Tensor {
    flat_grad(model, &Tensor::run_backward(&[loss], model.params(), false, false))
}

/// Σ over `indices` (index order, batches of `batch`) of batch-mean ∇CE × batch length, and
/// the batch losses.
fn summed_gradient(model: &Model, res: &Resident, indices: &[i64], batch: i64) -> (Tensor, EpochLosses) {
    let pass = res.ordered(indices);
    let (mut sum, mut losses) = (model.flat().zeros_like(), EpochLosses::default());
    for b in 0..pass.batches(batch) {
        let (x, y) = res.batch(&pass, b, batch);
        let loss = model.forward(&x, false).cross_entropy_for_logits(&y);
        sum += gradient(model, &loss) * y.size()[0] as f64;
        losses.push(&loss, y.size()[0]);
    }
    (sum, losses)
}

/// The WoodFisher recursion applied to `v` over the per-sample gradients `grads` (the first one
/// only initialises o).
pub(crate) fn woodfisher(v: &Tensor, mut grads: impl Iterator<Item = Tensor>) -> Tensor {
    let mut k = v.copy();
    let Some(mut o) = grads.next() else { return k };
    for g in grads {
        let tau = o.dot(&g);
        let denom = &tau + DAMPING;
        k -= &o * (k.dot(&g) / &denom);
        o = &o - &o * (tau / denom);
    }
    k
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    ctx.refuse_vit("its attention biases get no gradient in eval mode, so the gradient vector is shorter than θ")?;
    let (batch, alpha) = (ctx.batch()?, ctx.float("alpha")?);
    let (m, res, split) = (&ctx.model, ctx.res, ctx.split);
    let (n_f, n_r) = (split.forget.len() as f64, split.retain.len() as f64);
    let (g_f, _) = summed_gradient(m, res, &split.forget, batch);
    let (g_r, retain_losses) = summed_gradient(m, res, &split.retain, batch);
    let v = g_f / (n_f + n_r) - g_r * (n_f / ((n_f + n_r) * n_r.max(1.0)));
    let first = &split.retain[..SAMPLES.min(split.retain.len())];
    let pass = res.ordered(first);
    let per_sample = (0..pass.len()).map(|i| {
        let (x, y) = res.batch(&pass, i, 1);
        gradient(m, &m.forward(&x, false).cross_entropy_for_logits(&y))
    });
    let k = woodfisher(&v, per_sample);
    tch::no_grad(|| {
        let _ = m.flat().shallow_clone().g_add_(&(k * alpha).to_kind(Kind::Float));
    });
    // The one phase's loss: the retain CE before the update.
    ctx.epoch_done(0, 1, retain_losses)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn woodfisher_matches_the_recursion_on_the_host() {
        let g: Vec<[f64; 3]> = vec![[1.0, 2.0, 0.5], [0.3, -1.0, 4.0], [2.0, 0.0, -3.0], [-1.5, 1.0, 1.0]];
        let v = [0.2, -0.4, 1.0];
        let dot = |a: &[f64; 3], b: &[f64; 3]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let (mut k, mut o) = (v, g[0]);
        for gt in &g[1..] {
            let tau = dot(&o, gt);
            let c = dot(&k, gt) / (DAMPING + tau);
            k = [k[0] - c * o[0], k[1] - c * o[1], k[2] - c * o[2]];
            let s = tau / (DAMPING + tau);
            o = [o[0] - s * o[0], o[1] - s * o[1], o[2] - s * o[2]];
        }
        let t = |a: &[f64; 3]| Tensor::from_slice(a);
        let got = woodfisher(&t(&v), g.iter().map(t));
        assert!((got - t(&k)).abs().max().double_value(&[]) < 1e-12);
    }
}
