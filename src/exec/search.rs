//! The `search` node (evaluation.md §5): trials proposed by the sampler, each a cache entry of
//! its own keyed by its sampled values, until `trials` of them completed; then `search.json`.
//!
//! Proposals are a pure function of (sampler, seed, space, outcomes so far), so a search that
//! was killed proposes exactly the same trials again: the finished ones are cache hits, nothing
//! is lost or repeated, and raising `trials` only runs the additional ones. A trial that fails
//! (the method refuses the model, libtorch errors) fails the search, and is retried on the next
//! run — never silently skipped. Up to `--jobs` trials of one search run at once: every trial
//! whose proposal no longer depends on a running one (the sampler says which), so a parallel
//! search proposes exactly the trials a sequential one does.

use std::collections::BTreeMap;
use std::path::Path;

use super::schedule::compute_and_commit;
use crate::artifact::{file, read_json, write_json, NodeFailure, SearchResult, TrialRecord, TrialResult};
use crate::backend::{Backend, Input, Job};
use crate::cache::Cache;
use crate::ops::{self, Category, Export, Value};
use crate::plan::{Node, NodeKind};
use crate::search::{self, Dist, Outcome, Param, SamplerKind, Space};

/// The searched space of a search node's `space` parameter, in suggest order.
fn space_of(node: &Node) -> Result<(Space, Vec<bool>), NodeFailure> {
    let Some(Value::List(items)) = node.param("space") else {
        return Err(NodeFailure::new("the search has no `space`"));
    };
    let mut params = vec![];
    let mut integer = vec![];
    for item in items {
        let call = item.as_call().ok_or_else(|| NodeFailure::new(format!("bad space entry {item}")))?;
        let field = call.args.get("field").and_then(Value::as_str).unwrap_or_default().to_string();
        let num = |k: &str| call.args.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
        let int = |k: &str| call.args.get(k).and_then(Value::as_i64).unwrap_or(0);
        let (dist, is_int) = match call.op.as_str() {
            "uniform" => (Dist::Float { low: num("low"), high: num("high"), log: false }, false),
            "log_uniform" => (Dist::Float { low: num("low"), high: num("high"), log: true }, false),
            "int_uniform" => (Dist::Int { low: int("low"), high: int("high"), log: false, step: 1 }, true),
            "choice" => {
                let Some(Value::List(c)) = call.args.get("choices") else {
                    return Err(NodeFailure::new(format!("`{field}`: a choice without choices")));
                };
                (
                    Dist::Categorical(c.iter().filter_map(Value::as_f64).collect()),
                    c.iter().all(|v| v.as_i64().is_some()),
                )
            }
            "fixed" => {
                let v = call.args.get("value").cloned().unwrap_or(Value::Float(f64::NAN));
                let x = v.as_f64().unwrap_or(f64::NAN);
                (Dist::Float { low: x, high: x, log: false }, v.as_i64().is_some())
            }
            other => return Err(NodeFailure::new(format!("`{field}`: unknown distribution `{other}`"))),
        };
        params.push(Param::new(field, dist));
        integer.push(is_int);
    }
    let space = Space::new(params).map_err(|e| NodeFailure::new(format!("bad search space: {e}")))?;
    Ok((space, integer))
}

fn sampler_of(node: &Node) -> Result<SamplerKind, NodeFailure> {
    match node.param("sampler").and_then(Value::as_str).unwrap_or("nsga3") {
        "nsga3" => Ok(SamplerKind::Nsga3),
        "nsga3_optuna5" => Ok(SamplerKind::Nsga3Optuna5),
        "random" => Ok(SamplerKind::Random),
        "tpe" => Ok(SamplerKind::Tpe),
        other => Err(NodeFailure::new(format!("unknown sampler `{other}`"))),
    }
}

/// The Euclidean norm of a completed trial's objectives; `None` (+∞) if any is +∞.
fn score(objectives: &[Option<f64>]) -> Option<f64> {
    let values: Option<Vec<f64>> = objectives.iter().copied().collect();
    values.map(|v| v.iter().map(|x| x * x).sum::<f64>().sqrt())
}

/// Runs a search node: proposes, looks up or computes trials, writes `search.json`.
pub(crate) fn run(job: &Job<'_>, cache: &Cache, backend: &dyn Backend, jobs: usize) -> Result<(), NodeFailure> {
    let node = job.node;
    let (space, integer) = space_of(node)?;
    let sampler = sampler_of(node)?;
    let seed = node.seed.unwrap_or(0);
    let wanted = node.param("trials").and_then(Value::as_i64).unwrap_or(100).max(1) as usize;
    let prune_above = node.param("prune_batch_above").and_then(Value::as_i64);
    let fixed: BTreeMap<String, Value> = node
        .params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "space" | "trials" | "sampler" | "prune_batch_above"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    // Trial outcomes by number (`None` while running) and their records (state `running` until done).
    let mut outcomes: Vec<Option<Outcome>> = vec![];
    let mut records: Vec<TrialRecord> = vec![];
    let mut completed = 0;
    let mut running = 0;
    let mut failure = None;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, Result<(String, TrialResult), NodeFailure>)>();
    std::thread::scope(|scope| {
        loop {
            // Start every trial that is determined now, up to `jobs` at once, never more
            // than the completions still wanted.
            while failure.is_none() && running < jobs && completed + running < wanted {
                let Some(proposal) = search::propose_next(sampler, seed, &space, &outcomes) else { break };
                let number = outcomes.len();
                let values = values_of(&space, &integer, &proposal.values);
                let over =
                    prune_above.filter(|max| values.get("batch").and_then(Value::as_i64).is_some_and(|b| b > *max));
                if let Some(max) = over {
                    outcomes.push(Some(Outcome::Pruned));
                    records.push(TrialRecord {
                        number,
                        values,
                        state: "pruned".into(),
                        objectives: vec![],
                        score: None,
                        note: Some(format!("batch above {max} (the reference's UTKFace rule)")),
                        key: None,
                    });
                    continue;
                }
                outcomes.push(None);
                records.push(TrialRecord {
                    number,
                    values: values.clone(),
                    state: "running".into(),
                    objectives: vec![],
                    score: None,
                    note: None,
                    key: None,
                });
                let mut params = fixed.clone();
                params.extend(values);
                let tx = done_tx.clone();
                running += 1;
                scope.spawn(move || {
                    let _ = tx.send((number, trial(job, cache, backend, number, params)));
                });
            }
            if running == 0 {
                break;
            }
            let Ok((number, result)) = done_rx.recv() else { break };
            running -= 1;
            match result {
                Err(f) => {
                    // Let the running trials finish (their results are cached), start no more.
                    failure.get_or_insert(f);
                }
                Ok((key, result)) => {
                    let objectives = result.objectives.clone();
                    outcomes[number] =
                        Some(Outcome::Complete(objectives.iter().map(|o| o.unwrap_or(f64::INFINITY)).collect()));
                    if let Some(r) = records.get_mut(number) {
                        r.state = "complete".into();
                        r.score = score(&objectives);
                        r.objectives = objectives;
                        r.note = result.note;
                        r.key = Some(key);
                    }
                    completed += 1;
                    let best =
                        best_of(&records).and_then(|i| records[i].score).map_or("∞".into(), |s| format!("{s:.4}"));
                    (job.progress)(completed as u64, wanted as u64, &format!("best score {best}"));
                }
            }
        }
    });
    if let Some(f) = failure {
        return Err(f);
    }
    if completed < wanted {
        // Unreachable by the samplers' contract (with nothing running, the next trial is
        // always determined), but never write a search short of its trials.
        return Err(NodeFailure::new(format!("the sampler stopped after {completed} of {wanted} trials")));
    }
    let best = best_of(&records);
    let result = SearchResult { trials: records, best };
    write_json(&job.out.join(file::SEARCH), &result)
}

/// Sampled numbers as field values: integers for integer fields.
fn values_of(space: &Space, integer: &[bool], sampled: &BTreeMap<String, f64>) -> BTreeMap<String, Value> {
    space
        .params()
        .iter()
        .zip(integer)
        .map(|(p, &int)| {
            let x = sampled.get(&p.name).copied().unwrap_or(f64::NAN);
            (p.name.clone(), if int { Value::Int(x.round() as i64) } else { Value::Float(x) })
        })
        .collect()
}

/// The completed trial with the smallest score, the first on ties (+∞ only if nothing else).
fn best_of(records: &[TrialRecord]) -> Option<usize> {
    let complete = records.iter().enumerate().filter(|(_, r)| r.state == "complete");
    complete
        .min_by(|(_, a), (_, b)| a.score.unwrap_or(f64::INFINITY).total_cmp(&b.score.unwrap_or(f64::INFINITY)))
        .map(|(i, _)| i)
}

/// One trial: a cache hit, or computed by the backend and committed.
fn trial(
    job: &Job<'_>,
    cache: &Cache,
    backend: &dyn Backend,
    number: usize,
    params: BTreeMap<String, Value>,
) -> Result<(String, TrialResult), NodeFailure> {
    let search = job.node;
    let input_keys: Vec<(String, crate::digest::Key)> =
        job.inputs.iter().map(|i| (i.role.to_string(), i.key)).collect();
    let description =
        crate::plan::describe(NodeKind::Trial, &search.op, search.version, &params, &input_keys, search.seed);
    let key = crate::plan::key_of(&description);
    let node = Node {
        key,
        kind: NodeKind::Trial,
        op: search.op.clone(),
        version: search.version,
        params,
        inputs: search.inputs.clone(),
        seed: search.seed,
        env: BTreeMap::new(),
        label: format!("trial {number} of {}", search.label),
        decl: search.decl.clone(),
        span: search.span,
    };
    let read = |dir: &Path| read_json::<TrialResult>(&dir.join(file::TRIAL));
    if let Some(entry) = cache.lookup(&key) {
        return Ok((key.hex(), read(&entry.dir)?));
    }
    let quiet = |_: u64, _: u64, _: &str| {};
    let (_, result) = compute_and_commit(cache, &node, &description, |out| {
        let sub = Job { node: &node, inputs: job.inputs.clone(), out, progress: &quiet };
        backend.run(&sub).map_err(|f| NodeFailure { message: format!("trial {number} failed: {}", f.message), ..f })?;
        // Read before the commit: a malformed result is never cached.
        read(out)
    })?;
    Ok((key.hex(), result))
}

/// The values of the best trial over the searches in `dirs` (the smallest score, the first
/// search on ties), with the method's export rule (unlearners.md §4) unless `export` is
/// `searched`.
pub(super) fn best_values(method: &str, export: &str, dirs: &[&Path]) -> Result<BTreeMap<String, Value>, NodeFailure> {
    let mut best: Option<(f64, BTreeMap<String, Value>)> = None;
    for dir in dirs {
        let result: SearchResult = read_json(&dir.join(file::SEARCH))?;
        if let Some(i) = result.best {
            let record = &result.trials[i];
            let s = record.score.unwrap_or(f64::INFINITY);
            if best.as_ref().is_none_or(|(b, _)| s < *b) {
                best = Some((s, record.values.clone()));
            }
        }
    }
    let Some((_, mut values)) = best else {
        return Err(NodeFailure::new("no search completed a trial"));
    };
    if export == "reference" {
        let rule = ops::find(Category::Method, method).map_or(Export::KEEP, |op| op.export);
        values.retain(|k, _| !rule.drop.contains(&k.as_str()));
        for field in rule.truncate {
            if let Some(Value::Float(e)) = values.get(*field).cloned() {
                values.insert(field.to_string(), Value::Float(e.trunc()));
            }
        }
    }
    Ok(values)
}

/// A tuned `unlearn` node with its searches' best values in place of the searched fields,
/// ready for a backend that knows nothing of searches. Other nodes are returned as they are.
pub(super) fn resolve(node: &Node, inputs: &[Input<'_>]) -> Result<Option<Node>, NodeFailure> {
    let searches: Vec<&Path> = inputs.iter().filter(|i| i.role.starts_with("search/")).map(|i| i.dir).collect();
    if node.kind != NodeKind::Unlearn || searches.is_empty() {
        return Ok(None);
    }
    let export = node.param("export").and_then(Value::as_str).unwrap_or("reference");
    let mut resolved = node.clone();
    resolved.params.extend(best_values(&node.op, export, &searches)?);
    Ok(Some(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_euclidean_norms_and_infinity_loses() {
        assert_eq!(score(&[Some(3.0), Some(4.0), Some(0.0), Some(0.0)]), Some(5.0));
        assert_eq!(score(&[Some(3.0), None, Some(0.0), Some(0.0)]), None);
        let rec = |state: &str, score: Option<f64>| TrialRecord {
            number: 0,
            values: BTreeMap::new(),
            state: state.into(),
            objectives: vec![],
            score,
            note: None,
            key: None,
        };
        let records =
            [rec("complete", None), rec("pruned", None), rec("complete", Some(0.5)), rec("complete", Some(0.5))];
        assert_eq!(best_of(&records), Some(2));
        assert_eq!(best_of(&records[..2]), Some(0), "+∞ only when nothing else completed");
    }

    #[test]
    fn export_rules_follow_the_reference() {
        let dir = tempfile::tempdir().unwrap();
        let values =
            BTreeMap::from([("epochs".to_string(), Value::Float(3.7)), ("lr".to_string(), Value::Float(0.01))]);
        let trial = TrialRecord {
            number: 0,
            values,
            state: "complete".into(),
            objectives: vec![Some(0.1); 4],
            score: Some(0.2),
            note: None,
            key: None,
        };
        let result = SearchResult { trials: vec![trial], best: Some(0) };
        std::fs::write(dir.path().join(file::SEARCH), serde_json::to_string(&result).unwrap()).unwrap();
        let prmq = best_values("prmq", "reference", &[dir.path()]).unwrap();
        assert_eq!(prmq["epochs"], Value::Float(3.0));
        assert_eq!(best_values("prmq", "searched", &[dir.path()]).unwrap()["epochs"], Value::Float(3.7));
        assert!(!best_values("scrub", "reference", &[dir.path()]).unwrap().contains_key("epochs"));
    }
}
