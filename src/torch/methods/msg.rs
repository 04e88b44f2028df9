//! MSG (unlearners.md §3.13, Kaggle 2nd): masked small gradients.
//!
//! 1. Gradient collection, no update: G = Σ ∇CE over a random retain subset of size |forget|
//!    (a torch permutation of the retain set, its first |forget| entries, iterated shuffled in
//!    batches of 64) − Σ ∇CE over the shuffled forget set (batches of `batch`): sums of batch-mean
//!    gradients. The forwards run in train mode, so they update BatchNorm running statistics
//!    [QUIRK].
//! 2. Per Conv2d weight (n entries): S = the k = round_half_even(init_rate·n) entries with the
//!    smallest |G|; they get fresh Kaiming-normal (fan-out, ReLU gain) values, the rest keep
//!    theirs. A fixed gradient multiplier, 1 on S and 0.1 on the rest of the conv weights (1 on
//!    every other parameter: Linear layers are untouched), scales the gradient before SGD's weight
//!    decay and momentum act.
//! 3. Fine-tune on the shuffled retain set: CE, train mode, SGD(lr, momentum, weight_decay), with a
//!    triangular lr per epoch (`triangular`).
//!
//! Ties in |G| are broken by `topk`, as any sort would; the reference's tie order is not
//! reproducible anyway.

use std::collections::HashMap;

use tch::{Kind, Tensor};

use super::reinit::kaiming_normal_fan_out;
use super::select::is_conv_weight;
use super::{ce_epochs, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::optim::Masks;

/// The batch size of the retain-subset gradient pass (fixed in the reference).
const SUBSET_BATCH: i64 = 64;

/// The gradient multiplier outside S on conv weights.
const DAMPING: f64 = 0.1;

/// The lr factor of epoch `e` (0-based) of `epochs`: with A = ⌊(E+1)/2⌋, T = E+1, s = e+1,
/// s/A while s ≤ A, else (T − s)/(T − A).
pub(crate) fn triangular(e: usize, epochs: usize) -> f64 {
    // ⌊(E+1)/2⌋ = ⌈E/2⌉.
    let (a, t, s) = (epochs.div_ceil(2), epochs + 1, e + 1);
    if s <= a {
        s as f64 / a as f64
    } else {
        (t - s) as f64 / (t - a) as f64
    }
}

/// Step 1: the per-parameter sums G (train mode, BatchNorm statistics update).
fn collect_gradients(ctx: &mut Ctx<'_>, batch: i64) -> Vec<Tensor> {
    let (n_retain, n_forget) = (ctx.split.retain.len() as i64, ctx.split.forget.len() as i64);
    let device = ctx.res.device;
    let perm = ctx.seeded(|| Tensor::randperm(n_retain, (Kind::Int64, device)));
    let picked =
        Vec::<i64>::try_from(perm.narrow(0, 0, n_forget.min(n_retain)).to_device(tch::Device::Cpu)).unwrap_or_default();
    let subset: Vec<i64> = picked.iter().map(|&i| ctx.split.retain[i as usize]).collect();
    let subset_pass = ctx.shuffled(&subset, false);
    let forget_pass = ctx.forget();
    let m = &ctx.model;
    let mut g: Vec<Tensor> = m.params().iter().map(Tensor::zeros_like).collect();
    for (pass, size, sign) in [(&subset_pass, SUBSET_BATCH, 1.0), (&forget_pass, batch, -1.0)] {
        for b in 0..pass.batches(size) {
            let (x, y) = ctx.res.batch(pass, b, size);
            let loss = m.forward(&x, true).cross_entropy_for_logits(&y) * sign;
            let grads = Tensor::run_backward(&[&loss], m.params(), false, false);
            for (acc, grad) in g.iter_mut().zip(&grads) {
                if grad.defined() {
                    *acc += grad;
                }
            }
        }
    }
    g
}

/// Step 2: re-initialises, per conv weight, the round_half_even(rate·n) entries of smallest |G|
/// (`g` in `params()` order) and returns the flat gradient multiplier.
pub(crate) fn mask_small_gradients(ctx: &mut Ctx<'_>, g: &[Tensor], rate: f64) -> Tensor {
    let mut multipliers: HashMap<String, Tensor> = HashMap::new();
    let names: Vec<String> = ctx.model.names_in_model_order().into_iter().map(str::to_string).collect();
    for name in names {
        let i = ctx.model.param_names().iter().position(|n| *n == name).expect("listed parameter");
        let w = ctx.model.params()[i].shallow_clone();
        if !is_conv_weight(&name, &w) {
            continue;
        }
        let n = w.numel() as f64;
        let k = (rate * n).round_ties_even() as i64;
        let (_, small) = g[i].abs().reshape([-1]).topk(k, 0, false, false);
        let fresh = ctx.seeded(|| kaiming_normal_fan_out(&w));
        tch::no_grad(|| {
            let mut flat = w.view([-1]);
            let _ = flat.index_copy_(0, &small, &fresh.reshape([-1]).index_select(0, &small));
        });
        let mult = Tensor::full([w.numel() as i64], DAMPING, (Kind::Float, w.device())).index_fill(0, &small, 1.0);
        multipliers.insert(name, mult.view(w.size().as_slice()));
    }
    let device = ctx.model.flat().device();
    ctx.model.flat_map(|name, _| multipliers.remove(name).unwrap_or_else(|| Tensor::from(1f32).to_device(device)))
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch, rate) = (ctx.epochs()?, ctx.batch()?, ctx.float("init_rate")?);
    let g = collect_gradients(ctx, batch);
    let multiplier = mask_small_gradients(ctx, &g, rate);
    drop(g);
    let mut opt = ctx.sgd("")?;
    let lr0 = opt.lr();
    let masks = Masks { grad: Some(&multiplier), active: None };
    ce_epochs(ctx, &mut opt, masks, |e| lr0 * triangular(e, epochs), Ctx::retain)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, fixture, params};
    use super::*;

    #[test]
    fn triangular_lr_of_five_epochs() {
        let f: Vec<f64> = (0..5).map(|e| triangular(e, 5)).collect();
        let want = [1.0 / 3.0, 2.0 / 3.0, 1.0, 2.0 / 3.0, 1.0 / 3.0];
        assert!(f.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{f:?}");
    }

    #[test]
    fn reinitialises_round_rate_n_smallest_gradient_entries_and_damps_the_rest() {
        let f = fixture();
        let p = params(&[]);
        let mut c = ctx(&f, "msg", &p);
        // G = the weights themselves: S is then the entries of smallest |w|.
        let g: Vec<Tensor> = c.model.params().iter().map(|t| t.detach().copy()).collect();
        let rate = 0.3;
        let mult = mask_small_gradients(&mut c, &g, rate);
        let mut offset = 0;
        for (name, p) in c.model.param_names().iter().zip(c.model.params()) {
            let n = p.numel() as i64;
            let m = mult.narrow(0, offset, n);
            offset += n;
            let before = f.model.param(name).unwrap();
            let changed = p.ne_tensor(before).reshape([-1]);
            if is_conv_weight(name, p) {
                let k = (rate * n as f64).round_ties_even() as i64;
                assert_eq!(changed.sum(Kind::Int64).int64_value(&[]), k, "{name}");
                assert_eq!(m.eq(1.0).sum(Kind::Int64).int64_value(&[]), k, "{name}");
                assert!(m.eq(1.0).equal(&changed), "{name}: multiplier 1 exactly on S");
                assert!(m.eq(1.0).logical_or(&m.eq(DAMPING)).all().int64_value(&[]) == 1);
                // S holds the smallest |w|: every kept entry is at least as large.
                let a = before.abs().reshape([-1]);
                let s_max = a.masked_select(&changed).max().double_value(&[]);
                let rest_min = a.masked_select(&changed.logical_not()).min().double_value(&[]);
                assert!(s_max <= rest_min, "{name}");
            } else {
                assert_eq!(changed.sum(Kind::Int64).int64_value(&[]), 0, "{name}");
                assert!(m.eq(1.0).all().int64_value(&[]) == 1, "{name}");
            }
        }
    }
}
