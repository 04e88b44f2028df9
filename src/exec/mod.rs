//! Execution: demand-driven scheduling of a plan over the cache and a backend.
//!
//! Only the nodes the targets need and the cache lacks run; a cached node's own inputs are not
//! even looked at. Independent nodes run concurrently (`jobs`). A node's result is committed
//! atomically when it succeeds; a failed node commits nothing, its dependants are skipped, and
//! every other node's result is kept. A [`Stop`] request (Ctrl-C) abandons the nodes in flight
//! and starts nothing more.

mod commit;
mod error;
mod fetch;
mod schedule;
mod search;
mod slurm;
mod stop;
mod worker;

pub(crate) use error::ExecError;
pub use schedule::{execute, Event, RunOptions, Summary};
pub(crate) use search::{best_values, with_trials};
pub(crate) use slurm::{Mode as SlurmMode, Resources, Slurm};
pub use stop::Stop;
pub(crate) use worker::{worker_exe, WorkerBackend};
