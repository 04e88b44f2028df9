//! A request to stop a run, shared by the engine and whoever may ask for it (the command line's
//! signal handler, a test).
//!
//! Stopping starts nothing new, abandons the nodes in flight (their temporary folders are
//! removed; nothing of theirs is committed) and keeps everything already committed.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

/// Cloned handles see the same request.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicI32>);

impl Stop {
    /// Asks the run to stop because of `signal` (a Unix signal number; any positive number
    /// from elsewhere). The first request wins.
    pub fn request(&self, signal: i32) {
        let _ = self.0.compare_exchange(0, signal.max(1), Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The signal of the first request, if stopping was asked for.
    pub fn requested(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }
}
