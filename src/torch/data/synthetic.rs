//! Generated, learnable images (catalogue op `synthetic`): one seeded prototype per class, a
//! coarse 4×4 pattern per channel scaled up to the image size, plus uniform per-pixel noise, and
//! a share of random labels so that a model memorises its training set (which is what
//! unlearning and the membership attack are about). Deterministic from `seed` (NumPy-compatible
//! MT19937, shared with the rest of munl).

use crate::stats::mt19937::Mt19937;

/// Amplitude of the per-pixel noise, in grey levels (±).
const NOISE: f64 = 100.0;
/// Amplitude of a prototype cell around mid-grey, in grey levels (±).
const CONTRAST: f64 = 48.0;
/// Share of images whose label is redrawn uniformly (it may come out unchanged).
const LABEL_NOISE: f64 = 0.1;
/// Side of the coarse prototype grid.
const GRID: usize = 4;

/// Generated images `[n, C, H, W]` (row-major bytes) and their labels: image `i` shows class
/// `i % classes`, and its label is that class except for the relabelled share.
pub(crate) fn generate(n: usize, classes: usize, shape: [usize; 3], seed: u32) -> (Vec<u8>, Vec<i64>) {
    let [c, h, w] = shape;
    let mut rng = Mt19937::new(seed);
    let prototypes: Vec<Vec<f64>> = (0..classes)
        .map(|_| (0..c * GRID * GRID).map(|_| 128.0 + CONTRAST * (2.0 * rng.random_sample() - 1.0)).collect())
        .collect();
    let mut pixels = Vec::with_capacity(n * c * h * w);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = i % classes;
        let proto = &prototypes[label];
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let cell = proto[(ch * GRID + y * GRID / h) * GRID + x * GRID / w];
                    let noise = NOISE * (2.0 * rng.random_sample() - 1.0);
                    pixels.push((cell + noise).round().clamp(0.0, 255.0) as u8);
                }
            }
        }
        let label = if rng.random_sample() < LABEL_NOISE { rng.interval(classes as u64 - 1) as usize } else { label };
        labels.push(label as i64);
    }
    (pixels, labels)
}
