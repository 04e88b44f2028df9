//! CFW (unlearners.md §3.14, Kaggle 3rd): "confuse" the weights of the direct children whose
//! attribute name contains `conv` with Gaussian noise of std `start_std`, then fine-tune on the
//! shuffled retain set in train mode with the batch-mean CE scaled by the batch's mean
//! class weight (scikit-learn's "balanced" rule `n / (C·n_c)` over the retain labels), SGD with
//! cosine(T = epochs). After the pass of epoch E − 2 the weights are confused again with
//! `final_std`. Only ResNet-18's stem `conv1` qualifies; on TinyViT nothing does [QUIRK]
//! (munl's `cnn`: `conv1` and `conv2`). The reference's `class_weight` field is unused.

use tch::Kind;

use super::losses::class_weights;
use super::reinit::normal;
use super::select::direct_conv_children;
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::optim::{Masks, Schedule};

/// Adds `N(0, std²)` noise to every confusable conv weight.
pub(crate) fn confuse(ctx: &Ctx<'_>, std: f64) {
    for name in direct_conv_children(&ctx.model) {
        let p = ctx.model.param(&name).expect("listed parameter");
        let noise = ctx.seeded(|| normal(p, std));
        tch::no_grad(|| {
            let _ = p.shallow_clone().g_add_(&noise);
        });
    }
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch) = (ctx.epochs()?, ctx.batch()?);
    let (start_std, final_std) = (ctx.float("start_std")?, ctx.float("final_std")?);
    confuse(ctx, start_std);
    let n = ctx.split.retain.len() as f64;
    let c = ctx.classes as f64;
    let weights = class_weights(ctx.res, &ctx.split.retain, ctx.classes, |n_c| n / (c * n_c));
    let mut opt = ctx.sgd("")?;
    let (lr0, sched) = (opt.lr(), Schedule::Cosine { t_max: epochs, eta_min: 0.0 });
    for e in 0..epochs {
        opt.set_lr(sched.lr(lr0, e));
        let pass = ctx.retain();
        let m = &ctx.model;
        let losses = steps(m, &mut opt, Masks::default(), ctx.res, &pass, batch, |x, y| {
            m.forward(x, true).cross_entropy_for_logits(y) * weights.index_select(0, y).mean(Kind::Float)
        });
        if e + 2 == epochs {
            confuse(ctx, final_std);
        }
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, params};
    use super::*;

    #[test]
    fn confusion_touches_only_direct_conv_children() {
        let f = fixture();
        let p = params(&[]);
        let c = super::super::tests::ctx(&f, "cfw", &p);
        confuse(&c, 0.5);
        for name in c.model.names_in_model_order() {
            let same = c.model.param(name).unwrap().equal(f.model.param(name).unwrap());
            assert_eq!(same, !(name == "conv1.weight" || name == "conv2.weight"), "{name}");
        }
    }
}
