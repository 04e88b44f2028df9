//! SRL (unlearners.md §3.3): each epoch, a relabelled view of the forget set (uniform random
//! labels, possibly the true one, from NumPy `RandomState(123)` created afresh for the epoch and
//! consumed in fetch order) concatenated before the retain set, shuffled, CE steps in train mode.
//! SGD is created once; the reference's cosine scheduler is never stepped [QUIRK], so the
//! learning rate stays constant.

use super::{ce_epochs, Ctx};
use crate::artifact::NodeFailure;
use crate::stats::mt19937::Mt19937;
use crate::stats::shuffle::Shuffle;
use crate::torch::data::resident::Pass;
use crate::torch::optim::Masks;

/// The seed of the relabelling generator, re-created every epoch.
const RELABEL_SEED: u32 = 123;

/// One epoch's pass over `[relabelled forget, retain]`: the order from the method's data
/// generator, then forget samples relabelled in the order they are fetched.
pub(crate) fn relabelled_pass(ctx: &mut Ctx<'_>) -> Pass {
    let forget = &ctx.split.forget;
    let all: Vec<i64> = forget.iter().chain(&ctx.split.retain).copied().collect();
    let order = ctx.rng.permutation(all.len());
    let mut relabel = Mt19937::new(RELABEL_SEED);
    let top = ctx.classes as u64 - 1;
    // `randint(0, C)` of the legacy generator: a masked 32-bit draw per label.
    let labels: Vec<i64> =
        order.iter().map(|&p| if p < forget.len() { relabel.interval(top) as i64 } else { -1 }).collect();
    let indices: Vec<i64> = order.iter().map(|&p| all[p]).collect();
    ctx.res.ordered_with_labels(&indices, &labels)
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let mut opt = ctx.sgd("")?;
    let lr = opt.lr();
    ce_epochs(ctx, &mut opt, Masks::default(), |_| lr, relabelled_pass)
}
