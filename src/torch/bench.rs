//! `munl bench`: training throughput on random data resident on the device, after warm-up —
//! the step munl's trainer and most methods repeat (batch gathered, cropped and flipped on the
//! device, forward, cross-entropy, backward, SGD update). Optionally:
//! - `concurrent`: that many trainings at once, each on its own thread and (on a GPU) its own
//!   stream, as the worker computes concurrent nodes; the aggregate images/s is the number that
//!   says whether the card is full;
//! - `epoch`: whole epochs over that many images, the loss read once per epoch, as in a node;
//! - `breakdown`: where a step's time goes (data, forward and loss, backward, optimiser), each
//!   phase timed after a synchronisation, so the sum is slower than an unsynchronised step.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use serde::Serialize;
use tch::{Device, Tensor};

use super::data::resident::Resident;
use super::device;
use super::models::{init::init, rng::GLOBAL_RNG, Model};
use super::optim::Optimizer;
use super::panic;
use super::stream;
use super::train::{ce_epoch, step};
use crate::artifact::NodeFailure;
pub(crate) use crate::backend::BenchSpec;
use crate::stats::mt19937::Mt19937;

/// Warm-up steps before timing (cuDNN autotuning, allocator growth).
const WARMUP: usize = 3;

/// What was measured.
#[derive(Debug, Serialize)]
pub(crate) struct BenchResult {
    pub(crate) arch: String,
    pub(crate) device: String,
    pub(crate) batch: usize,
    pub(crate) concurrent: usize,
    /// Images every training went through, timed.
    pub(crate) images: usize,
    /// Wall-clock seconds of the timed part, all trainings together.
    pub(crate) seconds: f64,
    /// All trainings' images per second.
    pub(crate) images_per_s: f64,
    /// Mean time per step of one training.
    pub(crate) ms_per_step: f64,
    /// Each training's stream id on a GPU (0: the default stream).
    pub(crate) streams: Vec<i64>,
    /// Whether munl's stream shim has CUDA (else concurrent trainings share the default stream).
    pub(crate) stream_shim: bool,
    /// Milliseconds per step by phase, with `breakdown`.
    pub(crate) breakdown: Option<Breakdown>,
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct Breakdown {
    pub(crate) data_ms: f64,
    pub(crate) forward_ms: f64,
    pub(crate) backward_ms: f64,
    pub(crate) optimizer_ms: f64,
}

impl BenchResult {
    /// The human-readable lines.
    pub(crate) fn lines(&self) -> String {
        let what = match self.concurrent {
            1 => String::new(),
            k => format!(", {k} trainings at once"),
        };
        let mut out = format!(
            "{} on {}: batch {}{what}, {:.1} ms/step, {:.0} images/s ({} images per training in {:.2} s after {WARMUP} warm-up steps, 3×32×32, SGD, crop+flip on the device)",
            self.arch, self.device, self.batch, self.ms_per_step, self.images_per_s, self.images, self.seconds
        );
        if self.device.starts_with("cuda") {
            match self.stream_shim {
                true => out.push_str(&format!("\n  streams: {:?}", self.streams)),
                false => out.push_str("\n  streams: none (munl's shim was built without CUDA): the default stream"),
            }
        }
        if let Some(b) = &self.breakdown {
            let total = b.data_ms + b.forward_ms + b.backward_ms + b.optimizer_ms;
            let share = |ms: f64| 100.0 * ms / total.max(f64::MIN_POSITIVE);
            out.push_str(&format!(
                "\n  per step, each phase after a synchronisation: data {:.2} ms ({:.0} %), forward+loss {:.2} ms ({:.0} %), backward {:.2} ms ({:.0} %), optimiser {:.2} ms ({:.0} %); {total:.2} ms in all",
                b.data_ms, share(b.data_ms), b.forward_ms, share(b.forward_ms), b.backward_ms, share(b.backward_ms), b.optimizer_ms, share(b.optimizer_ms)
            ));
        }
        out
    }
}

/// One training's model, optimiser and data.
struct Training {
    model: Model,
    opt: Optimizer,
    res: Resident,
    indices: Vec<i64>,
    rng: Mt19937,
}

impl Training {
    fn new(spec: &BenchSpec, dev: Device, images: usize) -> Result<Training, NodeFailure> {
        let model = Model::from_state_dict(init(&spec.arch, 32, 10, 0)?, dev)?;
        let res = {
            let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
            tch::manual_seed(0);
            Resident::random(images as i64, [3, 32, 32], 10, dev)
        };
        // Complete before another stream reads it.
        device::synchronize(dev);
        let indices = (0..images as i64).collect();
        Ok(Training { model, opt: Optimizer::sgd(0.01, 0.9, 5e-4), res, indices, rng: Mt19937::new(123) })
    }

    /// `count` steps, passes drawn as needed.
    fn steps(&mut self, count: usize, batch: i64) {
        let mut done = 0;
        while done < count {
            let pass = self.res.shuffled(&self.indices, &mut self.rng, true);
            for b in 0..pass.batches(batch).min((count - done) as i64) {
                let (x, y) = self.res.batch(&pass, b, batch);
                let loss = self.model.forward(&x, true).cross_entropy_for_logits(&y);
                step(&self.model, &mut self.opt, &loss);
                done += 1;
            }
        }
    }

    /// One epoch as a node runs it: the loss read back once, at the end.
    fn epoch(&mut self, batch: i64) -> Result<(), NodeFailure> {
        let pass = self.res.shuffled(&self.indices, &mut self.rng, true);
        ce_epoch(&self.model, &mut self.opt, &self.res, &pass, batch, 1.0).finish(0).map(|_| ())
    }

    /// `count` steps, each phase timed after a synchronisation.
    fn phases(&mut self, count: usize, batch: i64, dev: Device) -> Breakdown {
        let mut b = Breakdown::default();
        let lap = |t: &mut Instant| {
            device::synchronize(dev);
            let ms = 1e3 * t.elapsed().as_secs_f64();
            *t = Instant::now();
            ms
        };
        let mut done = 0;
        while done < count {
            let pass = self.res.shuffled(&self.indices, &mut self.rng, true);
            for i in 0..pass.batches(batch).min((count - done) as i64) {
                let mut t = Instant::now();
                let (x, y) = self.res.batch(&pass, i, batch);
                b.data_ms += lap(&mut t);
                let loss = self.model.forward(&x, true).cross_entropy_for_logits(&y);
                b.forward_ms += lap(&mut t);
                let grads = Tensor::run_backward(&[&loss], self.model.params(), false, false);
                b.backward_ms += lap(&mut t);
                self.opt.step(self.model.flat(), self.model.params(), &grads);
                b.optimizer_ms += lap(&mut t);
                done += 1;
            }
        }
        let n = count.max(1) as f64;
        Breakdown {
            data_ms: b.data_ms / n,
            forward_ms: b.forward_ms / n,
            backward_ms: b.backward_ms / n,
            optimizer_ms: b.optimizer_ms / n,
        }
    }
}

/// Runs the measurement `spec` describes.
pub(crate) fn bench(spec: &BenchSpec) -> Result<BenchResult, NodeFailure> {
    let dev = device::parse(&spec.device)?;
    if dev.is_cuda() {
        tch::Cuda::cudnn_set_benchmark(true);
    }
    if spec.batch == 0 || spec.steps == 0 || spec.concurrent == 0 || spec.epoch == Some(0) {
        return Err(NodeFailure::new("`batch`, `steps`, `concurrent` and `epoch` must be positive"));
    }
    let batch = spec.batch as i64;
    let images = spec.epoch.unwrap_or(4 * spec.batch);
    // A failure inside a step (libtorch's, or a layer's) comes as a panic, as in a node.
    let run = |t: &mut Training| -> Result<(f64, i64), NodeFailure> {
        let stream = stream::current(dev).unwrap_or(0);
        t.steps(WARMUP, batch);
        device::synchronize(dev);
        let start = Instant::now();
        match spec.epoch {
            Some(_) => t.epoch(batch)?,
            None => t.steps(spec.steps, batch),
        }
        device::synchronize(dev);
        Ok((start.elapsed().as_secs_f64(), stream))
    };
    let timed = catch_unwind(AssertUnwindSafe(|| -> Result<(f64, Vec<i64>, Option<Training>), NodeFailure> {
        if spec.concurrent == 1 {
            let mut t = Training::new(spec, dev, images)?;
            let (seconds, stream) = run(&mut t)?;
            return Ok((seconds, vec![stream], Some(t)));
        }
        // Every training ready before the clock starts; each on its own thread and stream.
        let barrier = std::sync::Barrier::new(spec.concurrent);
        let results: Vec<Result<(Instant, Instant, i64), NodeFailure>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..spec.concurrent)
                .map(|_| {
                    s.spawn(|| {
                        let _stream = stream::own(dev);
                        let prepared = Training::new(spec, dev, images).map(|mut t| {
                            t.steps(WARMUP, batch);
                            device::synchronize(dev);
                            t
                        });
                        barrier.wait();
                        let mut t = prepared?;
                        let start = Instant::now();
                        match spec.epoch {
                            Some(_) => t.epoch(batch)?,
                            None => t.steps(spec.steps, batch),
                        }
                        device::synchronize(dev);
                        Ok((start, Instant::now(), stream::current(dev).unwrap_or(0)))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|p| Err(panic::failure_of(&*p)))).collect()
        });
        let results: Vec<(Instant, Instant, i64)> = results.into_iter().collect::<Result<_, _>>()?;
        let first = results.iter().map(|r| r.0).min().expect("one training at least");
        let last = results.iter().map(|r| r.1).max().expect("one training at least");
        Ok(((last - first).as_secs_f64(), results.iter().map(|r| r.2).collect(), None))
    }))
    .map_err(|p| panic::failure_of(&*p))??;
    let (seconds, streams, single) = timed;
    let steps_per_training = match spec.epoch {
        Some(n) => n.div_ceil(spec.batch),
        None => spec.steps,
    };
    let per_training = match spec.epoch {
        Some(n) => n,
        None => spec.steps * spec.batch,
    };
    let breakdown = match (spec.breakdown, single) {
        (true, Some(mut t)) => Some(
            catch_unwind(AssertUnwindSafe(|| t.phases(spec.steps.min(steps_per_training), batch, dev)))
                .map_err(|p| panic::failure_of(&*p))?,
        ),
        _ => None,
    };
    Ok(BenchResult {
        arch: spec.arch.clone(),
        device: device::describe(dev),
        batch: spec.batch,
        concurrent: spec.concurrent,
        images: per_training,
        seconds,
        images_per_s: (per_training * spec.concurrent) as f64 / seconds,
        ms_per_step: 1e3 * seconds / steps_per_training as f64,
        streams,
        stream_shim: stream::compiled(),
        breakdown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(concurrent: usize, epoch: Option<usize>, breakdown: bool) -> BenchSpec {
        BenchSpec { device: "cpu".into(), arch: "cnn".into(), batch: 8, steps: 2, concurrent, epoch, breakdown }
    }

    /// Each mode measures what it says, on the CPU (no streams there).
    #[test]
    fn steps_epochs_concurrency_and_breakdown() {
        let one = bench(&spec(1, None, true)).unwrap();
        assert_eq!((one.images, one.concurrent, one.streams.as_slice()), (16, 1, &[0][..]));
        assert!(one.seconds > 0.0 && one.images_per_s > 0.0);
        let b = one.breakdown.as_ref().expect("a breakdown");
        assert!(b.data_ms > 0.0 && b.forward_ms > 0.0 && b.backward_ms > 0.0 && b.optimizer_ms > 0.0, "{b:?}");
        assert!(one.lines().contains("forward+loss"), "{}", one.lines());
        let epoch = bench(&spec(1, Some(20), false)).unwrap();
        assert_eq!(epoch.images, 20);
        assert!((epoch.ms_per_step - 1e3 * epoch.seconds / 3.0).abs() < 1e-9, "3 batches of 8 over 20 images");
        let two = bench(&spec(2, None, false)).unwrap();
        assert_eq!((two.concurrent, two.streams.len()), (2, 2));
        assert!((two.images_per_s - 32.0 / two.seconds).abs() < 1e-9, "both trainings' images");
        assert!(bench(&spec(0, None, false)).is_err());
    }
}
