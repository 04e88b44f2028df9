//! U-LiRA's two measurements (evaluation.md §7): `predict`, one model's per-sample scores over
//! the official train part of its dataset, and `membership`, the attack on one model family
//! over its runs (shadow, draw), from those scores and the runs' U-LiRA splits. The statistic
//! itself is `stats::ulira`; this module moves tensors and files to and from it.

use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::EVAL_BATCH;
use crate::artifact::file;
use crate::artifact::{self, Attack, Membership, NodeFailure};
use crate::backend::Job;
use crate::stats::ulira::{self, attack, summarize, PoolScores, Run, RunRoles, Statistic, UliraSummary};
use crate::torch::data::resident::Resident;
use crate::torch::data::store;
use crate::torch::models::Model;
use crate::torch::split;

/// Reports progress within a node: (done, total, message).
type Progress<'a> = &'a dyn Fn(u64, u64, &str);

/// The `predict` node: the scores of `model` on every official-train sample of `res` (see
/// [`scores_in`]), written to `scores.safetensors`.
pub(crate) fn predict(model: &Model, res: &Resident, out: &Path, progress: Progress<'_>) -> Result<(), NodeFailure> {
    let scores = scores_in(model, res, EVAL_BATCH, progress)?;
    let path = out.join(file::SCORES);
    std::fs::write(&path, scores.to_safetensors())
        .map_err(|e| NodeFailure::io(format!("cannot write `{}`: {e}", path.display())))
}

/// U-LiRA's scores of `model` on the official-train samples of `res` (global indices
/// `0..n_train`, in order; the official test part is not scored): eval mode, no grad, plain
/// images as `measure` sees them (profile EVAL), in batches of `batch` built on the device.
///
/// Each batch's logits are copied into one `[n_train, classes]` tensor preallocated on the
/// device, so nothing reaches the host until the single copy of all logits at the end (progress
/// reports read nothing from the device). The scores do not depend on `batch`.
pub(crate) fn scores_in(
    model: &Model,
    res: &Resident,
    batch: i64,
    progress: Progress<'_>,
) -> Result<PoolScores, NodeFailure> {
    let n = res.info.n_train as i64;
    let indices: Vec<i64> = (0..n).collect();
    let (logits, classes) = tch::no_grad(|| {
        let pass = res.ordered(&indices);
        let batches = pass.batches(batch);
        let mut all: Option<Tensor> = None;
        for b in 0..batches {
            let (x, _) = res.batch(&pass, b, batch);
            let logits = model.forward(&x, false);
            let [rows, classes] = logits.size()[..] else {
                return Err(NodeFailure::new(format!(
                    "the model's output has shape {:?}, not [batch, classes]",
                    logits.size()
                )));
            };
            let all = all.get_or_insert_with(|| Tensor::empty([n, classes], (Kind::Float, res.device)));
            all.narrow(0, b * batch, rows).copy_(&logits);
            progress(b as u64 + 1, batches as u64, &format!("{} of {n} samples", b * batch + rows));
        }
        match all {
            Some(all) => {
                let classes = all.size()[1] as usize;
                let host = all.to_device(Device::Cpu).contiguous().view([-1]);
                Ok((Vec::<f32>::try_from(&host)?, classes))
            }
            // No train part: nothing to score, whatever the model's width.
            None => Ok((Vec::new(), res.info.classes)),
        }
    })?;
    let labels = store::to_i64_vec(&res.labels().narrow(0, 0, n))?;
    PoolScores::from_logits(&logits, classes, &labels).map_err(|e| {
        NodeFailure::refused(format!("the `model` input's {classes} outputs do not fit the `data` input: {e}"))
    })
}

/// The `membership` node: U-LiRA's attack on one model family. Its inputs are, for each run i
/// in (shadow, draw) order, `{i}/scores` (the run's `predict` node) and `{i}/split` (the run's
/// U-LiRA split, whose `forget` the run forgot and whose `test` it never saw). Both statistics
/// (the reference's correctness and the logit-scaled confidence) are attacked and summarised
/// into `membership.json`. Other input roles are not read.
pub(crate) fn membership(job: &Job<'_>) -> Result<(), NodeFailure> {
    let runs = run_count(job)?;
    let total = runs as u64 + 2;
    let mut scores = Vec::with_capacity(runs);
    let mut roles = Vec::with_capacity(runs);
    for i in 0..runs {
        let s = read_scores(job, i)?;
        let expected = scores.first().map_or(s.len(), PoolScores::len);
        if s.len() != expected {
            return Err(NodeFailure::invalid_data(format!(
                "the `{i}/scores` input has {} samples where `0/scores` has {expected}",
                s.len()
            )));
        }
        let role = format!("{i}/split");
        let split = split::load(input_dir(job, &role)?).map_err(|e| blame(&role, e))?;
        let r = RunRoles::new(s.len(), &split.forget, &split.test)
            .map_err(|e| NodeFailure::invalid_data(format!("the `{role}` input does not fit `{i}/scores`: {e}")))?;
        scores.push(s);
        roles.push(r);
        (job.progress)(i as u64 + 1, total, "reading runs");
    }
    let family: Vec<Run<'_>> = roles.iter().zip(&scores).map(|(roles, scores)| Run { roles, scores }).collect();
    let summary = |statistic| -> Result<UliraSummary, NodeFailure> {
        // `attack`'s only error is a length mismatch, which the loop above already rules out.
        Ok(summarize(&attack(&family, statistic).map_err(|e| NodeFailure::new(e.to_string()))?))
    };
    // The two statistics are independent: one thread each.
    let (correctness, logit) = std::thread::scope(|s| {
        let logit = s.spawn(|| summary(Statistic::LogitConfidence));
        let correctness = summary(Statistic::Correctness);
        (job.progress)(total - 1, total, "attacking");
        let logit = logit.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (correctness, logit)
    });
    let membership = Membership { runs, correctness: to_attack(&correctness?), logit: to_attack(&logit?) };
    (job.progress)(total, total, "attacked");
    store::write_json(&job.out.join(file::MEMBERSHIP), &membership)
}

/// The number of runs of a membership node: one more than the largest i of its `{i}/scores` and
/// `{i}/split` inputs; every i below it must have both.
fn run_count(job: &Job<'_>) -> Result<usize, NodeFailure> {
    let indexed = job.inputs.iter().filter_map(|input| {
        let (i, what) = input.role.split_once('/')?;
        if !matches!(what, "scores" | "split") {
            return None;
        }
        i.parse::<usize>().ok()
    });
    let runs = indexed.max().map_or(0, |i| i + 1);
    if runs == 0 {
        return Err(NodeFailure::new("a membership node needs at least one run: the node has no `0/scores` input"));
    }
    for i in 0..runs {
        for what in ["scores", "split"] {
            input_dir(job, &format!("{i}/{what}"))?;
        }
    }
    Ok(runs)
}

/// The folder of the input with this role.
fn input_dir<'a>(job: &'a Job<'_>, role: &str) -> Result<&'a Path, NodeFailure> {
    job.input(role).map(|i| i.dir).ok_or_else(|| NodeFailure::new(format!("the node has no `{role}` input")))
}

/// The scores of run `i`, from its `{i}/scores` input.
fn read_scores(job: &Job<'_>, i: usize) -> Result<PoolScores, NodeFailure> {
    let role = format!("{i}/scores");
    let path = input_dir(job, &role)?.join(file::SCORES);
    let bytes = std::fs::read(&path)
        .map_err(|e| NodeFailure::io(format!("the `{role}` input: cannot read `{}`: {e}", path.display())))?;
    PoolScores::from_safetensors(&bytes)
        .map_err(|e| NodeFailure::invalid_data(format!("the `{role}` input: `{}`: {e}", path.display())))
}

/// `failure` with the input role it came from in front of its message.
fn blame(role: &str, failure: NodeFailure) -> NodeFailure {
    NodeFailure { message: format!("the `{role}` input: {}", failure.message), ..failure }
}

/// The file form of a summary: NaN becomes `None`.
fn to_attack(s: &UliraSummary) -> Attack {
    let number = |x: f64| (!x.is_nan()).then_some(x);
    let estimate = |e: ulira::Estimate| artifact::Estimate::of(e.value, e.ci95);
    Attack {
        samples: s.samples,
        forgotten_cases: s.forgotten_cases,
        never_seen_cases: s.never_seen_cases,
        nan_fraction: number(s.nan_fraction),
        never_seen_nan_fraction: number(s.never_seen_nan_fraction),
        mean_p: estimate(s.mean_p),
        balanced_accuracy: estimate(s.balanced_accuracy),
        auc: estimate(s.auc),
    }
}
