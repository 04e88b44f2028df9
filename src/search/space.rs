//! Search spaces: distributions, their validation and Optuna's transformed ("search-space")
//! representation (search.md §3.1).
//!
//! A [`Space`] lists its parameters in **suggest order** (the caller's order: every trial suggests
//! every parameter in that order, which fixes the order of prior draws, §3.2). The NSGA-III
//! *relative* space is the non-single-valued parameters **sorted by name** (plain string order,
//! §4.2), kept here as [`Space::relative`]. The name sorted by is the one the study knows the
//! parameter by ([`Param::study_name`]: for a reference search, the reference's dotted config
//! name such as `optimizer.learning_rate`), which may differ from the name proposals are
//! reported under ([`Param::name`]: munl's field, `lr`).

use std::collections::HashSet;

/// One hyper-parameter distribution, as Optuna's `FloatDistribution` (no step),
/// `IntDistribution` and `CategoricalDistribution` over numbers.
///
/// Values are carried as `f64` everywhere (ints and categorical choices as their numeric value).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Dist {
    /// Uniform (`log = false`) or log-uniform (`log = true`) on `[low, high]`; `low == high` is
    /// single-valued (a pinned value such as the momentum 0.9).
    Float { low: f64, high: f64, log: bool },
    /// Integers `low, low + step, …, high`; `log` requires `step == 1` and `low ≥ 1`.
    Int { low: i64, high: i64, log: bool, step: i64 },
    /// One of the listed numbers (e.g. batch sizes 64, 128, 256), uniform over the choices.
    Categorical(Vec<f64>),
}

/// A named distribution.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Param {
    /// The name proposals carry the value under ([`super::Proposal::values`]).
    pub(crate) name: String,
    /// The name of the parameter in the study, which orders the relative space (§4.2); `name`
    /// unless set with [`Param::known_as`].
    pub(crate) study_name: String,
    pub(crate) dist: Dist,
}

impl Param {
    pub(crate) fn new(name: impl Into<String>, dist: Dist) -> Self {
        let name = name.into();
        Self { study_name: name.clone(), name, dist }
    }

    /// The same parameter, known to the study (and sorted in the relative space) as `study_name`.
    pub(crate) fn known_as(self, study_name: impl Into<String>) -> Self {
        Self { study_name: study_name.into(), ..self }
    }
}

/// Why a [`Space`] was rejected (the cases Optuna rejects when a distribution is built, plus
/// duplicate names and duplicate categorical choices, which would make values ambiguous here).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum SpaceError {
    #[error("parameter name is empty")]
    EmptyName,
    #[error("parameter `{0}` is listed twice")]
    DuplicateName(String),
    #[error("parameter `{0}`: bounds must be finite with low <= high")]
    Bounds(String),
    #[error("parameter `{0}`: a log distribution needs a positive lower bound")]
    LogLow(String),
    #[error("parameter `{0}`: the step must be positive, divide high - low, and be 1 for a log int")]
    Step(String),
    #[error("parameter `{0}`: a categorical needs at least one finite choice, without repeats")]
    Choices(String),
}

impl Dist {
    /// The value of a single-valued distribution (returned without randomness and never part
    /// of the relative space, §1 lifecycle step 2, §4.2), or `None`.
    pub(crate) fn single(&self) -> Option<f64> {
        match self {
            Dist::Float { low, high, .. } if low == high => Some(*low),
            // i64 → f64 is exact for any bound a search uses (|v| < 2^53).
            Dist::Int { low, high, .. } if low == high => Some(*low as f64),
            Dist::Categorical(choices) if choices.len() == 1 => Some(choices[0]),
            _ => None,
        }
    }

    pub(crate) fn is_categorical(&self) -> bool {
        matches!(self, Dist::Categorical(_))
    }

    /// Optuna's `_contains` on the external value: floats `low ≤ v ≤ high`; ints integral, in
    /// range and on the step grid; categoricals one of the choices.
    pub(crate) fn contains(&self, v: f64) -> bool {
        match self {
            Dist::Float { low, high, .. } => *low <= v && v <= *high,
            Dist::Int { low, high, step, .. } => {
                let (low, high, step) = (*low as f64, *high as f64, *step as f64);
                v.fract() == 0.0 && low <= v && v <= high && ((v - low) % step) == 0.0
            }
            Dist::Categorical(choices) => choices.contains(&v),
        }
    }

    /// Bounds of the single transformed column of a numerical distribution (§3.1): `[low, high]`
    /// for floats, `[ln low, ln high]` for log floats, `[low − q/2, high + q/2]` for ints, and
    /// `[ln(low − ½), ln(high + ½)]` for log ints. `None` for categoricals (one-hot, `[0, 1]`).
    pub(crate) fn column_bounds(&self) -> Option<(f64, f64)> {
        match self {
            Dist::Float { low, high, log: false } => Some((*low, *high)),
            Dist::Float { low, high, log: true } => Some((low.ln(), high.ln())),
            Dist::Int { low, high, log: false, step } => {
                let half = 0.5 * *step as f64;
                Some((*low as f64 - half, *high as f64 + half))
            }
            Dist::Int { low, high, log: true, step } => {
                let half = 0.5 * *step as f64;
                Some(((*low as f64 - half).ln(), (*high as f64 + half).ln()))
            }
            Dist::Categorical(_) => None,
        }
    }

    /// Value → transformed column for a numerical distribution: `ln x` for log ones, `x`
    /// otherwise (§3.1). Categoricals are one-hot encoded by the caller and never come here.
    pub(crate) fn transform(&self, v: f64) -> f64 {
        match self {
            Dist::Float { log: true, .. } | Dist::Int { log: true, .. } => v.ln(),
            _ => v,
        }
    }

    /// Transformed column → value for a numerical distribution (§3.1):
    /// * float: `min(c, next float below high)` (`exp(c)` first for log) — high itself is never
    ///   produced; a single-valued float returns the column as is;
    /// * int: `round_half_even((c − low)/q)·q + low` clipped to `[low, high]`; log int:
    ///   `round_half_even(exp(c))` clipped.
    ///
    /// **[QUIRK]** `exp(ln x)` need not equal `x`: a log value copied through crossover can
    /// change in its last bit (the replay vectors contain such values).
    pub(crate) fn untransform(&self, c: f64) -> f64 {
        match self {
            Dist::Float { low, high, log } => {
                let v = if *log { c.exp() } else { c };
                if low == high {
                    v
                } else {
                    v.min(high.next_down())
                }
            }
            Dist::Int { low, high, log: true, .. } => c.exp().round_ties_even().max(*low as f64).min(*high as f64),
            Dist::Int { low, high, log: false, step } => {
                let (low, high, step) = (*low as f64, *high as f64, *step as f64);
                (((c - low) / step).round_ties_even() * step + low).max(low).min(high)
            }
            // Not reachable through the samplers (categoricals are handled one-hot); the
            // nearest choice keeps the function total.
            Dist::Categorical(choices) => {
                choices.iter().copied().min_by(|a, b| (a - c).abs().total_cmp(&(b - c).abs())).unwrap_or(c)
            }
        }
    }

    fn validate(&self, name: &str) -> Result<(), SpaceError> {
        let bounds = || SpaceError::Bounds(name.to_string());
        match self {
            Dist::Float { low, high, log } => {
                if !(low.is_finite() && high.is_finite() && low <= high) {
                    return Err(bounds());
                }
                if *log && *low <= 0.0 {
                    return Err(SpaceError::LogLow(name.to_string()));
                }
            }
            Dist::Int { low, high, log, step } => {
                if low > high || low.unsigned_abs() >= 1 << 53 || high.unsigned_abs() >= 1 << 53 {
                    return Err(bounds());
                }
                if *log && *low < 1 {
                    return Err(SpaceError::LogLow(name.to_string()));
                }
                if *step < 1 || (high - low) % step != 0 || (*log && *step != 1) {
                    return Err(SpaceError::Step(name.to_string()));
                }
            }
            Dist::Categorical(choices) => {
                let repeated = choices.iter().enumerate().any(|(i, c)| choices[..i].contains(c));
                if choices.is_empty() || repeated || !choices.iter().all(|c| c.is_finite()) {
                    return Err(SpaceError::Choices(name.to_string()));
                }
            }
        }
        Ok(())
    }
}

/// A validated search space: parameters in suggest order plus the relative space (§4.2).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Space {
    params: Vec<Param>,
    /// Indices into `params` of the non-single-valued parameters, sorted by study name.
    relative: Vec<usize>,
}

impl Space {
    /// Validates the parameters (given in suggest order) and derives the relative space.
    /// Names and study names must each be unique.
    pub(crate) fn new(params: Vec<Param>) -> Result<Self, SpaceError> {
        let mut names = HashSet::new();
        let mut study_names = HashSet::new();
        for p in &params {
            if p.name.is_empty() || p.study_name.is_empty() {
                return Err(SpaceError::EmptyName);
            }
            if !names.insert(p.name.as_str()) {
                return Err(SpaceError::DuplicateName(p.name.clone()));
            }
            if !study_names.insert(p.study_name.as_str()) {
                return Err(SpaceError::DuplicateName(p.study_name.clone()));
            }
            p.dist.validate(&p.name)?;
        }
        let mut relative: Vec<usize> = (0..params.len()).filter(|&i| params[i].dist.single().is_none()).collect();
        // Rust's `str` order is byte order of UTF-8, i.e. code-point order, as Python's `sorted`.
        relative.sort_by(|&a, &b| params[a].study_name.cmp(&params[b].study_name));
        Ok(Self { params, relative })
    }

    /// The parameters in suggest order.
    pub(crate) fn params(&self) -> &[Param] {
        &self.params
    }

    /// The relative search space: indices (into [`Space::params`]) of the non-single-valued
    /// parameters in study-name order (§4.2).
    pub(crate) fn relative(&self) -> &[usize] {
        &self.relative
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_float(low: f64, high: f64) -> Dist {
        Dist::Float { low, high, log: true }
    }

    #[test]
    fn relative_space_is_sorted_by_name_without_single_values() {
        let space = Space::new(vec![
            Param::new("optimizer.learning_rate", log_float(1e-5, 1e-1)),
            Param::new("optimizer.momentum", Dist::Float { low: 0.9, high: 0.9, log: false }),
            Param::new("optimizer.weight_decay", log_float(1e-5, 1e-1)),
            Param::new("batch_size", Dist::Categorical(vec![64.0, 128.0, 256.0])),
            Param::new("num_epochs", Dist::Int { low: 1, high: 37, log: false, step: 1 }),
        ])
        .expect("valid");
        let names: Vec<&str> = space.relative().iter().map(|&i| space.params()[i].name.as_str()).collect();
        assert_eq!(names, ["batch_size", "num_epochs", "optimizer.learning_rate", "optimizer.weight_decay"]);
    }

    #[test]
    fn relative_space_is_sorted_by_the_study_names() {
        // munl's flat names sort `batch, epochs, forget_lr, lr`; the reference's dotted names
        // sort `batch_size, forget_optimizer.learning_rate, num_epochs, optimizer.learning_rate`.
        let space = Space::new(vec![
            Param::new("forget_lr", log_float(1e-5, 1e-1)).known_as("forget_optimizer.learning_rate"),
            Param::new("lr", log_float(1e-5, 1e-1)).known_as("optimizer.learning_rate"),
            Param::new("momentum", Dist::Float { low: 0.9, high: 0.9, log: false }).known_as("optimizer.momentum"),
            Param::new("batch", Dist::Categorical(vec![64.0, 128.0, 256.0])).known_as("batch_size"),
            Param::new("epochs", Dist::Int { low: 1, high: 37, log: false, step: 1 }).known_as("num_epochs"),
        ])
        .expect("valid");
        let names: Vec<&str> = space.relative().iter().map(|&i| space.params()[i].name.as_str()).collect();
        assert_eq!(names, ["batch", "forget_lr", "epochs", "lr"]);
        let twice = Space::new(vec![
            Param::new("lr", log_float(1e-5, 1e-1)).known_as("x"),
            Param::new("wd", log_float(1e-5, 1e-1)).known_as("x"),
        ]);
        assert_eq!(twice, Err(SpaceError::DuplicateName("x".into())));
    }

    #[test]
    fn invalid_spaces_are_rejected() {
        let bad = |d: Dist| Space::new(vec![Param::new("x", d)]).is_err();
        assert!(bad(Dist::Float { low: 1.0, high: 0.0, log: false }));
        assert!(bad(log_float(0.0, 1.0)));
        assert!(bad(Dist::Int { low: 1, high: 10, log: false, step: 0 }));
        assert!(bad(Dist::Int { low: 1, high: 10, log: false, step: 2 }));
        assert!(bad(Dist::Int { low: 0, high: 10, log: true, step: 1 }));
        assert!(bad(Dist::Categorical(vec![])));
        assert!(bad(Dist::Categorical(vec![1.0, 1.0])));
        let dup = Space::new(vec![
            Param::new("x", Dist::Categorical(vec![1.0])),
            Param::new("x", Dist::Categorical(vec![2.0])),
        ]);
        assert_eq!(dup, Err(SpaceError::DuplicateName("x".into())));
    }

    #[test]
    fn columns_round_trip_and_clip() {
        let ep = Dist::Int { low: 1, high: 37, log: false, step: 1 };
        assert_eq!(ep.column_bounds(), Some((0.5, 37.5)));
        assert_eq!(ep.untransform(0.5), 1.0); // round(-0.5) = -0 (half to even)
        assert_eq!(ep.untransform(2.5), 3.0); // (2.5 - 1) = 1.5 → 2
        assert_eq!(ep.untransform(3.5), 3.0); // 2.5 → 2
        assert_eq!(ep.untransform(37.5), 37.0);
        let lr = log_float(1e-5, 1e-1);
        assert_eq!(lr.untransform(0.1f64.ln() + 1.0), 0.1f64.next_down());
        let li = Dist::Int { low: 1, high: 10, log: true, step: 1 };
        assert_eq!(li.column_bounds(), Some((0.5f64.ln(), 10.5f64.ln())));
        assert_eq!(li.untransform(10.5f64.ln()), 10.0);
        assert!(ep.contains(5.0) && !ep.contains(5.5) && !ep.contains(38.0));
    }
}
