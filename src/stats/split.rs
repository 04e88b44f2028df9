//! The reference's main-benchmark split into train / val / retain / forget / test
//! (datasets.md §3), reproduced bit-exactly from scikit-learn's `train_test_split` semantics
//! (attack.md §3) on top of NumPy's legacy MT19937.

use super::mt19937::Mt19937;
use crate::stats::shuffle::Shuffle;

/// The five index sets of the main split, as global indices into official-train ++ official-test.
///
/// Every vector is in the reference's order: `train`/`val` in the order of the first
/// `train_test_split`, `retain`/`forget` in the order of the second, `test` ascending
/// (datasets.md §3, "Storage"). Element type `i64` matches the reference's `.npy` files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Split {
    pub train: Vec<i64>,
    pub val: Vec<i64>,
    pub retain: Vec<i64>,
    pub forget: Vec<i64>,
    pub test: Vec<i64>,
}

/// Size of the held-out part for a float `test_size`: `⌈test_size · n⌉` computed in float64
/// (attack.md §3; e.g. 0.15 · 18 967 = 2845.0499… → 2 846), clamped to `0 ..= n`.
///
/// scikit-learn rejects fractions outside (0, 1); the clamp only keeps the arithmetic total for
/// such inputs, callers that need the rejection check the fraction themselves.
pub(crate) fn ceil_fraction(test_size: f64, n: usize) -> usize {
    // n is at most a few million here, exactly representable in f64.
    let v = (test_size * n as f64).ceil();
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= n as f64 {
        n
    } else {
        // 0 < v < n, an integer-valued float: the cast is exact.
        v as usize
    }
}

/// `train_test_split(items, test_size, random_state=seed)` without stratification: returns
/// `(train, test)` with `test = items[p[..n_test]]`, `train = items[p[n_test..]]` for
/// `p = RandomState(seed).permutation(len)` (attack.md §3; train_size is the complement).
fn train_test_split(items: &[i64], test_size: f64, seed: u32) -> (Vec<i64>, Vec<i64>) {
    let n_test = ceil_fraction(test_size, items.len());
    let p = Mt19937::new(seed).permutation(items.len());
    let test = p[..n_test].iter().map(|&i| items[i]).collect();
    let train = p[n_test..].iter().map(|&i| items[i]).collect();
    (train, test)
}

/// The reference's main split (datasets.md §3) for a dataset with `n_train` official-train and
/// `n_test` official-test samples: `val` = fraction `val` of the official train part, then
/// `forget` = fraction `forget` of the remaining train part; each step with a fresh
/// `RandomState(seed)` (not a continuation). The reference uses `(0.15, 0.10, 123)`.
pub(crate) fn reference_split(n_train: usize, n_test: usize, val: f64, forget: f64, seed: u32) -> Split {
    // Dataset sizes are far below i64::MAX, so the index casts are lossless.
    let dev: Vec<i64> = (0..n_train as i64).collect();
    let test: Vec<i64> = (n_train as i64..(n_train + n_test) as i64).collect();
    let (train, val) = train_test_split(&dev, val, seed);
    let (retain, forget) = train_test_split(&train, forget, seed);
    Split { train, val, retain, forget, test }
}

/// Reading the index vectors of `spec/vectors`, for this module's and the LiRA split's tests.
#[cfg(test)]
pub(crate) mod testing {
    use sha2::{Digest, Sha256};

    /// SHA-256 of the little-endian int64 bytes, as the vector files record it.
    pub(crate) fn sha256_i64_le(v: &[i64]) -> String {
        let mut h = Sha256::new();
        for x in v {
            h.update(x.to_le_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn ints(v: &serde_json::Value) -> Vec<i64> {
        v.as_array().expect("array").iter().map(|x| x.as_i64().expect("integer")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{ints, sha256_i64_le};
    use super::*;

    fn vectors() -> serde_json::Value {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/splits.json"));
        serde_json::from_str(text).expect("splits.json parses")
    }

    fn check_dataset(name: &str, n_train: usize, n_test: usize) {
        let all = vectors();
        let want = &all[name];
        let split = reference_split(n_train, n_test, 0.15, 0.10, 123);
        let parts: [(&str, &Vec<i64>); 5] = [
            ("train", &split.train),
            ("val", &split.val),
            ("retain", &split.retain),
            ("forget", &split.forget),
            ("test", &split.test),
        ];
        for (part, got) in parts {
            let w = &want[part];
            assert_eq!(got.len() as u64, w["len"].as_u64().expect("len"), "{name}/{part} len");
            assert_eq!(got[..12].to_vec(), ints(&w["first"]), "{name}/{part} first");
            assert_eq!(got[got.len() - 4..].to_vec(), ints(&w["last"]), "{name}/{part} last");
            assert_eq!(sha256_i64_le(got), w["sha256_int64_le"].as_str().expect("sha"), "{name}/{part} sha256");
        }
    }

    #[test]
    fn mnist_split_matches_reference() {
        check_dataset("mnist", 60_000, 10_000);
    }

    #[test]
    fn fashion_mnist_split_matches_reference() {
        check_dataset("fashion_mnist", 60_000, 10_000);
    }

    #[test]
    fn cifar10_split_matches_reference() {
        check_dataset("cifar10", 50_000, 10_000);
    }

    #[test]
    fn cifar100_split_matches_reference() {
        check_dataset("cifar100", 50_000, 10_000);
    }

    #[test]
    fn utkface_sizes_follow_float_ceil() {
        // datasets.md §3 table: 0.15 · 18 967 lands just above 2845, so val gets 2 846.
        let s = reference_split(18_967, 4_741, 0.15, 0.10, 123);
        assert_eq!(s.val.len(), 2_846);
        assert_eq!(s.train.len(), 16_121);
        assert_eq!(s.forget.len(), 1_613);
        assert_eq!(s.retain.len(), 14_508);
        assert_eq!(s.test.len(), 4_741);
        assert_eq!(s.test[0], 18_967);
    }

    #[test]
    fn parts_partition_the_index_range() {
        let s = reference_split(1_000, 200, 0.15, 0.10, 7);
        let mut dev: Vec<i64> = s.train.iter().chain(&s.val).copied().collect();
        dev.sort_unstable();
        assert_eq!(dev, (0..1_000).collect::<Vec<i64>>());
        let mut tr: Vec<i64> = s.retain.iter().chain(&s.forget).copied().collect();
        let mut train = s.train.clone();
        tr.sort_unstable();
        train.sort_unstable();
        assert_eq!(tr, train);
    }

    #[test]
    fn ceil_fraction_clamps() {
        assert_eq!(ceil_fraction(0.1, 8_500), 850);
        assert_eq!(ceil_fraction(0.1, 3_226), 323);
        assert_eq!(ceil_fraction(0.0, 10), 0);
        assert_eq!(ceil_fraction(2.0, 10), 10);
        assert_eq!(ceil_fraction(f64::NAN, 10), 0);
    }
}
