//! Computing one node into the cache: a fresh temp folder, the computation, and an atomic
//! commit under the node's key. Plan nodes and a search's trials both go through here.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::artifact::{panic_text, NodeFailure};
use crate::cache::{Cache, ManifestInfo};
use crate::plan::{Description, Node};

/// Computes `node` into a fresh cache folder with `compute` (given the folder to fill) and
/// commits it under the node's key: on failure or panic nothing is committed. Plan nodes and
/// a search's trials both go through here.
pub(super) fn compute_and_commit<T>(
    cache: &Cache,
    node: &Node,
    description: &Description,
    compute: impl FnOnce(&Path) -> Result<T, NodeFailure>,
) -> Result<(PathBuf, T), NodeFailure> {
    let pending = cache.begin(&node.key).map_err(|e| NodeFailure::new(e.to_string()))?;
    let t0 = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| compute(pending.dir())));
    let wall_time_s = t0.elapsed().as_secs_f64();
    let value = match outcome {
        Ok(result) => result?,
        Err(panic) => {
            let message = panic_text(&*panic).unwrap_or("unknown panic");
            return Err(NodeFailure::new(format!("internal error: {message}")));
        }
    };
    let entry = pending
        .commit(ManifestInfo {
            kind: node.kind().as_str().into(),
            op: node.op.clone(),
            label: node.label.clone(),
            description: description.to_json(),
            wall_time_s,
        })
        .map_err(|e| NodeFailure::new(e.to_string()))?;
    Ok((entry.dir, value))
}
