//! SalUn (unlearners.md §3.6): a saliency mask, then SRL epochs that update through it.
//!
//! SGD(lr, momentum, weight_decay) is created first. Step 1 works on an eval-mode copy of the
//! model: for each batch of the shuffled forget set, backpropagate −CE and add every
//! parameter's current gradient into a running sum; take absolute values, rank all N entries
//! globally by decreasing magnitude and keep the `int(threshold·N)` largest (mask 1, else 0).
//! Parameters without a gradient (TinyViT attention biases in eval mode) contribute zeros.
//! Step 2 runs, per epoch, the SRL epoch of §3.3 (relabelled forget ∪ retain, shuffled, train
//! mode, CE) with each gradient multiplied by the mask before the SGD step; weight decay and
//! momentum still act on every entry.
//!
//! [QUIRK] The reference resets the original model's gradients inside the mask loop, not the
//! copy's, so the copy's gradients accumulate and the running sum is Σ_k (K − k + 1)·g_k
//! (earlier batches weigh more). `faithful = false` sums Σ_k g_k instead.
//! [DEAD] The mask-optimiser fields are read by nobody.
//!
//! Ties in the ranking are broken by a stable sort (lowest flat index first); the reference's
//! `argsort` leaves them unspecified.

use tch::{Kind, Tensor};

use super::successive_random_labels::relabelled_pass;
use super::{ce_epochs, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::data::resident::Pass;
use crate::torch::models::Model;
use crate::torch::optim::Masks;

/// The saliency sum over the forget batches of `pass`, flat (the model's layout): the running
/// sum of the accumulated gradients when `faithful`, else the plain sum of the gradients.
pub(crate) fn saliency(copy: &Model, ctx: &Ctx<'_>, pass: &Pass, batch: i64, faithful: bool) -> Tensor {
    let mut sum = copy.flat().zeros_like();
    let mut accumulated = copy.flat().zeros_like();
    for b in 0..pass.batches(batch) {
        let (x, y) = ctx.res.batch(pass, b, batch);
        let loss = -copy.forward(&x, false).cross_entropy_for_logits(&y);
        let grads = Tensor::run_backward(&[&loss], copy.params(), false, false);
        let g = tch::no_grad(|| {
            let pieces: Vec<Tensor> = copy
                .params()
                .iter()
                .zip(&grads)
                .map(|(p, g)| if g.defined() { g.view(-1) } else { p.zeros_like().view(-1) })
                .collect();
            Tensor::cat(&pieces, 0)
        });
        if faithful {
            accumulated += &g;
            sum += &accumulated;
        } else {
            sum += &g;
        }
    }
    sum
}

/// The 0/1 mask keeping the `int(threshold·N)` entries of largest magnitude.
pub(crate) fn top_mask(saliency: &Tensor, threshold: f64) -> Tensor {
    let n = saliency.numel();
    let keep = (threshold * n as f64) as i64;
    let order = saliency.abs().argsort_stable(true, 0, true);
    let mask = saliency.zeros_like().to_kind(Kind::Float);
    mask.index_fill(0, &order.narrow(0, 0, keep.clamp(0, n as i64)), 1.0)
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (batch, threshold) = (ctx.batch()?, ctx.float("threshold")?);
    let faithful = ctx.flag("faithful")?;
    let mut opt = ctx.sgd("")?;
    let mask = {
        let copy = ctx.model.duplicate()?;
        let pass = ctx.forget();
        top_mask(&saliency(&copy, ctx, &pass, batch, faithful), threshold)
    };
    let lr = opt.lr();
    ce_epochs(ctx, &mut opt, Masks { grad: Some(&mask), active: None }, |_| lr, relabelled_pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Value;
    use crate::torch::methods::tests::{ctx, fixture, param_diff, params, run as run_op};

    #[test]
    fn mask_keeps_exactly_int_threshold_n_largest_entries() {
        let f = fixture();
        let p = params(&[]);
        let c = ctx(&f, "salun", &p);
        let pass = c.res.ordered(&c.split.forget);
        let weighted = saliency(&c.model, &c, &pass, 5, true);
        let plain = saliency(&c.model, &c, &pass, 5, false);
        // 12 forget samples in batches of 5: K = 3, so the faithful sum is 3·g1 + 2·g2 + g3.
        let g: Vec<Tensor> = (0..3)
            .map(|b| saliency(&c.model, &c, &c.res.ordered(&c.split.forget[b * 5..(b * 5 + 5).min(12)]), 5, false))
            .collect();
        assert!(weighted.allclose(&(&g[0] * 3 + &g[1] * 2 + &g[2]), 1e-4, 1e-5, false));
        assert!(plain.allclose(&(&g[0] + &g[1] + &g[2]), 1e-4, 1e-5, false));
        let n = weighted.numel() as i64;
        let mask = top_mask(&weighted, 0.3);
        let keep = (0.3 * n as f64) as i64;
        assert_eq!(mask.sum(Kind::Int64).int64_value(&[]), keep);
        let kept_min = weighted.abs().masked_select(&mask.gt(0.5)).min().double_value(&[]);
        let dropped_max = weighted.abs().masked_select(&mask.lt(0.5)).max().double_value(&[]);
        assert!(kept_min >= dropped_max);
    }

    #[test]
    fn masked_out_entries_move_only_by_weight_decay_and_momentum() {
        // With momentum and weight decay 0, a zero threshold freezes every parameter.
        let f = fixture();
        let (m, _) = run_op(
            &f,
            "salun",
            &[("epochs", Value::Int(1)), ("batch", Value::Int(16)), ("threshold", Value::Float(0.0))],
        );
        assert_eq!(param_diff(&m, &f.model, "fc2.weight"), 0.0);
        let (m, _) = run_op(
            &f,
            "salun",
            &[("epochs", Value::Int(1)), ("batch", Value::Int(16)), ("threshold", Value::Float(1.0))],
        );
        assert!(param_diff(&m, &f.model, "fc2.weight") > 0.0);
    }
}
