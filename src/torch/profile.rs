//! Where a node's time goes, when asked (`munl run --timings`, which sets `MUNL_TIMINGS=1` for
//! the workers): the shared steps of every training loop (building a batch, a forward pass, a
//! backward pass, an optimiser step) time themselves into the computing thread's account, each
//! after a synchronisation of the device so that GPU work is charged to the phase that queued
//! it. Unprofiled, each costs one check of a thread-local flag. A node runs on one thread, so
//! its account is the thread's between `start` and `finish`.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Instant;

use tch::Device;

use super::device;
use crate::artifact::Phases;

/// A phase of a training loop.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    Data,
    /// A train-mode forward pass.
    Forward,
    /// An eval-mode forward pass.
    EvalForward,
    Backward,
    Optimizer,
}

thread_local! {
    static ACCOUNT: RefCell<Option<Phases>> = const { RefCell::new(None) };
}

/// Whether this worker profiles (`MUNL_TIMINGS=1`).
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("MUNL_TIMINGS").is_ok_and(|v| v == "1"))
}

/// Opens the calling thread's account for a node (when profiling).
pub(crate) fn start() {
    if enabled() {
        ACCOUNT.with(|a| *a.borrow_mut() = Some(Phases::default()));
    }
}

/// Closes the calling thread's account: the phases of a run of `seconds`, the rest in `other`.
pub(crate) fn finish(seconds: f64) -> Option<Phases> {
    let mut phases = ACCOUNT.with(|a| a.borrow_mut().take())?;
    let timed = phases.data + phases.train_forward + phases.eval_forward + phases.backward + phases.optimizer;
    phases.other = (seconds - timed).max(0.0);
    Some(phases)
}

/// Runs `f`, charging its time on `device` to `phase` when the thread's account is open.
pub(crate) fn time<T>(phase: Phase, device: Device, f: impl FnOnce() -> T) -> T {
    let open = enabled() && ACCOUNT.with(|a| a.borrow().is_some());
    if !open {
        return f();
    }
    device::synchronize(device);
    let t = Instant::now();
    let out = f();
    device::synchronize(device);
    let s = t.elapsed().as_secs_f64();
    ACCOUNT.with(|a| {
        if let Some(p) = a.borrow_mut().as_mut() {
            match phase {
                Phase::Data => p.data += s,
                Phase::Forward => p.train_forward += s,
                Phase::EvalForward => p.eval_forward += s,
                Phase::Backward => p.backward += s,
                Phase::Optimizer => p.optimizer += s,
            }
        }
    });
    out
}
