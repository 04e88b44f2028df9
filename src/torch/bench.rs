//! `munl bench`: the time of one training step (forward, backward, SGD update, batch building
//! with crop and flip) on random data resident on the device, after warm-up.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use super::data::resident::Resident;
use super::device;
use super::models::{init::init, rng::GLOBAL_RNG, Model};
use super::optim::Optimizer;
use super::panic;
use super::train::step;
use crate::artifact::NodeFailure;
use crate::stats::mt19937::Mt19937;

/// Warm-up steps before timing (cuDNN autotuning, allocator growth).
const WARMUP: usize = 3;

/// Times `steps` training steps of `arch` (`cnn`, `resnet18` or `vit11m`, 10 classes) at batch `batch` on
/// 3×32×32 images on `device`; returns a human-readable line with ms/step and images/s.
pub(crate) fn bench(device: &str, arch: &str, batch: usize, steps: usize) -> Result<String, NodeFailure> {
    let dev = device::parse(device)?;
    if dev.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(true);
    }
    if batch == 0 || steps == 0 {
        return Err(NodeFailure::new("`batch` and `steps` must be positive"));
    }
    let model = Model::from_state_dict(init(arch, 32, 10, 0)?, dev)?;
    let mut opt = Optimizer::sgd(0.01, 0.9, 5e-4);
    let n = (4 * batch) as i64;
    let res = {
        let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(0);
        Resident::random(n, [3, 32, 32], 10, dev)
    };
    let indices: Vec<i64> = (0..n).collect();
    let mut rng = Mt19937::new(123);
    let batch = batch as i64;
    let mut run = |count: usize| {
        let mut done = 0;
        while done < count {
            let pass = res.shuffled(&indices, &mut rng, true);
            for b in 0..pass.batches(batch).min((count - done) as i64) {
                let (x, y) = res.batch(&pass, b, batch);
                let loss = model.forward(&x, true).cross_entropy_for_logits(&y);
                step(&model, &mut opt, &loss);
                done += 1;
            }
        }
        device::synchronize(dev);
    };
    // A failure inside a step (libtorch's, or a layer's) comes as a panic, as in a node.
    let seconds = catch_unwind(AssertUnwindSafe(|| {
        run(WARMUP);
        let start = Instant::now();
        run(steps);
        start.elapsed().as_secs_f64()
    }))
    .map_err(|p| panic::failure_of(&*p))?;
    let ms = 1e3 * seconds / steps as f64;
    let images = (batch as f64 * steps as f64) / seconds;
    Ok(format!(
        "{arch} on {}: batch {batch}, {ms:.1} ms/step, {images:.0} images/s ({steps} steps after {WARMUP} warm-up, 3×32×32, SGD, crop+flip on the device)",
        device::describe(dev)
    ))
}
