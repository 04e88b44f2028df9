//! CT (unlearners.md §3.16, Kaggle 5th): replace every Conv2d weight by its spatial transpose
//! (`W'[o, i, a, b] = W[o, i, b, a]`; 1×1 kernels unchanged), then fine-tune on the shuffled
//! retain set with CE in train mode, SGD with cosine(T = epochs).

use super::reinit::assign;
use super::select::is_conv_weight;
use super::{finetune, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::models::Model;

/// Transposes every conv kernel spatially, in place.
pub(crate) fn transpose_convs(model: &Model) {
    for (name, p) in model.param_names().iter().zip(model.params()) {
        if is_conv_weight(name, p) {
            assign(p, &p.detach().transpose(2, 3).contiguous());
        }
    }
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    transpose_convs(&ctx.model);
    finetune::run(ctx)
}
