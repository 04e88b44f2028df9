//! The search objective "objective10" (evaluation.md §5.1): four values, all minimised, that
//! compare an unlearned model U with the Retrain model R of the same seed. The test set is
//! never used.
//!
//! * o₁ = |RA(U) − RA(R)| / 3, o₂ = |FA(U) − FA(R)| / 3, o₃ = |VA(U) − VA(R)| / 3;
//! * o₄ = 1 − Ind(ValMIA(U)) = 2·|ValMIA(U) − 0.5|, the MIA seeded with 123 as in evaluation.
//!
//! Accuracies do not depend on the batch size or order in eval mode, so they are computed in
//! the evaluation's batches; the reference's trial-sized PLAIN loaders give the same numbers.

use super::measure::evaluate;
use crate::artifact::NodeFailure;
use crate::stats::mia::MiaRng;
use crate::stats::split::Split;
use crate::torch::data::resident::Resident;
use crate::torch::models::Model;

/// The four objectives, or why the evaluation failed (the reference then scores the trial
/// +∞ in every objective, §5.4).
pub(crate) fn objective10(u: &Model, r: &Model, res: &Resident, split: &Split) -> Result<[f64; 4], NodeFailure> {
    let acc = |m: &Model, idx: &[i64]| evaluate(m, res, idx, false).map(|s| s.accuracy);
    let forget = evaluate(u, res, &split.forget, true)?;
    let val = evaluate(u, res, &split.val, true)?;
    let ra = (acc(u, &split.retain)?, acc(r, &split.retain)?);
    let fa = (forget.accuracy, acc(r, &split.forget)?);
    let va = (val.accuracy, acc(r, &split.val)?);
    let mia = MiaRng::new().mia(&val.losses, &forget.losses).map_err(|e| NodeFailure::new(e.to_string()))?;
    Ok([(ra.0 - ra.1).abs() / 3.0, (fa.0 - fa.1).abs() / 3.0, (va.0 - va.1).abs() / 3.0, 2.0 * (mia - 0.5).abs()])
}
