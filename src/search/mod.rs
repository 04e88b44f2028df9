//! Hyper-parameter samplers of the reference benchmark (evaluation.md §5), reproducing Optuna's
//! `RandomSampler` and `NSGAIIISampler` (3.6.x – 4.4.x, and the 4.5 – 5.0 parent-order variant)
//! draw for draw, as `spec/search.md` describes them. Pure and deterministic: no torch, no I/O.
//!
//! Checked against `spec/vectors/search.json` (tests in `vectors.rs`): every parameter value of
//! every trial bit for bit, plus states, generations, value origins and the elite of every
//! generation, for seed 0 under 3.6.1 (202 trials, incl. pruned and all-∞ ones) and 5.0.0, and
//! the first 56 trials of seeds 1 and 2.
//!
//! Files: `space` (distributions, transform §3.1), `random` (prior draw §3.2), `nsga3`
//! (defaults, generations, child generation §4.1–4.5), `elite` (survival §4.6), `dominance`
//! (§1, §4.6.1), `linalg` (rank test and solve of §4.6.3), `replay` (the trial-by-trial replay
//! §4.7 and the concurrency rule), `tpe` (the TPE sampler §5), `hypervolume` (hypervolume and
//! greedy subset selection of TPE's multi-objective split). The truncated-normal numerics of
//! TPE live in `stats::normal`. This file holds what every sampler shares: the types, the seed
//! folding and which outcomes count as COMPLETE.
//!
//! The sampler is a **function** of (kind, seed, space, outcomes of the earlier trials):
//! [`propose`] replays the whole study from freshly seeded streams and returns the next trial,
//! so a resumed, re-run or concurrently run search proposes exactly the trials of one
//! uninterrupted sequential run. (Optuna's own resume re-seeds the streams mid-study, search.md
//! §1 "Resuming" — deliberately **not** reproduced.)
//!
//! Every trial suggests every parameter of the [`Space`], in its suggest order; that order
//! fixes the prior draws (§3.2). Seeds are NumPy `RandomState` seeds: 0 ..= 2³² − 1 are used as
//! they are; NumPy rejects larger ones, which are folded here to `lo ^ hi` of their two
//! 32-bit halves (an arbitrary but fixed choice, outside anything Optuna can do).
//!
//! Concurrency: [`ready`] says how many further trials are already determined while others are
//! still running, and [`propose_next`] proposes one of them:
//! * `random`: every trial (draws never depend on outcomes);
//! * `nsga3`: generation 0 is drawn from the prior, and every trial of generation g ≥ 1 depends
//!   only on generations < g, so the trials still missing from the open generation can run
//!   together — `50 − (COMPLETE + running)` of them. A pruned or failed trial leaves its place
//!   open, to be proposed once it has finished.
//! * `tpe`: the 10 startup trials are independent prior draws and can run together (as many as
//!   remain even if every running trial finishes); afterwards each trial depends on every
//!   earlier outcome, so one at a time and none while another runs.
//!
//! TPE (§5, file `tpe`) follows Optuna 3.6's `TPESampler` defaults and is deterministic and
//! replayable, but there are no replay vectors for it: it is **not** verified draw for draw
//! against Optuna (see the `tpe` module documentation for the draw order chosen).

mod dominance;
mod elite;
mod hypervolume;
mod linalg;
mod nsga3;
mod random;
mod replay;
mod space;
mod tpe;
#[cfg(test)]
mod vectors;

use std::collections::BTreeMap;

pub(crate) use dominance::fronts;
pub(crate) use replay::replay;
pub(crate) use space::{Dist, Param, Space};

/// Which sampler runs the study.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SamplerKind {
    /// Optuna's `RandomSampler(seed)` (search.md §6).
    Random,
    /// Optuna's `NSGAIIISampler(seed=seed)` with default arguments, 3.6.x – 4.4.x (§4):
    /// population 50, crossover 0.9, swapping 0.5, mutation 1/#params, Das–Dennis H = 3.
    Nsga3,
    /// The same sampler as Optuna 4.5 – 5.0 runs it (§7): a stored parent population comes
    /// back in trial-number order to every trial but the one that selected it, and the next
    /// elite selection sees it in that order too. Proposes the same trials as
    /// [`SamplerKind::Nsga3`] through the first trial of generation 1.
    Nsga3Optuna5,
    /// Optuna's `TPESampler(seed=seed)` with its 3.6 defaults (§5): 10 startup trials, 24 EI
    /// candidates, independent per parameter. Deterministic, not verified against Optuna.
    Tpe,
}

impl SamplerKind {
    /// Every sampler, as the catalogue lists them.
    pub(crate) const ALL: [SamplerKind; 4] =
        [SamplerKind::Nsga3, SamplerKind::Nsga3Optuna5, SamplerKind::Random, SamplerKind::Tpe];

    /// The name in `tune = search(sampler: …)`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SamplerKind::Random => "random",
            SamplerKind::Nsga3 => "nsga3",
            SamplerKind::Nsga3Optuna5 => "nsga3_optuna5",
            SamplerKind::Tpe => "tpe",
        }
    }

    /// The sampler a `sampler:` word names.
    pub(crate) fn from_name(name: &str) -> Option<SamplerKind> {
        SamplerKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// How a finished trial ended (search.md §1 "Final states").
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Outcome {
    /// Objective values, all minimised; `+∞` allowed (a failed evaluation). A vector with NaN,
    /// an empty one, or one whose length differs from the first COMPLETE trial's counts as
    /// [`Outcome::Failed`], as Optuna records those trials FAIL.
    Complete(Vec<f64>),
    /// Pruned: consumed its draws, never part of a population.
    Pruned,
    /// Failed: treated like a pruned trial.
    // The engine fails the whole search on a failed trial, as the reference aborts; the
    // sampler still knows how Optuna treats one.
    #[cfg_attr(not(test), allow(dead_code))]
    Failed,
}

/// Where a proposed value came from (the `src` letters of the replay vectors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A single-valued distribution (`S`): no randomness.
    Single,
    /// Drawn from the prior stream R_rand (`R`): generation 0, mutated parameters, `random`.
    Prior,
    /// Taken from the NSGA-III child (`C`): crossover or copy, not mutated.
    Child,
    /// Chosen by the TPE model (`T`): the best of the EI candidates.
    Model,
}

/// The parameters of one trial.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Proposal {
    /// Trial number (0-based, counting every trial whatever its state).
    pub(crate) number: usize,
    /// Name → value; ints and categorical choices as their numeric value.
    pub(crate) values: BTreeMap<String, f64>,
    /// The same values in the space's suggest order.
    pub(crate) ordered: Vec<f64>,
    /// Per parameter, in suggest order.
    pub(crate) origins: Vec<Origin>,
    /// NSGA-III generation (§4.3); `None` for `random` and for a space without any
    /// non-single-valued parameter.
    pub(crate) generation: Option<u32>,
}

/// How many more trials can be proposed before a running one finishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Capacity {
    /// Every further trial is determined (`random`, or nothing to search).
    Unlimited,
    /// This many further trials are determined (0: wait for a running one).
    Trials(usize),
}

/// The `RandomState` seed: the seed itself below 2³², else the xor of its halves (NumPy
/// rejects such seeds; see the module documentation). Every stream of every sampler is seeded
/// with it.
fn numpy_seed(seed: u64) -> u32 {
    // Truncation intended: for seeds below 2³² the high half is zero.
    (seed ^ (seed >> 32)) as u32
}

/// The objective vector of each trial that counts as COMPLETE, `None` for the others.
///
/// As in Optuna (§1 "Final states"), a `Complete` outcome whose vector is empty, contains NaN
/// or differs in length from the first acceptable one counts as FAIL. ±∞ are accepted.
fn accepted<'a>(outcomes: impl Iterator<Item = Option<&'a Outcome>>) -> Vec<Option<&'a [f64]>> {
    let mut width = None;
    outcomes
        .map(|o| match o {
            Some(Outcome::Complete(v)) if !v.is_empty() && !v.iter().any(|x| x.is_nan()) => {
                let m = *width.get_or_insert(v.len());
                (v.len() == m).then_some(v.as_slice())
            }
            _ => None,
        })
        .collect()
}

/// Trial `history.len()` of a sequential study whose earlier trials ended as `history`.
pub(crate) fn propose(kind: SamplerKind, seed: u64, space: &Space, history: &[Outcome]) -> Proposal {
    let mut replay = replay(kind, seed, space, history);
    // `replay` proposes trials 0..=history.len(): never empty.
    replay.proposals.pop().unwrap_or_else(|| Proposal {
        number: history.len(),
        values: BTreeMap::new(),
        ordered: Vec::new(),
        origins: Vec::new(),
        generation: None,
    })
}

/// How many trials after `trials` are determined now; `None` entries are still running.
pub(crate) fn ready(kind: SamplerKind, space: &Space, trials: &[Option<Outcome>]) -> Capacity {
    replay::capacity(kind, space, trials)
}

/// Trial `trials.len()` while some earlier trials (`None`) may still run, or `None` if it
/// depends on their outcomes. When proposed, it is the trial a sequential run proposes.
pub(crate) fn propose_next(
    kind: SamplerKind,
    seed: u64,
    space: &Space,
    trials: &[Option<Outcome>],
) -> Option<Proposal> {
    if ready(kind, space, trials) == Capacity::Trials(0) {
        return None;
    }
    // Determined means: the running trials sit in the open generation, which they cannot
    // fill, so any outcome gives this proposal; replay them as pruned.
    let history: Vec<Outcome> = trials.iter().map(|o| o.clone().unwrap_or(Outcome::Pruned)).collect();
    Some(propose(kind, seed, space, &history))
}
