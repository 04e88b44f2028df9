//! Why a node will run: compare its description with the last one remembered for its name.

use serde::Serialize;
use serde_json::Value as J;

use crate::cache::Cache;

use super::Plan;

/// Whether a node's result is already in the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    Cached,
    Run,
}

/// A node's status and, for a node that will run, the reasons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub kind: StatusKind,
    pub reasons: Vec<String>,
}

/// The status of every node of the plan, by node id.
pub fn explain(plan: &Plan, cache: &Cache) -> Vec<Status> {
    let mut out: Vec<Status> = Vec::with_capacity(plan.nodes.len());
    for (i, node) in plan.nodes.iter().enumerate() {
        if cache.lookup(&node.key).is_some() {
            out.push(Status { kind: StatusKind::Cached, reasons: vec![] });
            continue;
        }
        let reasons = match cache.recall(&node.label) {
            None => vec!["new node".to_string()],
            Some((old_key, _)) if old_key == node.key => vec!["result missing from the cache".to_string()],
            Some((_, old)) => {
                let mut reasons = vec![];
                diff(&old, &plan.descriptions[i].to_json(), plan, &mut reasons);
                if reasons.is_empty() {
                    reasons.push("description changed".to_string());
                }
                reasons
            }
        };
        out.push(Status { kind: StatusKind::Run, reasons });
    }
    out
}

/// Reasons in words: which op, field, input or seed differs.
fn diff(old: &J, new: &J, plan: &Plan, reasons: &mut Vec<String>) {
    if old["schema"] != new["schema"] {
        reasons.push("munl's key format changed".into());
        return;
    }
    if old["op"] != new["op"] {
        reasons.push(format!("operation `{}` → `{}`", text(&old["op"]), text(&new["op"])));
        return;
    }
    if old["version"] != new["version"] {
        reasons.push(format!("`{}` version {} → {}", text(&new["op"]), old["version"], new["version"]));
    }
    diff_fields("", &old["params"], &new["params"], reasons);
    let (old_in, new_in) = (inputs(&old["inputs"]), inputs(&new["inputs"]));
    let changed: Vec<&(String, String)> =
        new_in.iter().filter(|(role, key)| !old_in.iter().any(|(r, k)| r == role && k == key)).collect();
    // An evaluation over many models and seeds can have hundreds: name a few, count the rest.
    const NAMED: usize = 3;
    for (role, key) in changed.iter().take(NAMED) {
        let label = crate::digest::Key::from_hex(key)
            .and_then(|k| plan.by_key(&k))
            .map_or(role.clone(), |id| plan.node(id).label.clone());
        reasons.push(format!("input `{label}` changed"));
    }
    if changed.len() > NAMED {
        reasons.push(format!("{} more inputs changed", changed.len() - NAMED));
    }
    for (role, _) in &old_in {
        if !new_in.iter().any(|(r, _)| r == role) {
            reasons.push(format!("input `{role}` removed"));
        }
    }
    let empty = serde_json::Map::new();
    let (old_at, new_at) = (old["coords"].as_object().unwrap_or(&empty), new["coords"].as_object().unwrap_or(&empty));
    for (name, value) in new_at {
        match old_at.get(name) {
            Some(was) if was != value => reasons.push(format!("{name} {was} → {value}")),
            None => reasons.push(format!("{name} set to {value}")),
            _ => {}
        }
    }
}

fn inputs(v: &J) -> Vec<(String, String)> {
    v.as_array().map(|a| a.iter().map(|pair| (text(&pair[0]), text(&pair[1]))).collect()).unwrap_or_default()
}

/// Field-by-field differences; calls with the same op are compared argument by argument
/// (`optim.lr 0.1 → 0.05`).
fn diff_fields(prefix: &str, old: &J, new: &J, reasons: &mut Vec<String>) {
    let empty = serde_json::Map::new();
    let (o, n) = (old.as_object().unwrap_or(&empty), new.as_object().unwrap_or(&empty));
    let mut names: Vec<&String> = o.keys().chain(n.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let path = format!("{prefix}{name}");
        match (o.get(name), n.get(name)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) if is_call(a) && is_call(b) && a["op"] == b["op"] => {
                diff_fields(&format!("{path}."), &a["args"], &b["args"], reasons)
            }
            (Some(a), Some(b)) => reasons.push(format!("`{path}` {} → {}", munl(a), munl(b))),
            (None, Some(b)) => reasons.push(format!("`{path}` set to {}", munl(b))),
            (Some(a), None) => reasons.push(format!("`{path}` ({}) removed", munl(a))),
            (None, None) => {}
        }
    }
}

fn is_call(v: &J) -> bool {
    v.get("op").is_some() && v.get("args").is_some()
}

fn text(v: &J) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// A canonical value written back in `.munl` syntax.
fn munl(v: &J) -> String {
    match v {
        J::Array(items) => format!("[{}]", items.iter().map(munl).collect::<Vec<_>>().join(", ")),
        J::Object(_) if is_call(v) => {
            let args = v["args"].as_object().map_or(String::new(), |a| {
                a.iter().map(|(k, x)| format!("{k}: {}", munl(x))).collect::<Vec<_>>().join(", ")
            });
            format!("{}({args})", text(&v["op"]))
        }
        other => other.to_string(),
    }
}
