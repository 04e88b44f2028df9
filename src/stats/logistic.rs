//! The MIA attacker: scikit-learn `LogisticRegression()` with default arguments on one feature
//! (attack.md §4), fitted to the exact optimum of its objective.
//!
//! The reference (scikit-learn 1.2.2) stops L-BFGS-B when |∂J|∞ ≤ 1e-4, i.e. close to the exact
//! minimiser; attack.md §4.5 recommends minimising J exactly rather than replaying SciPy's
//! iterates, which are not specified. Held-out predictions can therefore differ from the
//! reference only for a test sample within rounding distance of the decision threshold.

use std::fmt;

/// Inverse regularisation strength; `LogisticRegression()` default (§4).
const C: f64 = 1.0;
/// Newton iteration cap; the exact solve takes 5–15 steps (§4.5), so this only bounds
/// pathological inputs.
const MAX_NEWTON: usize = 200;

/// Why a fit is refused (scikit-learn raises in these cases, §4.1).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LogisticError {
    /// `x` and `y` differ in length.
    LengthMismatch { x: usize, y: usize },
    /// A feature value is NaN or ±∞.
    NonFinite,
    /// The training labels contain only one class.
    OneClass,
}

impl fmt::Display for LogisticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch { x, y } => {
                write!(f, "feature has {x} samples but labels have {y}")
            }
            Self::NonFinite => write!(f, "feature contains NaN or infinity"),
            Self::OneClass => write!(f, "training labels contain a single class; need two"),
        }
    }
}

impl std::error::Error for LogisticError {}

/// A fitted one-feature binary logistic regression (`coef_[0][0]`, `intercept_[0]`).
///
/// Labels are booleans: `true` is `classes[1]`, the positive class (in the MIA the held-out
/// reference block, label 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LogisticFit {
    pub coef: f64,
    pub intercept: f64,
    /// Newton steps taken (not comparable with scikit-learn's L-BFGS-B `n_iter_`).
    pub n_iter: usize,
}

/// `log(1 + e^z)` without overflow or cancellation.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// The logistic function `1 / (1 + e^−z)`, computed on the side that cannot overflow.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Compensated (Neumaier) running sum: the gradient at the optimum is a difference of large
/// terms, and summation error there would move the "exact" optimum by more than rounding.
#[derive(Clone, Copy, Default)]
struct Acc {
    sum: f64,
    comp: f64,
}

impl Acc {
    fn add(&mut self, v: f64) {
        let t = self.sum + v;
        if self.sum.abs() >= v.abs() {
            self.comp += (self.sum - t) + v;
        } else {
            self.comp += (v - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(self) -> f64 {
        self.sum + self.comp
    }
}

/// The scikit-learn objective J(w, b) = C·Σ ℓ(tᵢ, w·xᵢ + b) + ½w² (§4.2; the intercept is not
/// penalised).
#[cfg(test)]
pub(crate) fn objective(x: &[f64], y: &[bool], coef: f64, intercept: f64) -> f64 {
    let mut acc = Acc::default();
    for (&xi, &yi) in x.iter().zip(y) {
        let z = xi * coef + intercept;
        // ℓ(t, z) = log(1 + e^z) − t·z = softplus(z) for t = 0 and softplus(−z) for t = 1.
        acc.add(if yi { softplus(-z) } else { softplus(z) });
    }
    C * acc.value() + 0.5 * coef * coef
}

/// Objective, gradient and Hessian in the centred parametrisation z = w·(x − x̄) + a.
///
/// Centring only shifts the unpenalised intercept (b = a − w·x̄), so the minimiser is the same;
/// it keeps the 2×2 Hessian well conditioned when the feature has a large mean.
struct Derivs {
    f: f64,
    gw: f64,
    ga: f64,
    hww: f64,
    hwa: f64,
    haa: f64,
}

fn centred_derivs(xc: &[f64], y: &[bool], w: f64, a: f64) -> Derivs {
    let (mut f, mut gw, mut ga) = (Acc::default(), Acc::default(), Acc::default());
    let (mut hww, mut hwa, mut haa) = (Acc::default(), Acc::default(), Acc::default());
    for (&xi, &yi) in xc.iter().zip(y) {
        let z = w * xi + a;
        // r = σ(z) − t, formed without cancellation: for t = 1 it is −σ(−z).
        let (loss, r) = if yi { (softplus(-z), -sigmoid(-z)) } else { (softplus(z), sigmoid(z)) };
        let s = sigmoid(z) * sigmoid(-z);
        f.add(loss);
        gw.add(r * xi);
        ga.add(r);
        hww.add(s * xi * xi);
        hwa.add(s * xi);
        haa.add(s);
    }
    Derivs {
        f: C * f.value() + 0.5 * w * w,
        gw: C * gw.value() + w,
        ga: C * ga.value(),
        hww: C * hww.value() + 1.0,
        hwa: C * hwa.value(),
        haa: C * haa.value(),
    }
}

fn centred_objective(xc: &[f64], y: &[bool], w: f64, a: f64) -> f64 {
    let mut acc = Acc::default();
    for (&xi, &yi) in xc.iter().zip(y) {
        let z = w * xi + a;
        acc.add(if yi { softplus(-z) } else { softplus(z) });
    }
    C * acc.value() + 0.5 * w * w
}

impl LogisticFit {
    /// Fits `LogisticRegression()` (L2, C = 1, intercept) to the exact optimum of J (§4.2, §4.5).
    ///
    /// Damped Newton from (0, 0): full Newton steps once the Newton decrement is at rounding
    /// level, Armijo backtracking before that, and a gradient step should the Hessian ever fail
    /// to be positive definite numerically. A constant feature has the closed-form optimum
    /// w = 0, b = logit(share of positives) (§4.5).
    pub(crate) fn fit(x: &[f64], y: &[bool]) -> Result<Self, LogisticError> {
        if x.len() != y.len() {
            return Err(LogisticError::LengthMismatch { x: x.len(), y: y.len() });
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(LogisticError::NonFinite);
        }
        let n_pos = y.iter().filter(|&&t| t).count();
        let n_neg = y.len() - n_pos;
        if n_pos == 0 || n_neg == 0 {
            return Err(LogisticError::OneClass);
        }
        let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if lo == hi {
            return Ok(Self { coef: 0.0, intercept: (n_pos as f64 / n_neg as f64).ln(), n_iter: 0 });
        }

        let mean = {
            let mut acc = Acc::default();
            x.iter().for_each(|&v| acc.add(v));
            acc.value() / x.len() as f64
        };
        let xc: Vec<f64> = x.iter().map(|&v| v - mean).collect();

        // Start at (w, b) = (0, 0) as scikit-learn does: a = b + w·x̄ = 0.
        let (mut w, mut a) = (0.0f64, 0.0f64);
        let mut n_iter = 0;
        while n_iter < MAX_NEWTON {
            let d = centred_derivs(&xc, y, w, a);
            let det = d.hww * d.haa - d.hwa * d.hwa;
            let (mut dw, mut da) = if det > 0.0 && det.is_finite() {
                (-(d.haa * d.gw - d.hwa * d.ga) / det, -(d.hww * d.ga - d.hwa * d.gw) / det)
            } else {
                (-d.gw, -d.ga)
            };
            let slope = d.gw * dw + d.ga * da;
            if slope.is_nan() || slope >= 0.0 {
                // Zero gradient (or no descent direction left at rounding level): optimum.
                break;
            }
            n_iter += 1;
            // −slope is the squared Newton decrement ≈ 2·(J − J*): tiny means the quadratic
            // model is exact to rounding, and an Armijo test would only compare noise.
            if -slope > 1e-10 * (1.0 + d.f.abs()) {
                let mut t = 1.0;
                loop {
                    let f_new = centred_objective(&xc, y, w + t * dw, a + t * da);
                    if f_new.is_finite() && f_new <= d.f + 1e-4 * t * slope {
                        break;
                    }
                    t *= 0.5;
                    if t < 1e-12 {
                        t = 0.0;
                        break;
                    }
                }
                if t == 0.0 {
                    break;
                }
                dw *= t;
                da *= t;
            }
            w += dw;
            a += da;
            // Converged once the step no longer moves the parameters, or once the decrement is
            // below what the compensated sums can resolve: further steps would only chase
            // rounding noise (seen with near-separable data, where Σsᵢ is tiny).
            let tiny = |step: f64, v: f64| step.abs() <= 1e-15 * (1.0 + v.abs());
            if (tiny(dw, w) && tiny(da, a)) || -slope <= 1e-30 * (1.0 + d.f.abs()) {
                break;
            }
        }
        Ok(Self { coef: w, intercept: a - w * mean, n_iter })
    }

    /// `decision_function`: x·w + b in float64 (§4.4).
    pub(crate) fn decision(&self, x: f64) -> f64 {
        x * self.coef + self.intercept
    }

    /// `predict`: the positive class exactly when the decision is **> 0** (d = 0 → classes[0]).
    pub(crate) fn predict(&self, x: f64) -> bool {
        self.decision(x) > 0.0
    }

    /// `score`: share of correct predictions, one float64 division (attack.md §5).
    ///
    /// Returns NaN for an empty sample, which scikit-learn would reject earlier.
    pub(crate) fn accuracy(&self, x: &[f64], y: &[bool]) -> f64 {
        let correct = x.iter().zip(y).filter(|(&xi, &yi)| self.predict(xi) == yi).count();
        correct as f64 / x.len().min(y.len()) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::stratified::StratifiedShuffleSplit;

    fn vectors() -> serde_json::Value {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/attack.json"));
        serde_json::from_str(text).expect("attack.json parses")
    }

    fn floats(v: &serde_json::Value) -> Vec<f64> {
        v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
    }

    fn num(v: &serde_json::Value) -> f64 {
        v.as_f64().expect("number")
    }

    /// `(x, y)` in the attack.json layout: class 0 block, then class 1 block.
    fn layout(case: &serde_json::Value) -> (Vec<f64>, Vec<bool>) {
        let c0 = floats(&case["class0"]);
        let c1 = floats(&case["class1"]);
        let y = c0.iter().map(|_| false).chain(c1.iter().map(|_| true)).collect();
        (c0.into_iter().chain(c1).collect(), y)
    }

    fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
        assert!((got - want).abs() <= rel * want.abs().max(1.0), "{what}: got {got}, want {want}");
    }

    #[test]
    fn full_fits_match_exact_optimum() {
        let v = vectors();
        for name in ["dataset_a", "same_distribution", "separable"] {
            let case = &v[name];
            let (x, y) = layout(case);
            let fit = LogisticFit::fit(&x, &y).expect("fit");
            let want = &case["full_fit"]["exact_optimum"];
            assert_close(fit.coef, num(&want["coef"]), 1e-12, name);
            assert_close(fit.intercept, num(&want["intercept"]), 1e-12, name);
            let j = objective(&x, &y, fit.coef, fit.intercept);
            assert_close(j, num(&want["objective"]), 1e-13, name);
            // The reference's own (1.2.2) iterate is no better than the exact optimum.
            let r = &case["full_fit"]["sklearn_1_2_2"];
            assert!(j <= objective(&x, &y, num(&r["coef"]), num(&r["intercept"])));
            assert_eq!(fit.accuracy(&x, &y), num(&want["train_accuracy"]), "{name} train accuracy");
            assert!(fit.n_iter >= 2 && fit.n_iter < 30, "{name}: {}", fit.n_iter);
        }
    }

    #[test]
    fn per_split_fits_and_heldout_accuracies_match() {
        let v = vectors();
        let sss = StratifiedShuffleSplit::reference_mia();
        for name in ["dataset_a", "same_distribution", "separable"] {
            let case = &v[name];
            let (x, y) = layout(case);
            let splits = sss.split(&y).expect("split");
            let want = case["stratified_shuffle_split"]["splits"].as_array().expect("splits");
            assert_eq!(splits.len(), want.len());
            for (s, (sp, w)) in splits.iter().zip(want).enumerate() {
                let xt: Vec<f64> = sp.train.iter().map(|&i| x[i]).collect();
                let yt: Vec<bool> = sp.train.iter().map(|&i| y[i]).collect();
                let fit = LogisticFit::fit(&xt, &yt).expect("fit");
                let opt = &w["fit"]["exact_optimum"];
                let what = format!("{name} split {s}");
                assert_close(fit.coef, num(&opt["coef"]), 1e-12, &what);
                assert_close(fit.intercept, num(&opt["intercept"]), 1e-12, &what);
                let xs: Vec<f64> = sp.test.iter().map(|&i| x[i]).collect();
                let ys: Vec<bool> = sp.test.iter().map(|&i| y[i]).collect();
                let acc = fit.accuracy(&xs, &ys);
                assert_eq!(acc, num(&w["heldout_accuracy"]["exact_optimum"]), "{what}");
                assert_eq!(acc, num(&w["heldout_accuracy"]["sklearn_1_2_2"]), "{what}");
            }
        }
    }

    #[test]
    fn constant_feature_gives_logit_intercept() {
        let x = [0.7; 6];
        let y = [false, false, false, false, true, true];
        let fit = LogisticFit::fit(&x, &y).expect("fit");
        assert_eq!(fit.coef, 0.0);
        assert_close(fit.intercept, (2.0f64 / 4.0).ln(), 1e-15, "intercept");
        assert!(!fit.predict(0.7));
        // Balanced: b = 0, and d = 0 predicts classes[0].
        let fit = LogisticFit::fit(&[3.0; 4], &[true, false, true, false]).expect("fit");
        assert_eq!((fit.coef, fit.intercept), (0.0, 0.0));
        assert!(!fit.predict(3.0));
        assert_eq!(fit.accuracy(&[3.0; 4], &[true, false, true, false]), 0.5);
    }

    #[test]
    fn large_offset_feature_is_shift_invariant() {
        // Shifting x by a constant only moves the unpenalised intercept: b' = b − w·shift.
        let base: Vec<f64> = (0..200).map(|i| f64::from(i % 17) * 0.01).collect();
        let y: Vec<bool> = (0..200).map(|i| (i % 17) + (i % 3) > 9).collect();
        let shifted: Vec<f64> = base.iter().map(|v| v + 1.0e4).collect();
        let a = LogisticFit::fit(&base, &y).expect("fit");
        let b = LogisticFit::fit(&shifted, &y).expect("fit");
        assert!(a.coef > 1.0, "non-trivial slope: {}", a.coef);
        assert_close(b.coef, a.coef, 1e-9, "coef");
        assert_close(b.intercept + b.coef * 1.0e4, a.intercept, 1e-7, "intercept");
    }

    /// ∂J/∂w and ∂J/∂b at a fit (§4.2), summed with compensation.
    fn gradient(x: &[f64], y: &[bool], fit: &LogisticFit) -> (f64, f64) {
        let (mut gw, mut gb) = (Acc::default(), Acc::default());
        for (&xi, &yi) in x.iter().zip(y) {
            let r = sigmoid(fit.decision(xi)) - if yi { 1.0 } else { 0.0 };
            gw.add(r * xi);
            gb.add(r);
        }
        (C * gw.value() + fit.coef, C * gb.value())
    }

    #[test]
    fn benchmark_size_heavy_tailed_losses_reach_a_stationary_point() {
        // 7 650 training losses as in a CIFAR MIA split: near-zero forget losses against
        // exponential held-out losses with a few very large values.
        let mut rng = crate::stats::mt19937::Mt19937::new(7);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for k in 0..7_650 {
            let u = 1.0 - rng.random_sample();
            let positive = k % 2 == 1;
            let scale = if positive { 1.5 } else { 0.05 };
            let tail = if k % 997 == 0 { 40.0 } else { 1.0 };
            x.push(-u.ln() * scale * tail);
            y.push(positive);
        }
        let fit = LogisticFit::fit(&x, &y).expect("fit");
        assert!(fit.n_iter < 40, "{} Newton steps", fit.n_iter);
        let (gw, gb) = gradient(&x, &y, &fit);
        // scikit-learn 1.2.2 stops at |∂J|∞ ≤ 1e-4; the exact fit is far inside that.
        assert!(gw.abs() < 1e-8 && gb.abs() < 1e-8, "gradient ({gw}, {gb})");
        assert!(fit.coef > 0.0 && fit.accuracy(&x, &y) > 0.7);
    }

    #[test]
    fn separated_classes_get_a_finite_fit() {
        let x = [0.0, 0.1, 0.2, 100.0, 100.1, 100.2];
        let y = [false, false, false, true, true, true];
        let fit = LogisticFit::fit(&x, &y).expect("fit");
        assert!(fit.coef.is_finite() && fit.intercept.is_finite());
        assert_eq!(fit.accuracy(&x, &y), 1.0);
        let (gw, gb) = gradient(&x, &y, &fit);
        assert!(gw.abs() < 1e-10 && gb.abs() < 1e-10, "gradient ({gw}, {gb})");
    }

    #[test]
    fn far_separated_classes_stop_at_rounding_level() {
        // Σsᵢ is ~1e-4 here, so the intercept's Newton steps bottom out in rounding noise well
        // above 1e-15 relative; the decrement test must stop the iteration anyway.
        let mut rng = crate::stats::mt19937::Mt19937::new(1);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for k in 0..7_650 {
            let positive = k % 2 == 0;
            x.push(rng.random_sample() * 100.0 + if positive { 1_000.0 } else { 0.0 });
            y.push(positive);
        }
        let fit = LogisticFit::fit(&x, &y).expect("fit");
        assert!(fit.n_iter < 50, "{} Newton steps", fit.n_iter);
        assert_eq!(fit.accuracy(&x, &y), 1.0);
        let (gw, gb) = gradient(&x, &y, &fit);
        assert!(gw.abs() < 1e-9 && gb.abs() < 1e-9, "gradient ({gw}, {gb})");
    }

    #[test]
    fn refuses_invalid_input() {
        assert_eq!(LogisticFit::fit(&[1.0, f64::NAN], &[false, true]), Err(LogisticError::NonFinite));
        assert_eq!(LogisticFit::fit(&[1.0, f64::INFINITY], &[false, true]), Err(LogisticError::NonFinite));
        assert_eq!(LogisticFit::fit(&[1.0, 2.0], &[true, true]), Err(LogisticError::OneClass));
        assert_eq!(LogisticFit::fit(&[1.0], &[true, false]), Err(LogisticError::LengthMismatch { x: 1, y: 2 }));
    }

    #[test]
    fn prediction_threshold_is_strict() {
        let fit = LogisticFit { coef: 2.0, intercept: -1.0, n_iter: 0 };
        assert!(!fit.predict(0.5));
        assert!(fit.predict(0.500_000_1));
        assert_eq!(fit.decision(0.0), -1.0);
    }
}
