//! NSGA-III survival: the elite population of a generation (search.md §4.6) — non-dominated
//! sorting, normalisation, Das–Dennis reference points, association and Optuna's niching.
//!
//! Every random choice (the niching shuffles) comes from the GA stream R_ga, in Optuna's order,
//! so that a replay reproduces Optuna's elite lists and the stream position after them.

use super::dominance::fronts;
use super::linalg::{matrix_rank, solve};
use crate::stats::mt19937::Mt19937;
use crate::stats::shuffle::Shuffle;

/// Replacement of ±∞ by `max ± 3·span` of the finite entries (§4.6.3 step 1).
const INF_COEF: f64 = 3.0;
/// Off-diagonal weight of the achievement scalarising function (§4.6.3 step 3).
const ASF_WEIGHT: f64 = 1e6;

/// Das–Dennis points (§4.6.4): every multiset of size `h` over the objective indices
/// `0..m`, in Python's `combinations_with_replacement` (lexicographic) order; a point counts
/// each index. They are **not** divided by `h` (only their directions matter).
pub(crate) fn reference_points(m: usize, h: usize) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    if m == 0 {
        return out;
    }
    let mut combo = vec![0usize; h];
    loop {
        let mut point = vec![0.0; m];
        for &i in &combo {
            point[i] += 1.0;
        }
        out.push(point);
        let Some(pos) = combo.iter().rposition(|&i| i + 1 < m) else { break };
        let v = combo[pos] + 1;
        for c in &mut combo[pos..] {
            *c = v;
        }
    }
    out
}

/// NumPy-style maximum that propagates NaN.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// NumPy-style minimum that propagates NaN.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// NumPy's `argmin`: the first NaN if any, else the first smallest value.
fn argmin(xs: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x.is_nan() {
            return i;
        }
        if x < xs[best] {
            best = i;
        }
    }
    best
}

/// Normalised objective vectors of `rows` (§4.6.3): ±∞ replaced, ideal point subtracted,
/// intercepts from the extreme points (or the column maxima when those are degenerate).
///
/// **[QUIRK]** negative or huge intercept inverses from a degenerate but full-rank extreme
/// matrix are used as they are; an objective with no finite entry becomes NaN, as in Optuna.
pub(crate) fn normalize(rows: &[&[f64]]) -> Vec<Vec<f64>> {
    let m = rows.first().map_or(0, |r| r.len());
    let mut f: Vec<Vec<f64>> = rows.iter().map(|r| r.to_vec()).collect();
    // 1. Infinities.
    for j in 0..m {
        let finite = f.iter().map(|r| r[j]).filter(|x| x.is_finite());
        let (lo, hi) = finite.fold((f64::NAN, f64::NAN), |(lo, hi), x| {
            (if lo.is_nan() { x } else { lo.min(x) }, if hi.is_nan() { x } else { hi.max(x) })
        });
        let span = hi - lo;
        for r in &mut f {
            if r[j] == f64::INFINITY {
                r[j] = hi + INF_COEF * span;
            } else if r[j] == f64::NEG_INFINITY {
                r[j] = lo - INF_COEF * span;
            }
        }
    }
    // 2. Ideal point.
    for j in 0..m {
        let min = f.iter().map(|r| r[j]).fold(f64::INFINITY, nan_min);
        for r in &mut f {
            r[j] -= min;
        }
    }
    // 3. Extreme points: per axis d the row minimising max_m f_m · w_dm.
    let extreme: Vec<Vec<f64>> = (0..m)
        .map(|d| {
            let asf: Vec<f64> = f
                .iter()
                .map(|r| {
                    let w = |k: usize| if k == d { 1.0 } else { ASF_WEIGHT };
                    r.iter().enumerate().map(|(k, x)| x * w(k)).fold(f64::NEG_INFINITY, nan_max)
                })
                .collect();
            f[argmin(&asf)].clone()
        })
        .collect();
    // 4. Intercepts.
    let regular = extreme.iter().all(|r| r.iter().all(|x| x.is_finite())) && matrix_rank(&extreme) == m;
    let solved = if regular { solve(&extreme, &vec![1.0; m]) } else { None };
    let inv = solved.unwrap_or_else(|| {
        (0..m)
            .map(|j| {
                let max = f.iter().map(|r| r[j]).fold(f64::NEG_INFINITY, nan_max);
                // 3.x divides by zero (→ ∞ → 1 below), 4.0+ maps a zero maximum to 1: same result.
                1.0 / max
            })
            .collect()
    });
    let inv: Vec<f64> = inv.into_iter().map(|a| if a.is_finite() { a } else { 1.0 }).collect();
    // 5. Scale.
    for r in &mut f {
        for (x, a) in r.iter_mut().zip(&inv) {
            *x *= a;
        }
    }
    f
}

/// For each normalised vector: the index of the nearest reference line (lowest index on ties)
/// and the perpendicular distance to it (§4.6.5), with Optuna's arithmetic order:
/// `(Σ_i f_i·r_i·(1/‖r‖²))·r` with `‖r‖² = sqrt(Σ r²)²`, distance `sqrt(Σ (f − proj)²)`.
pub(crate) fn associate(f: &[Vec<f64>], refs: &[Vec<f64>]) -> Vec<(usize, f64)> {
    let inv_norm_sq: Vec<f64> = refs
        .iter()
        .map(|r| {
            let norm = r.iter().map(|x| x * x).sum::<f64>().sqrt();
            1.0 / (norm * norm)
        })
        .collect();
    f.iter()
        .map(|v| {
            let dist: Vec<f64> = refs
                .iter()
                .zip(&inv_norm_sq)
                .map(|(r, &inv)| {
                    let mut sq = 0.0;
                    for (k, &rk) in r.iter().enumerate() {
                        let mut proj = 0.0;
                        for (vi, ri) in v.iter().zip(r) {
                            proj += vi * ri * inv * rk;
                        }
                        let d = v[k] - proj;
                        sq += d * d;
                    }
                    f64::sqrt(sq)
                })
                .collect();
            let best = argmin(&dist);
            (best, dist.get(best).copied().unwrap_or(f64::NAN))
        })
        .collect()
}

/// Optuna's niching (§4.6.6): chooses `k` members of the last front. `assoc` holds the
/// association of E (the already selected elite, first `n_elite` entries) followed by the front.
/// Returns positions in the front, in selection order.
fn niche(k: usize, n_elite: usize, assoc: &[(usize, f64)], n_refs: usize, rng: &mut Mt19937) -> Vec<usize> {
    let mut elite_count = vec![0usize; n_refs];
    for &(r, _) in &assoc[..n_elite] {
        elite_count[r] += 1;
    }
    // B(r): (distance, position in front), in front order; reference points by first appearance.
    let mut members: Vec<Vec<(f64, usize)>> = vec![Vec::new(); n_refs];
    let mut order = Vec::new();
    for (pos, &(r, d)) in assoc[n_elite..].iter().enumerate() {
        if members[r].is_empty() {
            order.push(r);
        }
        members[r].push((d, pos));
    }
    // Buckets keyed by ρ(r), indexed from level −1 (slot 0) upwards.
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new()];
    let slot = |level: usize, buckets: &mut Vec<Vec<usize>>| {
        if buckets.len() <= level + 1 {
            buckets.resize(level + 2, Vec::new());
        }
    };
    for &r in &order {
        slot(elite_count[r], &mut buckets);
        buckets[elite_count[r] + 1].push(r);
    }
    let mut shuffled = vec![false; n_refs];
    let mut out = Vec::with_capacity(k);
    // `level` is c + 1 (c starts at −1).
    let mut level = 0usize;
    while out.len() < k {
        slot(level, &mut buckets);
        let Some(r) = buckets[level].pop() else {
            if level > n_refs + assoc.len() + 1 {
                // Cannot happen: the front holds at least k members. Keeps the loop total.
                break;
            }
            level += 1;
            slot(level, &mut buckets);
            rng.shuffle(&mut buckets[level]);
            continue;
        };
        // level 1 is c = 0 (level 0, c = −1, is always empty).
        if level == 1 {
            // Descending (distance, position): the last entry is the closest, smallest position.
            members[r].sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        } else if !shuffled[r] {
            rng.shuffle(&mut members[r]);
            shuffled[r] = true;
        }
        if let Some((_, pos)) = members[r].pop() {
            out.push(pos);
        }
        if !members[r].is_empty() {
            slot(level + 1, &mut buckets);
            buckets[level + 1].push(r);
        }
    }
    out
}

/// The elite of `population` (indices into it, in selection order; §4.6): fronts are appended
/// while `|E| + |front| < size`; the front that would reach `size` is niched.
///
/// **[QUIRK]** the test is strict: a front that fills E exactly still goes through niching and
/// consumes R_ga draws for its shuffles. Returns the whole population when it is not larger
/// than `size` and no front reaches it (cannot happen in a sequential study).
pub(crate) fn select(population: &[&[f64]], size: usize, refs: &[Vec<f64>], rng: &mut Mt19937) -> Vec<usize> {
    let mut elite: Vec<usize> = Vec::new();
    for front in fronts(population) {
        if elite.len() + front.len() < size {
            elite.extend(front);
            continue;
        }
        let rows: Vec<&[f64]> = elite.iter().chain(&front).map(|&i| population[i]).collect();
        let normalized = normalize(&rows);
        let assoc = associate(&normalized, refs);
        let chosen = niche(size - elite.len(), elite.len(), &assoc, refs.len(), rng);
        elite.extend(chosen.into_iter().map(|pos| front[pos]));
        break;
    }
    elite
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn das_dennis_counts_and_order() {
        assert_eq!(reference_points(2, 3), vec![vec![3.0, 0.0], vec![2.0, 1.0], vec![1.0, 2.0], vec![0.0, 3.0]]);
        assert_eq!(reference_points(3, 3).len(), 10);
        let four = reference_points(4, 3);
        assert_eq!(four.len(), 20);
        assert_eq!(four[5], vec![1.0, 1.0, 1.0, 0.0]);
        assert_eq!(four[19], vec![0.0, 0.0, 0.0, 3.0]);
    }

    #[test]
    fn infinities_are_replaced_before_normalising() {
        let a = [0.0, 1.0];
        let b = [1.0, 0.0];
        let c = [f64::INFINITY, 0.5];
        let n = normalize(&[&a, &b, &c]);
        // Objective 0: finite span [0, 1] → ∞ becomes 1 + 3·1 = 4, then scaled by its maximum.
        assert!(n.iter().flatten().all(|x| x.is_finite()));
        assert_eq!(n[2][0] / n[1][0], 4.0);
    }

    #[test]
    fn association_picks_the_nearest_direction() {
        let refs = reference_points(2, 3);
        let got = associate(&[vec![1.0, 0.0], vec![1.0, 1.0], vec![0.0, 0.0]], &refs);
        assert_eq!(got[0].0, 0);
        assert_eq!(got[0].1, 0.0);
        assert_eq!(got[1].0, 1); // (2,1) and (1,2) are equally far: lowest index
        assert_eq!(got[2], (0, 0.0));
    }

    #[test]
    fn selection_takes_whole_fronts_then_niches() {
        let pts: Vec<Vec<f64>> = vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![0.5, 0.5], vec![2.0, 2.0], vec![3.0, 3.0]];
        let rows: Vec<&[f64]> = pts.iter().map(|v| v.as_slice()).collect();
        let refs = reference_points(2, 3);
        let mut rng = Mt19937::new(0);
        let sel = select(&rows, 4, &refs, &mut rng);
        assert_eq!(&sel[..3], &[0, 1, 2]);
        assert_eq!(sel[3], 3);
    }
}
