//! One trial of a hyper-parameter search (node kind `trial`, evaluation.md §5.1): run the
//! method with the trial's values on the original model, score the result against the Retrain
//! model of the same seed with "objective10", and keep only the scores — trial weights are never
//! needed again, so a 300-trial search does not fill the disk.
//!
//! Failure semantics (§5.4): a run that diverges (non-finite loss) or a model whose evaluation
//! fails (NaN losses defeat the MIA) is a completed trial with +∞ objectives; any other error
//! (e.g. a method that refuses the architecture) fails the trial, and with it the search.

use std::path::Path;
use std::time::Instant;

use super::{method, Ctx};
use crate::artifact::file;
use crate::artifact::{FailureKind, NodeFailure, TrialResult};
use crate::backend::Job;
use crate::stats::split::Split;
use crate::torch::data::resident::Resident;
use crate::torch::data::store;
use crate::torch::device;
use crate::torch::metrics::objectives::objective10;
use crate::torch::models;

/// Runs a `trial` job; `original_dir` and `reference_dir` hold the Original and Retrain models.
pub(crate) fn trial(
    job: &Job<'_>,
    res: &Resident,
    split: &Split,
    original_dir: &Path,
    reference_dir: &Path,
) -> Result<(), NodeFailure> {
    let node = job.node;
    let Some(run) = method(&node.op) else {
        return Err(NodeFailure::new(format!("the torch backend has no method `{}`", node.op)));
    };
    let model = models::load(&original_dir.join(file::MODEL), res.device)?;
    let mut ctx = Ctx::new(&node.op, node.payload.params().clone(), model, res, split, job.progress);
    if node.op == "python" {
        ctx.python = Some(super::python::PyJob::of(job)?);
    }
    let start = Instant::now();
    let ran = run(&mut ctx);
    device::synchronize(res.device);
    let seconds = ctx.own_seconds.unwrap_or_else(|| start.elapsed().as_secs_f64());
    let infinite = |why: String| TrialResult { objectives: vec![None; 4], note: Some(why), seconds };
    let result = match ran {
        Err(failure) if failure.kind == FailureKind::Diverged => infinite(failure.message),
        Err(failure) => return Err(failure),
        Ok(()) => {
            let reference = models::load(&reference_dir.join(file::MODEL), res.device)?;
            match objective10(&ctx.model, &reference, res, split) {
                Ok(o) if o.iter().all(|x| x.is_finite()) => {
                    TrialResult { objectives: o.iter().map(|x| Some(*x)).collect(), note: None, seconds }
                }
                Ok(_) => infinite("an objective is not finite".into()),
                Err(failure) => infinite(format!("evaluation failed: {}", failure.message)),
            }
        }
    };
    store::write_json(&job.out.join(file::TRIAL), &result)
}
