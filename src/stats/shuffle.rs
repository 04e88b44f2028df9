//! NumPy's in-place shuffle, shared by both of its bit generators.

/// A generator with NumPy's bounded draw `interval(max)` (uniform in `[0, max]`); NumPy's
/// legacy `RandomState` and its `Generator` shuffle the same way on top of their own draws.
pub(crate) trait Shuffle {
    /// A value uniform in `[0, max]`, drawn as the generator's NumPy counterpart does.
    fn interval(&mut self, max: u64) -> u64;

    /// In-place shuffle: for `i = n−1 … 1`, swap `i` with `interval(i)` (attack.md §1.4).
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            // `j <= i < items.len()`, so the value fits in usize.
            let j = self.interval(i as u64) as usize;
            items.swap(i, j);
        }
    }

    /// `permutation(n)`: a shuffle of `0, 1, …, n−1`. `permutation(array)` of a 1-D array
    /// equals `array[permutation(len)]`, since NumPy shuffles a copy the same way.
    fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}
