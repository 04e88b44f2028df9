//! Losses and measurements that several methods share (unlearners.md §1 conventions).

use tch::{Kind, Tensor};

use crate::torch::data::resident::Resident;
use crate::torch::metrics::measure::evaluate_in;
use crate::torch::models::Model;

/// `KL(softmax_T(target) ‖ softmax_T(student))` with reduction `batchmean`:
/// `(1/B)·Σ_b Σ_c p_t·(log p_t − log p_s)`; no T² factor.
pub(crate) fn kl_batchmean(target: &Tensor, student: &Tensor, t: f64) -> Tensor {
    let (log_pt, log_ps) = (log_softmax_t(target, t), log_softmax_t(student, t));
    let b = student.size()[0] as f64;
    (log_pt.exp() * (&log_pt - log_ps)).sum(Kind::Float) / b
}

/// The same KL with PyTorch's default element-wise `mean` reduction: summed over classes and
/// divided by B·C (Bad Teacher's [QUIRK]).
pub(crate) fn kl_elementwise_mean(target_probs: &Tensor, student: &Tensor, t: f64) -> Tensor {
    let log_ps = log_softmax_t(student, t);
    let log_pt = target_probs.clamp_min(f64::MIN_POSITIVE).log();
    // PyTorch's kl_div defines 0·log 0 = 0 (xlogy): where p_t = 0 the term vanishes.
    let terms = target_probs * (log_pt - log_ps);
    terms.where_self(&target_probs.gt(0.0), &terms.zeros_like()).mean(Kind::Float)
}

/// Soft cross-entropy `(1/B)·Σ_b Σ_c −softmax_T(teacher)·log_softmax_T(student)`.
pub(crate) fn soft_ce(teacher: &Tensor, student: &Tensor, t: f64) -> Tensor {
    let b = student.size()[0] as f64;
    -(softmax_t(teacher, t) * log_softmax_t(student, t)).sum(Kind::Float) / b
}

/// `softmax(z / T)` over classes.
pub(crate) fn softmax_t(z: &Tensor, t: f64) -> Tensor {
    (z / t).softmax(-1, Kind::Float)
}

/// `log_softmax(z / T)` over classes.
pub(crate) fn log_softmax_t(z: &Tensor, t: f64) -> Tensor {
    (z / t).log_softmax(-1, Kind::Float)
}

/// Per-sample entropy (nats) of `softmax(z)`, `[B]`.
pub(crate) fn entropy(z: &Tensor) -> Tensor {
    let log_p = z.log_softmax(-1, Kind::Float);
    -(log_p.exp() * log_p).sum_dim_intlist(-1, false, Kind::Float)
}

/// Eval-mode accuracy (in %) of `model` on `indices`, in their order, batches of `batch`: the
/// measurement's own evaluation.
pub(crate) fn accuracy(model: &Model, res: &Resident, indices: &[i64], batch: i64) -> f64 {
    // Without losses nothing can fail: the one host read is of an integer count.
    evaluate_in(model, res, indices, false, batch).map_or(f64::NAN, |r| 100.0 * r.accuracy)
}

/// Scikit-learn-style class weights from label counts over `indices`: `weight(count)` per
/// class (classes absent from the subset get `weight(0)`), as a `[C]` float tensor.
pub(crate) fn class_weights(res: &Resident, indices: &[i64], classes: i64, weight: impl Fn(f64) -> f64) -> Tensor {
    let idx = Tensor::from_slice(indices).to_device(res.device);
    let counts = res.labels().index_select(0, &idx).bincount::<Tensor>(None, classes);
    let counts = Vec::<i64>::try_from(&counts.to_device(tch::Device::Cpu)).unwrap_or_default();
    let w: Vec<f32> = counts.iter().map(|&c| weight(c as f64) as f32).collect();
    Tensor::from_slice(&w).to_device(res.device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &Tensor, b: f64) -> bool {
        (a.double_value(&[]) - b).abs() < 1e-5
    }

    #[test]
    fn kl_of_identical_distributions_is_zero_and_batchmean_divides_by_batch_only() {
        let z = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 0.5, 0.0, -1.0]).view([2, 3]);
        assert!(close(&kl_batchmean(&z, &z, 2.0), 0.0));
        let s = z.zeros_like();
        let p = softmax_t(&z, 1.0);
        let manual = (&p * (p.log() - softmax_t(&s, 1.0).log())).sum(Kind::Float).double_value(&[]);
        assert!(close(&kl_batchmean(&z, &s, 1.0), manual / 2.0));
        assert!(close(&kl_elementwise_mean(&p, &s, 1.0), manual / 6.0));
    }

    #[test]
    fn entropy_of_uniform_logits_is_log_c() {
        let z = Tensor::zeros([3, 4], (Kind::Float, tch::Device::Cpu));
        let h = entropy(&z);
        assert!((h.double_value(&[1]) - 4f64.ln()).abs() < 1e-6);
    }
}
