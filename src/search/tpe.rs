//! Optuna's `TPESampler(seed=seed)` with its 3.6 defaults (search.md §5): independent
//! (`multivariate = False`) tree-structured Parzen estimators, one parameter at a time.
//!
//! **Deterministic and replayable in munl, but not verified draw for draw against Optuna**: there
//! are no replay vectors for TPE, and search.md §5 gives the model, not every draw. The procedure
//! below follows Optuna 3.6's `sampler.py`, `parzen_estimator.py`, `_truncnorm.py` and
//! `_hypervolume` as far as we know them; the places where it may differ are marked *(choice)*.
//! This file holds the TPE logic; the truncated-normal numerics (`_truncnorm`) are in
//! `crate::stats::normal`, the hypervolume and greedy subset selection in `super::hypervolume`.
//!
//! # Streams
//! Two `RandomState`s, both seeded with the seed (§5): `random` (the internal `RandomSampler`,
//! used only by startup trials, exactly as [`sample_prior`]) and `rng` (the model's own).
//!
//! # Per trial
//! * **Startup**: while fewer than 10 earlier trials are COMPLETE or PRUNED, every non-single
//!   parameter is drawn by the RandomSampler in suggest order — the very draws of the `random`
//!   sampler for those trials. `rng` is not touched.
//! * **Model**: n = number of earlier COMPLETE + PRUNED trials, n_below = γ(n) =
//!   min(⌈0.1·n⌉, 25). The split (§5) is computed once per trial (Optuna recomputes it for every
//!   parameter, with the same result). Then, for every non-single parameter in suggest order:
//!   1. the "below" and "above" Parzen estimators are built (see below);
//!   2. `choice(K, p = below weights, size = 24)`: 24 `u()` from `rng`, component = number of
//!      entries of `cumsum(p) / cumsum(p)[-1]` that are ≤ u (NumPy `searchsorted(side="right")`);
//!   3. 24 more `u()` from `rng`, one per candidate in order: the quantile of a truncated normal
//!      (floats, log floats, log ints), of the discretised truncated normal (linear ints), or of
//!      the component's categorical row (choice = number of cumulative probabilities `< u`, the
//!      last one forced to 1);
//!   4. the candidate maximising log l(x) − log g(x) is taken (first on ties; a NaN wins as in
//!      `np.argmax`).
//!
//!   So every model trial consumes exactly 48 `u()` (96 outputs) of `rng` per non-single
//!   parameter, whatever the outcomes.
//!
//! # Split (Optuna `_split_trials`)
//! Single objective: the COMPLETE trials stably sorted by value, the first n_below are "below".
//! Multi-objective: "below" is filled by whole non-dominated fronts (§4.6.1) while they fit
//! (`≤ n_below`); the front that overflows is thinned by greedy hypervolume subset selection
//! (Optuna 3.6 `_solve_hssp`: start from each point's own box volume, repeatedly take the first
//! largest contribution, then lower every remaining contribution by
//! HV(S ∪ {max(s, v)}) − HV(S)), reference point max(1.1·worst, 0.9·worst) of that front with
//! 0 → 10⁻¹². If fewer COMPLETE than n_below trials exist, PRUNED trials fill up, in trial
//! order (munl trials report no intermediate values, so Optuna's pruned score is the same for
//! all and its stable sort keeps trial order). Both sets are then in trial-number order.
//!
//! # Parzen estimator (Optuna `_ParzenEstimator`, 3.6)
//! Transformed space: `ln` for log parameters; a log int uses the continuous interval
//! [ln(low − ½), ln(high + ½)] (Optuna's "log-int hack"), a linear int a discretised kernel with
//! its step. Kernel σ: the larger gap to the sorted neighbours among (observations + prior
//! centre), domain ends low − step/2 and high + step/2 as outer neighbours, the outermost two
//! using their inner gap (consider_endpoints False), then clipped to
//! [(high − low + step)/min(100, n + 2), high − low + step]; the prior kernel has centre
//! (low + high)/2 and σ = high − low + step. Mixture weights: `weights(n)` (single objective,
//! and "above" always) or the hypervolume-contribution weights ("below", multi-objective),
//! then the prior weight 1, normalised. Categoricals: kernel rows of 1/(n + 1) on every choice
//! plus 1 on the observed one, normalised; the prior row is uniform.
//!
//! # Choices where search.md is silent *(choice)*
//! * Sorting for the kernel σ is stable (NumPy's `argsort` is an introsort: ties among ≥ 17
//!   equal-valued kernels may be ordered differently there).
//! * `ndtri_exp` (the inverse of log Φ in the truncated-normal quantile, `stats::normal`) is
//!   solved by Newton's method from the Abramowitz–Stegun 26.2.23 start to ~1e-15 relative;
//!   Optuna's own solver agrees to about 1e-8 relative, so candidate values may differ in their
//!   last digits. `erf`/`erfc` are FreeBSD's (as Python's `math.erf` on most platforms).
//! * +∞ objectives (failed evaluations of the reference): in the hypervolume steps of a
//!   multi-objective split, each +∞ is replaced, within the vectors at hand, by
//!   max + 3·span of that objective's finite entries (as NSGA-III, §4.6.3), or 1 if none is
//!   finite. Optuna would produce NaN weights there.
//! * Multi-objective "below" PRUNED trials (only when fewer COMPLETE trials than n_below exist):
//!   Optuna raises (a pruned trial has no values); here they get the smallest weight of the
//!   COMPLETE "below" trials, or 1 if there are none.
//! * log l and log g are log-sum-exps summed left to right over the kernels (NumPy may sum
//!   pairwise), so scores can differ from Optuna's in the last bits; only exact score ties
//!   (first wins, as `np.argmax`) could turn on that.
//! * Floats are clamped into [low, high] (`exp` of a log column can round past `high`).
//! * FAILED trials (and COMPLETE vectors that count as failed, see `replay`) consumed their
//!   draws but are invisible to the model, as in Optuna.

use super::dominance::fronts;
use super::hypervolume::{hssp, hypervolume};
use super::random::sample_prior;
use super::space::{Dist, Space};
use super::{accepted, numpy_seed, Capacity, Origin, Outcome, Proposal};
use crate::stats::mt19937::Mt19937;
use crate::stats::normal::{log_gauss_mass, ppf, truncnorm_logpdf};
use std::collections::BTreeMap;

/// Trials drawn by the RandomSampler before the model starts (`n_startup_trials`).
pub(crate) const STARTUP_TRIALS: usize = 10;
/// Candidates drawn from the "below" mixture per parameter (`n_ei_candidates`).
const EI_CANDIDATES: usize = 24;
/// `prior_weight`.
const PRIOR_WEIGHT: f64 = 1.0;
/// Optuna's `EPS` in the multi-objective weights and reference point.
const EPS: f64 = 1e-12;

/// `default_gamma(n) = min(⌈0.1·n⌉, 25)`.
pub(crate) fn gamma(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

/// `default_weights(n)`: ones below 25, else `linspace(1/n, 1, n − 25)` followed by 25 ones.
pub(crate) fn weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let ramp = n - 25;
    let start = 1.0 / n as f64;
    let mut out: Vec<f64> = match ramp {
        0 => Vec::new(),
        1 => vec![start],
        _ => {
            // NumPy linspace: start + i·step, the last one set to `stop` exactly.
            let step = (1.0 - start) / (ramp - 1) as f64;
            let mut v: Vec<f64> = (0..ramp).map(|i| start + i as f64 * step).collect();
            v[ramp - 1] = 1.0;
            v
        }
    };
    out.extend(std::iter::repeat_n(1.0, 25));
    out
}

// ---- Parzen estimator ------------------------------------------------------------------------

/// The kernels of one parameter's mixture (the prior kernel last).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kernels {
    /// Truncated normals on [low, high] of the transformed column.
    Continuous { mus: Vec<f64>, sigmas: Vec<f64>, low: f64, high: f64 },
    /// Truncated normals on [low − step/2, high + step/2], rounded to the grid.
    Discrete { mus: Vec<f64>, sigmas: Vec<f64>, low: f64, high: f64, step: f64 },
    /// One probability row per kernel over the choices.
    Categorical(Vec<Vec<f64>>),
}

/// A one-parameter Parzen estimator: normalised mixture weights and kernels.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Estimator {
    pub(crate) weights: Vec<f64>,
    pub(crate) kernels: Kernels,
    /// Per kernel, log of its normal mass inside the domain (1 for categorical rows).
    masses: Vec<f64>,
}

/// Bounds and step of the transformed column the kernels live on: `(low, high, step)`.
fn kernel_domain(dist: &Dist) -> (f64, f64, Option<f64>) {
    match dist {
        Dist::Float { low, high, log: false } => (*low, *high, None),
        Dist::Float { low, high, log: true } => (low.ln(), high.ln(), None),
        Dist::Int { low, high, log: false, step } => (*low as f64, *high as f64, Some(*step as f64)),
        Dist::Int { low, high, log: true, .. } => ((*low as f64 - 0.5).ln(), (*high as f64 + 0.5).ln(), None),
        Dist::Categorical(_) => (0.0, 0.0, None),
    }
}

/// Kernel σ of each observation (search.md §5), before the prior kernel is appended.
pub(crate) fn sigmas(mus: &[f64], low: f64, high: f64, step: f64) -> Vec<f64> {
    let prior_mu = 0.5 * (low + high);
    let with_prior: Vec<f64> = mus.iter().copied().chain([prior_mu]).collect();
    let mut order: Vec<usize> = (0..with_prior.len()).collect();
    order.sort_by(|&i, &j| with_prior[i].partial_cmp(&with_prior[j]).unwrap_or(std::cmp::Ordering::Equal));
    let mut ends = Vec::with_capacity(with_prior.len() + 2);
    ends.push(low - step / 2.0);
    ends.extend(order.iter().map(|&i| with_prior[i]));
    ends.push(high + step / 2.0);
    let m = with_prior.len();
    let mut sorted: Vec<f64> = (1..=m).map(|k| (ends[k] - ends[k - 1]).max(ends[k + 1] - ends[k])).collect();
    if ends.len() >= 4 {
        sorted[0] = ends[2] - ends[1];
        sorted[m - 1] = ends[m] - ends[m - 1];
    }
    let mut out = vec![0.0; m];
    for (k, &i) in order.iter().enumerate() {
        out[i] = sorted[k];
    }
    out.truncate(mus.len());
    let max_sigma = high - low + step;
    let min_sigma = max_sigma / (100.0f64).min(1.0 + (mus.len() + 1) as f64);
    out.iter().map(|s| s.max(min_sigma).min(max_sigma)).collect()
}

impl Estimator {
    /// The estimator of `dist` over `observations` (transformed columns, or choice indices for
    /// a categorical) weighted by `observation_weights`.
    pub(crate) fn new(dist: &Dist, observations: &[f64], observation_weights: &[f64]) -> Self {
        let mut weights: Vec<f64> = if observations.is_empty() {
            vec![1.0]
        } else {
            observation_weights.iter().copied().chain([PRIOR_WEIGHT]).collect()
        };
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        let kernels = match dist {
            Dist::Categorical(choices) => {
                let fill = PRIOR_WEIGHT / (observations.len() + 1) as f64;
                let mut rows: Vec<Vec<f64>> = observations
                    .iter()
                    .map(|&o| {
                        let mut row = vec![fill; choices.len()];
                        // Truncation intended: observations are choice indices.
                        row[o as usize] += 1.0;
                        row
                    })
                    .collect();
                rows.push(vec![fill; choices.len()]);
                for row in &mut rows {
                    let s: f64 = row.iter().sum();
                    row.iter_mut().for_each(|p| *p /= s);
                }
                Kernels::Categorical(rows)
            }
            _ => {
                let (low, high, step) = kernel_domain(dist);
                let q = step.unwrap_or(0.0);
                let mut mus = observations.to_vec();
                let mut sig = sigmas(&mus, low, high, q);
                mus.push(0.5 * (low + high));
                sig.push(high - low + q);
                match step {
                    None => Kernels::Continuous { mus, sigmas: sig, low, high },
                    Some(step) => Kernels::Discrete { mus, sigmas: sig, low, high, step },
                }
            }
        };
        let masses = match &kernels {
            Kernels::Continuous { mus, sigmas, low, high } => {
                mus.iter().zip(sigmas).map(|(mu, s)| log_gauss_mass((low - mu) / s, (high - mu) / s)).collect()
            }
            Kernels::Discrete { mus, sigmas, low, high, step } => mus
                .iter()
                .zip(sigmas)
                .map(|(mu, s)| log_gauss_mass((low - step / 2.0 - mu) / s, (high + step / 2.0 - mu) / s))
                .collect(),
            Kernels::Categorical(rows) => vec![0.0; rows.len()],
        };
        Self { weights, kernels, masses }
    }

    /// `size` values (in the estimator's column: transformed, grid-rounded for discrete
    /// kernels, choice index for categoricals): `size` component draws, then `size` values.
    fn sample(&self, rng: &mut Mt19937, size: usize) -> Vec<f64> {
        let mut cdf: Vec<f64> = self
            .weights
            .iter()
            .scan(0.0, |acc, w| {
                *acc += w;
                Some(*acc)
            })
            .collect();
        let last = cdf.last().copied().unwrap_or(1.0);
        cdf.iter_mut().for_each(|c| *c /= last);
        let components: Vec<usize> = (0..size)
            .map(|_| {
                let u = rng.random_sample();
                cdf.iter().take_while(|&&c| c <= u).count().min(cdf.len() - 1)
            })
            .collect();
        components
            .into_iter()
            .map(|k| {
                let u = rng.random_sample();
                match &self.kernels {
                    Kernels::Continuous { mus, sigmas, low, high } => {
                        let (mu, s) = (mus[k], sigmas[k]);
                        ppf(u, (low - mu) / s, (high - mu) / s) * s + mu
                    }
                    Kernels::Discrete { mus, sigmas, low, high, step } => {
                        let (mu, s) = (mus[k], sigmas[k]);
                        let v = ppf(u, (low - step / 2.0 - mu) / s, (high + step / 2.0 - mu) / s) * s + mu;
                        (low + ((v - low) / step).round_ties_even() * step).max(*low).min(*high)
                    }
                    Kernels::Categorical(rows) => {
                        let row = &rows[k];
                        let mut acc = 0.0;
                        let mut below = 0;
                        for (i, p) in row.iter().enumerate() {
                            acc += p;
                            let c = if i + 1 == row.len() { 1.0 } else { acc };
                            if c < u {
                                below += 1;
                            }
                        }
                        below as f64
                    }
                }
            })
            .collect()
    }

    /// Log density of the mixture at `x` (same column as [`Estimator::sample`]'s values).
    pub(crate) fn log_pdf(&self, x: f64) -> f64 {
        let terms: Vec<f64> = (0..self.weights.len())
            .map(|k| {
                let lp = match &self.kernels {
                    Kernels::Continuous { mus, sigmas, low, high } => {
                        truncnorm_logpdf(x, mus[k], sigmas[k], *low, *high, self.masses[k])
                    }
                    Kernels::Discrete { mus, sigmas, low, high, step } => {
                        let (mu, s) = (mus[k], sigmas[k]);
                        let (lo, hi) = (low - step / 2.0, high + step / 2.0);
                        let x_lo = (x - step / 2.0).max(lo);
                        let x_hi = (x + step / 2.0).min(hi);
                        log_gauss_mass((x_lo - mu) / s, (x_hi - mu) / s) - self.masses[k]
                    }
                    // Truncation intended: x is a choice index.
                    Kernels::Categorical(rows) => rows[k][x as usize].ln(),
                };
                lp + self.weights[k].ln()
            })
            .collect();
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let shift = if max == f64::NEG_INFINITY { 0.0 } else { max };
        terms.iter().map(|t| (t - shift).exp()).sum::<f64>().ln() + shift
    }
}

/// The estimator's column of an external value: `ln` for log parameters, the choice index for
/// categoricals, the value itself otherwise.
fn column(dist: &Dist, v: f64) -> f64 {
    match dist {
        Dist::Categorical(choices) => choices.iter().position(|&c| c == v).unwrap_or(0) as f64,
        _ => dist.transform(v),
    }
}

/// A sampled column back to Optuna's internal value (`_untransform`): `exp` for log columns,
/// ints rounded to their grid and clipped; a categorical keeps its choice index.
fn untransformed(dist: &Dist, c: f64) -> f64 {
    match dist {
        Dist::Categorical(_) => c,
        Dist::Float { log, .. } => {
            if *log {
                c.exp()
            } else {
                c
            }
        }
        Dist::Int { low, high, log, step } => {
            let v = if *log { c.exp() } else { c };
            let (low, high, step) = (*low as f64, *high as f64, *step as f64);
            (low + ((v - low) / step).round_ties_even() * step).max(low).min(high)
        }
    }
}

/// The column an internal value is scored at (Optuna `_transform`): `ln` for log parameters.
fn scored(dist: &Dist, v: f64) -> f64 {
    match dist {
        Dist::Categorical(_) => v,
        _ => dist.transform(v),
    }
}

/// An internal value as the trial's value: the choice itself, a float clamped into
/// [low, high] *(choice: `exp` of a log column can round past `high`)*.
fn external(dist: &Dist, v: f64) -> f64 {
    match dist {
        // Truncation intended: a choice index.
        Dist::Categorical(choices) => choices[v as usize],
        Dist::Float { low, high, .. } => v.max(*low).min(*high),
        Dist::Int { .. } => v,
    }
}

// ---- multi-objective "below" ---------------------------------------------------------------

/// `vectors` with each +∞ replaced by max + 3·span of its objective's finite entries (1 if none).
fn finite(vectors: &[&[f64]]) -> Vec<Vec<f64>> {
    let m = vectors.first().map_or(0, |v| v.len());
    let mut out: Vec<Vec<f64>> = vectors.iter().map(|v| v.to_vec()).collect();
    for j in 0..m {
        let col = vectors.iter().map(|v| v[j]).filter(|x| x.is_finite());
        let (lo, hi) = col.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| (l.min(x), h.max(x)));
        let fill = if hi.is_finite() { hi + 3.0 * (hi - lo) } else { 1.0 };
        for row in &mut out {
            if !row[j].is_finite() {
                row[j] = fill;
            }
        }
    }
    out
}

/// Optuna's reference point: max(1.1·worst, 0.9·worst) per objective, 0 → 10⁻¹².
fn reference_point(vectors: &[Vec<f64>]) -> Vec<f64> {
    let m = vectors.first().map_or(0, Vec::len);
    (0..m)
        .map(|j| {
            let worst = vectors.iter().map(|v| v[j]).fold(f64::NEG_INFINITY, f64::max);
            let r = (1.1 * worst).max(0.9 * worst);
            if r == 0.0 {
                EPS
            } else {
                r
            }
        })
        .collect()
}

/// Hypervolume-contribution weights of the multi-objective "below" vectors (+10⁻¹²,
/// normalised by the largest, clipped to [0, 1]).
fn contribution_weights(vectors: &[&[f64]]) -> Vec<f64> {
    match vectors.len() {
        0 => return Vec::new(),
        1 => return vec![1.0],
        _ => {}
    }
    let rows = finite(vectors);
    let reference = reference_point(&rows);
    let total = hypervolume(&rows, &reference);
    let contributions: Vec<f64> = (0..rows.len())
        .map(|i| {
            let rest: Vec<Vec<f64>> =
                rows.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, r)| r.clone()).collect();
            total - hypervolume(&rest, &reference) + EPS
        })
        .collect();
    let max = contributions.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    contributions.iter().map(|c| (c / max).clamp(0.0, 1.0)).collect()
}

// ---- split and sequential driver -----------------------------------------------------------

/// An earlier finished trial as the model sees it: COMPLETE (objectives) or PRUNED (`None`).
type Finished<'a> = (usize, Option<&'a [f64]>);

/// The "below" and "above" trials (trial numbers in order) and the "below" weights.
fn split(finished: &[Finished<'_>]) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let mut n_below = gamma(finished.len());
    let complete: Vec<(usize, &[f64])> = finished.iter().filter_map(|&(t, o)| o.map(|o| (t, o))).collect();
    let multi = complete.first().is_some_and(|(_, o)| o.len() > 1);
    let take = n_below.min(complete.len());
    let mut below: Vec<usize> = if !multi {
        let mut sorted = complete.clone();
        // Python's stable `sorted` by value (−0 = +0).
        sorted.sort_by(|a, b| a.1[0].partial_cmp(&b.1[0]).unwrap_or(std::cmp::Ordering::Equal));
        sorted[..take].iter().map(|&(t, _)| t).collect()
    } else if take == 0 {
        Vec::new()
    } else {
        let points: Vec<&[f64]> = complete.iter().map(|&(_, o)| o).collect();
        let mut chosen: Vec<usize> = Vec::with_capacity(take);
        for front in fronts(&points) {
            if chosen.len() + front.len() <= take {
                chosen.extend(&front);
                if chosen.len() == take {
                    break;
                }
                continue;
            }
            let rows = finite(&front.iter().map(|&i| points[i]).collect::<Vec<_>>());
            let reference = reference_point(&rows);
            chosen.extend(hssp(&rows, take - chosen.len(), &reference).into_iter().map(|p| front[p]));
            break;
        }
        chosen.iter().map(|&i| complete[i].0).collect()
    };
    n_below -= below.len();
    let pruned_below: Vec<usize> =
        finished.iter().filter(|(_, o)| o.is_none()).map(|&(t, _)| t).take(n_below).collect();
    below.extend(&pruned_below);
    below.sort_unstable();
    let above: Vec<usize> = finished.iter().map(|&(t, _)| t).filter(|t| !below.contains(t)).collect();
    let below_weights = if multi {
        let of = |t: usize| finished.iter().find(|f| f.0 == t).and_then(|f| f.1);
        let complete_below: Vec<&[f64]> = below.iter().filter_map(|&t| of(t)).collect();
        let w = contribution_weights(&complete_below);
        let floor = w.iter().copied().fold(f64::INFINITY, f64::min);
        let floor = if floor.is_finite() { floor } else { 1.0 };
        let mut it = w.into_iter();
        below.iter().map(|&t| if of(t).is_some() { it.next().unwrap_or(floor) } else { floor }).collect()
    } else {
        weights(below.len())
    };
    (below, above, below_weights)
}

/// The TPE sampler's two streams.
pub(crate) struct Tpe {
    random: Mt19937,
    rng: Mt19937,
}

impl Tpe {
    pub(crate) fn new(seed: u64) -> Self {
        Self { random: Mt19937::new(numpy_seed(seed)), rng: Mt19937::new(numpy_seed(seed)) }
    }

    /// Proposes trial `earlier.len()`, given the earlier proposals and how each earlier trial
    /// ended (`states[t]` for trial t).
    fn propose(&mut self, space: &Space, earlier: &[Proposal], states: &[State<'_>]) -> Proposal {
        let finished: Vec<Finished<'_>> = states
            .iter()
            .enumerate()
            .filter_map(|(t, s)| match s {
                State::Complete(o) => Some((t, Some(*o))),
                State::Pruned => Some((t, None)),
                State::Failed => None,
            })
            .collect();
        let startup = finished.len() < STARTUP_TRIALS;
        let mut sets: Option<(Vec<usize>, Vec<usize>, Vec<f64>)> = None;
        let mut ordered = Vec::with_capacity(space.params().len());
        let mut origins = Vec::with_capacity(space.params().len());
        for (i, p) in space.params().iter().enumerate() {
            let (v, origin) = if let Some(v) = p.dist.single() {
                (v, Origin::Single)
            } else if startup {
                (sample_prior(&mut self.random, &p.dist), Origin::Prior)
            } else {
                let (below, above, below_weights) = sets.get_or_insert_with(|| split(&finished));
                let obs =
                    |ts: &[usize]| -> Vec<f64> { ts.iter().map(|&t| column(&p.dist, earlier[t].ordered[i])).collect() };
                let l = Estimator::new(&p.dist, &obs(below), below_weights);
                let g = Estimator::new(&p.dist, &obs(above), &weights(above.len()));
                let candidates: Vec<f64> =
                    l.sample(&mut self.rng, EI_CANDIDATES).into_iter().map(|c| untransformed(&p.dist, c)).collect();
                let mut best = 0;
                let mut best_score = f64::NEG_INFINITY;
                for (k, &c) in candidates.iter().enumerate() {
                    let x = scored(&p.dist, c);
                    let score = l.log_pdf(x) - g.log_pdf(x);
                    if score.is_nan() {
                        best = k;
                        break;
                    }
                    if score > best_score || k == 0 {
                        best = k;
                        best_score = score;
                    }
                }
                (external(&p.dist, candidates[best]), Origin::Model)
            };
            ordered.push(v);
            origins.push(origin);
        }
        let values: BTreeMap<String, f64> =
            space.params().iter().map(|p| p.name.clone()).zip(ordered.clone()).collect();
        Proposal { number: earlier.len(), values, ordered, origins, generation: None }
    }
}

/// How the model sees a finished trial.
#[derive(Clone, Copy, Debug)]
enum State<'a> {
    Complete(&'a [f64]),
    Pruned,
    Failed,
}

fn states<'a>(history: &'a [Outcome], objectives: &[Option<&'a [f64]>]) -> Vec<State<'a>> {
    history
        .iter()
        .zip(objectives)
        .map(|(h, o)| match (h, o) {
            (_, Some(o)) => State::Complete(o),
            (Outcome::Pruned, None) => State::Pruned,
            _ => State::Failed,
        })
        .collect()
}

/// Proposals of trials `0..=history.len()` of a sequential TPE study.
pub(crate) fn replay(seed: u64, space: &Space, history: &[Outcome]) -> Vec<Proposal> {
    let objectives = accepted(history.iter().map(Some));
    let states = states(history, &objectives);
    let mut tpe = Tpe::new(seed);
    let mut proposals: Vec<Proposal> = Vec::with_capacity(history.len() + 1);
    for number in 0..=history.len() {
        let p = tpe.propose(space, &proposals, &states[..number]);
        proposals.push(p);
    }
    proposals
}

/// Trials determined while `None` entries still run: the startup trials that remain even if
/// every running trial ends COMPLETE or PRUNED; after startup one at a time, none while any
/// trial runs (each proposal depends on every earlier outcome).
pub(crate) fn capacity(trials: &[Option<Outcome>]) -> Capacity {
    let objectives = accepted(trials.iter().map(Option::as_ref));
    let running = trials.iter().filter(|t| t.is_none()).count();
    let finished =
        trials.iter().zip(&objectives).filter(|(t, o)| o.is_some() || matches!(t, Some(Outcome::Pruned))).count();
    let possible = finished + running;
    if possible < STARTUP_TRIALS {
        Capacity::Trials(STARTUP_TRIALS - possible)
    } else if running > 0 {
        Capacity::Trials(0)
    } else {
        Capacity::Trials(1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{propose, ready, Param, SamplerKind};
    use super::*;

    fn unit_space() -> Space {
        Space::new(vec![Param::new("x", Dist::Float { low: 0.0, high: 1.0, log: false })]).expect("valid")
    }

    /// Runs `trials` sequential trials of `f` with the incremental driver (O(trials)).
    fn run(
        kind: SamplerKind,
        seed: u64,
        space: &Space,
        trials: usize,
        f: impl Fn(&[f64]) -> Vec<f64>,
    ) -> Vec<(Proposal, Vec<f64>)> {
        let mut out = Vec::new();
        let mut history: Vec<Outcome> = Vec::new();
        let mut proposals: Vec<Proposal> = Vec::new();
        let mut tpe = Tpe::new(seed);
        for _ in 0..trials {
            let p = if kind == SamplerKind::Tpe {
                let objectives = accepted(history.iter().map(Some));
                let states = states(&history, &objectives);
                tpe.propose(space, &proposals, &states)
            } else {
                propose(kind, seed, space, &history)
            };
            let y = f(&p.ordered);
            history.push(Outcome::Complete(y.clone()));
            proposals.push(p.clone());
            out.push((p, y));
        }
        out
    }

    #[test]
    fn gamma_and_weights() {
        assert_eq!((gamma(0), gamma(1), gamma(10), gamma(11), gamma(250), gamma(1000)), (0, 1, 1, 2, 25, 25));
        assert!(weights(0).is_empty());
        assert_eq!(weights(24), vec![1.0; 24]);
        assert_eq!(weights(25), vec![1.0; 25]);
        assert_eq!(weights(26), [vec![1.0 / 26.0], vec![1.0; 25]].concat());
        let w = weights(30);
        assert_eq!(w.len(), 30);
        assert_eq!(w[0], 1.0 / 30.0);
        assert!((w[2] - (1.0 / 30.0 + 2.0 * (1.0 - 1.0 / 30.0) / 4.0)).abs() < 1e-15);
        assert_eq!(&w[4..], &[1.0; 26][..]);
    }

    #[test]
    fn parzen_sigmas_by_hand() {
        // Float [0, 1], observations 0.1 and 0.7, prior centre 0.5: sorted 0.1, 0.5, 0.7 inside
        // the ends 0 and 1. Outermost kernels use their inner gap: σ(0.1) = 0.4, σ(0.7) = 0.2;
        // the magic clip lifts 0.2 to 1/min(100, 2 + 2) = 0.25. Prior σ = 1.
        let e = Estimator::new(&Dist::Float { low: 0.0, high: 1.0, log: false }, &[0.7, 0.1], &[1.0, 1.0]);
        let Kernels::Continuous { mus, sigmas, low, high } = &e.kernels else { panic!("continuous") };
        assert_eq!((mus.as_slice(), *low, *high), (&[0.7, 0.1, 0.5][..], 0.0, 1.0));
        assert!((sigmas[0] - 0.25).abs() < 1e-15 && (sigmas[1] - 0.4).abs() < 1e-15 && sigmas[2] == 1.0);
        assert_eq!(e.weights, vec![1.0 / 3.0; 3]);
        // Int [1, 10]: observation 3, prior 5.5, ends 0.5 and 10.5: σ = 2.5, clipped up to
        // 10/min(100, 3) = 3.33…; prior σ = high − low + step = 10.
        let e = Estimator::new(&Dist::Int { low: 1, high: 10, log: false, step: 1 }, &[3.0], &[1.0]);
        let Kernels::Discrete { sigmas, step, .. } = &e.kernels else { panic!("discrete") };
        assert_eq!((sigmas[0], sigmas[1], *step), (10.0 / 3.0, 10.0, 1.0));
        // No observation: the prior alone.
        let e = Estimator::new(&Dist::Float { low: 1e-5, high: 1e-1, log: true }, &[], &[]);
        assert_eq!(e.weights, vec![1.0]);
        // Categorical: rows of 1/(n+1) plus 1 on the observed choice, normalised.
        let e = Estimator::new(&Dist::Categorical(vec![64.0, 128.0, 256.0]), &[2.0], &[1.0]);
        let Kernels::Categorical(rows) = &e.kernels else { panic!("categorical") };
        assert_eq!(rows[0], vec![0.5 / 2.5, 0.5 / 2.5, 1.5 / 2.5]);
        assert_eq!(rows[1], vec![1.0 / 3.0; 3]);
        // Densities integrate to one.
        let e = Estimator::new(&Dist::Float { low: 0.0, high: 1.0, log: false }, &[0.7, 0.1], &[1.0, 1.0]);
        let n = 20_000;
        let mass: f64 = (0..n).map(|i| e.log_pdf((i as f64 + 0.5) / n as f64).exp()).sum::<f64>() / n as f64;
        assert!((mass - 1.0).abs() < 1e-6, "{mass}");
        let e = Estimator::new(&Dist::Int { low: 1, high: 10, log: false, step: 1 }, &[3.0, 9.0], &[1.0, 0.5]);
        let mass: f64 = (1..=10).map(|v| e.log_pdf(v as f64).exp()).sum();
        assert!((mass - 1.0).abs() < 1e-12, "{mass}");
    }

    #[test]
    fn contribution_weights_lie_in_the_unit_interval() {
        let w = contribution_weights(&[&[1.0, 3.0], &[2.0, 2.0], &[3.0, 1.0]]);
        assert_eq!(w.len(), 3);
        assert!(w.iter().all(|&x| x > 0.0 && x <= 1.0));
    }

    #[test]
    fn startup_equals_the_random_sampler() {
        let space = Space::new(vec![
            Param::new("lr", Dist::Float { low: 1e-5, high: 1e-1, log: true }),
            Param::new("m", Dist::Float { low: 0.9, high: 0.9, log: false }),
            Param::new("bs", Dist::Categorical(vec![64.0, 128.0, 256.0])),
            Param::new("ep", Dist::Int { low: 1, high: 37, log: false, step: 1 }),
        ])
        .expect("valid");
        let history: Vec<Outcome> = (0..9).map(|i| Outcome::Complete(vec![f64::from(i)])).collect();
        let tpe = replay(7, &space, &history);
        let random = super::super::replay(SamplerKind::Random, 7, &space, &history).proposals;
        let values = |ps: &[Proposal]| ps.iter().map(|p| p.ordered.clone()).collect::<Vec<_>>();
        assert_eq!(values(&tpe), values(&random));
        assert_eq!(tpe[3].origins, vec![Origin::Prior, Origin::Single, Origin::Prior, Origin::Prior]);
        // A failed trial does not count towards the 10: trial 10 is still a startup trial.
        let mut h = history.clone();
        h.push(Outcome::Failed);
        let p = replay(7, &space, &h);
        assert_eq!(p[10].origins[0], Origin::Prior);
        // A pruned one does: trial 11 is the first model trial.
        h.push(Outcome::Pruned);
        let p = replay(7, &space, &h);
        assert_eq!(p[11].origins, vec![Origin::Model, Origin::Single, Origin::Model, Origin::Model]);
        assert_eq!(&p[..11], &replay(7, &space, &h[..10])[..]);
        assert!(space.params().iter().zip(&p[11].ordered).all(|(q, &v)| q.dist.contains(v)));
    }

    #[test]
    fn model_draws_are_48_uniforms_per_parameter() {
        let space = unit_space();
        let mut tpe = Tpe::new(0);
        let history: Vec<Outcome> = (0..12).map(|i| Outcome::Complete(vec![f64::from(i)])).collect();
        let objectives = accepted(history.iter().map(Some));
        let st = states(&history, &objectives);
        let mut proposals = Vec::new();
        for n in 0..12 {
            proposals.push(tpe.propose(&space, &proposals, &st[..n]));
        }
        assert_eq!((tpe.random.draws(), tpe.rng.draws()), (20, 2 * 96));
    }

    #[test]
    fn tpe_beats_random_on_a_parabola() {
        let space = unit_space();
        let f = |x: &[f64]| vec![(x[0] - 0.3).powi(2)];
        let best = |rows: &[(Proposal, Vec<f64>)]| rows.iter().map(|(_, y)| y[0]).fold(f64::INFINITY, f64::min);
        let seeds = 0..5;
        let tpe: f64 = seeds.clone().map(|s| best(&run(SamplerKind::Tpe, s, &space, 60, f))).sum::<f64>();
        let random: f64 = seeds.map(|s| best(&run(SamplerKind::Random, s, &space, 60, f))).sum::<f64>();
        assert!(tpe < random, "TPE {tpe} vs random {random}");
        // The incremental driver and the replay agree.
        let rows = run(SamplerKind::Tpe, 3, &space, 25, f);
        let history: Vec<Outcome> = rows.iter().map(|(_, y)| Outcome::Complete(y.clone())).collect();
        let replayed = replay(3, &space, &history[..24]);
        assert_eq!(
            replayed.iter().map(|p| p.ordered.clone()).collect::<Vec<_>>(),
            rows.iter().map(|(p, _)| p.ordered.clone()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn two_objectives_are_deterministic() {
        let space = Space::new(vec![
            Param::new("x", Dist::Float { low: 0.0, high: 1.0, log: false }),
            Param::new("y", Dist::Int { low: 0, high: 8, log: false, step: 2 }),
            Param::new("c", Dist::Categorical(vec![1.0, 2.0])),
            Param::new("z", Dist::Int { low: 1, high: 100, log: true, step: 1 }),
        ])
        .expect("valid");
        let f = |v: &[f64]| {
            if v[1] == 8.0 {
                return vec![f64::INFINITY, f64::INFINITY];
            }
            vec![v[0] * v[2], (1.0 - v[0]).powi(2) + v[1] / 8.0 + v[3].ln() / 10.0]
        };
        let a = run(SamplerKind::Tpe, 5, &space, 40, f);
        let b = run(SamplerKind::Tpe, 5, &space, 40, f);
        assert_eq!(a, b);
        assert!(a[20..].iter().all(|(p, _)| p.origins.iter().all(|&o| o == Origin::Model)));
        assert!(a.iter().all(|(p, _)| space.params().iter().zip(&p.ordered).all(|(q, &v)| q.dist.contains(v))));
        let history: Vec<Outcome> = a.iter().map(|(_, y)| Outcome::Complete(y.clone())).collect();
        assert_eq!(propose(SamplerKind::Tpe, 5, &space, &history[..39]), a[39].0);
        assert_ne!(run(SamplerKind::Tpe, 6, &space, 40, f), a);
    }

    #[test]
    fn multi_objective_split_by_hand() {
        // 20 trials: a front of three at trials 4, 7, 9, the rest dominated; n_below = γ(20) = 2.
        let mut points: Vec<Vec<f64>> = (0..20).map(|i| vec![5.0 + f64::from(i), 5.0 + f64::from(i)]).collect();
        points[4] = vec![1.0, 3.0];
        points[7] = vec![2.0, 2.0];
        points[9] = vec![3.0, 1.0];
        points[12] = vec![f64::INFINITY, f64::INFINITY];
        let finished: Vec<Finished<'_>> = points.iter().enumerate().map(|(t, p)| (t, Some(p.as_slice()))).collect();
        // Reference (3.3, 3.3): boxes 0.69, 1.69, 0.69 → trial 7; then both ends gain 0.30 → the
        // first, trial 4.
        let (below, above, w) = split(&finished);
        assert_eq!(below, vec![4, 7]);
        assert_eq!(above.len(), 18);
        assert!(!above.contains(&4) && !above.contains(&7) && above.contains(&9));
        // Weights over (1, 3), (2, 2) with reference (2.2, 3.3): contributions 0.30 and 0.20.
        assert_eq!(w[0], 1.0);
        assert!((w[1] - (0.2 + EPS) / (0.3 + EPS)).abs() < 1e-12, "{w:?}");
        // Fewer COMPLETE than n_below: PRUNED trials fill up in trial order.
        let mut few: Vec<Finished<'_>> = (0..12).map(|t| (t, None)).collect();
        few[5] = (5, Some(points[4].as_slice()));
        let (below, above, w) = split(&few);
        assert_eq!((below, w), (vec![0, 5], vec![1.0, 1.0]));
        assert_eq!(above.len(), 10);
        // Single objective: the best values, stably.
        let single: Vec<Vec<f64>> =
            [3.0, 1.0, 2.0, 1.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0].iter().map(|&v| vec![v]).collect();
        let finished: Vec<Finished<'_>> = single.iter().enumerate().map(|(t, p)| (t, Some(p.as_slice()))).collect();
        let (below, _, w) = split(&finished);
        assert_eq!((below, w), (vec![1, 3], vec![1.0, 1.0]));
    }

    #[test]
    fn capacity_allows_parallel_startup_only() {
        let space = unit_space();
        let done = || Some(Outcome::Complete(vec![1.0]));
        assert_eq!(ready(SamplerKind::Tpe, &space, &[]), Capacity::Trials(10));
        let mut trials = vec![done(), Some(Outcome::Failed), None, None];
        assert_eq!(ready(SamplerKind::Tpe, &space, &trials), Capacity::Trials(7));
        trials.extend((0..7).map(|_| None));
        assert_eq!(ready(SamplerKind::Tpe, &space, &trials), Capacity::Trials(0));
        let all: Vec<Option<Outcome>> = (0..10).map(|_| done()).collect();
        assert_eq!(ready(SamplerKind::Tpe, &space, &all), Capacity::Trials(1));
        // A proposal made while startup trials run is the sequential one.
        let partial = vec![done(), None, None];
        let p = super::super::propose_next(SamplerKind::Tpe, 1, &space, &partial).expect("startup");
        assert_eq!(p, propose(SamplerKind::Tpe, 1, &space, &vec![Outcome::Complete(vec![0.5]); 3]));
    }
}
