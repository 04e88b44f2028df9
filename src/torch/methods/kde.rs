//! KDE (unlearners.md §3.17, Kaggle layer-reset + distillation): the teacher is a frozen copy
//! of the original (eval mode). Reset `conv1` and the classifier with PyTorch's default
//! `reset_parameters()`; warm up for `epochs` epochs on the validation set (ordered, batches of
//! `batch`, train mode) with SGD(lr, momentum, weight_decay) minimising
//! KL(softmax_T(teacher) ‖ softmax_T(student)), batchmean, no T²; then a new
//! SGD(retain_lr, retain_momentum, retain_weight_decay) with cosine(T = retain_epochs) for
//! `retain_epochs` epochs over the shuffled retain set, minimising soft-CE + CE + KL_T
//! (batchmean). The model ends in eval mode (mode is chosen per forward here, so nothing to do).
//!
//! [QUIRK] TinyViT has no `conv1` attribute: only its `head` is reset. (The cnn resets its
//! `conv1` and `fc2`.)

use tch::Tensor;

use super::losses::{kl_batchmean, soft_ce};
use super::reinit::reset_parameters;
use super::select::classifier;
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::models::Model;
use crate::torch::optim::{Masks, Schedule};

/// Resets `conv1` (where the model has one) and the classifier; draws from libtorch's
/// generator (callers seed it).
pub(crate) fn reset(model: &Model) {
    reset_parameters(model, "conv1.");
    reset_parameters(model, classifier(model));
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    ctx.refuse_custom(
        "it resets `conv1` and the classifier of `resnet18`, `vit11m` or `cnn`, found by their layer names",
    )?;
    let (epochs, batch, t) = (ctx.epochs()?, ctx.batch()?, ctx.float("temperature")?);
    let retain_epochs = ctx.count("retain_epochs")? as usize;
    let total = epochs + retain_epochs;
    let teacher = ctx.teacher()?;
    let target = |x: &Tensor| tch::no_grad(|| teacher.forward(x, false));
    ctx.seeded(|| reset(&ctx.model));

    let mut opt = ctx.sgd("")?;
    let val = ctx.res.ordered(&ctx.split.val);
    for e in 0..epochs {
        let m = &ctx.model;
        let losses = steps(m, &mut opt, Masks::default(), ctx.res, &val, batch, |x, _| {
            kl_batchmean(&target(x), &m.forward(x, true), t)
        });
        ctx.epoch_done(e, total, losses)?;
    }

    let mut opt = ctx.sgd("retain_")?;
    let (lr0, sched) = (opt.lr(), Schedule::Cosine { t_max: retain_epochs, eta_min: 0.0 });
    for e in 0..retain_epochs {
        opt.set_lr(sched.lr(lr0, e));
        let pass = ctx.retain();
        let m = &ctx.model;
        let losses = steps(m, &mut opt, Masks::default(), ctx.res, &pass, batch, |x, y| {
            let (z_t, z_s) = (target(x), m.forward(x, true));
            soft_ce(&z_t, &z_s, t) + z_s.cross_entropy_for_logits(y) + kl_batchmean(&z_t, &z_s, t)
        });
        ctx.epoch_done(epochs + e, total, losses)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::torch::methods::tests::{fixture, fixture_with, param_diff};
    use crate::torch::models::rng::GLOBAL_RNG;

    /// Not the fixture's init seed 0, whose first draws would reproduce the initial weights.
    fn seeded(seed: i64, draw: impl FnOnce()) {
        let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(seed);
        draw();
    }

    #[test]
    fn reset_touches_conv1_and_the_classifier_only() {
        let f = fixture();
        let m = f.model.duplicate().unwrap();
        seeded(99, || reset(&m));
        for name in m.names_in_model_order() {
            let changed = param_diff(&m, &f.model, name) > 0.0;
            let expected = name.starts_with("conv1.") || name.starts_with("fc2.");
            assert_eq!(changed, expected, "{name}");
        }
        // PyTorch's bound 1/√fan_in.
        let bound = 1.0 / (m.param("fc2.weight").unwrap().size()[1] as f64).sqrt();
        assert!(m.param("fc2.weight").unwrap().abs().max().double_value(&[]) <= bound);
    }

    #[test]
    fn tinyvit_resets_only_its_head() {
        let f = fixture_with("vit11m");
        let m = f.model.duplicate().unwrap();
        seeded(99, || reset(&m));
        for name in m.names_in_model_order() {
            assert_eq!(param_diff(&m, &f.model, name) > 0.0, name.starts_with("head."), "{name}");
        }
    }
}
