//! CF-k (unlearners.md §3.10): freeze everything but the last `num_blocks` blocks and the
//! classifier (models.md §4), then fine-tune on the shuffled retain set with
//! `CE + (λ/2)·Σ_trainable ‖θ − θ_start‖²` (λ = `l2`), SGD without momentum or weight decay,
//! lr = `lr`·`decay_rate`^n(e) with n(e) = #{d ∈ [⌊0.5E⌋, ⌊0.8E⌋, ⌊0.9E⌋] : e > d}.
//! The model stays in eval mode throughout [QUIRK]: BatchNorm normalises with the original
//! running statistics and never updates them.

use tch::{Kind, Tensor};

use super::select::{last_blocks_and_classifier, under};
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::optim::{Masks, Optimizer};

/// `lr₀·r^n(e)`: the step decay CF-k, EU-k and SCRUB share (e 0-based here).
pub(crate) fn step_decay(lr0: f64, rate: f64, epochs: usize, e: usize) -> f64 {
    let marks = [epochs / 2, epochs * 8 / 10, epochs * 9 / 10];
    lr0 * rate.powi(marks.iter().filter(|&&d| e > d).count() as i32)
}

/// The fine-tuning shared by CF-k and EU-k, on the parameters under `prefixes`; `augment`
/// selects augmented retain images (EU-k's AUG_RETAIN profile).
pub(crate) fn finetune_selected(ctx: &mut Ctx<'_>, prefixes: &[&str], augment: bool) -> Result<(), NodeFailure> {
    let (epochs, batch) = (ctx.epochs()?, ctx.batch()?);
    let (lr0, rate, l2) = (ctx.float("lr")?, ctx.float("decay_rate")?, ctx.float("l2")?);
    let mut opt = Optimizer::sgd(lr0, 0.0, 0.0);
    let active = ctx.model.flat_select(|n| under(n, prefixes));
    // θ_start of the trainable tensors (the L2 term ignores frozen ones).
    let start: Vec<(Tensor, Tensor)> = ctx
        .model
        .param_names()
        .iter()
        .zip(ctx.model.params())
        .filter(|(n, _)| under(n, prefixes))
        .map(|(_, p)| (p.shallow_clone(), p.detach().copy()))
        .collect();
    for e in 0..epochs {
        opt.set_lr(step_decay(lr0, rate, epochs, e));
        let retain = ctx.split.retain.clone();
        let pass = ctx.shuffled(&retain, augment);
        let m = &ctx.model;
        let masks = Masks { active: Some(&active), ..Masks::default() };
        let losses = steps(m, &mut opt, masks, ctx.res, &pass, batch, |x, y| {
            let ce = m.forward(x, false).cross_entropy_for_logits(y);
            if l2 == 0.0 {
                return ce;
            }
            let drift: Vec<Tensor> = start.iter().map(|(p, s)| (p - s).square().sum(Kind::Float)).collect();
            ce + Tensor::stack(&drift, 0).sum(Kind::Float) * (l2 / 2.0)
        });
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    ctx.refuse_custom(
        "it retrains the last k blocks and the classifier of `resnet18`, `vit11m` or `cnn`, found by their layer names",
    )?;
    let k = ctx.count("num_blocks")? as usize;
    let prefixes = last_blocks_and_classifier(&ctx.model, k);
    finetune_selected(ctx, &prefixes, false)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, run};
    use super::*;
    use crate::ops::Value;

    #[test]
    fn step_decay_marks() {
        let lrs: Vec<f64> = (0..10).map(|e| step_decay(1.0, 0.1, 10, e)).collect();
        assert_eq!(lrs[..6], [1.0; 6]);
        assert!((lrs[6] - 0.1).abs() < 1e-12 && (lrs[8] - 0.1).abs() < 1e-12);
        assert!((lrs[9] - 0.01).abs() < 1e-12);
    }

    #[test]
    fn cf_k_leaves_frozen_layers_bit_identical() {
        let f = fixture();
        let (m, _) =
            run(&f, "cf_k", &[("epochs", Value::Int(2)), ("batch", Value::Int(16)), ("lr", Value::Float(0.05))]);
        for name in ["conv1.weight", "bn1.weight", "conv2.weight", "bn2.bias"] {
            assert!(m.param(name).unwrap().equal(f.model.param(name).unwrap()), "{name} moved");
        }
        for name in ["fc1.weight", "fc2.weight", "fc2.bias"] {
            assert!(!m.param(name).unwrap().equal(f.model.param(name).unwrap()), "{name} did not train");
        }
        // Eval mode throughout: running statistics untouched.
        assert!(m.tensor("bn2.running_mean").unwrap().equal(f.model.tensor("bn2.running_mean").unwrap()));
    }
}
