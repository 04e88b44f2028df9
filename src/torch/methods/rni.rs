//! RNI (unlearners.md §3.18, Kaggle reset + noise injection).
//!
//! Parameters are addressed by their state-dict names in model order; "bn" names are those
//! containing `bn` (`select::is_bn_by_name`: ResNet-18's downsample BatchNorms are not among
//! them). The classifier is first reset to PyTorch's default initialisation. Then for epoch
//! ep of E (F = `fine_epochs`, R = `reset_epochs`):
//! 1. selection: every name if ep ≥ E − F (fine phase), else every "bn" name plus
//!    min(9, #non-bn) distinct non-"bn" names drawn uniformly; sorted;
//! 2. noise, only for R ≤ ep < E − F: int(noise_ratio·9) distinct names among the selected
//!    non-"bn" ones (in sorted order), sorted; for each a discarded NumPy uniform and
//!    ε ~ N(0, 1) of its shape, and θ ← θ + origin_noise·ε unless the name was selected in an
//!    earlier epoch;
//! 3. everything but the selection is frozen (`Masks::active`), a fresh SGD (momentum reset):
//!    fine phase `fine_lr` (a list is indexed by ep − (E − F); a scalar or a one-entry list
//!    serves every fine epoch), `fine_momentum`, `fine_weight_decay`; else `lr`, `momentum`,
//!    `weight_decay`;
//! 4. one pass of CE steps over the shuffled retain set in train mode (frozen BatchNorms still
//!    update their running statistics);
//! 5. the eval-mode accuracy on the validation set (in order, batches of `batch`), which the
//!    reference only logs: it is reported with the epoch's progress, and its time counts in
//!    the method's, as in the reference.
//!
//! NumPy's global generator: `Mt19937(123)` created once per run. `np.random.choice(a, k,
//! replace=False)` of the legacy `RandomState` is `a[permutation(len(a))[:k]]`, a full
//! in-place shuffle of `arange(len(a))` drawn with `interval`, then the first k: `Shuffle::
//! permutation` and a truncation here. The discarded uniform is `random_sample()`.
//!
//! Deviations: where int(noise_ratio·9) exceeds the selected non-"bn" names (only on models
//! with fewer than 9 non-"bn" parameters, where NumPy would raise), all of them are noised; a
//! `fine_lr` list too short for the fine epochs fails the node, as the reference's indexing
//! would.

use std::collections::BTreeSet;

use super::losses::accuracy;
use super::reinit::reset_parameters;
use super::select::{classifier, is_bn_by_name};
use super::{steps, Ctx};
use crate::artifact::NodeFailure;
use crate::stats::mt19937::Mt19937;
use crate::stats::shuffle::Shuffle;
use crate::torch::optim::{Masks, Optimizer};

/// Layers drawn per non-fine epoch.
const LAYERS: usize = 9;

/// The seed of the NumPy global generator.
const NUMPY_SEED: u32 = 123;

/// One epoch's plan: the trained names (sorted) and the noise draws (sorted) with whether each
/// is applied.
#[derive(Debug, PartialEq)]
pub(crate) struct Epoch {
    pub(crate) selected: Vec<String>,
    pub(crate) noised: Vec<(String, bool)>,
    pub(crate) fine: bool,
}

/// `np.random.choice(pool, k, replace=False)` of the legacy generator.
fn choice(rng: &mut Mt19937, pool: &[String], k: usize) -> Vec<String> {
    rng.permutation(pool.len()).into_iter().take(k).map(|i| pool[i].clone()).collect()
}

/// The selections and noise draws of all epochs (the NumPy stream only), for parameter
/// `names` in model order.
pub(crate) fn plan(names: &[String], epochs: usize, fine: usize, reset: usize, noise_ratio: f64) -> Vec<Epoch> {
    let mut rng = Mt19937::new(NUMPY_SEED);
    let (bn, other): (Vec<String>, Vec<String>) = names.iter().cloned().partition(|n| is_bn_by_name(n));
    let fine_from = epochs.saturating_sub(fine);
    let noise_k = (noise_ratio * LAYERS as f64) as usize;
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(epochs);
    for ep in 0..epochs {
        let is_fine = ep >= fine_from;
        let mut selected = if is_fine {
            names.to_vec()
        } else {
            bn.iter().cloned().chain(choice(&mut rng, &other, LAYERS.min(other.len()))).collect()
        };
        selected.sort();
        let mut noised = Vec::new();
        if reset <= ep && ep < fine_from {
            let pool: Vec<String> = selected.iter().filter(|n| !is_bn_by_name(n)).cloned().collect();
            let mut chosen = choice(&mut rng, &pool, noise_k.min(pool.len()));
            chosen.sort();
            for name in chosen {
                let _ = rng.random_sample();
                let fresh = !seen.contains(&name);
                noised.push((name, fresh));
            }
        }
        seen.extend(selected.iter().cloned());
        out.push(Epoch { selected, noised, fine: is_fine });
    }
    out
}

pub(crate) fn run(ctx: &mut Ctx<'_>) -> Result<(), NodeFailure> {
    ctx.refuse_custom("it resets the classifier of `resnet18`, `vit11m` or `cnn`, found by its layer name")?;
    let (epochs, batch) = (ctx.epochs()?, ctx.batch()?);
    let (fine, reset) = (ctx.count("fine_epochs")? as usize, ctx.count("reset_epochs")? as usize);
    let (noise_ratio, scale) = (ctx.float("noise_ratio")?, ctx.float("origin_noise")?);
    let fine_lr = ctx.floats("fine_lr")?;
    let fine_from = epochs.saturating_sub(fine);
    if fine_lr.is_empty() || (fine_lr.len() > 1 && fine_lr.len() < epochs - fine_from) {
        return Err(NodeFailure::new(format!(
            "`fine_lr` has {} entries for {} fine epochs: give one per fine epoch, or a single number",
            fine_lr.len(),
            epochs - fine_from
        )));
    }
    let names: Vec<String> = ctx.model.names_in_model_order().into_iter().map(str::to_string).collect();
    let plan = plan(&names, epochs, fine, reset, noise_ratio);
    ctx.seeded(|| reset_parameters(&ctx.model, classifier(&ctx.model)));
    for (ep, step) in plan.iter().enumerate() {
        for (name, apply) in &step.noised {
            let p = ctx.model.param(name).expect("listed parameter").shallow_clone();
            let eps = ctx.seeded(|| super::reinit::normal(&p, 1.0));
            if *apply {
                tch::no_grad(|| {
                    let _ = p.shallow_clone().g_add_(&(eps * scale));
                });
            }
        }
        let selected: BTreeSet<&str> = step.selected.iter().map(String::as_str).collect();
        let active = ctx.model.flat_select(|n| selected.contains(n));
        let mut opt = if step.fine {
            let lr = if fine_lr.len() == 1 { fine_lr[0] } else { fine_lr[ep - fine_from] };
            Optimizer::sgd(lr, ctx.float("fine_momentum")?, ctx.float("fine_weight_decay")?)
        } else {
            ctx.sgd("")?
        };
        let pass = ctx.retain();
        let m = &ctx.model;
        let masks = Masks { grad: None, active: Some(&active) };
        let losses =
            steps(m, &mut opt, masks, ctx.res, &pass, batch, |x, y| m.forward(x, true).cross_entropy_for_logits(y));
        let loss = ctx.epoch_done(ep, epochs, losses)?;
        // The reference's log-only validation pass, inside the timed method like the reference's.
        let val = accuracy(&ctx.model, ctx.res, &ctx.split.val, batch);
        (ctx.progress)(ep as u64 + 1, epochs as u64, &format!("loss {loss:.4}, val accuracy {val:.2}%"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture_with, params, run as run_method};
    use super::*;
    use crate::ops::Value;

    fn names(f: &super::super::tests::Fixture) -> Vec<String> {
        f.model.names_in_model_order().into_iter().map(str::to_string).collect()
    }

    #[test]
    fn plan_selects_bn_plus_nine_then_everything() {
        let f = fixture_with("resnet18");
        let names = names(&f);
        let bn = names.iter().filter(|n| is_bn_by_name(n)).count();
        let p = plan(&names, 9, 4, 1, 0.7);
        let mut seen = BTreeSet::new();
        for (ep, e) in p.iter().enumerate() {
            assert_eq!(e.fine, ep >= 5);
            if e.fine {
                assert_eq!(e.selected.len(), names.len());
            } else {
                assert_eq!(e.selected.len(), bn + 9, "epoch {ep}");
                assert_eq!(e.selected.iter().filter(|n| !is_bn_by_name(n)).count(), 9);
            }
            assert!(e.selected.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
            let noisy = (1..5).contains(&ep);
            assert_eq!(e.noised.len(), if noisy { 6 } else { 0 }, "epoch {ep}");
            for (n, apply) in &e.noised {
                assert!(e.selected.contains(n) && !is_bn_by_name(n));
                assert_eq!(*apply, !seen.contains(n));
            }
            seen.extend(e.selected.iter().cloned());
        }
    }

    #[test]
    fn a_non_fine_epoch_trains_only_its_selection() {
        let f = fixture_with("resnet18");
        // `fine_epochs` counts (≥ 1): two epochs, the second a fine one with lr 0.
        let names = names(&f);
        let plan = plan(&names, 2, 1, 1, 0.7);
        let (m, _) = run_method(
            &f,
            "rni",
            &[
                ("epochs", Value::Int(2)),
                ("fine_epochs", Value::Int(1)),
                ("batch", Value::Int(32)),
                ("fine_lr", Value::Float(0.0)),
                ("fine_weight_decay", Value::Float(0.0)),
                ("lr", Value::Float(0.05)),
            ],
        );
        // The fine epoch has lr 0 and no weight decay: only epoch 0's selection (and the reset
        // classifier) moved.
        for n in &names {
            let moved = m.param(n).unwrap().ne_tensor(f.model.param(n).unwrap()).any().int64_value(&[]) == 1;
            let want = plan[0].selected.contains(n) || n.starts_with("fc.");
            assert_eq!(moved, want, "{n}");
        }
    }

    #[test]
    fn every_epoch_ends_with_the_eval_mode_validation_accuracy() {
        let f = super::super::tests::fixture();
        let reports = std::sync::Mutex::new(Vec::new());
        let progress = |done: u64, total: u64, message: &str| {
            reports.lock().unwrap().push((done, total, message.to_string()));
        };
        let mut p = crate::ops::defaults(crate::ops::Category::Method, "rni");
        p.extend(params(&[("epochs", Value::Int(3)), ("fine_epochs", Value::Int(1)), ("batch", Value::Int(16))]));
        let mut ctx = Ctx::new("rni", p, f.model.duplicate().expect("copy"), &f.res, &f.split, &progress);
        run(&mut ctx).expect("rni");
        let reports = reports.lock().unwrap().clone();
        let accuracies: Vec<(u64, u64, String)> = reports
            .iter()
            .filter_map(|(d, t, m)| m.split("val accuracy ").nth(1).map(|a| (*d, *t, a.to_string())))
            .collect();
        // Once per epoch, in order: the reference evaluates after every epoch's training pass.
        assert_eq!(accuracies.iter().map(|(d, t, _)| (*d, *t)).collect::<Vec<_>>(), [(1, 3), (2, 3), (3, 3)]);
        // The last one is the final model's eval-mode accuracy on the validation set.
        let last = accuracy(&ctx.model, &f.res, &f.split.val, 16);
        assert_eq!(accuracies[2].2, format!("{last:.2}%"));
    }
}
