//! The `distance` metric (evaluation.md §4): weight-space distances between a model θ and the
//! reference model θ_ref of the same seed, over the trainable parameters (buffers excluded), as
//! the reference's `model_distances.py` sums them over `parameters()`.

use tch::{Kind, Tensor};

use crate::artifact::{Distances, NodeFailure};
use crate::torch::models::Model;

/// The four distances; both models must be of the same architecture.
pub(crate) fn distances(model: &Model, reference: &Model) -> Result<Distances, NodeFailure> {
    let (a, b) = (model.flat(), reference.flat());
    if a.size() != b.size() || model.param_names() != reference.param_names() {
        return Err(NodeFailure::new("the model and the reference have different architectures"));
    }
    let norm = |t: &Tensor| t.to_kind(Kind::Double).square().sum(Kind::Double).sqrt();
    let (na, nb) = (norm(a), norm(b));
    let diff = a.to_kind(Kind::Double) - b.to_kind(Kind::Double);
    let l2 = norm(&diff);
    let unit = a.to_kind(Kind::Double) / &na - b.to_kind(Kind::Double) / &nb;
    let host = Tensor::stack(&[l2, na, norm(&unit)], 0).to_device(tch::Device::Cpu);
    let v = Vec::<f64>::try_from(&host)?;
    Ok(Distances { l2: v[0], l2_normalised: v[0] / v[1], l2_norm: v[1], normalised_distance: v[2] })
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;
    use crate::torch::models::init::init;

    #[test]
    fn distances_of_a_model_to_itself_and_to_a_scaled_copy() {
        let m = Model::from_state_dict(init("cnn", 4, 3, 0).unwrap(), Device::Cpu).unwrap();
        let d = distances(&m, &m).unwrap();
        assert_eq!((d.l2, d.l2_normalised, d.normalised_distance), (0.0, 0.0, 0.0));
        assert!(d.l2_norm > 0.0);
        // A copy scaled by 2: ‖θ − 2θ‖ = ‖θ‖, normalised 1; same direction, so 0 after normalising.
        let twice = m.duplicate().unwrap();
        tch::no_grad(|| {
            let _ = twice.flat().shallow_clone().g_mul_scalar_(2.0);
        });
        let d = distances(&m, &twice).unwrap();
        assert!((d.l2 - d.l2_norm).abs() < 1e-9 * d.l2_norm);
        assert!((d.l2_normalised - 1.0).abs() < 1e-9);
        assert!(d.normalised_distance < 1e-7);
    }
}
