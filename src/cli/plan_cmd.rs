//! `munl plan` and `munl graph`.

use std::path::Path;

use serde_json::json;

use crate::plan::{demand, duration, explain, to_dot, Estimator, NodeId, NodeKind, StatusKind};

use super::load::{load, load_with_cache, targets};
use super::{EXIT_OK, EXIT_PENDING};

/// What `munl plan` says besides its listing: with `exit_code`, whether anything would run
/// (`EXIT_PENDING`, else `EXIT_OK`); with `quiet`, only that (it implies `exit_code`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Status {
    pub(crate) exit_code: bool,
    pub(crate) quiet: bool,
}

/// `munl plan FILE [TARGET…] [--json] [--exit-code | --quiet]`
pub(crate) fn plan(file: &Path, cache_root: &Path, names: &[String], as_json: bool, status: Status) -> u8 {
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
    let estimates = Estimator::new(&cache, plan).estimate(plan);
    let mut out = String::new();
    if !as_json {
        for o in super::overrides::current() {
            out.push_str(&format!("--set   {}\n", o.shown()));
        }
    }
    let (mut run, mut cached) = (0, 0);
    let (mut total, mut unknown) = (0.0, 0);
    for id in &ids {
        let node = plan.node(*id);
        let status = &statuses[id.0];
        let estimate = estimates[id.0].filter(|_| status.kind == StatusKind::Run && timed(node.kind()));
        match status.kind {
            StatusKind::Run => run += 1,
            StatusKind::Cached => cached += 1,
        }
        if status.kind == StatusKind::Run && timed(node.kind()) {
            match estimate {
                Some(e) => total += e.seconds,
                None => unknown += 1,
            }
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
                "estimate_s": estimate.map(|e| e.seconds),
                "space": space(node).map(|s| s.iter().map(|(f, d, collapsed)| json!({"field": f, "dist": d, "collapsed": collapsed})).collect::<Vec<_>>()),
            });
            out.push_str(&line.to_string());
            out.push('\n');
        } else {
            let mark = match status.kind {
                StatusKind::Run => "run   ",
                StatusKind::Cached => "cached",
            };
            out.push_str(&format!("{mark} {}  {}", node.key.short(), node.label));
            if let Some(e) = estimate {
                out.push_str(&format!("  ~{}{}", duration(e.seconds), if e.same_fields { "" } else { " (scaled)" }));
            }
            if !status.reasons.is_empty() {
                out.push_str(&format!("  ({})", status.reasons.join("; ")));
            }
            out.push('\n');
            if let Some(space) = space(node) {
                let shown: Vec<String> = space.iter().map(|(f, d, _)| format!("{f} ~ {d}")).collect();
                out.push_str(&format!("                      space: {}\n", shown.join(", ")));
                for (f, d, _) in space.iter().filter(|(_, _, c)| *c) {
                    out.push_str(&format!(
                        "                      warning: `{f}` ~ {d} holds one value: the search does not vary it{}\n",
                        if f == "epochs" {
                            " (E_max = ⌈0.2 × the Original's epochs⌉ is 1: train the Original 6 epochs or more)"
                        } else {
                            ""
                        }
                    ));
                }
            }
        }
    }
    if !as_json {
        out.push_str(&format!("{} nodes: {run} to run, {cached} cached\n", ids.len()));
        if run > 0 {
            out.push_str(&estimate_line(total, unknown));
        }
    }
    if !status.quiet {
        print!("{out}");
    }
    if run > 0 && (status.exit_code || status.quiet) {
        EXIT_PENDING
    } else {
        EXIT_OK
    }
}

/// Whether a node's time is worth estimating: computed by a worker, not a table.
pub(super) fn timed(kind: NodeKind) -> bool {
    !matches!(kind, NodeKind::Evaluate | NodeKind::Report)
}

/// `estimated 3 min 5 s of compute (one node at a time); 2 nodes without a record to estimate from`
fn estimate_line(total: f64, unknown: usize) -> String {
    let mut line = format!("estimated {} of compute, one node at a time", duration(total));
    if unknown > 0 {
        line.push_str(&format!(
            ", plus {unknown} node(s) with nothing alike in the cache to estimate from (same op, architecture and data)"
        ));
    }
    line + "\n"
}

/// A search node's space as searched: each field, its distribution as written in `.munl`
/// terms, and whether it collapsed to a single value (an epoch cap of 1, `uniform(a, a)`,
/// a one-item `choice`).
fn space(node: &crate::plan::Node) -> Option<Vec<(String, String, bool)>> {
    use crate::lower::Dist;
    let crate::plan::Payload::Search(spec) = &node.payload else { return None };
    Some(
        spec.space
            .iter()
            .map(|(field, dist)| {
                let (shown, collapsed) = match dist {
                    Dist::Uniform(a, b) => (format!("uniform({a}, {b})"), a == b),
                    Dist::LogUniform(a, b) => (format!("log_uniform({a:e}, {b:e})"), a == b),
                    Dist::IntUniform(a, b) => (format!("int_uniform({a}, {b})"), a == b),
                    Dist::Choice(c) => {
                        let items: Vec<String> = c.iter().map(|v| v.to_string()).collect();
                        (format!("choice([{}])", items.join(", ")), c.len() == 1)
                    }
                    Dist::Fixed(v) => (format!("fixed {v}"), false),
                };
                (field.clone(), shown, collapsed)
            })
            .collect(),
    )
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
