//! Optimisers and learning-rate schedules with PyTorch's exact update rules (unlearners.md §1).
//!
//! Gradients come from `Tensor::run_backward` for the listed parameters each step, so there is
//! no gradient accumulation to reset ("zero_grad to none" holds trivially). Updates run on the
//! model's flat parameter buffer: element-wise, so identical to per-tensor updates, in a few
//! kernels per step.

use tch::Tensor;

use crate::artifact::NodeFailure;
use crate::ops::{Call, Value};

/// PyTorch SGD: `g = grad + wd·θ`; `b = g` on the first step, then `b = m·b + g` (no dampening,
/// no Nesterov); `θ ← θ − lr·b`.
pub(crate) struct Sgd {
    pub(crate) lr: f64,
    momentum: f64,
    weight_decay: f64,
    /// The momentum buffer over the flat parameters; `None` before the first step.
    buffer: Option<Tensor>,
}

/// Adam (β = 0.9, 0.999; ε = 1e-8) with L2 weight decay added to the gradient (not AdamW),
/// PyTorch's formulation: `θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.
pub(crate) struct Adam {
    pub(crate) lr: f64,
    weight_decay: f64,
    step: i32,
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

impl Optimizer {
    /// SGD.
    pub(crate) fn sgd(lr: f64, momentum: f64, weight_decay: f64) -> Optimizer {
        Optimizer::Sgd(Sgd { lr, momentum, weight_decay, buffer: None })
    }

    /// Adam with L2 weight decay (β = 0.9, 0.999; ε = 1e-8).
    pub(crate) fn adam(lr: f64, weight_decay: f64) -> Optimizer {
        Optimizer::Adam(Adam { lr, weight_decay, step: 0, moments: None })
    }

    /// The optimiser a catalogue call describes (`sgd(lr, momentum, weight_decay)` or
    /// `adam(lr, weight_decay)`).
    pub(crate) fn from_call(value: &Value) -> Result<Optimizer, NodeFailure> {
        let call = call_of(value)?;
        match call.op.as_str() {
            "sgd" => Ok(Optimizer::sgd(arg(call, "lr")?, arg(call, "momentum")?, arg(call, "weight_decay")?)),
            "adam" => Ok(Optimizer::Adam(Adam {
                lr: arg(call, "lr")?,
                weight_decay: arg(call, "weight_decay")?,
                step: 0,
                moments: None,
            })),
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
    /// `params` (same order). A parameter without a gradient counts as a zero gradient: every
    /// method here uses all parameters, so PyTorch's skipping of `None` gradients never applies.
    pub(crate) fn step(&mut self, flat: &Tensor, params: &[Tensor], grads: &[Tensor]) {
        self.step_masked(flat, params, grads, Masks::default());
    }

    /// `step` with element-wise masks.
    pub(crate) fn step_masked(&mut self, flat: &Tensor, params: &[Tensor], grads: &[Tensor], masks: Masks<'_>) {
        let _guard = tch::no_grad_guard();
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
                let d = if o.momentum == 0.0 {
                    d
                } else if let Some(b) = &mut o.buffer {
                    let _ = b.g_mul_scalar_(o.momentum).g_add_(&d);
                    b.shallow_clone()
                } else {
                    o.buffer = Some(d.shallow_clone());
                    d
                };
                let _ = flat.g_add_(&(d * -o.lr));
            }
            Optimizer::Adam(o) => {
                o.step += 1;
                let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
                let c1 = 1.0 - b1.powi(o.step);
                let c2 = (1.0 - b2.powi(o.step)).sqrt();
                let d = active(if o.weight_decay != 0.0 { grad + &flat * o.weight_decay } else { grad });
                let (m, v) = o.moments.get_or_insert_with(|| (d.zeros_like(), d.zeros_like()));
                let _ = m.g_mul_scalar_(b1).g_add_(&(&d * (1.0 - b1)));
                let _ = v.g_mul_scalar_(b2).g_add_(&(&d * &d * (1.0 - b2)));
                let denom = v.sqrt() / c2 + eps;
                let _ = flat.g_add_(&(&*m / denom * (-o.lr / c1)));
            }
        }
    }
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
