//! The torch backend: computes plan nodes with libtorch (through tch), the only module that
//! imports tch.
//!
//! Every node runs inside `catch_unwind`, because tch panics on shape errors; a panic becomes a
//! `NodeFailure` of that node, with libtorch's message but not its C++ backtrace (`panic`).
//! Datasets are decoded once into `u8` tensors and kept resident on the device per backend, so
//! the nodes of one run share them; every batch is built there.
//!
//! Randomness: model initialisation uses libtorch's CPU generator under a lock (`models::init`);
//! data order and augmentation draw from NumPy's MT19937 seeded with 123 on the host and reach
//! the device as one tensor per epoch. Results therefore do not depend on `--jobs`, and only in
//! floating-point rounding on the device.

mod bench;
mod custom;
mod data;
mod device;
mod fields;
mod methods;
mod metrics;
mod models;
mod optim;
mod panic;
mod profile;
mod python;
mod split;
mod stream;
mod train;

#[cfg(test)]
mod tests;
mod worker;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;

use tch::Device;

use crate::artifact::file;
use crate::artifact::NodeFailure;
use crate::backend::{Backend, Job};
use crate::digest::Key;
use crate::plan::{NodeKind, Payload};
use data::resident::Resident;

pub(crate) use bench::{bench, BenchSpec};
pub use worker::worker_main;

/// Computes nodes on one device.
pub(crate) struct TorchBackend {
    device: Device,
    /// Datasets already on the device, by the dataset node's key.
    resident: Mutex<HashMap<Key, Resident>>,
}

impl TorchBackend {
    /// A backend on `device`: `auto` (the first GPU if there is one), `cpu`, `cuda` or `cuda:N`.
    pub(crate) fn new(device: &str) -> Result<TorchBackend, NodeFailure> {
        let device = device::parse(device)?;
        if device.is_cuda() {
            // Many epochs of the same shapes: autotuning pays for itself after the first epoch.
            tch::Cuda::cudnn_set_benchmark(true);
        }
        Ok(TorchBackend { device, resident: Mutex::new(HashMap::new()) })
    }

    /// The dataset of the job's `data` input on the device (loaded on first use).
    fn dataset(&self, job: &Job<'_>) -> Result<Resident, NodeFailure> {
        let input = job.input("data").ok_or_else(|| NodeFailure::new("the node has no `data` input"))?;
        // Poisoning only means another job panicked while loading; the map itself is intact.
        let mut cache = self.resident.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = cache.get(&input.key) {
            return Ok(r.handle());
        }
        // Loaded under the lock: a second job needing the same data waits instead of loading
        // it twice. Entries live as long as the backend (one run).
        let r = Resident::load(input.dir, self.device)?;
        // Complete before any node, on any stream, reads it.
        device::synchronize(self.device);
        let handle = r.handle();
        cache.insert(input.key, r);
        Ok(handle)
    }

    fn input_dir<'a>(job: &'a Job<'_>, role: &str) -> Result<&'a Path, NodeFailure> {
        job.input(role).map(|i| i.dir).ok_or_else(|| NodeFailure::new(format!("the node has no `{role}` input")))
    }

    fn run_inner(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        let node = job.node;
        match node.kind() {
            NodeKind::Dataset => data::build(node, job.out, job.progress),
            NodeKind::Split => split::build(node, Self::input_dir(job, "data")?, job.out),
            NodeKind::Init if node.op == "python" => custom::init(job),
            NodeKind::Init => {
                let Payload::Init { classes, .. } = node.payload else {
                    return Err(NodeFailure::new(format!("`{}` is not an initialisation", node.label)));
                };
                // Only `cnn` has a width; the other architectures' layouts are fixed.
                let width = if node.op == "cnn" { fields::of(node).count("width")? } else { 0 };
                let seed = node.seed().ok_or_else(|| NodeFailure::new("an initialisation needs a seed"))?;
                let tensors = models::init::init(&node.op, width, classes, seed)?;
                data::store::write_tensors(&job.out.join(file::MODEL), &tensors)
            }
            NodeKind::Train => {
                let split = split::load(Self::input_dir(job, "split")?)?;
                let res = self.dataset(job)?;
                train::train(job, &res, &split, Self::input_dir(job, "init")?)
            }
            NodeKind::Unlearn => {
                let split = split::load(Self::input_dir(job, "split")?)?;
                let res = self.dataset(job)?;
                methods::unlearn(job, &res, &split, Self::input_dir(job, "original")?)
            }
            NodeKind::Measure if node.op == "distance" => {
                let load = |role: &str| models::load(&Self::input_dir(job, role)?.join(file::MODEL), self.device);
                let d = metrics::distance::distances(&load("model")?, &load("reference")?)?;
                data::store::write_json(&job.out.join(file::DISTANCE), &d)
            }
            NodeKind::Measure if node.op == "predict" => {
                let res = self.dataset(job)?;
                let model = models::load(&Self::input_dir(job, "model")?.join(file::MODEL), self.device)?;
                metrics::ulira::predict(&model, &res, job.out, job.progress)
            }
            NodeKind::Measure if node.op == "membership" => metrics::ulira::membership(job),
            NodeKind::Measure => {
                let split = split::load(Self::input_dir(job, "split")?)?;
                let res = self.dataset(job)?;
                let dir = Self::input_dir(job, "model")?;
                let model = models::load(&dir.join(file::MODEL), self.device)?;
                metrics::measure::measure(&model, &res, &split, dir, job.out)
            }
            NodeKind::Trial => {
                let split = split::load(Self::input_dir(job, "split")?)?;
                let res = self.dataset(job)?;
                let (original, reference) = (Self::input_dir(job, "original")?, Self::input_dir(job, "reference")?);
                methods::trial(job, &res, &split, original, reference)
            }
            NodeKind::Evaluate | NodeKind::Report | NodeKind::Search => Err(NodeFailure::new(format!(
                "`{}` nodes are computed by the engine, not by a backend",
                node.kind().as_str()
            ))),
        }
    }
}

impl Backend for TorchBackend {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        // On a GPU the node runs on a stream of its own, so that nodes computed at once overlap.
        let _stream = stream::own(self.device);
        profile::start();
        match catch_unwind(AssertUnwindSafe(|| self.run_inner(job))) {
            Ok(result) => result,
            Err(panic) => Err(panic::failure_of(&*panic)),
        }
    }
}
