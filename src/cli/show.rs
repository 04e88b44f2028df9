//! `munl show FILE NODE`: one node's parameters, inputs, status and stored results.

use std::path::Path;

use serde_json::json;

use crate::artifact::{file, SearchResult, TrialRecord, OBJECTIVES};
use crate::plan::{explain, NodeId, StatusKind};

use super::load::load_with_cache;
use super::{fail, EXIT_OK};

/// `munl show FILE NODE [--json]`
pub(crate) fn show(file: &Path, cache_root: &Path, name: &str, as_json: bool) -> u8 {
    let (loaded, cache) = match load_with_cache(file, cache_root) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let plan = &loaded.plan;
    let ids: Vec<NodeId> = match plan.target(name) {
        Some(ids) => ids,
        None => match plan.ids().find(|id| plan.node(*id).key.hex().starts_with(name) && name.len() >= 6) {
            Some(id) => vec![id],
            None => match find_trial(plan, &cache, name) {
                Some((search, trial)) => return show_trial(&cache, &search, &trial, as_json),
                None => return fail(format!("no node, declaration, key prefix or trial key matches `{name}`")),
            },
        },
    };
    let statuses = explain(plan, &cache);
    for id in ids {
        let node = plan.node(id);
        // What the key sees, in one flat map: the op's fields and the engine's settings alike.
        let params = &plan.descriptions[id.0].params;
        let status = &statuses[id.0];
        let entry = cache.lookup(&node.key);
        let stored: serde_json::Map<String, serde_json::Value> = entry
            .iter()
            .flat_map(|e| file::SHOWN.iter().map(move |f| (f, e.dir.join(f))))
            .filter_map(|(f, p)| {
                let text = std::fs::read_to_string(p).ok()?;
                Some((f.to_string(), serde_json::from_str(&text).ok()?))
            })
            .collect();
        let origins = origins(plan, &cache, node);
        if as_json {
            let v = json!({
                "label": node.label,
                "kind": node.kind().as_str(),
                "op": node.op,
                "version": node.version,
                "key": node.key.hex(),
                "seed": node.seed(),
                "params": params.iter().map(|(k, v)| (k.clone(), v.canonical())).collect::<serde_json::Map<_, _>>(),
                "origins": origins.as_ref().map(|o| o.iter().map(|(k, o)| (k.clone(), json!(o.tag()))).collect::<serde_json::Map<_, _>>()),
                "used": origins.as_ref().map(|o| o.iter().filter_map(|(k, o)| match o {
                    Origin::Searched(Some(v)) => Some((k.clone(), v.canonical())),
                    _ => params.get(k).map(|v| (k.clone(), v.canonical())),
                }).collect::<serde_json::Map<_, _>>()),
                "inputs": node.inputs.iter().map(|(r, i)| json!({"role": r, "label": plan.node(*i).label, "key": plan.node(*i).key.hex()})).collect::<Vec<_>>(),
                "status": status.kind,
                "reasons": status.reasons,
                "entry": entry.as_ref().map(|e| e.dir.display().to_string()),
                "files": entry.as_ref().map(|e| e.manifest.files.keys().cloned().collect::<Vec<_>>()),
                "stored": stored,
                "parameters": entry
                    .as_ref()
                    .and_then(|e| super::weights::shapes(&e.dir.join(file::MODEL)).ok())
                    .map(|s| super::weights::parameter_count(&s)),
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            continue;
        }
        println!("{}", node.label);
        println!("  kind     {} `{}` (version {})", node.kind().as_str(), node.op, node.version);
        println!("  key      {}", node.key.hex());
        for (k, v) in params {
            match origins.as_ref().and_then(|o| o.get(k)) {
                None => println!("  {k:<8} {v}"),
                Some(Origin::Searched(Some(best))) => {
                    println!("  {k:<8} {best}  (searched: the best trial's; {v} before the search)")
                }
                Some(Origin::Searched(None)) => println!("  {k:<8} {v}  (searched: the search has not run yet)"),
                Some(o) => println!("  {k:<8} {v}  ({})", o.tag()),
            }
        }
        for (role, input) in &node.inputs {
            println!("  input    {role}: {}", plan.node(*input).label);
        }
        match (status.kind, &entry) {
            (StatusKind::Cached, Some(e)) => {
                println!("  status   cached in {}", e.dir.display());
                println!("  took     {:.3}s", e.manifest.wall_time_s);
                for (f, rec) in &e.manifest.files {
                    println!("  file     {f} ({} bytes)", rec.size);
                }
                for (f, v) in &stored {
                    println!("  {f}: {}", serde_json::to_string(v).unwrap_or_default());
                }
                if let Ok(search) = crate::artifact::read_json::<SearchResult>(&e.dir.join(file::SEARCH)) {
                    print!("{}", trials(&search));
                }
                if let Ok(shapes) = super::weights::shapes(&e.dir.join(file::MODEL)) {
                    println!("  model    {} parameters", super::weights::parameter_count(&shapes));
                    print!("{}", super::weights::summary(&shapes));
                }
            }
            _ => println!("  status   will run ({})", status.reasons.join("; ")),
        }
    }
    EXIT_OK
}

/// Where an `unlearn` node's value comes from.
enum Origin {
    /// The file wrote it.
    Written,
    Default,
    /// A search chooses it: the best trial's value (after the export rule), once the searches
    /// have run.
    Searched(Option<crate::ops::Value>),
}

impl Origin {
    fn tag(&self) -> &'static str {
        match self {
            Origin::Written => "written",
            Origin::Default => "default",
            Origin::Searched(_) => "searched",
        }
    }
}

/// For an `unlearn` node, each field's origin (the values a tuned run uses are its searches'
/// best, which `munl run` puts in place of the defaults); `None` for other nodes.
fn origins(
    plan: &crate::plan::Plan,
    cache: &crate::cache::Cache,
    node: &crate::plan::Node,
) -> Option<std::collections::BTreeMap<String, Origin>> {
    let crate::plan::Payload::Unlearn { hyper, export } = &node.payload else { return None };
    let searches: Vec<&crate::plan::Node> =
        node.inputs.iter().filter(|(role, _)| role.starts_with("search/")).map(|(_, id)| plan.node(*id)).collect();
    let searched: Vec<String> = searches
        .iter()
        .filter_map(|s| match &s.payload {
            crate::plan::Payload::Search(spec) => Some(spec.space.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()),
            _ => None,
        })
        .next()
        .unwrap_or_default();
    let dirs: Option<Vec<std::path::PathBuf>> = searches.iter().map(|s| cache.lookup(&s.key).map(|e| e.dir)).collect();
    let best = match (dirs, export) {
        (Some(dirs), Some(export)) if !dirs.is_empty() => {
            let dirs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
            crate::exec::best_values(&node.op, *export, &dirs).ok()
        }
        _ => None,
    };
    Some(
        hyper
            .keys()
            .filter(|k| !k.starts_with('@'))
            .map(|k| {
                let origin = if searched.contains(k) {
                    Origin::Searched(best.as_ref().and_then(|b| b.get(k).cloned()))
                } else if node.paths.written.contains(k) {
                    Origin::Written
                } else {
                    Origin::Default
                };
                (k.clone(), origin)
            })
            .collect(),
    )
}

/// The trial of a cached search of the plan whose key starts with `prefix` (6 hex digits at
/// least): the search's label and the trial.
fn find_trial(plan: &crate::plan::Plan, cache: &crate::cache::Cache, prefix: &str) -> Option<(String, TrialRecord)> {
    if prefix.len() < 6 {
        return None;
    }
    plan.ids().map(|id| plan.node(id)).filter(|n| n.kind() == crate::plan::NodeKind::Search).find_map(|n| {
        let entry = cache.lookup(&n.key)?;
        let search = crate::artifact::read_json::<SearchResult>(&entry.dir.join(file::SEARCH)).ok()?;
        let trial = search.trials.into_iter().find(|t| t.key.as_deref().is_some_and(|k| k.starts_with(prefix)))?;
        Some((n.label.clone(), trial))
    })
}

/// `munl show FILE TRIAL_KEY`: one trial of a search, its values, named objectives and entry.
fn show_trial(cache: &crate::cache::Cache, search: &str, t: &TrialRecord, as_json: bool) -> u8 {
    let key = t.key.clone().unwrap_or_default();
    let entry = crate::digest::Key::from_hex(&key).and_then(|k| cache.lookup(&k));
    let objectives: serde_json::Map<String, serde_json::Value> =
        OBJECTIVES.iter().zip(&t.objectives).map(|(n, v)| (n.to_string(), json!(v))).collect();
    if as_json {
        let v = json!({
            "label": format!("trial {} of {search}", t.number),
            "kind": "trial",
            "key": key,
            "values": t.values.iter().map(|(k, v)| (k.clone(), v.canonical())).collect::<serde_json::Map<_, _>>(),
            "state": t.state,
            "objectives": objectives,
            "score": t.score,
            "seconds": t.seconds,
            "note": t.note,
            "entry": entry.as_ref().map(|e| e.dir.display().to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return EXIT_OK;
    }
    println!("trial {} of {search}", t.number);
    println!("  key      {key}");
    println!("  state    {}", t.state);
    for (k, v) in &t.values {
        println!("  {k:<8} {v}");
    }
    for (name, v) in OBJECTIVES.iter().zip(&t.objectives) {
        println!("  {name:<10} {}", v.map_or("∞".to_string(), |x| format!("{x:.4}")));
    }
    println!("  score    {}", t.score.map_or("∞".to_string(), |x| format!("{x:.4}")));
    if let Some(s) = t.seconds {
        println!("  seconds  {s:.3}");
    }
    if let Some(note) = &t.note {
        println!("  note     {note}");
    }
    match entry {
        Some(e) => println!("  status   cached in {}", e.dir.display()),
        None => println!("  status   not in the cache"),
    }
    EXIT_OK
}

/// A search's trials as a table (the objectives named, as in its `trials.csv`), and which one
/// won among which.
fn trials(search: &SearchResult) -> String {
    let mut out = String::new();
    let score = |s: Option<f64>| s.map_or("∞".to_string(), |x| format!("{x:.4}"));
    match search.best {
        Some(b) => out.push_str(&format!(
            "  best     trial {}, score {}, chosen among the first {} completed trials (the reference's rule)\n",
            search.trials[b].number,
            score(search.trials[b].score),
            search.best_among_first
        )),
        None => out.push_str("  best     none: no trial completed\n"),
    }
    out.push_str(&format!(
        "  trials   number, state, score, key, values, {}; all in trials.csv\n",
        OBJECTIVES.join(", ")
    ));
    for t in &search.trials {
        let values: Vec<String> = t.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let objectives: Vec<String> =
            t.objectives.iter().map(|o| o.map_or("∞".to_string(), |x| format!("{x:.4}"))).collect();
        let note = t.note.as_deref().map_or(String::new(), |n| format!("  ({n})"));
        let key = t.key.as_deref().map_or("", |k| &k[..k.len().min(12)]);
        out.push_str(&format!(
            "  trial {:>4} {:<8} {:>8}  {key:<12}  {}  [{}]{note}\n",
            t.number,
            t.state,
            score(t.score),
            values.join(" "),
            objectives.join(", ")
        ));
    }
    out
}
