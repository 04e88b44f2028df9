//! The reference's population membership-inference attack ("Val MIA" / "Test MIA",
//! evaluation.md §3), reproduced step for step as attack.md §6 describes it: global-RNG shuffles,
//! truncation, layout, `StratifiedShuffleSplit(10, 0.1, 123)`, `LogisticRegression()` per split,
//! and NumPy's summation order for the mean.

use crate::stats::shuffle::Shuffle;
use std::fmt;

use super::logistic::{LogisticError, LogisticFit};
use super::mt19937::Mt19937;
use super::stratified::{StratifiedError, StratifiedShuffleSplit};
use super::summary::numpy_mean;

/// Which loss vector of an MIA call a problem was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LossSet {
    /// The reference set H (validation set for Val MIA, test set for Test MIA).
    Reference,
    /// The forget set F.
    Forget,
}

impl fmt::Display for LossSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reference => "reference (validation/test)",
            Self::Forget => "forget",
        })
    }
}

/// Why an MIA value could not be computed (the reference raises in these cases).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum MiaError {
    /// A loss the attacker would see is NaN or ±∞ (scikit-learn refuses such input, §5).
    NonFiniteLoss {
        set: LossSet,
        /// Position in the caller's loss slice.
        index: usize,
        value: f64,
    },
    /// The balanced attack set is too small to stratify (e.g. an empty forget set).
    Split(StratifiedError),
    /// A per-split fit was refused.
    Fit(LogisticError),
}

impl fmt::Display for MiaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonFiniteLoss { set, index, value } => write!(
                f,
                "membership-inference attack: the {set} set has a non-finite loss ({value}) \
                 at sample {index}"
            ),
            Self::Split(e) => write!(f, "membership-inference attack: {e}"),
            Self::Fit(e) => write!(f, "membership-inference attack: {e}"),
        }
    }
}

impl std::error::Error for MiaError {}

impl From<StratifiedError> for MiaError {
    fn from(e: StratifiedError) -> Self {
        Self::Split(e)
    }
}

impl From<LogisticError> for MiaError {
    fn from(e: LogisticError) -> Self {
        Self::Fit(e)
    }
}

/// The global NumPy RNG as one model evaluation sees it: seeded with 123 by `setup_seed(123)`,
/// then consumed by Val MIA and, **without re-seeding**, by Test MIA (attack.md §6 step 1,
/// [QUIRK]). Create one per model evaluation and run the two MIAs through it in that order.
#[derive(Clone)]
pub(crate) struct MiaRng(Mt19937);

impl MiaRng {
    /// The state right after `setup_seed(123)`; the accuracies before the MIAs draw nothing.
    pub(crate) fn new() -> Self {
        Self(Mt19937::new(123))
    }

    /// One MIA on this stream (see [`mia`]).
    pub(crate) fn mia(&mut self, reference_losses: &[f64], forget_losses: &[f64]) -> Result<f64, MiaError> {
        mia(&mut self.0, reference_losses, forget_losses)
    }

    /// The underlying generator, for callers that interleave other global-RNG draws.
    #[cfg(test)]
    pub(crate) fn rng_mut(&mut self) -> &mut Mt19937 {
        &mut self.0
    }
}

impl Default for MiaRng {
    fn default() -> Self {
        Self::new()
    }
}

/// `cross_val_score(LogisticRegression(), x[:, None], y, cv=StratifiedShuffleSplit(10, 0.1,
/// 123), scoring="accuracy")` (attack.md §5): the 10 held-out accuracies in split order.
///
/// `y` is `true` for the positive class (label 1). The splitter's stream is private: it does not
/// touch any global RNG.
pub(crate) fn attack_scores(x: &[f64], y: &[bool]) -> Result<Vec<f64>, MiaError> {
    if x.len() != y.len() {
        return Err(LogisticError::LengthMismatch { x: x.len(), y: y.len() }.into());
    }
    let splits = StratifiedShuffleSplit::reference_mia().split(y)?;
    let mut scores = Vec::with_capacity(splits.len());
    for sp in &splits {
        let xt: Vec<f64> = sp.train.iter().map(|&i| x[i]).collect();
        let yt: Vec<bool> = sp.train.iter().map(|&i| y[i]).collect();
        let fit = LogisticFit::fit(&xt, &yt)?;
        let xs: Vec<f64> = sp.test.iter().map(|&i| x[i]).collect();
        let ys: Vec<bool> = sp.test.iter().map(|&i| y[i]).collect();
        scores.push(fit.accuracy(&xs, &ys));
    }
    Ok(scores)
}

/// The attacker's data set after the shuffles (attack.md §6 steps 2–4): forget block (label
/// `false`) then reference block (label `true`), each the first m of its shuffled vector.
fn attack_input(
    rng: &mut Mt19937,
    reference_losses: &[f64],
    forget_losses: &[f64],
) -> Result<(Vec<f64>, Vec<bool>), MiaError> {
    // Shuffling the positions replays exactly the swaps an in-place shuffle of the values makes,
    // and keeps each kept loss traceable to the caller's index for error messages.
    let h = rng.permutation(reference_losses.len());
    let f = rng.permutation(forget_losses.len());
    let m = h.len().min(f.len());
    let mut x = Vec::with_capacity(2 * m);
    let blocks = [(LossSet::Forget, forget_losses, &f[..m]), (LossSet::Reference, reference_losses, &h[..m])];
    for (set, losses, order) in blocks {
        for &i in order {
            let value = losses[i];
            // Only the kept losses reach scikit-learn, which is where the reference fails.
            if !value.is_finite() {
                return Err(MiaError::NonFiniteLoss { set, index: i, value });
            }
            x.push(value);
        }
    }
    let y = (0..2 * m).map(|k| k >= m).collect();
    Ok((x, y))
}

/// The 10 per-split accuracies of one reference MIA call on the global stream `rng`.
pub(crate) fn mia_scores(
    rng: &mut Mt19937,
    reference_losses: &[f64],
    forget_losses: &[f64],
) -> Result<Vec<f64>, MiaError> {
    let (x, y) = attack_input(rng, reference_losses, forget_losses)?;
    attack_scores(&x, &y)
}

/// One reference MIA value (attack.md §6): shuffle H, shuffle F (continuing `rng`), truncate both
/// to m = min(|H|, |F|), attack, and take NumPy's mean of the 10 held-out accuracies.
///
/// `rng` is the global NumPy stream: pass the same generator to Val MIA and then Test MIA.
/// Both shuffles happen before any check, so the stream advances as in the reference even when
/// an error is returned.
pub(crate) fn mia(rng: &mut Mt19937, reference_losses: &[f64], forget_losses: &[f64]) -> Result<f64, MiaError> {
    mia_scores(rng, reference_losses, forget_losses).map(|s| numpy_mean(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> serde_json::Value {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/attack.json"));
        serde_json::from_str(text).expect("attack.json parses")
    }

    fn floats(v: &serde_json::Value) -> Vec<f64> {
        v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
    }

    fn idx(v: &serde_json::Value) -> Vec<usize> {
        v.as_array().expect("array").iter().map(|x| x.as_u64().expect("index") as usize).collect()
    }

    /// Scores and value of one attack.json `stratified_shuffle_split` block.
    fn check_result(got_scores: &[f64], got_mia: f64, want: &serde_json::Value, what: &str) {
        for impl_name in ["exact_optimum", "sklearn_1_2_2"] {
            assert_eq!(got_scores, floats(&want["scores"][impl_name]).as_slice(), "{what} scores vs {impl_name}");
            assert_eq!(got_mia, want["mia"][impl_name].as_f64().expect("mia"), "{what} vs {impl_name}");
        }
    }

    #[test]
    fn small_datasets_mia_values() {
        let v = vectors();
        for name in ["dataset_a", "same_distribution", "separable"] {
            let case = &v[name];
            let c0 = floats(&case["class0"]);
            let c1 = floats(&case["class1"]);
            let y: Vec<bool> = (0..c0.len() + c1.len()).map(|k| k >= c0.len()).collect();
            let x: Vec<f64> = c0.into_iter().chain(c1).collect();
            let scores = attack_scores(&x, &y).expect("scores");
            let value = numpy_mean(&scores);
            check_result(&scores, value, &case["stratified_shuffle_split"], name);
        }
    }

    #[test]
    fn e2e_even_and_continued_pair() {
        let v = vectors();
        let case = &v["e2e_even"];
        let h = floats(&case["H_reference_losses"]);
        let f = floats(&case["F_forget_losses"]);
        let h2 = floats(&case["continued_second_pair"]["H2_reference_losses"]);

        // The shuffles are the documented permutations of the global stream.
        let mut g = Mt19937::new(123);
        assert_eq!(g.permutation(h.len()), idx(&case["perm_H"]));
        assert_eq!(g.permutation(f.len()), idx(&case["perm_F"]));
        let second = &case["continued_second_pair"];
        assert_eq!(g.permutation(h2.len()), idx(&second["perm_H2"]));
        assert_eq!(g.permutation(f.len()), idx(&second["perm_F"]));

        let mut rng = MiaRng::new();
        let scores = mia_scores(rng.rng_mut(), &h, &f).expect("first");
        check_result(&scores, numpy_mean(&scores), &case["stratified_shuffle_split"], "e2e_even");
        // Test MIA continues the stream: a fresh F copy, new H2, no re-seed.
        let value = rng.mia(&h2, &f).expect("second");
        assert_eq!(value, 0.698);
        let mut fresh = MiaRng::new();
        assert_eq!(fresh.mia(&h, &f), Ok(0.744));
        let mut g = Mt19937::new(123);
        let _ = mia(&mut g, &h, &f).expect("first");
        let scores = mia_scores(&mut g, &h2, &f).expect("second");
        check_result(&scores, numpy_mean(&scores), &second["stratified_shuffle_split"], "e2e_even second pair");
        // Re-seeding instead would give a different attack set and value.
        assert_ne!(MiaRng::new().mia(&h2, &f), Ok(0.698));
    }

    #[test]
    fn e2e_odd() {
        let v = vectors();
        let case = &v["e2e_odd"];
        let h = floats(&case["H_reference_losses"]);
        let f = floats(&case["F_forget_losses"]);
        let mut g = Mt19937::new(123);
        assert_eq!(g.permutation(h.len()), idx(&case["perm_H"]));
        assert_eq!(g.permutation(f.len()), idx(&case["perm_F"]));
        let scores = mia_scores(&mut Mt19937::new(123), &h, &f).expect("scores");
        check_result(&scores, numpy_mean(&scores), &case["stratified_shuffle_split"], "e2e_odd");
        assert_eq!(MiaRng::new().mia(&h, &f), Ok(0.727_450_980_392_156_8));
    }

    #[test]
    fn non_finite_loss_names_the_set() {
        let v = vectors();
        let case = &v["e2e_even"];
        let h = floats(&case["H_reference_losses"]);
        let mut f = floats(&case["F_forget_losses"]);
        f[17] = f64::NAN;
        let err = MiaRng::new().mia(&h, &f).unwrap_err();
        assert!(matches!(err, MiaError::NonFiniteLoss { set: LossSet::Forget, index: 17, .. }));
        assert!(err.to_string().contains("forget set"), "{err}");

        let mut h = h;
        let f = floats(&case["F_forget_losses"]);
        // perm_H[0] is kept (m = 250 < 300), so this reference loss reaches the attacker.
        let kept = idx(&case["perm_H"])[0];
        h[kept] = f64::INFINITY;
        let err = MiaRng::new().mia(&h, &f).unwrap_err();
        assert!(matches!(err, MiaError::NonFiniteLoss { set: LossSet::Reference, .. }));
        assert!(err.to_string().contains("reference"), "{err}");
    }

    #[test]
    fn non_finite_loss_outside_the_kept_part_is_ignored_like_the_reference() {
        let v = vectors();
        let case = &v["e2e_even"];
        let mut h = floats(&case["H_reference_losses"]);
        let f = floats(&case["F_forget_losses"]);
        // perm_H[299] lands beyond m = 250 and never reaches scikit-learn.
        let dropped = idx(&case["perm_H"])[299];
        h[dropped] = f64::NAN;
        assert_eq!(MiaRng::new().mia(&h, &f), Ok(0.744));
    }

    #[test]
    fn errors_still_advance_the_stream() {
        let mut rng = Mt19937::new(123);
        let err = mia(&mut rng, &[1.0, f64::NAN, 2.0], &[0.5, 0.25, 0.125]);
        assert!(err.is_err());
        let mut expect = Mt19937::new(123);
        let _ = expect.permutation(3);
        let _ = expect.permutation(3);
        assert_eq!(rng.next_u32(), expect.next_u32());
    }

    #[test]
    fn mismatched_attack_input_is_an_error() {
        let err = attack_scores(&[1.0; 20], &[true; 19]).unwrap_err();
        assert_eq!(err, MiaError::Fit(LogisticError::LengthMismatch { x: 20, y: 19 }));
    }

    #[test]
    fn empty_forget_set_is_an_error() {
        let err = MiaRng::new().mia(&[1.0, 2.0], &[]).unwrap_err();
        assert!(matches!(err, MiaError::Split(_)), "{err:?}");
    }
}
