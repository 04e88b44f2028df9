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
        let parts = entry.as_ref().filter(|_| node.kind() == crate::plan::NodeKind::Split).map(|e| {
            let labels = node
                .inputs
                .iter()
                .find(|(role, _)| role == "data")
                .and_then(|(_, data)| cache.lookup(&plan.node(*data).key))
                .map(|d| d.dir);
            split_parts(&e.dir, labels.as_deref())
        });
        let model = entry.as_ref().and_then(|e| super::weights::shapes(&e.dir.join(file::MODEL)).ok());
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
                "parameters": model.as_ref().map(|s| super::weights::parameter_count(s)),
                "head": model.as_ref().and_then(|s| super::weights::head(s)).map(|(parameters, classes)| json!({"parameters": parameters, "classes": classes})),
                "parts": parts.as_ref().map(|p| p.as_ref().map_err(|e| e.to_string()).map_or_else(|e| json!({"error": e}), |p| json!(p))),
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
                match &parts {
                    Some(Ok(parts)) => print!("{}", parts_text(parts)),
                    Some(Err(e)) => println!("  parts    cannot be read: {e}"),
                    None => {}
                }
                if let Some(shapes) = &model {
                    println!("  model    {}", model_text(shapes));
                    print!("{}", super::weights::summary(shapes));
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

/// One set of a split (`retain`, `forget`, …): its size and, where the dataset's labels could be
/// read, its images per class.
#[derive(Debug, PartialEq, serde::Serialize)]
struct Part {
    name: String,
    size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_class: Option<Vec<u64>>,
}

/// The sets of the split entry in `dir`, in file order, counted per class against the labels of
/// the dataset entry in `data` (only its `labels` tensor is read).
fn split_parts(dir: &Path, data: Option<&Path>) -> std::io::Result<Vec<Part>> {
    let path = dir.join(file::SPLIT);
    let mut sets = vec![];
    for (name, _) in super::weights::shapes(&path)? {
        let indices = super::weights::read_ints(&path, &name)?;
        sets.push((name, indices));
    }
    let labels = data.and_then(|d| super::weights::read_ints(&d.join(file::DATA), "labels").ok());
    let classes = data
        .and_then(|d| crate::artifact::read_json::<crate::artifact::DatasetInfo>(&d.join(file::DATASET)).ok())
        .map(|info| info.classes);
    Ok(summarise_split(sets, labels.as_deref(), classes))
}

/// Each set's size and per-class counts: `labels` are the dataset's, indexed by the sets' global
/// indices; `classes` the dataset's class count (else the largest label + 1). An index without a
/// label drops the counts of its set.
fn summarise_split(sets: Vec<(String, Vec<i64>)>, labels: Option<&[i64]>, classes: Option<usize>) -> Vec<Part> {
    let classes = classes
        .or_else(|| labels.and_then(|l| l.iter().copied().max()).map(|m| usize::try_from(m + 1).unwrap_or(0)))
        .unwrap_or(0);
    sets.into_iter()
        .map(|(name, indices)| {
            let per_class = labels.and_then(|labels| {
                let mut counts = vec![0u64; classes];
                for &i in &indices {
                    let label = labels.get(usize::try_from(i).ok()?)?;
                    *counts.get_mut(usize::try_from(*label).ok()?)? += 1;
                }
                Some(counts)
            });
            Part { name, size: indices.len(), per_class }
        })
        .collect()
}

/// A split's sets as `munl show` lists them: one line each, the per-class counts in full up to
/// 20 classes, as a range beyond.
fn parts_text(parts: &[Part]) -> String {
    let mut out = String::new();
    for p in parts {
        out.push_str(&format!("  part     {:<8} {:>7} images", p.name, p.size));
        match p.per_class.as_deref() {
            Some(counts) if counts.len() <= 20 => {
                let c: Vec<String> = counts.iter().map(u64::to_string).collect();
                out.push_str(&format!("; per class {}", c.join(" ")));
            }
            Some(counts) => {
                let (min, max) = (counts.iter().min().unwrap_or(&0), counts.iter().max().unwrap_or(&0));
                out.push_str(&format!("; {min}–{max} per class over {} classes", counts.len()));
            }
            None => {}
        }
        out.push('\n');
    }
    out
}

/// `11172042 parameters (5130 in the classifier head for 10 classes)`.
fn model_text(shapes: &[(String, Vec<u64>)]) -> String {
    let total = super::weights::parameter_count(shapes);
    match super::weights::head(shapes) {
        Some((head, classes)) => format!("{total} parameters ({head} in the classifier head for {classes} classes)"),
        None => format!("{total} parameters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_is_summarised_per_set_and_class() {
        let labels = [0i64, 1, 2, 0, 1, 2, 0, 0];
        let sets = vec![
            ("retain".to_string(), vec![0, 1, 2, 3]),
            ("forget".to_string(), vec![6, 7]),
            ("test".to_string(), vec![4, 5]),
        ];
        let parts = summarise_split(sets.clone(), Some(&labels), Some(3));
        assert_eq!(parts[0], Part { name: "retain".into(), size: 4, per_class: Some(vec![2, 1, 1]) });
        assert_eq!(parts[1].per_class, Some(vec![2, 0, 0]));
        assert_eq!(parts[2].per_class, Some(vec![0, 1, 1]));
        let text = parts_text(&parts);
        assert!(text.contains("  part     retain         4 images; per class 2 1 1\n"), "{text}");
        // Without labels, sizes only; without a class count, the labels say it.
        assert_eq!(
            summarise_split(sets.clone(), None, None)[1],
            Part { name: "forget".into(), size: 2, per_class: None }
        );
        assert_eq!(summarise_split(sets.clone(), Some(&labels), None)[0].per_class, Some(vec![2, 1, 1]));
        // An index beyond the labels: no counts for that set rather than wrong ones.
        let beyond = vec![("val".to_string(), vec![1, 99])];
        assert_eq!(summarise_split(beyond, Some(&labels), Some(3))[0].per_class, None);
        let many =
            vec![Part { name: "train".into(), size: 300, per_class: Some((0..100).map(|i| 2 + i % 3).collect()) }];
        assert!(parts_text(&many).contains("2–4 per class over 100 classes"), "{}", parts_text(&many));
    }

    #[test]
    fn a_model_says_its_parameters_and_its_head() {
        let shapes = vec![
            ("conv1.weight".to_string(), vec![8, 3, 3, 3]),
            ("fc.weight".into(), vec![10, 8]),
            ("fc.bias".into(), vec![10]),
        ];
        assert_eq!(model_text(&shapes), "306 parameters (90 in the classifier head for 10 classes)");
    }
}
