//! FF (unlearners.md §3.8): Fisher forgetting, model in eval mode.
//!
//! 1. Diagonal Fisher estimate A over the retain set in index order (batches of `batch`): per
//!    batch one forward, p = softmax(logits) detached; for every class c, loss_c = mean CE of the
//!    batch against label c, one backward (keeping the graph), A += mean_b(p_{b,c})·grad². Then
//!    A /= #batches. C backward passes per batch.
//! 2. Noise per parameter tensor (`variance`): v = min(1/(A + 1e-8), 1000), min(v, 100) if its
//!    first dimension is C; v = alpha·v; for ≥ 2-D tensors v becomes its mean over dimension 1;
//!    v = 10·v if the first dimension is C or the tensor is 1-D; θ = θ₀ + √v ⊙ ε, ε ~ N(0, 1).
//!    BatchNorm running statistics stay.
//!
//! The reference crashes on TinyViT [QUIRK], so `vit11m` is refused.

use tch::{Kind, Tensor};

use super::influence::flat_grad;
use super::reinit::normal;
use super::Ctx;
use crate::artifact::NodeFailure;
use crate::torch::train::EpochLosses;

/// The noise variance of a parameter tensor from its Fisher estimate `a`.
pub(crate) fn variance(a: &Tensor, classes: i64, alpha: f64) -> Tensor {
    let size = a.size();
    let by_class = size[0] == classes;
    let v = (a + 1e-8).reciprocal().clamp_max(1000.0);
    let v = if by_class { v.clamp_max(100.0) } else { v } * alpha;
    let v = if size.len() >= 2 {
        v.mean_dim([1i64].as_slice(), true, Kind::Float).expand(size.as_slice(), false)
    } else {
        v
    };
    if by_class || size.len() == 1 {
        v * 10.0
    } else {
        v
    }
}

/// The diagonal Fisher estimate, flat; and the per-batch mean CE against the true labels.
fn fisher_diagonal(ctx: &Ctx<'_>, batch: i64) -> (Tensor, EpochLosses) {
    let (m, res) = (&ctx.model, ctx.res);
    let pass = res.ordered(&ctx.split.retain);
    let (mut a, mut losses) = (m.flat().zeros_like(), EpochLosses::default());
    for b in 0..pass.batches(batch) {
        let (x, y) = res.batch(&pass, b, batch);
        let logits = m.forward(&x, false);
        let p = logits.detach().softmax(-1, Kind::Float);
        losses.push(&tch::no_grad(|| logits.cross_entropy_for_logits(&y)), y.size()[0]);
        for c in 0..ctx.classes {
            let loss = logits.cross_entropy_for_logits(&y.full_like(c));
            let g = flat_grad(m, &Tensor::run_backward(&[&loss], m.params(), true, false));
            a += p.select(1, c).mean(Kind::Float) * g.square();
        }
    }
    (a / pass.batches(batch).max(1) as f64, losses)
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    ctx.refuse_vit("its attention biases get no gradient in eval mode and the reference dereferences it")?;
    let (batch, alpha) = (ctx.batch()?, ctx.float("alpha")?);
    let (a, losses) = fisher_diagonal(ctx, batch);
    let names: Vec<String> = ctx.model.names_in_model_order().into_iter().map(str::to_string).collect();
    let mut offsets = Vec::with_capacity(names.len());
    let mut offset = 0;
    for p in ctx.model.params() {
        offsets.push(offset);
        offset += p.numel() as i64;
    }
    for name in names {
        let i = ctx.model.param_names().iter().position(|n| *n == name).expect("listed parameter");
        let p = ctx.model.params()[i].shallow_clone();
        let v = variance(&a.narrow(0, offsets[i], p.numel() as i64).view(p.size().as_slice()), ctx.classes, alpha);
        let eps = ctx.seeded(|| normal(&p, 1.0));
        tch::no_grad(|| {
            let _ = p.shallow_clone().g_add_(&(v.sqrt() * eps));
        });
    }
    // The one phase's loss: the retain CE before the noise.
    ctx.epoch_done(0, 1, losses)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_clamps_averages_and_scales_as_stated() {
        let c = 4;
        // A classifier weight [C, 2]: clamp at 100, ×alpha, mean over dim 1, ×10.
        let a = Tensor::from_slice(&[0.0f32, 1.0, 0.5, 0.25, 1e-9, 1e-9, 2.0, 2.0]).view([c, 2]);
        let v = Vec::<f32>::try_from(variance(&a, c, 0.5).reshape([-1])).unwrap();
        let row = |x: f32, y: f32| 10.0 * 0.5 * (x + y) / 2.0;
        let want = [row(100.0, 1.0), row(2.0, 4.0), row(100.0, 100.0), row(0.5, 0.5)];
        for (r, w) in want.iter().enumerate() {
            assert!((v[2 * r] - w).abs() < 1e-3 && (v[2 * r + 1] - w).abs() < 1e-3, "{v:?}");
        }
        // A conv-like [3, 2] weight: clamp at 1000, no ×10. A 1-D bias of another length: ×10.
        let w = variance(&Tensor::from_slice(&[0.0f32, 0.0, 1.0, 1.0, 0.5, 0.5]).view([3, 2]), c, 1.0);
        assert!((w.double_value(&[0, 0]) - 1000.0).abs() < 1e-3 && (w.double_value(&[1, 1]) - 1.0).abs() < 1e-6);
        let b = variance(&Tensor::from_slice(&[0.5f32, 0.5, 0.5]), c, 1.0);
        assert!((b.double_value(&[0]) - 20.0).abs() < 1e-4);
    }
}
