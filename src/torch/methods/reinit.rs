//! Re-initialisation rules that methods apply to parts of a trained model (models.md §4).
//! Every draw comes from libtorch's generator; callers wrap these in `Ctx::seeded`.

use tch::{Kind, Tensor};

use super::select::{is_batchnorm, is_conv_weight, is_linear_weight, module_of, under};
use crate::torch::models::Model;

/// `fan_in`, `fan_out` of a weight as PyTorch computes them (`[out, in, k…]`).
pub(crate) fn fans(shape: &[i64]) -> (f64, f64) {
    let receptive: i64 = shape[2..].iter().product();
    ((shape[1] * receptive) as f64, (shape[0] * receptive) as f64)
}

/// `U(−bound, bound)` of `like`'s shape, kind and device.
pub(crate) fn uniform(like: &Tensor, bound: f64) -> Tensor {
    Tensor::empty(like.size().as_slice(), (Kind::Float, like.device())).uniform_(-bound, bound)
}

/// `N(0, std²)` of `like`'s shape.
pub(crate) fn normal(like: &Tensor, std: f64) -> Tensor {
    Tensor::randn(like.size().as_slice(), (Kind::Float, like.device())) * std
}

/// Kaiming-normal with fan-out and ReLU gain: `N(0, 2 / fan_out)` (MSG).
pub(crate) fn kaiming_normal_fan_out(weight: &Tensor) -> Tensor {
    let (_, fan_out) = fans(&weight.size());
    normal(weight, (2.0 / fan_out).sqrt())
}

/// Overwrites a parameter (or buffer) in place with `value`, outside autograd.
pub(crate) fn assign(param: &Tensor, value: &Tensor) {
    tch::no_grad(|| {
        let mut p = param.shallow_clone();
        p.copy_(value);
    });
}

/// EU-k's rule for every module under `prefixes`: Conv2d weight Kaiming-uniform (fan-out, ReLU
/// gain: bound √(6/fan_out)); BatchNorm weight 1, bias 0 (running statistics kept); Linear
/// weight Xavier-uniform (bound √(6/(fan_in + fan_out))), bias 0. LayerNorms, attention biases
/// and anything else stay as they are.
pub(crate) fn eu_k(model: &Model, prefixes: &[&str]) {
    let names: Vec<String> = model.names_in_model_order().into_iter().map(str::to_string).collect();
    for name in names.iter().filter(|n| under(n, prefixes)) {
        let p = model.param(name).expect("listed parameter");
        if is_conv_weight(name, p) {
            let (_, fan_out) = fans(&p.size());
            assign(p, &uniform(p, (6.0 / fan_out).sqrt()));
        } else if is_batchnorm(model, name) {
            assign(p, &if name.ends_with(".weight") { p.ones_like() } else { p.zeros_like() });
        } else if is_linear_weight(name, p) {
            let (fan_in, fan_out) = fans(&p.size());
            assign(p, &uniform(p, (6.0 / (fan_in + fan_out)).sqrt()));
        } else if name.ends_with(".bias") {
            let weight = model.param(&format!("{}weight", module_of(name)));
            if weight.is_some_and(|w| w.dim() >= 2) {
                assign(p, &p.zeros_like());
            }
        }
    }
}

/// PyTorch's `reset_parameters()` of the Conv2d/Linear module at `module` (e.g. `fc.`):
/// weight `U(±1/√fan_in)` (Kaiming-uniform with a = √5), bias `U(±1/√fan_in)`.
pub(crate) fn reset_parameters(model: &Model, module: &str) {
    let Some(w) = model.param(&format!("{module}weight")) else { return };
    let (fan_in, _) = fans(&w.size());
    let bound = 1.0 / fan_in.sqrt();
    assign(w, &uniform(w, bound));
    if let Some(b) = model.param(&format!("{module}bias")) {
        assign(b, &uniform(b, bound));
    }
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;
    use crate::torch::models::init::init;

    #[test]
    fn eu_k_resets_exactly_the_selected_modules() {
        let m = Model::from_state_dict(init("resnet18", 32, 10, 0).unwrap(), Device::Cpu).unwrap();
        // As if trained: no parameter keeps its initial 1 or 0.
        tch::no_grad(|| {
            let _ = m.flat().shallow_clone().g_add_scalar_(0.01);
        });
        let before = m.duplicate().unwrap();
        eu_k(&m, &["layer4.", "fc."]);
        for name in m.names_in_model_order() {
            let same = m.param(name).unwrap().equal(before.param(name).unwrap());
            assert_eq!(same, !under(name, &["layer4.", "fc."]), "{name}");
        }
        assert!(m.param("layer4.1.bn2.weight").unwrap().eq(1.0).all().int64_value(&[]) == 1);
        assert!(m.param("fc.bias").unwrap().eq(0.0).all().int64_value(&[]) == 1);
        let bound = (6.0f64 / (512.0 * 9.0)).sqrt();
        assert!(m.param("layer4.0.conv1.weight").unwrap().abs().max().double_value(&[]) <= bound);
        // Running statistics are buffers and stay.
        let rv = "layer4.0.bn1.running_var";
        assert!(m.tensor(rv).unwrap().equal(before.tensor(rv).unwrap()));
    }
}
