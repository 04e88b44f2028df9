//! The U-LiRA shadow splits (datasets.md §4): a LiRA validation set cut off the official train
//! part, 64 random halves of the remaining pool (one per shadow model), and 10 forget draws per
//! half — every permutation a NumPy `default_rng(seed).permutation`, reproduced bit-exactly.

use super::pcg64::Pcg64;
use super::split::Split;
use crate::stats::shuffle::Shuffle;

/// Python's `int(n * fraction)`: the float64 product truncated, clamped to `0 ..= n`.
///
/// The reference sizes every LiRA part this way (truncation, unlike the main split's ceil).
fn truncated_fraction(n: usize, fraction: f64) -> usize {
    // n is at most a few million here, exactly representable in f64.
    let v = (n as f64 * fraction).trunc();
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= n as f64 {
        n
    } else {
        // 0 < v < n, an integer-valued float: the cast is exact.
        v as usize
    }
}

/// `items[p]` for `p = default_rng(seed).permutation(len(items))`, which is what NumPy's
/// `default_rng(seed).permutation(items)` returns for a 1-D array.
fn permuted(items: &[i64], seed: u64) -> Vec<i64> {
    Pcg64::from_seed(seed).permutation(items.len()).into_iter().map(|i| items[i]).collect()
}

/// Splits `perm` so that the *last* `int(len · fraction)` entries form the second part, as the
/// reference's `generate_lira_train_tests` does (first part = the remaining prefix).
fn split_tail(perm: Vec<i64>, fraction: f64) -> (Vec<i64>, Vec<i64>) {
    let mut head = perm;
    let tail = head.split_off(head.len() - truncated_fraction(head.len(), fraction));
    (head, tail)
}

/// Step 2: `(pool, lira_val)` = first / last `int(n_train · val)` entries of
/// `default_rng(seed).permutation(0..n_train)`.
///
/// The reference slices with `[:-val_len]` / `[-val_len:]`, which for `val_len == 0` would give an
/// empty pool and trip its own length assertion; here that case gives the whole permutation as the
/// pool and an empty validation set.
fn pool_and_val(n_train: usize, val: f64, seed: u64) -> (Vec<i64>, Vec<i64>) {
    // Dataset sizes are far below i64::MAX, so the index casts are lossless.
    let dev: Vec<i64> = (0..n_train as i64).collect();
    split_tail(permuted(&dev, seed), val)
}

/// Step 3: `(IN_s, OUT_s)` of shadow `s`: `default_rng(s).permutation(pool)` cut with
/// `test_size = int(len · 0.5)` at the end, so an odd pool gives IN the extra sample.
fn shadow_halves(pool: &[i64], shadow: u64) -> (Vec<i64>, Vec<i64>) {
    split_tail(permuted(pool, shadow), 0.5)
}

/// The U-LiRA split of shadow `shadow` and forget draw `draw` (datasets.md §4) for a dataset
/// with `n_train` official-train samples; the official test part is not used.
///
/// `val` is the LiRA validation share (reference 0.05), `forget` the forgotten share of the
/// shadow's training half (reference 0.1) and `seed` the data seed (reference 123). The forget
/// draw uses `default_rng(draw)` regardless of the shadow, as the reference does.
/// Returns train = retain ++ forget (= IN_s as a set), retain, forget, val = LiRA-val and
/// test = OUT_s, as global indices.
pub(crate) fn lira_split(n_train: usize, val: f64, forget: f64, seed: u64, shadow: u64, draw: u64) -> Split {
    let (pool, lira_val) = pool_and_val(n_train, val, seed);
    let (inside, outside) = shadow_halves(&pool, shadow);
    let (retain, forget) = split_tail(permuted(&inside, draw), forget);
    let train = retain.iter().chain(&forget).copied().collect();
    Split { train, val: lira_val, retain, forget, test: outside }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::split::testing::{ints, sha256_i64_le};

    fn vectors() -> serde_json::Value {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/lira_splits.json"));
        serde_json::from_str(text).expect("lira_splits.json parses")
    }

    /// Checks length (when recorded), first entries and SHA-256 of `got` against `want`.
    fn check(got: &[i64], want: &serde_json::Value, what: &str) {
        if let Some(len) = want.get("len") {
            assert_eq!(got.len() as u64, len.as_u64().expect("len"), "{what}: len");
        }
        let first = ints(&want["first"]);
        assert_eq!(&got[..first.len()], &first[..], "{what}: first");
        assert_eq!(sha256_i64_le(got), want["sha256_int64_le"].as_str().expect("sha"), "{what}: sha256");
    }

    #[test]
    fn pool_and_val_match_reference() {
        let v = vectors();
        let (pool, val) = pool_and_val(50_000, 0.05, 123);
        check(&pool, &v["lira_pool"], "lira_pool");
        check(&val, &v["lira_val"], "lira_val");
    }

    #[test]
    fn shadows_and_draws_match_reference() {
        let v = vectors();
        let (pool, _) = pool_and_val(50_000, 0.05, 123);
        for shadow in [0u64, 1, 63] {
            let want = &v["lira_splits"][shadow.to_string()];
            let (inside, outside) = shadow_halves(&pool, shadow);
            assert_eq!((inside.len(), outside.len()), (23_750, 23_750));
            check(&inside, &want["in"], &format!("shadow {shadow} in"));
            check(&outside, &want["out"], &format!("shadow {shadow} out"));
            for draw in [0u64, 9] {
                let s = lira_split(50_000, 0.05, 0.1, 123, shadow, draw);
                check(&s.retain, &want[format!("retain_f{draw}")], &format!("shadow {shadow} retain_f{draw}"));
                check(&s.forget, &want[format!("forget_f{draw}")], &format!("shadow {shadow} forget_f{draw}"));
                check(&s.val, &v["lira_val"], "val");
                assert_eq!(s.test, outside);
                assert_eq!(s.train.len(), 23_750);
                assert_eq!(s.train[..21_375], s.retain[..]);
                assert_eq!(s.train[21_375..], s.forget[..]);
            }
        }
    }

    #[test]
    fn train_is_in_as_a_set_and_parts_are_disjoint() {
        let s = lira_split(1_001, 0.05, 0.1, 5, 2, 3);
        // val = int(50.05) = 50, pool 951 → OUT int(475.5) = 475, IN 476 → forget int(47.6) = 47.
        assert_eq!((s.val.len(), s.test.len(), s.train.len(), s.forget.len(), s.retain.len()), (50, 475, 476, 47, 429));
        let mut all: Vec<i64> = s.train.iter().chain(&s.val).chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1_001).collect::<Vec<i64>>());
    }

    #[test]
    fn zero_val_keeps_the_whole_pool() {
        let s = lira_split(10, 0.0, 0.1, 123, 0, 0);
        assert!(s.val.is_empty());
        assert_eq!(s.train.len() + s.test.len(), 10);
    }
}
