//! SCRUB v2 (unlearners.md §3.7; the paper's "SCRUB"): the student (the model) against a
//! frozen copy of the original (the teacher, eval mode) under SGD(lr, momentum, weight_decay),
//! with KL_T(s, t) = (T²/B)·Σ_b Σ_c p_t·(log p_t − log p_s), p = softmax_T, T = `kd_t`.
//!
//! For epoch e = 1..E (E = `epochs`):
//! 1. lr = lr₀·r^n, r = `lr_decay_rate`, n = #{d ∈ [int(0.5E), int(0.8E), int(0.9E)] : e > d};
//! 2. evaluate the student (eval mode) on retain, forget, val and forget-validation (the val
//!    samples whose class occurs in the forget set); keep the forget error F_{e−1} = 100 − acc.
//!    Only F is used; the other three are computed because the reference spends that time too
//!    (it counts in the measured runtime);
//! 3. if e ≤ `msteps`, a "max" pass over the forget set in index-file order (batches of
//!    `forget_batch`, student in train mode): loss = −KL_T; one SGD step per batch;
//! 4. a "min" pass over the shuffled retain set (batches of `retain_batch`):
//!    loss = gamma·CE + alpha·KL_T; one SGD step per batch;
//! 5. keep a checkpoint S_e (parameters and buffers).
//!
//! Then F_E and the forget-validation error V_E; i* = the first index in 0..=E minimising
//! |F_i − V_E|, and the result is S_{i*}. [QUIRK] When i* = 0 the reference returns the final
//! student S_E, never the original; `faithful = false` returns the original then.
//! [DEAD] `beta` and `smoothing` multiply terms that are identically zero and are left out.
//! The reference's accuracies are float32 batch averages; here they are exact in f64, which
//! can only matter for exact ties.

use tch::Tensor;

use super::losses::{accuracy, kl_batchmean};
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::torch::models::Model;
use crate::torch::optim::Masks;

/// The teacher-to-student distillation loss KL_T with SCRUB's T² factor.
pub(crate) fn kl_t(teacher: &Tensor, student: &Tensor, t: f64) -> Tensor {
    kl_batchmean(teacher, student, t) * (t * t)
}

/// What the SGDA loop leaves for the selection.
pub(crate) struct Trace {
    /// S_1 … S_E.
    pub(crate) checkpoints: Vec<Model>,
    /// F_0 … F_E (forget error in %).
    pub(crate) forget_errors: Vec<f64>,
    /// V_E (forget-validation error in %).
    pub(crate) forget_val_error: f64,
}

/// The model the selection rule returns.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    /// S_e, 1-based.
    Checkpoint(usize),
    Original,
}
use Pick::Checkpoint;

/// i* = the first index minimising |F_i − V_E|; index 0 gives the final checkpoint when
/// `faithful` [QUIRK], else the original.
pub(crate) fn select(forget_errors: &[f64], forget_val_error: f64, faithful: bool) -> Pick {
    let gap = |i: usize| (forget_errors[i] - forget_val_error).abs();
    let best = (1..forget_errors.len()).fold(0, |best, i| if gap(i) < gap(best) { i } else { best });
    match best {
        0 if faithful => Checkpoint(forget_errors.len() - 1),
        0 => Pick::Original,
        i => Checkpoint(i),
    }
}

/// The val samples whose class occurs in the forget set (one host read).
pub(crate) fn forget_validation(ctx: &Ctx<'_>) -> Vec<i64> {
    let dev = ctx.res.device;
    let labels = |idx: &[i64]| ctx.res.labels().index_select(0, &Tensor::from_slice(idx).to_device(dev));
    let present = labels(&ctx.split.forget).bincount::<Tensor>(None, ctx.classes).gt(0);
    let keep = present.index_select(0, &labels(&ctx.split.val));
    let val = Tensor::from_slice(&ctx.split.val).to_device(dev);
    Vec::<i64>::try_from(val.masked_select(&keep).to_device(tch::Device::Cpu)).unwrap_or_default()
}

/// The SGDA loop: steps 1–5 for every epoch, then the final errors.
pub(crate) fn train(ctx: &mut Ctx<'_>) -> Result<Trace, NodeFailure> {
    let (epochs, batch, t) = (ctx.epochs()?, ctx.batch()?, ctx.float("kd_t")?);
    let (retain_batch, forget_batch) = (ctx.count("retain_batch")?, ctx.count("forget_batch")?);
    let (gamma, alpha) = (ctx.float("gamma")?, ctx.float("alpha")?);
    let msteps = ctx.count("msteps")? as usize;
    let decay = ctx.float("lr_decay_rate")?;
    let teacher = ctx.teacher()?;
    let target = |x: &Tensor| tch::no_grad(|| teacher.forward(x, false));
    let mut opt = ctx.sgd("")?;
    let lr0 = opt.lr();
    let milestones = [0.5, 0.8, 0.9].map(|f| (f * epochs as f64) as usize);
    let forget_val = forget_validation(ctx);
    let (res, split) = (ctx.res, ctx.split);
    let forget = res.ordered(&split.forget);
    let forget_error = |m: &Model| 100.0 - accuracy(m, res, &split.forget, forget_batch);
    let phases = epochs + msteps.min(epochs);
    let (mut phase, mut forget_errors, mut checkpoints) = (0, Vec::new(), Vec::new());
    for e in 1..=epochs {
        let n = milestones.iter().filter(|&&d| e > d).count();
        if n > 0 {
            opt.set_lr(lr0 * decay.powf(n as f64));
        }
        let m = &ctx.model;
        let _ = accuracy(m, res, &split.retain, retain_batch);
        forget_errors.push(forget_error(m));
        let _ = accuracy(m, res, &split.val, batch);
        let _ = accuracy(m, res, &forget_val, batch);
        if e <= msteps {
            let losses = steps(m, &mut opt, Masks::default(), ctx.res, &forget, forget_batch, |x, _| {
                -kl_t(&target(x), &m.forward(x, true), t)
            });
            ctx.epoch_done(phase, phases, losses)?;
            phase += 1;
        }
        let pass = ctx.retain();
        let m = &ctx.model;
        let losses = steps(m, &mut opt, Masks::default(), ctx.res, &pass, retain_batch, |x, y| {
            let z = m.forward(x, true);
            z.cross_entropy_for_logits(y) * gamma + kl_t(&target(x), &z, t) * alpha
        });
        ctx.epoch_done(phase, phases, losses)?;
        phase += 1;
        checkpoints.push(ctx.model.duplicate()?);
    }
    forget_errors.push(forget_error(&ctx.model));
    let forget_val_error = 100.0 - accuracy(&ctx.model, ctx.res, &forget_val, batch);
    Ok(Trace { checkpoints, forget_errors, forget_val_error })
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    let faithful = ctx.flag("faithful")?;
    let original = if faithful { None } else { Some(ctx.teacher()?) };
    let trace = train(ctx)?;
    match select(&trace.forget_errors, trace.forget_val_error, faithful) {
        Checkpoint(e) => ctx.model.copy_from(&trace.checkpoints[e - 1]),
        Pick::Original => ctx.model.copy_from(original.as_ref().expect("kept when not faithful")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Value;
    use crate::torch::methods::tests::{ctx, fixture, params, run as run_op};

    #[test]
    fn selection_takes_the_first_nearest_index_and_never_the_original_when_faithful() {
        assert_eq!(select(&[10.0, 30.0, 20.0, 30.0], 29.0, true), Checkpoint(1));
        assert_eq!(select(&[10.0, 40.0, 20.0, 31.0], 30.0, true), Checkpoint(3));
        assert_eq!(select(&[30.0, 10.0, 20.0], 29.0, true), Checkpoint(2));
        assert_eq!(select(&[30.0, 10.0, 20.0], 29.0, false), Pick::Original);
        assert_eq!(select(&[30.0, 30.0, 20.0], 30.0, true), Checkpoint(2), "ties go to index 0");
    }

    #[test]
    fn scrub_returns_the_checkpoint_its_rule_selects() {
        let f = fixture();
        let hp = [("epochs", Value::Int(3)), ("msteps", Value::Int(2)), ("lr", Value::Float(0.05))];
        let p = params(&hp);
        let mut c = ctx(&f, "scrub", &p);
        let trace = train(&mut c).unwrap();
        assert_eq!(trace.forget_errors.len(), 4);
        for (e, s) in trace.checkpoints.iter().enumerate() {
            let want = 100.0 - accuracy(s, &f.res, &f.split.forget, 64);
            assert_eq!(trace.forget_errors[e + 1], want, "F_{} belongs to S_{}", e + 1, e + 1);
        }
        let expected = match select(&trace.forget_errors, trace.forget_val_error, true) {
            Checkpoint(e) => &trace.checkpoints[e - 1],
            Pick::Original => unreachable!("faithful never returns the original"),
        };
        let (m, _) = run_op(&f, "scrub", &hp);
        assert!(m.flat().equal(expected.flat()));
        assert!(m.tensor("bn1.running_mean").unwrap().equal(expected.tensor("bn1.running_mean").unwrap()));
    }
}
