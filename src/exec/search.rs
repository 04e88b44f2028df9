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

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::commit::compute_and_commit;
use crate::artifact::{
    file, read_json, write_json, NodeFailure, SearchResult, TrialRecord, TrialResult, BEST_AMONG_FIRST,
};
use crate::backend::{Backend, Input, Job};
use crate::cache::Cache;
use crate::digest::Key;
use crate::lower::{self, ExportMode};
use crate::ops::{self, Category, Export, Value};
use crate::plan::{Description, Node, Params, Payload, SearchSpec};
use crate::search::{self, Dist, Outcome, Param, Space};

/// The sampler's space of a search's distributions, in suggest order, and which fields take
/// integers. Each parameter carries the field's name (proposals come back under it) and is
/// known to the sampler by the reference's name for it, by which NSGA-III orders its relative
/// space (search.md §4.2).
fn space_of(method: &str, spec: &SearchSpec) -> Result<(Space, Vec<bool>), NodeFailure> {
    let op = ops::find(Category::Method, method);
    let mut params = vec![];
    let mut integer = vec![];
    for (field, dist) in &spec.space {
        let (dist, is_int) = match dist {
            lower::Dist::Uniform(low, high) => (Dist::Float { low: *low, high: *high, log: false }, false),
            lower::Dist::LogUniform(low, high) => (Dist::Float { low: *low, high: *high, log: true }, false),
            lower::Dist::IntUniform(low, high) => (Dist::Int { low: *low, high: *high, log: false, step: 1 }, true),
            lower::Dist::Choice(c) => (
                Dist::Categorical(c.iter().filter_map(Value::as_f64).collect()),
                c.iter().all(|v| v.as_i64().is_some()),
            ),
            lower::Dist::Fixed(v) => {
                let x = v.as_f64().unwrap_or(f64::NAN);
                (Dist::Float { low: x, high: x, log: false }, v.as_i64().is_some())
            }
        };
        let study_name = op.and_then(|op| op.field(field)).map_or(field.as_str(), |f| f.reference_name());
        params.push(Param::new(field.clone(), dist).known_as(study_name));
        integer.push(is_int);
    }
    let space = Space::new(params).map_err(|e| NodeFailure::new(format!("bad search space: {e}")))?;
    Ok((space, integer))
}

/// The Euclidean norm of a completed trial's objectives; `None` (+∞) if any is +∞.
fn score(objectives: &[Option<f64>]) -> Option<f64> {
    let values: Option<Vec<f64>> = objectives.iter().copied().collect();
    values.map(|v| v.iter().map(|x| x * x).sum::<f64>().sqrt())
}

/// Runs a search node: proposes, looks up or computes trials, writes `search.json`.
pub(crate) fn run(job: &Job<'_>, cache: &Cache, backend: &dyn Backend, jobs: usize) -> Result<(), NodeFailure> {
    let node = job.node;
    let Payload::Search(spec) = &node.payload else {
        return Err(NodeFailure::new(format!("`{}` is not a search", node.label)));
    };
    let (space, integer) = space_of(&node.op, spec)?;
    let (sampler, wanted, prune_above) = (spec.sampler, spec.trials.max(1), spec.prune_batch_above);
    // Searched seeds are coordinates of the search node; the model seed seeds its sampler.
    let seed = node.seed().unwrap_or_default();
    let fixed = &spec.fixed;

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
                        seconds: None,
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
                    seconds: None,
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
                        r.seconds = Some(result.seconds);
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
    let result = SearchResult { trials: records, best, best_among_first: BEST_AMONG_FIRST };
    std::fs::write(job.out.join(file::TRIALS), result.csv())
        .map_err(|e| NodeFailure::io(format!("cannot write {}: {e}", file::TRIALS)))?;
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

/// The completed trial with the smallest score among the first [`BEST_AMONG_FIRST`] completed
/// ones by trial number, the first on ties (+∞ only if nothing else): the reference's selection,
/// which ignores later trials of a longer study (evaluation.md §5.3 [QUIRK]).
fn best_of(records: &[TrialRecord]) -> Option<usize> {
    let complete = records.iter().enumerate().filter(|(_, r)| r.state == "complete").take(BEST_AMONG_FIRST);
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
    let input_keys = job.inputs.iter().map(|i| (i.role.to_string(), i.key)).collect();
    let payload = Payload::Trial { hyper: params };
    let description = Description::new(&search.op, search.version, &payload, input_keys, search.coords.clone());
    let key = description.key();
    let node = Node {
        key,
        op: search.op.clone(),
        version: search.version,
        payload,
        inputs: search.inputs.clone(),
        coords: search.coords.clone(),
        // A Python method's file.
        paths: search.paths.clone(),
        label: format!("trial {number} of {}", search.label),
        decl: search.decl.clone(),
        span: search.span,
        source: search.source,
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
pub(crate) fn best_values(method: &str, export: ExportMode, dirs: &[&Path]) -> Result<Params, NodeFailure> {
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
    if export == ExportMode::Reference {
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
    if searches.is_empty() {
        return Ok(None);
    }
    let Payload::Unlearn { hyper, export: Some(export) } = &node.payload else {
        return Ok(None);
    };
    let mut hyper = hyper.clone();
    hyper.extend(best_values(&node.op, *export, &searches)?);
    Ok(Some(Node { payload: Payload::Unlearn { hyper, export: Some(*export) }, ..node.clone() }))
}

/// The cache entries a garbage collection keeps for these roots: the roots themselves and the
/// trials of every search among them (trials are in no plan: the sampler chose their keys).
pub(crate) fn with_trials(cache: &Cache, mut roots: HashSet<Key>) -> HashSet<Key> {
    let trials: Vec<Key> = roots
        .iter()
        .filter_map(|k| cache.lookup(k))
        .filter_map(|e| read_json::<SearchResult>(&e.dir.join(file::SEARCH)).ok())
        .flat_map(|r| r.trials.into_iter().filter_map(|t| t.key.as_deref().and_then(Key::from_hex)))
        .collect();
    roots.extend(trials);
    roots
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
            seconds: None,
        };
        let records =
            [rec("complete", None), rec("pruned", None), rec("complete", Some(0.5)), rec("complete", Some(0.5))];
        assert_eq!(best_of(&records), Some(2));
        assert_eq!(best_of(&records[..2]), Some(0), "+∞ only when nothing else completed");
    }

    #[test]
    fn the_best_is_chosen_among_the_first_100_completed_trials() {
        let rec = |number: usize, state: &str, score: f64| TrialRecord {
            number,
            values: BTreeMap::new(),
            state: state.into(),
            objectives: vec![],
            score: Some(score),
            note: None,
            key: None,
            seconds: None,
        };
        // 200 trials (a U-LiRA study): one pruned early, the 100th completed at number 100; the
        // best score of all comes later and is not eligible.
        let mut records: Vec<TrialRecord> = (0..200).map(|n| rec(n, "complete", 1.0 + n as f64)).collect();
        records[3].state = "pruned".into();
        records[100].score = Some(0.5);
        records[150].score = Some(0.1);
        assert_eq!(best_of(&records), Some(100), "the 100th completed trial is the last eligible one");
        records[100].score = Some(9.0);
        assert_eq!(best_of(&records), Some(0));
    }

    #[test]
    fn export_rules_follow_the_reference() {
        let dir = searched_dir(&[("epochs", 3.7), ("lr", 0.01)]);
        let prmq = best_values("prmq", ExportMode::Reference, &[dir.path()]).unwrap();
        assert_eq!(prmq["epochs"], Value::Float(3.0));
        assert_eq!(best_values("prmq", ExportMode::Searched, &[dir.path()]).unwrap()["epochs"], Value::Float(3.7));
        let scrub = best_values("scrub", ExportMode::Reference, &[dir.path()]).unwrap();
        assert_eq!(scrub["epochs"], Value::Float(3.7), "SCRUB keeps its searched epochs");
    }

    /// A search folder whose one completed trial, the best, has these values.
    fn searched_dir(values: &[(&str, f64)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let trial = TrialRecord {
            number: 0,
            values: values.iter().map(|(k, v)| (k.to_string(), Value::Float(*v))).collect(),
            state: "complete".into(),
            objectives: vec![Some(0.1); 4],
            score: Some(0.2),
            note: None,
            key: None,
            seconds: None,
        };
        let result = SearchResult { trials: vec![trial], best: Some(0), best_among_first: BEST_AMONG_FIRST };
        std::fs::write(dir.path().join(file::SEARCH), serde_json::to_string(&result).unwrap()).unwrap();
        dir
    }

    fn unlearn(export: Option<ExportMode>) -> Node {
        let hyper = BTreeMap::from([("lr".to_string(), Value::Float(0.1)), ("epochs".to_string(), Value::Int(5))]);
        Node {
            key: Key::of(b"ft"),
            op: "finetune".into(),
            version: 1,
            payload: Payload::Unlearn { hyper, export },
            inputs: vec![],
            coords: BTreeMap::from([("seed".to_string(), 0)]),
            paths: crate::plan::Paths::default(),
            label: "unlearn ft [seed=0]".into(),
            decl: "ft".into(),
            span: crate::span::Span::new(0, 0),
            source: 0,
        }
    }

    #[test]
    fn a_tuned_node_reaches_its_backend_with_the_best_values() {
        let dir = searched_dir(&[("lr", 0.02)]);
        let node = unlearn(Some(ExportMode::Reference));
        let input = Input { role: "search/0", node: &node, key: node.key, dir: dir.path() };
        let resolved = resolve(&node, &[input]).unwrap().expect("a tuned node is resolved");
        assert_eq!(
            resolved.payload.params().get("lr"),
            Some(&Value::Float(0.02)),
            "the searched field takes the best value"
        );
        assert_eq!(resolved.payload.params().get("epochs"), Some(&Value::Int(5)), "fixed fields stay");
        assert_eq!(resolved.key, node.key, "resolving changes what runs, not which node it is");
        let plain = unlearn(None);
        assert!(resolve(&plain, &[]).unwrap().is_none(), "an untuned node goes as it is");
    }
}
