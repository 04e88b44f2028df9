//! The standard normal distribution's special functions and the truncated normal built on them,
//! as the TPE sampler's Parzen estimators need them (search.md §5): Φ, log Φ, the inverse of
//! log Φ, the log mass of an interval, and the quantile and log density of a truncated normal.
//!
//! The formulas are SciPy's `ndtr`, `log_ndtr` and `ndtri_exp` as Optuna 3.6's
//! `samplers/_tpe/_truncnorm.py` ports them (including its asymptotic series for log Φ below
//! −20), with `erf`/`erfc` from the `libm` crate (FreeBSD's, as Python's `math.erf` on most
//! platforms). Not verified bit for bit against Optuna: `ndtri_exp` is solved here by Newton's
//! method from the Abramowitz–Stegun 26.2.23 start to ~1e-15 relative, where Optuna's own
//! solver agrees to about 1e-8 relative, so quantiles may differ in their last digits.

use libm::{erf, erfc};

/// ln √(2π).
const LOG_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Φ(a), the standard normal distribution function (SciPy `ndtr`).
pub(crate) fn ndtr(a: f64) -> f64 {
    let x = a / std::f64::consts::SQRT_2;
    let z = x.abs();
    if z < std::f64::consts::FRAC_1_SQRT_2 {
        0.5 + 0.5 * erf(x)
    } else {
        let y = 0.5 * erfc(z);
        if x > 0.0 {
            1.0 - y
        } else {
            y
        }
    }
}

/// log Φ(a), with Optuna's asymptotic series below −20.
pub(crate) fn log_ndtr(a: f64) -> f64 {
    if a > 6.0 {
        return -ndtr(-a);
    }
    if a > -20.0 {
        return ndtr(a).ln();
    }
    let log_lhs = -0.5 * a * a - (-a).ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let (mut last, mut rhs, mut numerator, mut denom_factor) = (0.0f64, 1.0f64, 1.0f64, 1.0f64);
    let denom_cons = 1.0 / (a * a);
    let mut sign = 1.0;
    let mut i = 0.0;
    while (last - rhs).abs() > f64::EPSILON {
        i += 1.0;
        last = rhs;
        sign = -sign;
        denom_factor *= denom_cons;
        numerator *= 2.0 * i - 1.0;
        rhs += sign * numerator * denom_factor;
    }
    log_lhs + rhs.ln()
}

/// log(p − q) from log p and log q.
fn log_diff(log_p: f64, log_q: f64) -> f64 {
    log_p + (-(log_q - log_p).exp()).ln_1p()
}

/// log(p + q) from log p and log q (`np.logaddexp`).
fn log_sum(log_p: f64, log_q: f64) -> f64 {
    let max = log_p.max(log_q);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + (-(log_p - log_q).abs()).exp().ln_1p()
}

/// log(Φ(b) − Φ(a)), worked in the left tail.
pub(crate) fn log_gauss_mass(a: f64, b: f64) -> f64 {
    if b <= 0.0 {
        log_diff(log_ndtr(b), log_ndtr(a))
    } else if a > 0.0 {
        log_diff(log_ndtr(-a), log_ndtr(-b))
    } else {
        (-ndtr(a) - ndtr(-b)).ln_1p()
    }
}

/// x with log Φ(x) = y *(choice: Newton from the Abramowitz–Stegun 26.2.23 start)*.
pub(crate) fn ndtri_exp(y: f64) -> f64 {
    if y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if y >= 0.0 {
        return f64::INFINITY;
    }
    // Near Φ = 1 solve for the mirrored point: log Φ(−x) = log(1 − e^y).
    let flipped = y > -1e-2;
    let z = if flipped { (-y.exp_m1()).ln() } else { y };
    let start = |t: f64| {
        t - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
            / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t)
    };
    let mut x = if z <= -std::f64::consts::LN_2 {
        -start((-2.0 * z).sqrt())
    } else {
        start((-2.0 * (-z.exp_m1()).ln()).sqrt())
    };
    for _ in 0..100 {
        let l = log_ndtr(x);
        let log_pdf = -0.5 * x * x - LOG_SQRT_2PI;
        let dx = (l - z) * (l - log_pdf).exp();
        x -= dx;
        if dx.abs() <= 1e-15 * (1.0 + x.abs()) || !dx.is_finite() {
            break;
        }
    }
    if flipped {
        -x
    } else {
        x
    }
}

/// Quantile q of the standard normal truncated to [a, b] (Optuna `_truncnorm.ppf`).
pub(crate) fn ppf(q: f64, a: f64, b: f64) -> f64 {
    if a == b {
        return f64::NAN;
    }
    if q == 0.0 {
        return a;
    }
    if q == 1.0 {
        return b;
    }
    let mass = log_gauss_mass(a, b);
    if a < 0.0 {
        ndtri_exp(log_sum(log_ndtr(a), q.ln() + mass))
    } else {
        -ndtri_exp(log_sum(log_ndtr(-b), (-q).ln_1p() + mass))
    }
}

/// Log density at x of N(mu, sigma²) truncated to [low, high]; `mass` = log_gauss_mass(a, b).
pub(crate) fn truncnorm_logpdf(x: f64, mu: f64, sigma: f64, low: f64, high: f64, mass: f64) -> f64 {
    let (a, b) = ((low - mu) / sigma, (high - mu) / sigma);
    let z = (x - mu) / sigma;
    if z < a || z > b {
        return f64::NEG_INFINITY;
    }
    -0.5 * z * z - LOG_SQRT_2PI - mass - sigma.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_normal_quantiles() {
        for &(a, b) in &[(-1.0, 1.0), (-30.0, -25.0), (0.5, 40.0), (-3.0, 0.2), (-0.01, 0.01)] {
            let mass = ndtr(b) - ndtr(a);
            for &q in &[1e-9, 0.01, 0.3, 0.5, 0.77, 0.999] {
                let x = ppf(q, a, b);
                assert!(a <= x && x <= b, "{a} {b} {q} {x}");
                if mass > 1e-6 {
                    assert!(((ndtr(x) - ndtr(a)) / mass - q).abs() < 1e-9, "{a} {b} {q} {x}");
                }
            }
        }
        assert!(ppf(0.5, -1.0, 1.0).abs() < 1e-15);
        assert!((ndtri_exp(0.975f64.ln()) - 1.959_963_984_540_054).abs() < 1e-12);
    }
}
