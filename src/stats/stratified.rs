//! scikit-learn's `StratifiedShuffleSplit(n_splits, test_size, random_state)` (attack.md §2),
//! reproduced index-for-index: the reference's MIA scores each attacker on these splits.

use crate::stats::shuffle::Shuffle;
use std::fmt;

use super::mt19937::Mt19937;
use super::split::ceil_fraction;

/// One (train, test) pair, in exactly the order the splitter yields the indices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SplitIndices {
    /// Positions into the label slice used for fitting.
    pub train: Vec<usize>,
    /// Held-out positions.
    pub test: Vec<usize>,
    /// 32-bit MT19937 outputs this split consumed (attack.json `u32_draws_total`).
    pub u32_draws: u64,
}

/// Why the splitter refuses a label vector (the cases where scikit-learn raises, §2.1).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum StratifiedError {
    /// `test_size` not strictly between 0 and 1.
    TestSize(f64),
    /// Rounding leaves no sample to train on (scikit-learn's shared size check, attack.md §3).
    EmptyTrain { n_samples: usize, n_test: usize },
    /// Some class has fewer than two members.
    ClassTooSmall,
    /// The train or test part would be smaller than the number of classes.
    TooFewSamples { n_train: usize, n_test: usize, n_classes: usize },
}

impl fmt::Display for StratifiedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TestSize(t) => write!(f, "test_size must be in (0, 1), got {t}"),
            Self::EmptyTrain { n_samples, n_test } => {
                write!(f, "with {n_samples} samples and {n_test} held out, the train part would be empty")
            }
            Self::ClassTooSmall => write!(f, "the least populated class has fewer than 2 members; cannot stratify"),
            Self::TooFewSamples { n_train, n_test, n_classes } => write!(
                f,
                "train ({n_train}) and test ({n_test}) sizes must each be at least the number \
                 of classes ({n_classes})"
            ),
        }
    }
}

impl std::error::Error for StratifiedError {}

/// `StratifiedShuffleSplit` with a float `test_size` and `train_size = None`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StratifiedShuffleSplit {
    pub n_splits: usize,
    pub test_size: f64,
    pub random_state: u32,
}

impl StratifiedShuffleSplit {
    /// The configuration the reference's MIA uses: 10 splits, 10 % held out, seed 123 (§6).
    pub(crate) fn reference_mia() -> Self {
        Self { n_splits: 10, test_size: 0.1, random_state: 123 }
    }

    /// All splits for `labels`, in generator order (§2.3–2.4).
    ///
    /// Every call starts from a fresh `RandomState(random_state)`, like every `split()` call (and
    /// so every `cross_val_score`) in the reference; split `s` depends on all draws of earlier
    /// splits.
    pub(crate) fn split<T: Ord>(&self, labels: &[T]) -> Result<Vec<SplitIndices>, StratifiedError> {
        if !(self.test_size > 0.0 && self.test_size < 1.0) {
            return Err(StratifiedError::TestSize(self.test_size));
        }
        let n = labels.len();
        let n_test = ceil_fraction(self.test_size, n);
        let n_train = n - n_test;
        if n_train == 0 {
            return Err(StratifiedError::EmptyTrain { n_samples: n, n_test });
        }

        // §2.2: classes in sorted order, members of each in ascending position (the stable sort).
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| labels[a].cmp(&labels[b]));
        let mut class_indices: Vec<Vec<usize>> = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            if k == 0 || labels[order[k - 1]] != labels[i] {
                class_indices.push(Vec::new());
            }
            if let Some(members) = class_indices.last_mut() {
                members.push(i);
            }
        }
        let counts: Vec<usize> = class_indices.iter().map(Vec::len).collect();
        let n_classes = counts.len();
        if counts.iter().any(|&c| c < 2) {
            return Err(StratifiedError::ClassTooSmall);
        }
        if n_train < n_classes || n_test < n_classes {
            return Err(StratifiedError::TooFewSamples { n_train, n_test, n_classes });
        }

        let mut rng = Mt19937::new(self.random_state);
        let mut out = Vec::with_capacity(self.n_splits);
        for _ in 0..self.n_splits {
            let before = rng.draws();
            let train_per_class = approx_mode(&counts, n_train, &mut rng);
            let remaining: Vec<usize> = counts
                .iter()
                .zip(&train_per_class)
                // approx_mode never allots more than a class holds; saturate rather than trust
                // float rounding with that invariant.
                .map(|(&c, &t)| c.saturating_sub(t))
                .collect();
            let test_per_class = approx_mode(&remaining, n_test, &mut rng);

            let mut train = Vec::with_capacity(n_train);
            let mut test = Vec::with_capacity(n_test);
            for (k, members) in class_indices.iter().enumerate() {
                let p = rng.permutation(members.len());
                let mut permuted = p.iter().map(|&j| members[j]);
                // Members beyond train + test count stay unused (§2.4 step 3).
                train.extend(permuted.by_ref().take(train_per_class[k]));
                test.extend(permuted.take(test_per_class[k]));
            }
            // §2.4 step 4: the train list is permuted before the test list.
            rng.shuffle(&mut train);
            rng.shuffle(&mut test);
            out.push(SplitIndices { train, test, u32_draws: rng.draws() - before });
        }
        Ok(out)
    }
}

/// scikit-learn's `_approximate_mode(counts, n_draws, rng)` (§2.5): distributes `n_draws` over
/// classes in proportion to `counts`, breaking remainder ties with `choice(…, replace=False)`.
fn approx_mode(counts: &[usize], n_draws: usize, rng: &mut Mt19937) -> Vec<usize> {
    // Counts are far below 2^53, so the float arithmetic below is the reference's exactly.
    let total = counts.iter().sum::<usize>() as f64;
    let continuous: Vec<f64> = counts.iter().map(|&c| c as f64 / total * n_draws as f64).collect();
    // Non-negative finite values (total > 0 whenever this is called), so the casts are exact.
    let mut floored: Vec<usize> = continuous.iter().map(|c| c.floor() as usize).collect();
    let mut need = n_draws.saturating_sub(floored.iter().sum::<usize>());
    if need == 0 {
        return floored;
    }
    let remainder: Vec<f64> = continuous.iter().zip(&floored).map(|(&c, &f)| c - f as f64).collect();
    let mut values = remainder.clone();
    values.sort_by(|a, b| b.total_cmp(a));
    values.dedup();
    for v in values {
        let tied: Vec<usize> = (0..remainder.len()).filter(|&k| remainder[k] == v).collect();
        let add = tied.len().min(need);
        // choice(tied, add, replace=False) pays for a full permutation and keeps its head (§1.5).
        let p = rng.permutation(tied.len());
        for &j in &p[..add] {
            floored[tied[j]] += 1;
        }
        need -= add;
        if need == 0 {
            break;
        }
    }
    floored
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn vectors() -> serde_json::Value {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/attack.json"));
        serde_json::from_str(text).expect("attack.json parses")
    }

    fn sha256_idx(v: &[usize]) -> String {
        let mut h = Sha256::new();
        for &x in v {
            h.update((x as i64).to_le_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn idx(v: &serde_json::Value) -> Vec<usize> {
        v.as_array().expect("array").iter().map(|x| x.as_u64().expect("index") as usize).collect()
    }

    fn two_blocks(m0: usize, m1: usize) -> Vec<u8> {
        let mut y = vec![0u8; m0];
        y.resize(m0 + m1, 1);
        y
    }

    fn class1_count(ix: &[usize], m: usize) -> usize {
        ix.iter().filter(|&&i| i >= m).count()
    }

    /// Checks every field attack.json records for a splitter run on `m` zeros then `m` ones;
    /// returns how many splits had their draw count checked.
    fn check_case(case: &serde_json::Value, m: usize) -> usize {
        let mut draw_checks = 0;
        let splits = StratifiedShuffleSplit::reference_mia().split(&two_blocks(m, m)).expect("valid labels");
        let want = case["splits"].as_array().expect("splits");
        assert_eq!(splits.len(), want.len());
        for (s, (got, w)) in splits.iter().zip(want).enumerate() {
            assert_eq!(sha256_idx(&got.test), w["test_sha256"], "split {s} test");
            assert_eq!(sha256_idx(&got.train), w["train_sha256"], "split {s} train");
            if !w["test"].is_null() {
                assert_eq!(got.test, idx(&w["test"]), "split {s} test");
            }
            if !w["train"].is_null() {
                assert_eq!(got.train, idx(&w["train"]), "split {s} train");
            }
            for (key, arr, take) in
                [("test_first10", &got.test, 10), ("train_first10", &got.train, 10), ("train_first5", &got.train, 5)]
            {
                if !w[key].is_null() {
                    assert_eq!(arr[..take].to_vec(), idx(&w[key]), "split {s} {key}");
                }
            }
            if !w["test_last3"].is_null() {
                assert_eq!(got.test[got.test.len() - 3..].to_vec(), idx(&w["test_last3"]));
            }
            for (key, arr) in [("n_test_class1", &got.test), ("test_class1", &got.test)] {
                if let Some(c) = w[key].as_u64() {
                    assert_eq!(class1_count(arr, m) as u64, c, "split {s} {key}");
                }
            }
            if let Some(c) = w["train_class1"].as_u64() {
                assert_eq!(class1_count(&got.train, m) as u64, c, "split {s}");
            }
            draw_checks += check_trace(got, w, m, s);
        }
        // Where rng_trace sits beside the splits, it lists one entry per split.
        if let Some(trace) = case["rng_trace"].as_array() {
            assert_eq!(trace.len(), splits.len());
            for (s, (got, t)) in splits.iter().zip(trace).enumerate() {
                draw_checks += check_trace(got, t, m, s);
            }
        }
        draw_checks
    }

    /// Per-class counts and draw count, wherever attack.json records them.
    fn check_trace(got: &SplitIndices, t: &serde_json::Value, m: usize, s: usize) -> usize {
        let mut checked = 0;
        if let Some(d) = t["u32_draws_total"].as_u64() {
            assert_eq!(got.u32_draws, d, "split {s} draws");
            checked = 1;
        }
        for (key, arr) in [("train_per_class", &got.train), ("test_per_class", &got.test)] {
            if !t[key].is_null() {
                let c1 = class1_count(arr, m);
                assert_eq!(idx(&t[key]), vec![arr.len() - c1, c1], "split {s} {key}");
            }
        }
        checked
    }

    #[test]
    fn small_datasets_match_sklearn() {
        let v = vectors();
        assert_eq!(check_case(&v["dataset_a"]["stratified_shuffle_split"], 100), 10);
        for name in ["same_distribution", "separable"] {
            check_case(&v[name]["stratified_shuffle_split"], 100);
        }
    }

    #[test]
    fn e2e_layouts_match_sklearn() {
        let v = vectors();
        assert_eq!(check_case(&v["e2e_even"]["stratified_shuffle_split"], 250), 10);
        check_case(&v["e2e_even"]["continued_second_pair"]["stratified_shuffle_split"], 250);
        assert_eq!(check_case(&v["e2e_odd"]["stratified_shuffle_split"], 255), 10);
    }

    #[test]
    fn benchmark_sizes_match_sklearn() {
        let v = vectors();
        let b = &v["benchmark_size_splits"];
        for name in ["cifar_m4250", "mnist_fmnist_m5100", "utkface_m1613"] {
            let m = b[name]["m"].as_u64().expect("m") as usize;
            assert_eq!(check_case(&b[name], m), 10, "{name}");
        }
    }

    #[test]
    fn splits_are_disjoint_and_stratified_for_three_classes() {
        let labels: Vec<i32> = (0..97).map(|i| [5, -1, 9][i % 3]).collect();
        let splits = StratifiedShuffleSplit::reference_mia().split(&labels).expect("valid");
        for s in &splits {
            assert_eq!(s.test.len(), 10);
            assert_eq!(s.train.len(), 87);
            let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..97).collect::<Vec<_>>());
            for class in [5, -1, 9] {
                let k = s.test.iter().filter(|&&i| labels[i] == class).count();
                assert!((3..=4).contains(&k), "class {class}: {k}");
            }
        }
    }

    #[test]
    fn rejects_degenerate_inputs() {
        let sss = StratifiedShuffleSplit::reference_mia();
        assert_eq!(sss.split(&[0, 0, 0, 1]).unwrap_err(), StratifiedError::ClassTooSmall);
        assert!(matches!(sss.split(&[0, 0, 1, 1]).unwrap_err(), StratifiedError::TooFewSamples { n_test: 1, .. }));
        assert_eq!(sss.split::<u8>(&[]).unwrap_err(), StratifiedError::EmptyTrain { n_samples: 0, n_test: 0 });
        let bad = StratifiedShuffleSplit { test_size: 1.0, ..sss };
        assert_eq!(bad.split(&[0, 0, 1, 1]).unwrap_err(), StratifiedError::TestSize(1.0));
    }

    #[test]
    fn approx_mode_breaks_ties_with_a_draw() {
        // Odd total over two equal classes: one tie-break permutation of two (one draw).
        let mut rng = Mt19937::new(123);
        let got = approx_mode(&[3, 3], 3, &mut rng);
        assert_eq!(got.iter().sum::<usize>(), 3);
        assert_eq!(rng.draws(), 1);
        // §2.6: class 1 gets the extra sample when the draw is even. 2991312382 is even.
        assert_eq!(got, vec![1, 2]);
        let mut rng = Mt19937::new(123);
        assert_eq!(approx_mode(&[4, 4], 4, &mut rng), vec![2, 2]);
        assert_eq!(rng.draws(), 0);
    }
}
