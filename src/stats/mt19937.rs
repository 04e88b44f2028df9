//! NumPy's legacy `RandomState` (MT19937) — the one source of randomness behind the reference's
//! dataset split, the MIA shuffles and the stratified attacker splits (attack.md §1).
//!
//! Only the integer-seeded path and the operations the reference uses are implemented; they are
//! frozen in NumPy, so a bit-exact port reproduces every index array of the reference.

use super::shuffle::Shuffle;

/// Number of 32-bit words in the MT19937 state.
const N: usize = 624;
/// Offset of the "middle" word used by the recurrence.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_B0DF;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7FFF_FFFF;

/// A Mersenne Twister in the exact configuration of NumPy's legacy `RandomState(seed)`.
///
/// Also counts the 32-bit outputs it has produced, so callers and tests can check how much of the
/// stream an operation consumed (attack.json records `u32_draws_total` per split).
#[derive(Clone)]
pub(crate) struct Mt19937 {
    state: [u32; N],
    /// Read position in `state`; `N` means the block must be regenerated before the next output.
    pos: usize,
    draws: u64,
}

impl Mt19937 {
    /// `RandomState(seed)` / `np.random.seed(seed)` for an integer seed (`init_genrand`, §1.1).
    pub(crate) fn new(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            let prev = state[i - 1];
            // `i < 624`, so the cast is lossless.
            state[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        // Position N: the first output regenerates the whole block, as NumPy does.
        Self { state, pos: N, draws: 0 }
    }

    /// Regenerates the 624-word block (§1.2).
    fn twist(&mut self) {
        for i in 0..N {
            let y = (self.state[i] & UPPER_MASK) | (self.state[(i + 1) % N] & LOWER_MASK);
            let mut v = self.state[(i + M) % N] ^ (y >> 1);
            if y & 1 == 1 {
                v ^= MATRIX_A;
            }
            self.state[i] = v;
        }
        self.pos = 0;
    }

    /// The next tempered 32-bit output (`next32`, §1.2).
    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.twist();
        }
        let mut y = self.state[self.pos];
        self.pos += 1;
        self.draws += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C_5680;
        y ^= (y << 15) & 0xEFC6_0000;
        y ^= y >> 18;
        y
    }

    /// Number of 32-bit outputs produced since seeding.
    pub(crate) fn draws(&self) -> u64 {
        self.draws
    }

    /// A value uniform in `[0, max]` by masked rejection (§1.3); `max == 0` consumes no draw.
    ///
    /// Ranges above `u32::MAX` use NumPy's 64-bit composition (first draw high, second low).
    pub(crate) fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        if max <= u64::from(u32::MAX) {
            loop {
                let v = u64::from(self.next_u32()) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let hi = u64::from(self.next_u32());
            let lo = u64::from(self.next_u32());
            let v = ((hi << 32) | lo) & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `random_sample()`: a 53-bit float in `[0, 1)` from two outputs (§1.5).
    pub(crate) fn random_sample(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }
}

impl Shuffle for Mt19937 {
    fn interval(&mut self, max: u64) -> u64 {
        Mt19937::interval(self, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mt_check() -> serde_json::Value {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/splits.json"));
        let v: serde_json::Value = serde_json::from_str(text).expect("splits.json parses");
        v["_mt19937_check"].clone()
    }

    fn as_u64s(v: &serde_json::Value) -> Vec<u64> {
        v.as_array().expect("array").iter().map(|x| x.as_u64().expect("integer")).collect()
    }

    #[test]
    fn first_output_of_seed_123() {
        let mut rng = Mt19937::new(123);
        assert_eq!(rng.next_u32(), 2_991_312_382);
        assert_eq!(rng.draws(), 1);
    }

    #[test]
    fn permutations_match_numpy() {
        let check = mt_check();
        let p10: Vec<u64> = Mt19937::new(123).permutation(10).into_iter().map(|x| x as u64).collect();
        assert_eq!(p10, as_u64s(&check["RandomState(123).permutation(10)"]));
        let p1000: Vec<u64> = Mt19937::new(123).permutation(1000).into_iter().take(10).map(|x| x as u64).collect();
        assert_eq!(p1000, as_u64s(&check["RandomState(123).permutation(1000)[:10]"]));
    }

    #[test]
    fn full_range_interval_is_the_raw_output() {
        let check = mt_check();
        let mut rng = Mt19937::new(0);
        let got: Vec<u64> = (0..3).map(|_| rng.interval(u64::from(u32::MAX))).collect();
        assert_eq!(got, as_u64s(&check["RandomState(0).randint(0, 2**32 - 1 + 1, size=3, dtype=uint64)"]));
        assert_eq!(rng.draws(), 3);
    }

    #[test]
    fn interval_zero_draws_nothing_and_shuffle_of_one_is_free() {
        let mut rng = Mt19937::new(5);
        assert_eq!(rng.interval(0), 0);
        let mut one = [7];
        rng.shuffle(&mut one);
        assert_eq!(rng.draws(), 0);
        assert_eq!(one, [7]);
    }

    #[test]
    fn block_regeneration_continues_the_stream() {
        // Crossing the 624-word boundary must keep the sequence a pure function of the seed.
        let mut a = Mt19937::new(123);
        let first: Vec<u32> = (0..1300).map(|_| a.next_u32()).collect();
        let mut b = Mt19937::new(123);
        let again: Vec<u32> = (0..1300).map(|_| b.next_u32()).collect();
        assert_eq!(first, again);
        assert_eq!(first[0], 2_991_312_382);
        assert_ne!(first[624], first[0]);
    }

    #[test]
    fn random_sample_matches_numpy_and_uses_two_draws() {
        let mut rng = Mt19937::new(123);
        let u = rng.random_sample();
        assert_eq!(rng.draws(), 2);
        // `np.random.seed(123); np.random.random_sample()`.
        assert_eq!(u, 0.696_469_185_597_861_6);
    }
}
