//! The boundary between the engine and whatever computes nodes.
//!
//! The seam between the engine and whatever computes nodes: a [`Job`] is a node, its inputs'
//! cache entries and an empty output folder, and a [`Backend`] fills the folder (the files are
//! the contract of `artifact`). The torch backend implements it in the `munl-torch` worker
//! process; `protocol` carries jobs to such a process and back; a `Pool` spreads jobs over
//! several such processes (one per device).

mod pool;
mod protocol;

pub(crate) use pool::{Abort, Pool, Usage};
#[cfg(feature = "torch")]
pub(crate) use protocol::{run_one, serve};
pub(crate) use protocol::{BenchSpec, Reply, Request};

use std::path::Path;

use crate::artifact::NodeFailure;
use crate::digest::Key;
use crate::plan::{Node, NodeKind};

/// One committed input of a job.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    pub role: &'a str,
    pub node: &'a Node,
    pub key: Key,
    /// The folder of its cache entry: read-only.
    pub dir: &'a Path,
}

/// What a backend is asked to do: compute `node` from `inputs` into the empty folder `out`.
pub struct Job<'a> {
    pub node: &'a Node,
    pub inputs: Vec<Input<'a>>,
    pub out: &'a Path,
    /// Reports progress within the node (done, total, a short message such as the loss).
    pub progress: &'a (dyn Fn(u64, u64, &str) + Sync),
}

impl<'a> Job<'a> {
    /// The input with this role; the planner guarantees the roles each kind needs.
    pub fn input(&self, role: &str) -> Option<&Input<'a>> {
        self.inputs.iter().find(|i| i.role == role)
    }
}

/// Computes nodes. Implementations must be usable from several worker threads at once.
pub trait Backend: Sync {
    /// Runs one job. On error nothing of `out` is kept.
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure>;
}

/// Sends each job to the backend of its kind: the tables (`evaluate`, `report`) to one, every
/// other kind to another. The CLI pairs the built-in table backend with the torch worker; tests
/// pair it with a recording fake.
pub struct Routed<'a> {
    pub tables: &'a dyn Backend,
    pub compute: &'a dyn Backend,
}

impl Backend for Routed<'_> {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        match job.node.kind() {
            NodeKind::Evaluate | NodeKind::Report => self.tables.run(job),
            _ => self.compute.run(job),
        }
    }
}
