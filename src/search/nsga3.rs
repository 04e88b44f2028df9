//! NSGA-III as Optuna 3.6.x – 4.4.x runs it (search.md §4): defaults, generation bookkeeping
//! and child generation (tournaments, uniform crossover, copy, mutation).
//!
//! The survival step (elite selection) is in `elite.rs`; the trial-by-trial replay that ties
//! both to the random streams is in `replay.rs`.

use super::dominance::dominates;
use super::space::Space;
use crate::stats::mt19937::Mt19937;

/// Optuna's defaults (§4.1).
pub(crate) const POPULATION_SIZE: usize = 50;
pub(crate) const CROSSOVER_PROB: f64 = 0.9;
pub(crate) const SWAPPING_PROB: f64 = 0.5;
/// Das–Dennis divisions (§4.6.4).
pub(crate) const DIVIDING_PARAMETER: usize = 3;
/// Crossover is repeated while the child lies outside the space (§4.5 step 2). Optuna retries
/// without limit; with uniform crossover a retry needs a log value whose `exp(ln x)` left its
/// bounds, so a bound is only a guard (after it, such values are re-drawn from the prior).
const MAX_CROSSOVER_TRIES: usize = 1000;

/// A member of a parent population: its parameter values (in the space's suggest order) and
/// its objective vector (a COMPLETE trial).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member<'a> {
    pub(crate) values: &'a [f64],
    pub(crate) objectives: &'a [f64],
}

/// Binary tournament (§4.5 step 2b): two indices with replacement, `randint(|P|)` each; the
/// first wins only if it dominates the second. Returns a position in `pool`.
fn tournament(rng: &mut Mt19937, parents: &[Member<'_>], pool: &[usize]) -> usize {
    let n = pool.len() as u64;
    // `interval(n − 1) < n = pool.len()`, so the casts are lossless.
    let i = rng.interval(n.saturating_sub(1)) as usize;
    let j = rng.interval(n.saturating_sub(1)) as usize;
    if dominates(parents[pool[i]].objectives, parents[pool[j]].objectives) {
        pool[i]
    } else {
        pool[j]
    }
}

/// Uniform crossover (§4.5 step 2): returns (parameter index, value) pairs, categorical
/// parameters first, then numerical ones, each in name order.
fn crossover(rng: &mut Mt19937, space: &Space, parents: &[Member<'_>]) -> Vec<(usize, f64)> {
    let params = space.params();
    let (cats, nums): (Vec<usize>, Vec<usize>) =
        space.relative().iter().partition(|&&i| params[i].dist.is_categorical());
    let everyone: Vec<usize> = (0..parents.len()).collect();
    let mut child = Vec::with_capacity(cats.len() + nums.len());
    for _ in 0..MAX_CROSSOVER_TRIES {
        child.clear();
        let first = tournament(rng, parents, &everyone);
        // "Parent 1 removed, order preserved".
        let rest: Vec<usize> = everyone.iter().copied().filter(|&i| i != first).collect();
        let second = tournament(rng, parents, &rest);
        let (p1, p2) = (parents[first].values, parents[second].values);
        for &c in &cats {
            let take_second = rng.random_sample() >= SWAPPING_PROB;
            child.push((c, if take_second { p2[c] } else { p1[c] }));
        }
        for &k in &nums {
            let dist = &params[k].dist;
            let take_second = rng.random_sample() >= SWAPPING_PROB;
            let column = dist.transform(if take_second { p2[k] } else { p1[k] });
            child.push((k, dist.untransform(column)));
        }
        if child.iter().all(|&(i, v)| params[i].dist.contains(v)) {
            break;
        }
    }
    child
}

/// One child for a trial of generation ≥ 1 (§4.5), all draws from the GA stream `rng`:
/// `u() < 0.9` → crossover, else copy of a `randint`-chosen parent (values verbatim, name
/// order); then mutation drops each parameter with probability `1 / max(1, #child params)`
/// (one `u()` per parameter, dropped when `< p`). The dropped parameters are the ones the
/// caller draws from the prior.
pub(crate) fn child(rng: &mut Mt19937, space: &Space, parents: &[Member<'_>]) -> Vec<(usize, f64)> {
    if parents.is_empty() {
        return Vec::new();
    }
    let full = if rng.random_sample() < CROSSOVER_PROB {
        crossover(rng, space, parents)
    } else {
        // `interval(len − 1) < len`: lossless.
        let pick = rng.interval(parents.len() as u64 - 1) as usize;
        space.relative().iter().map(|&i| (i, parents[pick].values[i])).collect()
    };
    let p = 1.0 / (full.len().max(1) as f64);
    full.into_iter().filter(|_| rng.random_sample() >= p).collect()
}

/// Sequential generation bookkeeping (§4.3): a generation is *full* once it holds
/// `POPULATION_SIZE` COMPLETE trials; a new trial belongs to the first generation that is not.
#[derive(Clone, Debug, Default)]
pub(crate) struct Generations {
    complete: Vec<usize>,
    pending: Vec<usize>,
}

/// What became of a trial, for the bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    Complete,
    /// Pruned or failed: tagged, never counted.
    Excluded,
    /// Still running.
    Pending,
}

impl Generations {
    /// The generation of the next trial, if it does not depend on pending trials: `None` when
    /// a full generation still has pending trials, or when the pending trials of the open
    /// generation could fill it.
    pub(crate) fn next(&self) -> Option<u32> {
        let g = self.open();
        let pending_before = self.pending.iter().take(g).any(|&p| p > 0);
        let c = self.complete.get(g).copied().unwrap_or(0);
        let p = self.pending.get(g).copied().unwrap_or(0);
        if pending_before || c + p >= POPULATION_SIZE {
            None
        } else {
            u32::try_from(g).ok()
        }
    }

    /// How many more trials can be given a generation before a pending one finishes.
    pub(crate) fn room(&self) -> usize {
        let g = self.open();
        if self.pending.iter().take(g).any(|&p| p > 0) {
            return 0;
        }
        let c = self.complete.get(g).copied().unwrap_or(0);
        let p = self.pending.get(g).copied().unwrap_or(0);
        POPULATION_SIZE.saturating_sub(c + p)
    }

    /// First generation with fewer than `POPULATION_SIZE` COMPLETE trials.
    pub(crate) fn open(&self) -> usize {
        self.complete.iter().take_while(|&&c| c >= POPULATION_SIZE).count()
    }

    pub(crate) fn record(&mut self, generation: u32, fate: Fate) {
        let g = generation as usize;
        if self.complete.len() <= g {
            self.complete.resize(g + 1, 0);
            self.pending.resize(g + 1, 0);
        }
        match fate {
            Fate::Complete => self.complete[g] += 1,
            Fate::Pending => self.pending[g] += 1,
            Fate::Excluded => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::space::{Dist, Param};
    use super::*;

    #[test]
    fn generations_fill_in_order_and_wait_for_pending() {
        let mut g = Generations::default();
        assert_eq!(g.next(), Some(0));
        for _ in 0..48 {
            g.record(0, Fate::Complete);
        }
        g.record(0, Fate::Excluded);
        assert_eq!((g.next(), g.room()), (Some(0), 2));
        g.record(0, Fate::Pending);
        assert_eq!((g.next(), g.room()), (Some(0), 1));
        g.record(0, Fate::Pending);
        assert_eq!((g.next(), g.room()), (None, 0));
        let mut done = Generations::default();
        for _ in 0..50 {
            done.record(0, Fate::Complete);
        }
        assert_eq!((done.next(), done.room()), (Some(1), 50));
    }

    #[test]
    fn mutation_rate_is_one_over_the_child_size() {
        // With a single relative parameter p = 1: every child parameter is dropped.
        let space = Space::new(vec![Param::new("x", Dist::Float { low: 0.0, high: 1.0, log: false })]).expect("valid");
        let values = [0.5];
        let objectives = [1.0];
        let parents = vec![Member { values: &values, objectives: &objectives }; 3];
        let mut rng = Mt19937::new(3);
        for _ in 0..20 {
            assert!(child(&mut rng, &space, &parents).is_empty());
        }
    }
}
