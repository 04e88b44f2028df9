//! NumPy's `np.random.default_rng(seed)`: a `SeedSequence` seeding the PCG64 bit generator, and
//! the `Generator.permutation` / `shuffle` built on it — the randomness behind the U-LiRA splits
//! (datasets.md §4) and the UTKFace ordering.
//!
//! Only the integer-seeded path and the operations the reference uses are implemented. Every
//! step was checked against NumPy 2.4 outputs (tests below and `spec/vectors/lira_splits.json`).
//! Note that, contrary to datasets.md §4, `Generator.shuffle` does *not* use Lemire's bounded
//! integers: NumPy's shuffle draws `j ∈ [0, i]` with `random_interval`, the same masked rejection
//! as the legacy `RandomState`, only fed by PCG64's (buffered) 32-bit outputs.

use super::shuffle::Shuffle;

/// Number of 32-bit words in the `SeedSequence` entropy pool (NumPy's `DEFAULT_POOL_SIZE`).
const POOL_SIZE: usize = 4;
/// Hash constants of NumPy's `SeedSequence` (`bit_generator.pyx`).
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;

/// PCG's default 128-bit LCG multiplier (`PCG_DEFAULT_MULTIPLIER_128` in NumPy's `pcg64.h`).
const PCG_MULT: u128 = (2_549_297_995_355_413_924u128 << 64) | 4_865_540_595_714_422_341u128;

/// The part of NumPy's `SeedSequence(seed)` that PCG64 needs: the mixed entropy pool.
///
/// No spawn key (default_rng never sets one) and the default pool size of four words.
struct SeedSequence {
    pool: [u32; POOL_SIZE],
}

/// `hashmix`: XOR with the running hash constant, advance the constant, multiply, fold the high
/// half down; the constant is shared across all calls of one mixing pass.
fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut v = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    v = v.wrapping_mul(*hash_const);
    v ^ (v >> XSHIFT)
}

/// `mix`: combines two words of the pool.
fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> XSHIFT)
}

impl SeedSequence {
    /// `SeedSequence(seed)` for a non-negative integer seed.
    fn from_int(seed: u64) -> Self {
        // NumPy turns the integer into little-endian 32-bit words, with `0` giving one zero word
        // (`_int_to_uint32_array`), so seeds below 2^32 have one word and larger ones two.
        let entropy: Vec<u32> =
            if seed >> 32 == 0 { vec![seed as u32] } else { vec![seed as u32, (seed >> 32) as u32] };
        let mut hash_const = INIT_A;
        let mut pool = [0u32; POOL_SIZE];
        // Missing entropy words hash as zeros.
        for (i, slot) in pool.iter_mut().enumerate() {
            *slot = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
        }
        for src in 0..POOL_SIZE {
            for dst in 0..POOL_SIZE {
                if src != dst {
                    let h = hashmix(pool[src], &mut hash_const);
                    pool[dst] = mix(pool[dst], h);
                }
            }
        }
        // Entropy beyond the pool size is folded in afterwards; a u64 seed never has any, but
        // the loop keeps the construction literal.
        for &word in entropy.iter().skip(POOL_SIZE) {
            for slot in pool.iter_mut() {
                let h = hashmix(word, &mut hash_const);
                *slot = mix(*slot, h);
            }
        }
        Self { pool }
    }

    /// `generate_state(n, np.uint32)`: cycles through the pool with its own hash constant.
    fn generate_state(&self, out: &mut [u32]) {
        let mut hash_const = INIT_B;
        for (i, slot) in out.iter_mut().enumerate() {
            let mut v = self.pool[i % POOL_SIZE] ^ hash_const;
            hash_const = hash_const.wrapping_mul(MULT_B);
            v = v.wrapping_mul(hash_const);
            *slot = v ^ (v >> XSHIFT);
        }
    }
}

/// NumPy's PCG64 bit generator with the `Generator` operations the benchmark needs.
///
/// Holds the one-word buffer NumPy keeps for 32-bit draws: a 64-bit output serves two 32-bit
/// draws (low half first), and the spare half survives intervening 64-bit draws.
#[derive(Clone, Debug)]
pub(crate) struct Pcg64 {
    state: u128,
    inc: u128,
    spare: Option<u32>,
}

impl Pcg64 {
    /// `np.random.default_rng(seed)` for an integer seed.
    pub(crate) fn from_seed(seed: u64) -> Self {
        // PCG64 asks for `generate_state(4, np.uint64)`, i.e. eight 32-bit words read as four
        // little-endian u64 (not four u32 words); u64 words 0,1 form the 128-bit initial state
        // and 2,3 the stream, the first of each pair being the high half (`pcg64_set_seed`).
        let mut w = [0u32; 8];
        SeedSequence::from_int(seed).generate_state(&mut w);
        let u: Vec<u64> = w.chunks_exact(2).map(|p| u64::from(p[0]) | (u64::from(p[1]) << 32)).collect();
        let init_state = (u128::from(u[0]) << 64) | u128::from(u[1]);
        let init_seq = (u128::from(u[2]) << 64) | u128::from(u[3]);
        // `pcg_setseq_128_srandom_r`: odd increment from the stream, step, add the seed, step.
        let mut rng = Self { state: 0, inc: (init_seq << 1) | 1, spare: None };
        rng.step();
        rng.state = rng.state.wrapping_add(init_state);
        rng.step();
        rng
    }

    /// Advances the 128-bit LCG.
    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.inc);
    }

    /// The next 64-bit output: step, then XSL-RR of the new state (`random_raw`).
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.step();
        // XOR-fold the halves (truncation intended) and rotate by the top 6 bits.
        let folded = ((self.state >> 64) as u64) ^ (self.state as u64);
        folded.rotate_right((self.state >> 122) as u32)
    }

    /// The next 32-bit output as NumPy's `next_uint32`: the spare high half if one is buffered,
    /// else the low half of a fresh 64-bit output (buffering its high half).
    pub(crate) fn next_u32(&mut self) -> u32 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let v = self.next_u64();
        self.spare = Some((v >> 32) as u32);
        // Low half; truncation intended.
        v as u32
    }

    /// A value uniform in `[0, max]` as NumPy's `random_interval`: masked rejection with
    /// (buffered) 32-bit draws while `max` fits in 32 bits, full 64-bit draws above.
    ///
    /// The 64-bit branch is only reached by shuffles of more than 2^32 items and has no NumPy
    /// vector; it follows the same source function as the tested 32-bit branch.
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        // Smallest 2^k − 1 >= max.
        let mask = u64::MAX >> max.leading_zeros();
        if max <= u64::from(u32::MAX) {
            loop {
                let v = u64::from(self.next_u32()) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

impl Shuffle for Pcg64 {
    fn interval(&mut self, max: u64) -> u64 {
        Pcg64::interval(self, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::split::testing::{ints, sha256_i64_le};

    fn lira_vectors() -> serde_json::Value {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/lira_splits.json"));
        serde_json::from_str(text).expect("lira_splits.json parses")
    }

    /// A permutation as the int64 indices the vector files hold.
    fn permutation(seed: u64, n: usize) -> Vec<i64> {
        Pcg64::from_seed(seed).permutation(n).into_iter().map(|x| x as i64).collect()
    }

    #[test]
    fn seed_sequence_pool_and_state() {
        // NumPy: SeedSequence(0).pool and SeedSequence(0).generate_state(4).
        let ss = SeedSequence::from_int(0);
        assert_eq!(ss.pool, [4_265_667_335, 1_328_953_910, 1_320_288_413, 3_365_567_143]);
        let mut w = [0u32; 4];
        ss.generate_state(&mut w);
        assert_eq!(w, [2_968_811_710, 3_677_149_159, 745_650_761, 2_884_920_346]);
    }

    #[test]
    fn raw_outputs_match_numpy() {
        // NumPy: PCG64(42).random_raw(4).
        let mut rng = Pcg64::from_seed(42);
        let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(
            got,
            [
                14_276_969_152_011_380_360,
                8_095_878_257_575_067_585,
                15_838_336_090_824_644_132,
                12_864_169_557_245_331_597
            ]
        );
        // NumPy: PCG64(42).ctypes.next_uint32 five times.
        let mut rng = Pcg64::from_seed(42);
        let got: Vec<u32> = (0..5).map(|_| rng.next_u32()).collect();
        assert_eq!(got, [383_329_928, 3_324_115_917, 2_811_363_265, 1_884_968_545, 1_859_786_276]);
    }

    #[test]
    fn spare_half_survives_a_64_bit_draw() {
        // NumPy: next_uint32, next_uint64, next_uint32, next_uint32 on PCG64(42).
        let mut rng = Pcg64::from_seed(42);
        assert_eq!(rng.next_u32(), 383_329_928);
        assert_eq!(rng.next_u64(), 8_095_878_257_575_067_585);
        assert_eq!(rng.next_u32(), 3_324_115_917);
        assert_eq!(rng.next_u32(), 1_859_786_276);
    }

    #[test]
    fn small_permutations_from_lira_vectors() {
        let v = lira_vectors();
        assert_eq!(permutation(0, 20), ints(&v["default_rng(0).permutation(20)"]));
        assert_eq!(permutation(7, 5), ints(&v["default_rng(7).permutation(5)"]));
        let p = permutation(123, 50_000);
        assert_eq!(p[..12].to_vec(), ints(&v["default_rng(123).permutation(50000)[:12]"]));
    }

    /// `(seed, n, first 8 entries, SHA-256 of the int64 little-endian array)` computed with
    /// NumPy 2.4.6 `np.random.default_rng(seed).permutation(n)`.
    const NUMPY_PERMUTATIONS: &[(u64, usize, &[i64], &str)] = &[
        (0, 0, &[], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (0, 1, &[0], "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc"),
        (3, 2, &[1, 0], "4cbbd8ca5215b8d161aec181a74b694f4e24b001d5b081dc0030ed797a8973e0"),
        (
            1,
            47_500,
            &[37540, 12635, 21526, 27361, 6731, 41493, 5648, 31394],
            "8319a2ee7ba2ed99cf0f06ee89f90c9efd84609eceeb537f4aaf361275bce0a9",
        ),
        (
            63,
            47_500,
            &[42453, 25243, 25257, 18971, 23162, 32098, 40584, 20697],
            "16ff9a8a375045a525eba5efd85ae0e00e39019690dc587136e4a31777faab8c",
        ),
        (
            9,
            23_750,
            &[20369, 15320, 3486, 20822, 16360, 8014, 2877, 15876],
            "5e2e0cf3234ad85d0b60b6daf59235171ffff5a46554519cdc1affff5cffc8b5",
        ),
        (
            0,
            23_750,
            &[9435, 1118, 21847, 16961, 1450, 16537, 7548, 1190],
            "255dc626d2edc1c72c6b42d359382a0ad2c82da187007d047b1a4631e4ffe2d4",
        ),
        (
            123,
            23_708,
            &[18177, 23114, 5270, 15540, 17563, 19670, 4042, 11901],
            "8bbe784877d4f3cbeea56399b412eec3f56401f847128793c12415364da80058",
        ),
        (
            5,
            70_000,
            &[25440, 8030, 4713, 50402, 30844, 34264, 37723, 58550],
            "7a58dce1c3d05e18ce238be10a35f91d7045b64f26e4cb564f4e831d7da86c58",
        ),
        // A two-word seed (2^32 + 7) and n > 2^17.
        (
            4_294_967_303,
            131_075,
            &[112095, 79926, 15432, 129731, 115960, 43582, 18235, 51094],
            "2ca12aa86f744b05eae51c7fcdaa4c32c2e14bb45ada17cb29c3199f7c7d7a1e",
        ),
        (
            u64::MAX,
            1_000,
            &[649, 664, 775, 331, 104, 630, 392, 413],
            "85f5a1e858244d6c1d91738135773358c569712d5b0d81451fca96753b1f40ea",
        ),
        (
            123,
            300_000,
            &[250790, 289228, 271101, 211459, 243455, 121808, 295330, 249461],
            "ebb555d3da3169859043fe90f4a76782dea769e8083506aef242c768a7392d2a",
        ),
    ];

    #[test]
    fn permutations_match_numpy() {
        for &(seed, n, first, sha) in NUMPY_PERMUTATIONS {
            let p = permutation(seed, n);
            assert_eq!(p.len(), n);
            assert_eq!(&p[..first.len()], first, "seed {seed}, n {n}: first entries");
            assert_eq!(sha256_i64_le(&p), sha, "seed {seed}, n {n}: sha256");
        }
    }

    #[test]
    fn shuffle_of_values_follows_the_index_permutation() {
        // `permutation(array)` == `array[permutation(len)]`.
        let mut items: Vec<i64> = (0..100).map(|i| 1000 + 3 * i).collect();
        let orig = items.clone();
        Pcg64::from_seed(11).shuffle(&mut items);
        let p = Pcg64::from_seed(11).permutation(100);
        let want: Vec<i64> = p.iter().map(|&i| orig[i]).collect();
        assert_eq!(items, want);
    }
}
