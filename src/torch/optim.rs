//! Optimisers and learning-rate schedules with PyTorch's exact update rules (unlearners.md §1).
//!
//! Gradients come from `Tensor::run_backward` for the listed parameters each step, so there is
//! no gradient accumulation to reset ("zero_grad to none" holds trivially). A parameter the loss
//! does not reach gets an undefined gradient there, PyTorch's `grad is None`, and is skipped as
//! PyTorch skips it: no weight decay, no momentum or moment update, no step (TinyViT's attention
//! biases in eval mode, models.md §2.3). Updates run on the model's flat parameter buffer:
//! element-wise, so identical to per-tensor updates, in a few kernels per step; a step with
//! skipped parameters adds a few masked selections (SGD) or runs per parameter (Adam).

use tch::Tensor;

use crate::artifact::NodeFailure;
use crate::ops::{Call, Value};

/// PyTorch SGD: `g = grad + wd·θ`; `b = g` at a parameter's first step, then `b = m·b + g` (no
/// dampening, no Nesterov); `θ ← θ − lr·b`.
pub(crate) struct Sgd {
    pub(crate) lr: f64,
    momentum: f64,
    weight_decay: f64,
    /// The momentum buffer over the flat parameters; `None` before the first step.
    buffer: Option<Tensor>,
    /// Per parameter, whether its part of `buffer` holds a momentum (PyTorch creates a
    /// parameter's buffer at its first step with a gradient).
    started: Vec<bool>,
    /// The last flat mask of the parameters that have a gradient, with the pattern it is for:
    /// the same parameters go without a gradient step after step.
    present: Option<(Vec<bool>, Tensor)>,
}

/// Adam (β = 0.9, 0.999; ε = 1e-8) with L2 weight decay added to the gradient (not AdamW),
/// PyTorch's formulation: `θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`, with `t` the
/// parameter's own step count.
pub(crate) struct Adam {
    pub(crate) lr: f64,
    weight_decay: f64,
    /// Per parameter, its updates so far (PyTorch's per-parameter `step`); empty before the
    /// first step.
    steps: Vec<i32>,
    /// First and second moments over the flat parameters.
    moments: Option<(Tensor, Tensor)>,
}

/// Element-wise modifiers of one update, each a flat tensor over the model's parameters.
#[derive(Default, Clone, Copy)]
pub(crate) struct Masks<'a> {
    /// Multiplies the gradient before weight decay and momentum act (SalUn's saliency mask,
    /// MSG's gradient multiplier).
    pub(crate) grad: Option<&'a Tensor>,
    /// 1 for trainable entries, 0 for frozen ones, which PyTorch leaves alone entirely (no
    /// weight decay, no momentum): exact as long as an entry stays frozen for the optimiser's
    /// lifetime, as in every method here.
    pub(crate) active: Option<&'a Tensor>,
}

/// An optimiser of the catalogue (`sgd` or `adam`).
pub(crate) enum Optimizer {
    Sgd(Sgd),
    Adam(Adam),
}

/// A number field of a catalogue call (lowering filled its defaults).
fn arg(call: &Call, name: &str) -> Result<f64, NodeFailure> {
    match call.args.get(name) {
        None => Err(NodeFailure::new(format!("`{}` has no field `{name}`", call.op))),
        Some(v) => {
            v.as_f64().ok_or_else(|| NodeFailure::new(format!("`{}.{name}` must be a number, got {v}", call.op)))
        }
    }
}

/// The catalogue call a field holds.
fn call_of(value: &Value) -> Result<&Call, NodeFailure> {
    value.as_call().ok_or_else(|| NodeFailure::new(format!("expected an optimiser or schedule, got {value}")))
}

/// A flat `bool` mask over `params` (the flat buffer's views, in order): true on the entries of
/// parameter `i` where `on[i]`.
fn flat_mask(params: &[Tensor], on: &[bool], device: tch::Device) -> Tensor {
    let sizes: Vec<i64> = params.iter().map(|p| p.numel() as i64).collect();
    let total = sizes.iter().sum::<i64>();
    let flags = Tensor::from_slice(on).to_device(device);
    flags.repeat_interleave_self_tensor(&Tensor::from_slice(&sizes).to_device(device), 0, total)
}

impl Optimizer {
    /// SGD.
    pub(crate) fn sgd(lr: f64, momentum: f64, weight_decay: f64) -> Optimizer {
        Optimizer::Sgd(Sgd { lr, momentum, weight_decay, buffer: None, started: Vec::new(), present: None })
    }

    /// Adam with L2 weight decay (β = 0.9, 0.999; ε = 1e-8).
    pub(crate) fn adam(lr: f64, weight_decay: f64) -> Optimizer {
        Optimizer::Adam(Adam { lr, weight_decay, steps: Vec::new(), moments: None })
    }

    /// The optimiser a catalogue call describes (`sgd(lr, momentum, weight_decay)` or
    /// `adam(lr, weight_decay)`).
    pub(crate) fn from_call(value: &Value) -> Result<Optimizer, NodeFailure> {
        let call = call_of(value)?;
        match call.op.as_str() {
            "sgd" => Ok(Optimizer::sgd(arg(call, "lr")?, arg(call, "momentum")?, arg(call, "weight_decay")?)),
            "adam" => Ok(Optimizer::adam(arg(call, "lr")?, arg(call, "weight_decay")?)),
            other => Err(NodeFailure::new(format!("unknown optimiser `{other}`"))),
        }
    }

    /// The base learning rate.
    pub(crate) fn lr(&self) -> f64 {
        match self {
            Optimizer::Sgd(o) => o.lr,
            Optimizer::Adam(o) => o.lr,
        }
    }

    /// Sets the learning rate (a schedule's step).
    pub(crate) fn set_lr(&mut self, lr: f64) {
        match self {
            Optimizer::Sgd(o) => o.lr = lr,
            Optimizer::Adam(o) => o.lr = lr,
        }
    }

    /// One update of the flat parameter buffer `flat` from the gradients of its views
    /// `params` (same order). A parameter whose gradient is undefined (PyTorch's `None`: the
    /// loss does not reach it) is left alone, its optimiser state included.
    pub(crate) fn step(&mut self, flat: &Tensor, params: &[Tensor], grads: &[Tensor]) {
        self.step_masked(flat, params, grads, Masks::default());
    }

    /// `step` with element-wise masks.
    pub(crate) fn step_masked(&mut self, flat: &Tensor, params: &[Tensor], grads: &[Tensor], masks: Masks<'_>) {
        let _guard = tch::no_grad_guard();
        let present: Vec<bool> = grads.iter().map(Tensor::defined).collect();
        let all = present.iter().all(|&p| p);
        // The skipped parameters' entries are computed from a zero gradient and then discarded.
        let pieces: Vec<Tensor> = params
            .iter()
            .zip(grads)
            .map(|(p, g)| if g.defined() { g.view(-1) } else { p.zeros_like().view(-1) })
            .collect();
        let mut grad = Tensor::cat(&pieces, 0);
        if let Some(m) = masks.grad {
            grad *= m;
        }
        let active = |d: Tensor| match masks.active {
            Some(a) => d * a,
            None => d,
        };
        let mut flat = flat.shallow_clone();
        match self {
            Optimizer::Sgd(o) => {
                let d = active(if o.weight_decay != 0.0 { grad + &flat * o.weight_decay } else { grad });
                if all && (o.buffer.is_none() || o.started.iter().all(|&s| s)) {
                    // Every parameter steps and every momentum is in the same state: flat.
                    let d = if o.momentum == 0.0 {
                        d
                    } else if let Some(b) = &mut o.buffer {
                        let _ = b.g_mul_scalar_(o.momentum).g_add_(&d);
                        b.shallow_clone()
                    } else {
                        o.buffer = Some(d.shallow_clone());
                        o.started = vec![true; params.len()];
                        d
                    };
                    let _ = flat.g_add_(&(d * -o.lr));
                    return;
                }
                let mask = match &o.present {
                    Some((key, mask)) if *key == present => mask.shallow_clone(),
                    _ => {
                        let mask = flat_mask(params, &present, flat.device());
                        o.present = Some((present.clone(), mask.shallow_clone()));
                        mask
                    }
                };
                let d = if o.momentum == 0.0 {
                    d
                } else {
                    let b = o.buffer.get_or_insert_with(|| d.zeros_like());
                    o.started.resize(params.len(), false);
                    let fresh: Vec<bool> = o.started.iter().zip(&present).map(|(&s, &p)| p && !s).collect();
                    let next = &*b * o.momentum + &d;
                    let next = if fresh.iter().any(|&f| f) {
                        d.where_self(&flat_mask(params, &fresh, flat.device()), &next)
                    } else {
                        next
                    };
                    // Only the parameters with a gradient move their momentum.
                    *b = next.where_self(&mask, b);
                    for (s, &p) in o.started.iter_mut().zip(&present) {
                        *s |= p;
                    }
                    b.shallow_clone()
                };
                let moved = &flat + d * -o.lr;
                flat.copy_(&moved.where_self(&mask, &flat));
            }
            Optimizer::Adam(o) => {
                o.steps.resize(params.len(), 0);
                let d = active(if o.weight_decay != 0.0 { grad + &flat * o.weight_decay } else { grad });
                let (m, v) = o.moments.get_or_insert_with(|| (d.zeros_like(), d.zeros_like()));
                let t = o.steps.first().map_or(1, |s| s + 1);
                if all && o.steps.iter().all(|&s| s + 1 == t) {
                    // Every parameter is at the same step: one update of the flat buffer.
                    o.steps.iter_mut().for_each(|s| *s = t);
                    adam_update(&mut flat, m, v, &d, o.lr, t);
                    return;
                }
                // Per parameter: each has its own step count, and the skipped ones stay as they are.
                let mut at = 0;
                for ((p, &has), s) in params.iter().zip(&present).zip(o.steps.iter_mut()) {
                    let n = p.numel() as i64;
                    if has {
                        *s += 1;
                        let mut piece = flat.narrow(0, at, n);
                        let (mut mp, mut vp) = (m.narrow(0, at, n), v.narrow(0, at, n));
                        adam_update(&mut piece, &mut mp, &mut vp, &d.narrow(0, at, n), o.lr, *s);
                    }
                    at += n;
                }
            }
        }
    }
}

/// PyTorch's Adam update at step `t` (1-based) of `theta` with moments `m`, `v` (updated in
/// place) from the decayed gradient `d`.
fn adam_update(theta: &mut Tensor, m: &mut Tensor, v: &mut Tensor, d: &Tensor, lr: f64, t: i32) {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let c1 = 1.0 - b1.powi(t);
    let c2 = (1.0 - b2.powi(t)).sqrt();
    let _ = m.g_mul_scalar_(b1).g_add_(&(d * (1.0 - b1)));
    let _ = v.g_mul_scalar_(b2).g_add_(&(d * d * (1.0 - b2)));
    let denom = v.sqrt() / c2 + eps;
    let _ = theta.g_add_(&(&*m / denom * (-lr / c1)));
}

/// A learning-rate schedule, stepped once after each epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Schedule {
    Constant,
    /// `lr_e = η_min + (lr₀ − η_min)·(1 + cos(π·e/T))/2` for epoch `e` (0-based).
    Cosine {
        t_max: usize,
        eta_min: f64,
    },
}

impl Schedule {
    /// The schedule a catalogue call describes, over `epochs` epochs.
    pub(crate) fn from_call(value: &Value, epochs: usize) -> Result<Schedule, NodeFailure> {
        let call = call_of(value)?;
        match call.op.as_str() {
            "cosine" => Ok(Schedule::Cosine { t_max: epochs, eta_min: arg(call, "eta_min")? }),
            "constant" => Ok(Schedule::Constant),
            other => Err(NodeFailure::new(format!("unknown schedule `{other}`"))),
        }
    }

    /// The learning rate of epoch `epoch` (0-based) for base rate `lr0`.
    ///
    /// PyTorch's `CosineAnnealingLR` computes this recursively; the closed form is the
    /// documented formula and differs from it only in the last bits.
    pub(crate) fn lr(&self, lr0: f64, epoch: usize) -> f64 {
        match *self {
            Schedule::Constant => lr0,
            Schedule::Cosine { t_max, eta_min } => {
                if t_max == 0 {
                    return lr0;
                }
                let c = (std::f64::consts::PI * epoch as f64 / t_max as f64).cos();
                eta_min + (lr0 - eta_min) * (1.0 + c) / 2.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::Optimizer;
    use crate::torch::models::{init::init, Model};

    /// Three parameters `a` [3], `b` [2], `c` [2] as leaf views of one flat buffer, the way
    /// models hold them.
    fn three_params() -> (Tensor, Vec<Tensor>) {
        let flat = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.25, -0.75, 1.5, -2.0]);
        let params = tch::no_grad(|| {
            [(0, 3), (3, 2), (5, 2)].iter().map(|&(at, n)| flat.narrow(0, at, n).set_requires_grad(true)).collect()
        });
        (flat, params)
    }

    /// A loss of `a` always, of `b` when `with_b`, never of `c`: PyTorch leaves `c.grad` (and
    /// `b.grad` in steps without `b`) at None.
    fn loss(params: &[Tensor], with_b: bool) -> Tensor {
        let a = (&params[0] * &params[0] * Tensor::from_slice(&[1.0f32, 2.0, 3.0])).sum(Kind::Float);
        if with_b {
            a + (&params[1] * Tensor::from_slice(&[-1.5f32, 0.5])).exp().sum(Kind::Float)
        } else {
            a
        }
    }

    /// Steps 1–2 without `b`, 3 with it, 4 without, 5 with.
    const USES_B: [bool; 5] = [false, false, true, false, true];

    /// Runs `opt` through the `USES_B` schedule beside `reference`, PyTorch's update of parameter
    /// `i` from its current value and gradient (called only where the gradient is defined: PyTorch
    /// skips a None gradient entirely), and checks that `b` stays bit-identical before its first
    /// gradient, `c` throughout, and that every parameter ends where PyTorch's would.
    fn steps_like_pytorch(mut opt: Optimizer, mut reference: impl FnMut(usize, &Tensor, &Tensor) -> Tensor) {
        let (flat, params) = three_params();
        let before: Vec<Tensor> = params.iter().map(|p| p.detach().copy()).collect();
        let mut expected = before.iter().map(Tensor::copy).collect::<Vec<_>>();
        for (step, &with_b) in USES_B.iter().enumerate() {
            let grads = Tensor::run_backward(&[loss(&params, with_b)], &params, false, false);
            assert_eq!(grads.iter().map(Tensor::defined).collect::<Vec<_>>(), [true, with_b, false]);
            for (i, (e, g)) in expected.iter_mut().zip(&grads).enumerate() {
                if g.defined() {
                    *e = reference(i, e, g);
                }
            }
            opt.step(&flat, &params, &grads);
            if step < 2 {
                assert!(params[1].detach().equal(&before[1]), "b untouched before its first gradient");
            }
        }
        assert!(params[2].detach().equal(&before[2]), "c never has a gradient: bit-identical");
        for (p, e) in params.iter().zip(&expected) {
            assert!(p.detach().allclose(e, 1e-6, 1e-7, false), "{p:?} vs {e:?}");
        }
    }

    #[test]
    fn sgd_skips_a_parameter_without_gradient_like_pytorch() {
        let (lr, m, wd) = (0.1, 0.9, 0.05);
        // PyTorch per tensor: d = g + wd·θ; the buffer is d at the parameter's first step with a
        // gradient, then m·b + d; θ ← θ − lr·b.
        let mut buffers: Vec<Option<Tensor>> = vec![None, None, None];
        steps_like_pytorch(Optimizer::sgd(lr, m, wd), |i, e, g| {
            let d = g + e * wd;
            let next = match buffers[i].take() {
                None => d,
                Some(b) => b * m + d,
            };
            let updated = e - &next * lr;
            buffers[i] = Some(next);
            updated
        });
    }

    #[test]
    fn adam_skips_a_parameter_without_gradient_with_its_own_step_count() {
        let (lr, wd) = (0.01, 1e-2);
        // PyTorch's Adam keeps `step`, `exp_avg` and `exp_avg_sq` per parameter and leaves all
        // three alone in a step where the parameter's gradient is None.
        let mut state: Vec<(i32, Option<(Tensor, Tensor)>)> = vec![(0, None), (0, None), (0, None)];
        steps_like_pytorch(Optimizer::adam(lr, wd), |i, e, g| {
            let (t, moments) = &mut state[i];
            let (m, v) = moments.get_or_insert_with(|| (e.zeros_like(), e.zeros_like()));
            *t += 1;
            let d = g + e * wd;
            *m = &*m * 0.9 + &d * 0.1;
            *v = &*v * 0.999 + &d * &d * 0.001;
            let denom = v.sqrt() / (1.0 - 0.999f64.powi(*t)).sqrt() + 1e-8;
            e - &*m / denom * (lr / (1.0 - 0.9f64.powi(*t)))
        });
    }

    #[test]
    fn tinyvit_attention_biases_stay_put_when_training_in_eval_mode() {
        // NG+'s case: in eval mode TinyViT's attention biases get no gradient, so weight decay
        // and momentum must not touch them.
        let model = Model::from_state_dict(init("vit11m", 0, 3, 1).expect("init"), Device::Cpu).expect("model");
        let x = Tensor::arange(2 * 3 * 32 * 32, (Kind::Float, Device::Cpu)).sin().view([2, 3, 32, 32]);
        let y = Tensor::from_slice(&[0i64, 2]);
        // Initialisation zeroes the biases, which weight decay would leave at zero anyway.
        for (name, p) in model.param_names().iter().zip(model.params()) {
            if name.ends_with("attention_biases") {
                let values = Tensor::arange(p.numel() as i64, (Kind::Float, Device::Cpu)).cos().view_as(p);
                tch::no_grad(|| p.shallow_clone().copy_(&values));
            }
        }
        let before: Vec<Tensor> = model.params().iter().map(|p| p.detach().copy()).collect();
        let mut opt = Optimizer::sgd(0.01, 0.9, 0.1);
        for _ in 0..2 {
            let loss = model.forward(&x, false).cross_entropy_for_logits(&y);
            let grads = Tensor::run_backward(&[&loss], model.params(), false, false);
            opt.step(model.flat(), model.params(), &grads);
        }
        let mut biases = 0;
        for ((name, p), b) in model.param_names().iter().zip(model.params()).zip(&before) {
            if name.ends_with("attention_biases") {
                biases += 1;
                assert!(p.detach().equal(b), "{name} changed");
            } else if name == "head.weight" {
                assert!(!p.detach().equal(b), "{name} did not train");
            }
        }
        assert!(biases > 0);
    }
}
