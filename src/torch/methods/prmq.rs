//! PRMQ (unlearners.md §3.15, Kaggle 4th): prune, re-initialise, train, quantise.
//!
//! 1. Teacher: a frozen copy of the original (eval mode). Class weights w_c = n_c^(−0.1) from
//!    the retain labels. SGD(lr, momentum, weight_decay), created before pruning (it has no
//!    state yet, so the order does not matter here).
//! 2. Global L1 unstructured pruning over the weights and biases of every Conv2d and Linear
//!    layer: the round(prune_amount·total) entries of smallest |value| across all of them become
//!    0 (PyTorch's `global_unstructured`: Python round, then `topk` of the smallest), permanently.
//! 3. Every Conv2d / Linear weight entry equal to 0 gets U(−√k, √k), k = 1/fan_in
//!    (in_channels·kh·kw, or in_features); zeroed biases stay 0.
//! 4. max_iters + 1 steps over shuffled retain passes (the reference stops once its counter
//!    exceeds max_iters [QUIRK]), max_iters = int(#retain batches × epochs), `epochs` fractional:
//!    train mode, loss = class-weighted CE (PyTorch's weighted mean Σ w_y·ce / Σ w_y) +
//!    MSE(H(student), H(teacher)), H = per-sample entropy in nats. No schedule.
//! 5. Every floating parameter and buffer goes through fp16 and back.
//!
//! Losses are recorded once per retain pass (the last one partial).

use tch::{Kind, Reduction, Tensor};

use super::losses::{class_weights, entropy};
use super::reinit::{assign, fans, uniform};
use super::select::{is_conv_weight, is_linear_weight, module_of};
use super::Ctx;
use crate::artifact::NodeFailure;
use crate::torch::models::Model;
use crate::torch::train::EpochLosses;

/// The weights and biases of Conv2d and Linear layers, in model order (TinyViT's 2-D
/// attention-bias tables, LayerNorms and BatchNorms are not among them).
fn prunable(model: &Model) -> Vec<String> {
    let layer_weight = |name: &str| {
        let p = model.param(name).expect("listed parameter");
        is_conv_weight(name, p) || is_linear_weight(name, p)
    };
    model
        .names_in_model_order()
        .into_iter()
        .filter(|n| {
            layer_weight(n)
                || (n.ends_with(".bias")
                    && model.param(&format!("{}weight", module_of(n))).is_some_and(|w| w.dim() >= 2))
        })
        .map(str::to_string)
        .collect()
}

/// Zeroes the round(amount·total) smallest-magnitude entries across the prunable tensors;
/// returns that count.
pub(crate) fn prune(model: &Model, amount: f64) -> i64 {
    let names = prunable(model);
    let tensors: Vec<&Tensor> = names.iter().map(|n| model.param(n).expect("listed parameter")).collect();
    let total: i64 = tensors.iter().map(|t| t.numel() as i64).sum();
    let count = (amount * total as f64).round_ties_even() as i64;
    let all = Tensor::cat(&tensors.iter().map(|t| t.detach().abs().reshape([-1])).collect::<Vec<_>>(), 0);
    let (_, smallest) = all.topk(count, 0, false, false);
    let keep = all.ones_like().index_fill(0, &smallest, 0.0);
    tch::no_grad(|| {
        let mut offset = 0;
        for t in tensors {
            let n = t.numel() as i64;
            let _ = t.shallow_clone().g_mul_(&keep.narrow(0, offset, n).view(t.size().as_slice()));
            offset += n;
        }
    });
    count
}

/// Gives every zero entry of the Conv2d and Linear weights a U(±1/√fan_in) value.
fn reinit_zeros(ctx: &mut Ctx<'_>) {
    for name in prunable(&ctx.model).into_iter().filter(|n| n.ends_with(".weight")) {
        // Detached: shares the parameter's storage, so the values are written in place.
        let w = ctx.model.param(&name).expect("listed parameter").detach();
        let (fan_in, _) = fans(&w.size());
        let fresh = ctx.seeded(|| uniform(&w, 1.0 / fan_in.sqrt()));
        assign(&w, &fresh.where_self(&w.eq(0.0), &w));
    }
}

/// Casts every floating parameter and buffer to fp16 and back, in place.
pub(crate) fn half_round_trip(model: &Model) {
    tch::no_grad(|| {
        for (name, _) in model.state_dict() {
            let t = model.tensor(&name).expect("state-dict tensor");
            if t.is_floating_point() {
                assign(t, &t.to_kind(Kind::Half).to_kind(t.kind()));
            }
        }
    });
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let (epochs, batch, amount) = (ctx.float("epochs")?, ctx.batch()?, ctx.float("prune_amount")?);
    if !(epochs >= 0.0 && epochs.is_finite()) {
        return Err(NodeFailure::new(format!("`epochs` must be a non-negative number, got {epochs}")));
    }
    let teacher = ctx.teacher()?;
    let weights = class_weights(ctx.res, &ctx.split.retain, ctx.classes, |n| n.powf(-0.1));
    let mut opt = ctx.sgd("")?;
    prune(&ctx.model, amount);
    reinit_zeros(ctx);
    let batches = (ctx.split.retain.len() as i64 + batch - 1) / batch;
    let max_iters = (batches as f64 * epochs) as i64;
    let passes = ((max_iters + 1) + batches - 1) / batches.max(1);
    let mut step = 0;
    for e in 0..passes as usize {
        let pass = ctx.retain();
        let m = &ctx.model;
        let mut losses = EpochLosses::default();
        for b in 0..pass.batches(batch) {
            if step > max_iters {
                break;
            }
            let (x, y) = ctx.res.batch(&pass, b, batch);
            let h_teacher = tch::no_grad(|| entropy(&teacher.forward(&x, false)));
            let logits = m.forward(&x, true);
            let ce = logits.cross_entropy_loss(&y, Some(&weights), Reduction::Mean, -100, 0.0);
            let loss = ce + entropy(&logits).mse_loss(&h_teacher, Reduction::Mean);
            crate::torch::train::step(m, &mut opt, &loss);
            losses.push(&loss, y.size()[0]);
            step += 1;
        }
        ctx.epoch_done(e, passes as usize, losses)?;
    }
    half_round_trip(&ctx.model);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, run as run_method};
    use super::*;
    use crate::ops::Value;

    #[test]
    fn prunes_the_stated_fraction_of_conv_and_linear_weights_and_biases() {
        let f = fixture();
        let m = f.model.duplicate().unwrap();
        let names = prunable(&m);
        // The cnn's convs have no bias.
        assert_eq!(names, ["conv1.weight", "conv2.weight", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
        let zeros = |m: &Model| -> i64 {
            names.iter().map(|n| m.param(n).unwrap().eq(0.0).sum(Kind::Int64).int64_value(&[])).sum()
        };
        let total: i64 = names.iter().map(|n| m.param(n).unwrap().numel() as i64).sum();
        let count = prune(&m, 0.7);
        assert_eq!(count, (0.7 * total as f64).round_ties_even() as i64);
        assert_eq!(zeros(&m), count);
        // BatchNorms are not pruned.
        assert!(m.param("bn1.weight").unwrap().equal(f.model.param("bn1.weight").unwrap()));
    }

    #[test]
    fn ends_with_fp16_representable_tensors() {
        let f = fixture();
        let (m, losses) = run_method(&f, "prmq", &[("epochs", Value::Float(0.5)), ("batch", Value::Int(16))]);
        // 4 retain batches × 0.5 = 2 → 3 steps, in one pass.
        assert_eq!(losses.len(), 1);
        for (name, t) in m.state_dict() {
            if t.is_floating_point() {
                assert!(t.equal(&t.to_kind(Kind::Half).to_kind(Kind::Float)), "{name}");
            }
        }
        assert!(m.param("fc1.weight").unwrap().ne(0.0).all().int64_value(&[]) == 1, "pruned weights re-initialised");
    }
}
