//! Aggregation over seeds (evaluation.md §6): mean, sample standard deviation and the 95 %
//! Student-t confidence half-width, with NumPy's summation order so means agree with a NumPy or
//! pandas post-processing of the same numbers to the last bit.

use serde::Serialize;

/// Mean, spread and 95 % confidence half-width of a sample.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub(crate) struct Summary {
    /// Sample size.
    pub n: usize,
    /// Arithmetic mean (`np.mean`); NaN when n = 0.
    pub mean: f64,
    /// Sample standard deviation (`np.std(ddof=1)`); 0 when n = 1, NaN when n = 0.
    pub std: f64,
    /// Half-width of the two-sided 95 % t interval, t₀.₉₇₅,ₙ₋₁ · std / √n; 0 when n = 1, NaN
    /// when n = 0.
    pub ci95: f64,
}

/// NumPy's `np.sum` order for a contiguous float64 vector: pairwise summation whose leaves (up to
/// 128 elements) are summed 8-way unrolled. For 10 values this is
/// ((s₀+s₁)+(s₂+s₃))+((s₄+s₅)+(s₆+s₇)), then + s₈, + s₉ (attack.md §6 step 6).
pub(crate) fn numpy_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in values {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let full = n - n % 8;
        for block in values[8..full].chunks_exact(8) {
            for (rj, &v) in r.iter_mut().zip(block) {
                *rj += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &values[full..] {
            res += v;
        }
        res
    } else {
        // NumPy splits at a multiple of 8 below the midpoint.
        let mut half = n / 2;
        half -= half % 8;
        numpy_sum(&values[..half]) + numpy_sum(&values[half..])
    }
}

/// `np.mean` of a float64 vector: [`numpy_sum`] / n (NaN for an empty vector, as NumPy).
pub(crate) fn numpy_mean(values: &[f64]) -> f64 {
    numpy_sum(values) / values.len() as f64
}

/// P(|T| ≤ t) for Student's t with `df` ≥ 1 degrees of freedom, as a function of
/// θ = atan(t / √df), by the finite closed-form series for integer df (Abramowitz & Stegun
/// 26.7.3–26.7.4). Increasing in θ on [0, π/2].
fn t_central_prob(theta: f64, df: u64) -> f64 {
    let (s, c) = theta.sin_cos();
    let c2 = c * c;
    if df % 2 == 1 {
        // (2/π)·(θ + sinθ·(cosθ + (2/3)cos³θ + … + (2·4⋯(df−3))/(1·3⋯(df−2))·cos^(df−2)θ))
        let mut term = c;
        let mut sum = 0.0;
        if df > 1 {
            sum = term;
            for k in 1..(df - 1) / 2 {
                term *= (2 * k) as f64 / (2 * k + 1) as f64 * c2;
                sum += term;
            }
        }
        std::f64::consts::FRAC_2_PI * (theta + s * sum)
    } else {
        // sinθ·(1 + (1/2)cos²θ + (1·3)/(2·4)·cos⁴θ + … + (1·3⋯(df−3))/(2·4⋯(df−2))·cos^(df−2)θ)
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..df / 2 {
            term *= (2 * k - 1) as f64 / (2 * k) as f64 * c2;
            sum += term;
        }
        s * sum
    }
}

/// Above this many degrees of freedom the Cornish–Fisher expansion is used; its error there is
/// far below 1e-10 and the series above would cost O(df) per evaluation.
const CORNISH_FISHER_DF: u64 = 1000;

/// The two-sided 95 % critical value t₀.₉₇₅,df of Student's t (`scipy.stats.t.ppf(0.975, df)`).
///
/// Exact series inverted by bisection for df ≤ 1000 (to double precision), the Cornish–Fisher
/// expansion around z₀.₉₇₅ beyond; NaN for df = 0.
pub(crate) fn t_quantile_975(df: u64) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if df > CORNISH_FISHER_DF {
        let z: f64 = 1.959_963_984_540_054;
        let v = df as f64;
        let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
        return z
            + (z3 + z) / (4.0 * v)
            + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
            + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v.powi(3))
            + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92_160.0 * v.powi(4));
    }
    let (mut lo, mut hi) = (0.0f64, std::f64::consts::FRAC_PI_2);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if t_central_prob(mid, df) < 0.95 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (df as f64).sqrt() * (0.5 * (lo + hi)).tan()
}

/// Summary statistics of `values` (one entry per seed, evaluation.md §6).
pub(crate) fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    let mean = numpy_mean(values);
    let (std, ci95) = match n {
        0 => (f64::NAN, f64::NAN),
        1 => (0.0, 0.0),
        _ => {
            let sq: Vec<f64> = values.iter().map(|v| (v - mean) * (v - mean)).collect();
            let std = (numpy_sum(&sq) / (n - 1) as f64).sqrt();
            let ci = t_quantile_975(n as u64 - 1) * std / (n as f64).sqrt();
            (std, ci)
        }
    };
    Summary { n, mean, std, ci95 }
}

/// Whether two intervals given as (centre, half-width) overlap, touching included:
/// |c₁ − c₂| ≤ h₁ + h₂. False when anything is NaN (an undefined interval overlaps nothing).
pub(crate) fn intervals_overlap(a: (f64, f64), b: (f64, f64)) -> bool {
    (a.0 - b.0).abs() <= a.1 + b.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // t₀.₉₇₅,df: closed forms for df 1 and 2 (tan(0.475π), 0.95/√0.04875); the rest checked
        // by Simpson integration of the t density to 1e-11.
        let known = [
            (1, 12.706_204_736_17),
            (2, 4.302_652_729_75),
            (3, 3.182_446_305_28),
            (4, 2.776_445_105_20),
            (5, 2.570_581_835_64),
            (9, 2.262_157_162_80),
            (10, 2.228_138_851_99),
            (29, 2.045_229_642_13),
            (30, 2.042_272_456_30),
            (100, 1.983_971_518_52),
            (1000, 1.962_339_080_83),
        ];
        for (df, want) in known {
            let got = t_quantile_975(df);
            assert!((got - want).abs() < 1e-10, "df {df}: {got} vs {want}");
        }
        // Both branches agree at the switch-over and tend to the normal quantile.
        let below = t_quantile_975(CORNISH_FISHER_DF);
        let above = t_quantile_975(CORNISH_FISHER_DF + 1);
        assert!(below > above && below - above < 1e-5);
        assert!((t_quantile_975(10_000_000) - 1.959_963_984_540_054).abs() < 1e-6);
        assert!(t_quantile_975(0).is_nan());
    }

    #[test]
    fn summary_of_ten_seeds() {
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(s.n, 10);
        assert_eq!(s.mean, 5.5);
        // Σ(x − 5.5)² = 82.5, / 9 → std = √9.1666…
        assert!((s.std - 3.027_650_354_097_491_7).abs() < 1e-14);
        // t₀.₉₇₅,₉ · std / √10 = 2.26215716280 · 3.02765035410 / 3.16227766017
        assert!((s.ci95 - 2.165_850_589_67).abs() < 1e-10, "{}", s.ci95);
    }

    #[test]
    fn summary_edge_cases() {
        let empty = summarize(&[]);
        assert_eq!(empty.n, 0);
        assert!(empty.mean.is_nan() && empty.std.is_nan() && empty.ci95.is_nan());
        let one = summarize(&[0.25]);
        assert_eq!((one.n, one.mean, one.std, one.ci95), (1, 0.25, 0.0, 0.0));
        let two = summarize(&[1.0, 3.0]);
        assert_eq!(two.mean, 2.0);
        assert!((two.std - std::f64::consts::SQRT_2).abs() < 1e-15);
        // 12.7062… · √2 / √2
        assert!((two.ci95 - 12.706_204_736_17).abs() < 1e-10);
        let constant = summarize(&[0.7; 5]);
        assert_eq!((constant.std, constant.ci95), (0.0, 0.0));
        assert!(summarize(&[1.0, f64::NAN]).mean.is_nan());
    }

    #[test]
    fn overlapping_intervals() {
        assert!(intervals_overlap((1.0, 0.5), (1.8, 0.3)));
        assert!(intervals_overlap((1.0, 0.5), (2.0, 0.5)), "touching counts");
        assert!(!intervals_overlap((1.0, 0.1), (2.0, 0.5)));
        assert!(intervals_overlap((1.0, 0.0), (1.0, 0.0)));
        assert!(!intervals_overlap((1.0, f64::NAN), (1.0, 0.5)));
        assert!(!intervals_overlap((f64::NAN, 0.1), (1.0, 0.5)));
    }

    #[test]
    fn numpy_sum_order() {
        // Ten values: ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7)), then + s8 + s9.
        let s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
        let want = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + s[8] + s[9];
        assert_eq!(numpy_sum(&s).to_bits(), want.to_bits());
        assert_eq!(numpy_mean(&s), want / 10.0);
        // Sixteen values: two unrolled passes, lane j accumulates s[j] + s[j + 8].
        let t: Vec<f64> = (0..16).map(|i| 0.1 * f64::from(i)).collect();
        let lanes: Vec<f64> = (0..8).map(|j| t[j] + t[j + 8]).collect();
        let want = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        assert_eq!(numpy_sum(&t).to_bits(), want.to_bits());
        assert_eq!(numpy_sum(&[1.0, 2.0, 3.0]), 6.0);
        assert!(numpy_mean(&[]).is_nan());
        // Above 128 elements the sum splits at a multiple of 8 below the midpoint.
        let big: Vec<f64> = (0..300).map(|i| 0.1 * f64::from(i)).collect();
        let want = numpy_sum(&big[..144]) + numpy_sum(&big[144..]);
        assert_eq!(numpy_sum(&big).to_bits(), want.to_bits());
    }
}
