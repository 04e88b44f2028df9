//! munl — declarative, cached machine-unlearning benchmarks.
//!
//! The pipeline, one module per phase: `syntax` (pest) parses a `.munl` file, `lower` resolves
//! it against the `ops` catalogue into an `Experiment`, `plan` turns that into a DAG of keyed
//! nodes, `exec` runs the nodes the `cache` lacks on a `Backend` (the `torch` one in
//! production), `report` renders tables, and `cli` is the only module that talks to a terminal.
#![deny(unreachable_pub)]
// Without the `torch` feature the statistics, split and artifact helpers that only the torch
// backend calls are unused; they still build and are tested.
#![cfg_attr(not(feature = "torch"), allow(dead_code))]

mod artifact;
mod backend;
mod cache;
mod cli;
mod compile;
mod diag;
mod digest;
mod exec;
mod lower;
mod lsp;
mod ops;
mod plan;
mod python;
mod report;
mod search;
mod source;
mod span;
mod stats;
mod syntax;
#[cfg(feature = "torch")]
mod torch;

pub use cli::main;
pub use compile::Diagnostics;
pub use plan::Plan;
pub use source::Source;
#[cfg(feature = "torch")]
pub use torch::worker_main;

/// Parses, lowers and plans a `.munl` source; `data_root` resolves dataset folders. On
/// failure, every diagnostic of the failing phase, as data (`testing::render` writes them out).
pub fn compile(source: &Source, data_root: &std::path::Path) -> Result<Plan, Diagnostics> {
    compile::compile(source, data_root).map(|c| c.plan)
}

/// What tests and benchmarks of the library reach for: the engine with its seam (to drive it
/// with a recording backend), the cache, explanations, and the artifact types a backend writes.
pub mod testing {
    pub use crate::artifact::{DatasetInfo, Distances, FailureKind, Metrics, NodeFailure, Phases, RunInfo};
    pub use crate::backend::{Backend, Input, Job, Routed};
    pub use crate::cache::{Cache, CacheError};
    pub use crate::digest::Key;
    pub use crate::exec::{execute, Event, RunOptions, Stop, Summary};
    pub use crate::ops::{Call, Value};
    pub use crate::plan::{explain, Node, NodeId, NodeKind, Status, StatusKind};
    pub use crate::report::Tables;
    pub use crate::span::Span;
    use crate::Diagnostics;

    /// Diagnostics as the CLI prints them, without colours, each against the file it points
    /// into (the file compiled or one it imports).
    pub fn render(diagnostics: &Diagnostics) -> String {
        diagnostics
            .iter()
            .into_iter()
            .map(|(source, d)| crate::diag::render_plain(d, source))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A node's fields (an op's payload), each value as JSON text, by name.
    pub fn fields(node: &Node) -> std::collections::BTreeMap<String, String> {
        node.payload.params().iter().map(|(k, v)| (k.clone(), serde_json::to_string(v).unwrap_or_default())).collect()
    }
}
