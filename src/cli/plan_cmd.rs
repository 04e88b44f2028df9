//! `munl plan` and `munl graph`.

use std::path::Path;

use serde_json::json;

use crate::plan::{demand, explain, to_dot, NodeId, StatusKind};

use super::load::{load, load_with_cache, targets};
use super::EXIT_OK;

/// `munl plan FILE [TARGET…] [--json]`
pub(crate) fn plan(file: &Path, cache_root: &Path, names: &[String], as_json: bool) -> u8 {
    let (loaded, cache) = match load_with_cache(file, cache_root) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let plan = &loaded.plan;
    let targets = match targets(plan, names) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let statuses = explain(plan, &cache);
    // What a run visits: a cached node's own inputs are not needed, even if they are missing.
    let ids: Vec<NodeId> = demand(plan, &targets, |id| (statuses[id.0].kind == StatusKind::Cached).then_some(()))
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut out = String::new();
    let (mut run, mut cached) = (0, 0);
    for id in &ids {
        let node = plan.node(*id);
        let status = &statuses[id.0];
        match status.kind {
            StatusKind::Run => run += 1,
            StatusKind::Cached => cached += 1,
        }
        if as_json {
            let mut dims = serde_json::Map::new();
            if let Some(seed) = node.seed() {
                dims.insert("seed".into(), json!(seed));
            }
            let line = json!({
                "name": node.decl,
                "label": node.label,
                "kind": node.kind().as_str(),
                "op": node.op,
                "dims": dims,
                "key": node.key.hex(),
                "status": status.kind,
                "reasons": status.reasons,
            });
            out.push_str(&line.to_string());
            out.push('\n');
        } else {
            let mark = match status.kind {
                StatusKind::Run => "run   ",
                StatusKind::Cached => "cached",
            };
            out.push_str(&format!("{mark} {}  {}", node.key.short(), node.label));
            if !status.reasons.is_empty() {
                out.push_str(&format!("  ({})", status.reasons.join("; ")));
            }
            out.push('\n');
        }
    }
    if !as_json {
        out.push_str(&format!("{} nodes: {run} to run, {cached} cached\n", ids.len()));
    }
    print!("{out}");
    EXIT_OK
}

/// `munl graph FILE`
pub(crate) fn graph(file: &Path, cache_root: &Path) -> u8 {
    let loaded = match load(file) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let statuses = crate::cache::Cache::open(cache_root).ok().map(|c| explain(&loaded.plan, &c));
    print!("{}", to_dot(&loaded.plan, statuses.as_deref()));
    EXIT_OK
}
