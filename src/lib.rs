//! munl — declarative, cached machine-unlearning benchmarks.
//!
//! The pipeline, one module per phase: `syntax` (pest) parses a `.munl` file, `lower` resolves
//! it against the `ops` catalogue into an `Experiment`, `plan` turns that into a DAG of keyed
//! nodes, `exec` runs the nodes the `cache` lacks on a `Backend` (the `torch` one in
//! production), `report` renders tables, and `cli` is the only module that talks to a terminal.
#![deny(unreachable_pub)]
// Without the `torch` feature the statistics, split and artifact helpers that only the torch
// backend calls are unused; they still build and are tested.
#![cfg_attr(not(feature = "torch"), allow(dead_code, unused_imports))]

mod artifact;
mod backend;
mod cache;
mod cli;
mod diag;
mod digest;
mod exec;
mod lower;
mod ops;
mod plan;
mod report;
mod search;
mod source;
mod span;
mod stats;
mod syntax;
#[cfg(feature = "torch")]
mod torch;

pub use artifact::{DatasetInfo, Distances, FailureKind, Metrics, NodeFailure, RunInfo};
pub use backend::{Backend, Input, Job, Routed};
pub use cache::{Cache, CacheError};
pub use cli::main;
pub use digest::Key;
pub use exec::{execute, Event, RunOptions, Summary};
pub use ops::{Call, Value};
pub use plan::{explain, Node, NodeId, NodeKind, Plan, Status, StatusKind};
pub use report::Tables;
pub use source::Source;
pub use span::Span;
#[cfg(feature = "torch")]
pub use torch::worker_main;

/// Parses, lowers and plans a `.munl` source; `data_root` resolves dataset folders.
///
/// On failure, every diagnostic of the failing phase, rendered as plain text against the source.
pub fn compile(source: &Source, data_root: &std::path::Path) -> Result<Plan, String> {
    let render = |diags: Vec<&dyn miette::Diagnostic>| {
        diags.into_iter().map(|d| diag::render_plain(d, source)).collect::<Vec<_>>().join("\n")
    };
    let file = syntax::parse(source).map_err(|errors| render(errors.iter().map(|e| e as _).collect()))?;
    let base = source.path.parent().map_or_else(|| std::path::PathBuf::from("."), |p| p.to_path_buf());
    let experiment = lower::lower(&file, &base).map_err(|errors| render(errors.iter().map(|e| e as _).collect()))?;
    Ok(plan::plan(&experiment, data_root))
}
