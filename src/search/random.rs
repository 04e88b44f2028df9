//! Optuna's `RandomSampler` draw for one parameter (search.md §3.2, §6): the prior used for the
//! whole first NSGA-III generation, mutated parameters, and the plain `random` sampler.

use super::space::Dist;
use crate::stats::mt19937::Mt19937;

/// Draws one value of `dist` from `rng` (NumPy legacy `RandomState`, §2).
///
/// Builds the transformed columns of this single distribution, draws `uniform(lo, hi)` =
/// `lo + (hi − lo)·u()` per column in order and maps back (§3.1): one `u()` for a float or an
/// int, `k` for a k-way categorical (the first largest of the k uniforms picks the choice).
/// A single-valued distribution returns its value and consumes nothing (the samplers never ask
/// for one: Optuna answers those without the sampler).
pub(crate) fn sample_prior(rng: &mut Mt19937, dist: &Dist) -> f64 {
    if let Some(v) = dist.single() {
        return v;
    }
    match dist {
        Dist::Categorical(choices) => {
            // Columns bounded [0, 1]: 0 + (1 − 0)·u = u exactly. `argmax`: first maximum.
            let mut best = 0;
            let mut best_u = f64::NEG_INFINITY;
            for i in 0..choices.len() {
                let u = rng.random_sample();
                if u > best_u {
                    best = i;
                    best_u = u;
                }
            }
            choices[best]
        }
        _ => match dist.column_bounds() {
            Some((lo, hi)) => {
                let range = hi - lo;
                dist.untransform(lo + range * rng.random_sample())
            }
            // Unreachable: only categoricals lack a numerical column, handled above.
            None => f64::NAN,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_counts_follow_the_columns() {
        let mut rng = Mt19937::new(0);
        let _ = sample_prior(&mut rng, &Dist::Float { low: 1e-5, high: 0.1, log: true });
        assert_eq!(rng.draws(), 2);
        let _ = sample_prior(&mut rng, &Dist::Categorical(vec![64.0, 128.0, 256.0]));
        assert_eq!(rng.draws(), 8);
        let _ = sample_prior(&mut rng, &Dist::Int { low: 1, high: 37, log: false, step: 1 });
        assert_eq!(rng.draws(), 10);
        assert_eq!(sample_prior(&mut rng, &Dist::Float { low: 0.9, high: 0.9, log: false }), 0.9);
        assert_eq!(rng.draws(), 10);
    }

    #[test]
    fn values_stay_in_range() {
        let mut rng = Mt19937::new(7);
        let dists = [
            Dist::Float { low: 0.0, high: 5.0, log: false },
            Dist::Float { low: 1e-6, high: 1e-1, log: true },
            Dist::Int { low: 1, high: 10, log: true, step: 1 },
            Dist::Int { low: 0, high: 20, log: false, step: 4 },
        ];
        for _ in 0..500 {
            for d in &dists {
                let v = sample_prior(&mut rng, d);
                assert!(d.contains(v), "{v} not in {d:?}");
            }
        }
    }
}
