//! The `measure` node: retain / forget / validation / test accuracy and Val / Test MIA of one
//! model, in eval mode on plain images in stored order (profile EVAL, datasets.md §2.3).

use std::collections::BTreeMap;
use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::{accuracy, losses, EVAL_BATCH};
use crate::artifact::file;
use crate::artifact::{Metrics, NodeFailure, RunInfo};
use crate::stats::mia::MiaRng;
use crate::stats::split::Split;
use crate::torch::data::resident::Resident;
use crate::torch::data::store;
use crate::torch::models::Model;

/// Accuracy of a set and, if asked for, its per-sample losses (on the host, as f64).
pub(crate) struct SetResult {
    pub(crate) accuracy: f64,
    pub(super) losses: Vec<f64>,
}

/// Evaluates `model` on a set in no-grad batches; one host read at the end.
pub(super) fn evaluate(
    model: &Model,
    res: &Resident,
    indices: &[i64],
    keep_losses: bool,
) -> Result<SetResult, NodeFailure> {
    evaluate_in(model, res, indices, keep_losses, EVAL_BATCH)
}

/// `evaluate` in batches of `batch`: the numbers do not depend on it in eval mode, the time
/// does, which a method that evaluates inside its timed run reproduces with its own batches.
pub(crate) fn evaluate_in(
    model: &Model,
    res: &Resident,
    indices: &[i64],
    keep_losses: bool,
    batch: i64,
) -> Result<SetResult, NodeFailure> {
    if indices.is_empty() {
        return Ok(SetResult { accuracy: 0.0, losses: Vec::new() });
    }
    tch::no_grad(|| {
        let pass = res.ordered(indices);
        let mut correct = Tensor::zeros([], (Kind::Int64, res.device));
        let mut all = Vec::new();
        for b in 0..pass.batches(batch) {
            let (x, y) = res.batch(&pass, b, batch);
            let logits = model.forward(&x, false);
            correct += accuracy::correct(&logits, &y);
            if keep_losses {
                all.push(losses::per_sample(&logits, &y));
            }
        }
        let accuracy = correct.int64_value(&[]) as f64 / pass.len() as f64;
        let losses = if keep_losses {
            let t = Tensor::cat(&all, 0).to_device(Device::Cpu).to_kind(Kind::Double);
            Vec::<f64>::try_from(&t)?
        } else {
            Vec::new()
        };
        Ok(SetResult { accuracy, losses })
    })
}

/// Measures a model and writes `metrics.json`, and the per-sample CE losses of the forget,
/// validation and test sets (evaluation.md §2, in split order) to `losses.safetensors`;
/// `model_dir` may hold a `run.json` whose seconds are carried over (0 for an initialisation).
pub(crate) fn measure(
    model: &Model,
    res: &Resident,
    split: &Split,
    model_dir: &Path,
    out: &Path,
) -> Result<(), NodeFailure> {
    let (metrics, losses) = compute_with_losses(model, res, split, model_dir)?;
    let tensors: Vec<(String, Tensor)> =
        losses.into_iter().map(|(name, l)| (name.to_string(), Tensor::from_slice(&l).to_kind(Kind::Float))).collect();
    store::write_tensors(&out.join(file::LOSSES), &tensors)?;
    store::write_json(&out.join(file::METRICS), &metrics)
}

/// The metrics of a model (see `measure`).
#[cfg(test)]
pub(crate) fn compute(model: &Model, res: &Resident, split: &Split, model_dir: &Path) -> Result<Metrics, NodeFailure> {
    compute_with_losses(model, res, split, model_dir).map(|(m, _)| m)
}

/// The metrics and the per-sample losses of the forget, validation and test sets.
type Losses = [(&'static str, Vec<f64>); 3];

fn compute_with_losses(
    model: &Model,
    res: &Resident,
    split: &Split,
    model_dir: &Path,
) -> Result<(Metrics, Losses), NodeFailure> {
    let retain = evaluate(model, res, &split.retain, false)?;
    let forget = evaluate(model, res, &split.forget, true)?;
    let val = evaluate(model, res, &split.val, true)?;
    let test = evaluate(model, res, &split.test, true)?;
    // One generator per model evaluation: Val MIA, then Test MIA continuing its stream
    // (evaluation.md §3, attack.md §6). An attack that cannot run (a diverged model's NaN
    // losses) leaves its MIA unavailable, with the reason, instead of failing the node: the
    // reference reports such a model with "MIA failed on NaN losses" (paper_results.md §3).
    let mut rng = MiaRng::new();
    let mut unavailable = BTreeMap::new();
    let mut attack = |name: &str, held_out: &[f64]| match rng.mia(held_out, &forget.losses) {
        Ok(v) => Some(v),
        Err(e) => {
            unavailable.insert(name.to_string(), e.to_string());
            None
        }
    };
    let mia_val = attack("mia_val", &val.losses);
    let mia_test = attack("mia_test", &test.losses);
    let run = model_dir.join(file::RUN);
    let (seconds, diverged) = if run.is_file() {
        let info = store::read_json::<RunInfo>(&run)?;
        (info.seconds, info.diverged)
    } else {
        (0.0, None)
    };
    let metrics = Metrics {
        retain_acc: retain.accuracy,
        forget_acc: forget.accuracy,
        val_acc: val.accuracy,
        test_acc: test.accuracy,
        mia_val,
        mia_test,
        seconds,
        distances: None,
        unavailable,
        diverged,
    };
    Ok((metrics, [("forget", forget.losses), ("val", val.losses), ("test", test.losses)]))
}
