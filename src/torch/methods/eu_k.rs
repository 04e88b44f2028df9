//! EU-k (unlearners.md §3.11): CF-k after re-initialising the selected last `num_blocks`
//! blocks and the classifier with EU-k's own rule (models.md §4: Conv2d Kaiming-uniform
//! fan-out, BatchNorm 1/0 with running statistics kept, Linear Xavier-uniform with zero bias);
//! θ_start of the L2 term is the re-initialised values, and the retain images are augmented
//! (profile AUG_RETAIN). Still eval mode [QUIRK]: the re-initialised BatchNorms normalise with
//! the original running statistics. `training_epoch_factor` has no effect ([DEAD]).

use super::cf_k::finetune_selected;
use super::reinit;
use super::select::last_blocks_and_classifier;
use super::Ctx;
use crate::artifact::NodeFailure;

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    ctx.refuse_custom(
        "it re-initialises and retrains the last k blocks and the classifier of `resnet18`, `vit11m` or `cnn`, \
         found by their layer names",
    )?;
    let k = ctx.count("num_blocks")? as usize;
    let prefixes = last_blocks_and_classifier(&ctx.model, k);
    ctx.seeded(|| reinit::eu_k(&ctx.model, &prefixes));
    finetune_selected(ctx, &prefixes, true)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, params};
    use super::*;
    use crate::ops::Value;

    #[test]
    fn eu_k_reinitialises_exactly_the_selected_blocks() {
        let f = fixture();
        // Zero epochs are not allowed, so check the state right after the re-initialisation.
        let p = params(&[("num_blocks", Value::Int(1))]);
        let c = super::super::tests::ctx(&f, "eu_k", &p);
        let prefixes = last_blocks_and_classifier(&c.model, 1);
        c.seeded(|| reinit::eu_k(&c.model, &prefixes));
        let model = &c.model;
        for name in model.names_in_model_order() {
            let same = model.param(name).unwrap().equal(f.model.param(name).unwrap());
            assert_eq!(same, !name.starts_with("fc"), "{name}");
        }
    }
}
