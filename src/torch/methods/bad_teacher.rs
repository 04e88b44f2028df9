//! BT (unlearners.md §3.5): distillation from two teachers over retain ∪ forget (shuffled,
//! with an origin flag). Forget samples take the incompetent teacher's softmax_T as target,
//! retain samples the competent one's (a frozen copy of the original); the student (train
//! mode) minimises KL with PyTorch's element-wise mean (÷ B·C, no T² [QUIRK]) under Adam.
//!
//! The incompetent teacher is a ResNet-18 with C outputs whatever the student is, created right
//! after seeding with 123: here torchvision's initialisation for seed 123.

use tch::Tensor;

use super::losses::{kl_elementwise_mean, softmax_t};
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::models::{init::init, Model};
use crate::torch::optim::{Masks, Optimizer};

/// The incompetent teacher's initialisation seed.
const INCOMPETENT_SEED: u64 = 123;

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch, t) = (ctx.epochs()?, ctx.batch()?, ctx.float("kl_temperature")?);
    let competent = ctx.teacher()?;
    let incompetent = Model::from_state_dict(init("resnet18", 32, ctx.classes, INCOMPETENT_SEED)?, ctx.res.device)?;
    let mut opt = Optimizer::adam(ctx.float("lr")?, ctx.float("weight_decay")?);
    let all: Vec<i64> = ctx.split.retain.iter().chain(&ctx.split.forget).copied().collect();
    let is_forget = ctx.forget_flags();
    for e in 0..epochs {
        let pass = ctx.shuffled(&all, false);
        let (m, res) = (&ctx.model, ctx.res);
        let mut b = 0;
        let losses = steps(m, &mut opt, Masks::default(), res, &pass, batch, |x, _y| {
            let forget = is_forget.index_select(0, &res.batch_indices(&pass, b, batch)).unsqueeze(1);
            b += 1;
            let target: Tensor = tch::no_grad(|| {
                let good = softmax_t(&competent.forward(x, false), t);
                let bad = softmax_t(&incompetent.forward(x, false), t);
                bad.where_self(&forget, &good)
            });
            kl_elementwise_mean(&target, &m.forward(x, true), t)
        });
        ctx.epoch_done(e, epochs, losses)?;
    }
    Ok(())
}
