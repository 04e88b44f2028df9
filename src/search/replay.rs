//! The samplers as pure functions of (kind, seed, space, earlier outcomes): every call replays
//! the study from freshly seeded streams, trial by trial, exactly as a sequential Optuna study
//! would run it (search.md §4.7), and returns the next trial.
//!
//! Replaying (rather than keeping sampler state) makes a resumed or re-run search propose the
//! very trials an uninterrupted sequential run proposes. This deliberately differs from
//! Optuna's own resume, which re-seeds both streams in the middle of a study (§1 "Resuming",
//! **[QUIRK]** not reproduced).
//!
//! Cost: one pass over the history with each elite selection computed once (§4.3 caching), a
//! few milliseconds for 300 trials × 4 objectives.

use std::collections::BTreeMap;

use super::elite::{reference_points, select};
use super::nsga3::{child, Fate, Generations, Member, DIVIDING_PARAMETER, POPULATION_SIZE};
use super::random::sample_prior;
use super::space::Space;
use super::{accepted, numpy_seed, Capacity, Origin, Outcome, Proposal, SamplerKind};
use crate::stats::mt19937::Mt19937;

/// A whole replay: the proposal of every trial `0..=history.len()` and the elite (parent
/// population) of every full NSGA-III generation, as trial numbers in selection order.
#[derive(Clone, Debug)]
pub(crate) struct Replay {
    pub(crate) proposals: Vec<Proposal>,
    #[cfg_attr(not(test), allow(dead_code, reason = "checked against the vectors' elite lists"))]
    pub(crate) elites: Vec<Vec<usize>>,
}

/// Replays a sequential study over `history` (outcomes of trials `0..history.len()`, in trial
/// order) and proposes trial `history.len()` as well.
pub(crate) fn replay<'a>(kind: SamplerKind, seed: u64, space: &Space, history: &'a [Outcome]) -> Replay {
    if kind == SamplerKind::Tpe {
        return Replay { proposals: super::tpe::replay(seed, space, history), elites: Vec::new() };
    }
    let objectives = accepted(history.iter().map(Some));
    let width = objectives.iter().flatten().map(|v| v.len()).next().unwrap_or(0);
    let refs = reference_points(width, DIVIDING_PARAMETER);
    // R_rand (the prior) and R_ga, both seeded with the seed (§4.1).
    let mut prior = Mt19937::new(numpy_seed(seed));
    let mut ga = Mt19937::new(numpy_seed(seed));
    let mut generations = Generations::default();
    // COMPLETE members of each generation and the elite after each full generation.
    let mut populations: Vec<Vec<(usize, &[f64])>> = Vec::new();
    let mut elites: Vec<Vec<(usize, &[f64])>> = Vec::new();
    let mut proposals: Vec<Proposal> = Vec::with_capacity(history.len() + 1);
    // A trial reaches relative sampling only if some parameter is not single-valued (§4.3).
    let genetic = kind != SamplerKind::Random && !space.relative().is_empty();
    // Optuna ≥ 4.5 hands out a stored parent population in trial-number order (§7).
    let renumbered = kind == SamplerKind::Nsga3Optuna5;
    let by_number = |mut list: Vec<(usize, &'a [f64])>| {
        if renumbered {
            list.sort_by_key(|&(t, _)| t);
        }
        list
    };

    for number in 0..=history.len() {
        let mut generation = None;
        let mut kept = Vec::new();
        if genetic {
            let g = generations.open();
            // Elite selections of the generations completed since the last one (§4.3): once each,
            // before this trial's child, in generation order.
            let mut computed_now = false;
            while elites.len() < g {
                let e = elites.len();
                let previous = by_number(elites.last().cloned().unwrap_or_default());
                let pool: Vec<(usize, &[f64])> =
                    populations.get(e).into_iter().flatten().copied().chain(previous).collect();
                let rows: Vec<&[f64]> = pool.iter().map(|&(_, o)| o).collect();
                let chosen = select(&rows, POPULATION_SIZE, &refs, &mut ga);
                elites.push(chosen.into_iter().map(|k| pool[k]).collect());
                computed_now = true;
            }
            if let Some(parents) = elites.last().filter(|_| g > 0) {
                // The trial that computed the elite sees it in selection order (every version).
                let parents = if computed_now { parents.clone() } else { by_number(parents.clone()) };
                let members: Vec<Member<'_>> = parents
                    .iter()
                    .map(|&(t, objectives)| Member { values: &proposals[t].ordered, objectives })
                    .collect();
                kept = child(&mut ga, space, &members);
            }
            generation = u32::try_from(g).ok();
        }

        let mut values = Vec::with_capacity(space.params().len());
        let mut origins = Vec::with_capacity(space.params().len());
        for (i, p) in space.params().iter().enumerate() {
            let from_child = kept.iter().find(|&&(k, v)| k == i && p.dist.contains(v)).map(|&(_, v)| v);
            let (v, origin) = match (p.dist.single(), from_child) {
                (Some(v), _) => (v, Origin::Single),
                (None, Some(v)) => (v, Origin::Child),
                (None, None) => (sample_prior(&mut prior, &p.dist), Origin::Prior),
            };
            values.push(v);
            origins.push(origin);
        }
        let named: BTreeMap<String, f64> = space.params().iter().map(|p| p.name.clone()).zip(values.clone()).collect();
        proposals.push(Proposal { number, values: named, ordered: values, origins, generation });

        if let (Some(g), Some(outcome)) = (generation, objectives.get(number)) {
            match outcome {
                Some(o) => {
                    generations.record(g, Fate::Complete);
                    let g = g as usize;
                    if populations.len() <= g {
                        populations.resize(g + 1, Vec::new());
                    }
                    populations[g].push((number, o));
                }
                None => generations.record(g, Fate::Excluded),
            }
        }
    }
    let elites = elites.into_iter().map(|e| e.into_iter().map(|(t, _)| t).collect()).collect();
    Replay { proposals, elites }
}

/// How many trials after `trials` can be proposed now (`None` entries are still running).
pub(crate) fn capacity(kind: SamplerKind, space: &Space, trials: &[Option<Outcome>]) -> Capacity {
    if kind == SamplerKind::Random || space.relative().is_empty() {
        return Capacity::Unlimited;
    }
    if kind == SamplerKind::Tpe {
        return super::tpe::capacity(trials);
    }
    let objectives = accepted(trials.iter().map(Option::as_ref));
    let mut generations = Generations::default();
    for (outcome, objective) in trials.iter().zip(&objectives) {
        let Some(g) = generations.next() else { return Capacity::Trials(0) };
        let fate = match (outcome, objective) {
            (None, _) => Fate::Pending,
            (Some(_), Some(_)) => Fate::Complete,
            (Some(_), None) => Fate::Excluded,
        };
        generations.record(g, fate);
    }
    Capacity::Trials(generations.room())
}

#[cfg(test)]
mod tests {
    use super::super::{propose, Dist, Param};
    use super::*;

    /// ZDT1 on three variables: a convex front f2 = 1 − sqrt(f1) at x2 = x3 = 0.
    fn zdt1(x: &[f64]) -> Vec<f64> {
        let g = 1.0 + 9.0 * (x[1] + x[2]) / 2.0;
        vec![x[0], g * (1.0 - (x[0] / g).sqrt())]
    }

    /// Hypervolume of 2-objective points (minimised) up to `reference`.
    fn hypervolume(points: &[Vec<f64>], reference: [f64; 2]) -> f64 {
        let mut pts: Vec<&Vec<f64>> = points.iter().filter(|p| p[0] < reference[0] && p[1] < reference[1]).collect();
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        let mut volume = 0.0;
        let mut best_f2 = reference[1];
        for (i, p) in pts.iter().enumerate() {
            if p[1] < best_f2 {
                best_f2 = p[1];
            }
            let next_f1 = pts.get(i + 1).map_or(reference[0], |q| q[0]);
            volume += (next_f1 - p[0]) * (reference[1] - best_f2);
        }
        volume
    }

    fn run(kind: SamplerKind, space: &Space, trials: usize) -> (Vec<Proposal>, Vec<Outcome>) {
        let mut history = Vec::new();
        let mut proposals = Vec::new();
        for _ in 0..trials {
            let p = propose(kind, 0, space, &history);
            history.push(Outcome::Complete(zdt1(&p.ordered)));
            proposals.push(p);
        }
        (proposals, history)
    }

    #[test]
    fn nsga3_improves_hypervolume_over_its_random_first_generation() {
        let unit = || Dist::Float { low: 0.0, high: 1.0, log: false };
        let space = Space::new(vec![Param::new("x1", unit()), Param::new("x2", unit()), Param::new("x3", unit())])
            .expect("valid");
        let (proposals, history) = run(SamplerKind::Nsga3, &space, 300);
        let objectives = |g: u32| -> Vec<Vec<f64>> {
            proposals.iter().filter(|p| p.generation == Some(g)).map(|p| zdt1(&p.ordered)).collect()
        };
        let reference = [1.1, 11.0];
        let first = hypervolume(&objectives(0), reference);
        let last = hypervolume(&objectives(5), reference);
        assert_eq!(objectives(5).len(), 50);
        assert!(last > first * 1.05, "generation 5 {last} vs generation 0 {first}");
        let (random, _) = run(SamplerKind::Random, &space, 300);
        let all = |ps: &[Proposal]| -> Vec<Vec<f64>> { ps.iter().map(|p| zdt1(&p.ordered)).collect() };
        assert!(hypervolume(&all(&proposals), reference) > hypervolume(&all(&random), reference));
        // The replay computed one elite per full generation.
        assert_eq!(replay(SamplerKind::Nsga3, 0, &space, &history).elites.len(), 6);
    }

    #[test]
    fn pinned_only_spaces_have_no_generation_and_no_draws() {
        let space = Space::new(vec![Param::new("m", Dist::Float { low: 0.9, high: 0.9, log: false })]).expect("valid");
        let p = propose(SamplerKind::Nsga3, 3, &space, &[Outcome::Pruned]);
        assert_eq!((p.number, p.generation, p.ordered.clone()), (1, None, vec![0.9]));
        assert_eq!(capacity(SamplerKind::Nsga3, &space, &[None]), Capacity::Unlimited);
    }

    #[test]
    fn capacity_counts_the_open_generation() {
        let space = Space::new(vec![Param::new("x", Dist::Float { low: 0.0, high: 1.0, log: false })]).expect("valid");
        let done = || Some(Outcome::Complete(vec![1.0, 2.0]));
        let mut trials: Vec<Option<Outcome>> = (0..45).map(|_| done()).collect();
        trials.push(Some(Outcome::Pruned));
        trials.push(None);
        assert_eq!(capacity(SamplerKind::Nsga3, &space, &trials), Capacity::Trials(4));
        trials.extend([None, None, None, None]);
        assert_eq!(capacity(SamplerKind::Nsga3, &space, &trials), Capacity::Trials(0));
        let full: Vec<Option<Outcome>> = (0..50).map(|_| done()).collect();
        assert_eq!(capacity(SamplerKind::Nsga3, &space, &full), Capacity::Trials(50));
    }
}
