//! Planning: an `Experiment` becomes a DAG of keyed nodes — one per (declaration, seed) plus
//! the internal nodes a declaration needs (data load, split, model initialisation, measurement).
//!
//! Keys are computed from upstream keys, so the plan knows every cache hit and miss before
//! anything runs. Two nodes with the same meaning are one node.

mod explain;
mod fingerprint;
mod graph;
mod key;
mod node;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use explain::{explain, Status, StatusKind};
pub(crate) use graph::{ancestors, to_dot};
pub(crate) use key::{describe, key_of};
pub use node::{Node, NodeId, NodeKind};

use crate::digest::Key;
use crate::lower::{Experiment, ModelRef, Search, Unlearn};
use crate::ops::{self, Category, Value};
use crate::span::Span;

/// Version of the engine-computed ops (`measure`, `evaluate`, `report`).
/// 2: measurements also store the per-sample losses.
const MEASURE_VERSION: u32 = 2;
const EVALUATE_VERSION: u32 = 2;
const REPORT_VERSION: u32 = 2;

/// The planned DAG. Invariant: every node's inputs have smaller ids (ids are a topological order).
#[derive(Debug)]
pub struct Plan {
    pub nodes: Vec<Node>,
    /// The canonical description each key hashes, by node id.
    pub(crate) descriptions: Vec<serde_json::Value>,
    /// Declaration name → its main nodes (one per seed, or one).
    pub decls: BTreeMap<String, Vec<NodeId>>,
    /// Report nodes, in declaration order: the default targets.
    pub reports: Vec<NodeId>,
    by_key: HashMap<Key, NodeId>,
}

impl Plan {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len()).map(NodeId)
    }

    pub(crate) fn by_key(&self, key: &Key) -> Option<NodeId> {
        self.by_key.get(key).copied()
    }

    /// The nodes a target name stands for: a declaration's nodes, or a node label.
    pub fn target(&self, name: &str) -> Option<Vec<NodeId>> {
        if let Some(ids) = self.decls.get(name) {
            return Some(ids.clone());
        }
        self.ids().find(|id| self.node(*id).label == name).map(|id| vec![id])
    }

    /// Default targets: every report, else every evaluation, else every declared node.
    pub fn default_targets(&self) -> Vec<NodeId> {
        if !self.reports.is_empty() {
            return self.reports.clone();
        }
        let evaluates: Vec<NodeId> = self.ids().filter(|id| self.node(*id).kind == NodeKind::Evaluate).collect();
        if !evaluates.is_empty() {
            return evaluates;
        }
        self.decls.values().flatten().copied().collect()
    }
}

/// Plans an experiment. `data_root` resolves relative dataset folders (`$MUNL_DATA`, else `data/`).
pub(crate) fn plan(exp: &Experiment, data_root: &Path) -> Plan {
    let mut b = Builder {
        plan: Plan {
            nodes: vec![],
            descriptions: vec![],
            decls: BTreeMap::new(),
            reports: vec![],
            by_key: HashMap::new(),
        },
    };
    let mut data = vec![];
    for ds in &exp.datasets {
        let mut params: BTreeMap<String, Value> =
            ds.source.args.iter().filter(|(k, _)| k.as_str() != "dir").map(|(k, v)| (k.clone(), v.clone())).collect();
        if let Some(limit) = ds.limit {
            params.insert("limit".into(), Value::Int(limit));
        }
        let mut env = BTreeMap::new();
        let location = ["dir", "path"].iter().find_map(|k| ds.source.args.get(*k).and_then(Value::as_str));
        params.remove("path");
        if let Some(location) = location {
            let at = data_root.join(location);
            // Official datasets are identified by their published checksums, checked on load;
            // user data by what its files hold.
            if matches!(ds.source.op.as_str(), "image_folder" | "utkface") {
                let content = fingerprint::fingerprint(&at).unwrap_or_else(|| "missing".into());
                params.insert("content".into(), Value::Str(content));
            }
            env.insert("dir".into(), at.display().to_string());
        }
        let version = op_version(Category::Source, &ds.source.op);
        let d = b.add(Spec {
            kind: NodeKind::Dataset,
            op: &ds.source.op,
            version,
            params,
            inputs: vec![],
            seed: None,
            env,
            label: format!("dataset {}", ds.name),
            decl: &ds.name,
            span: ds.span,
        });
        let s = b.add(Spec {
            kind: NodeKind::Split,
            op: &ds.split.op,
            version: op_version(Category::Split, &ds.split.op),
            params: ds.split.args.clone(),
            inputs: vec![("data".into(), d)],
            seed: None,
            env: BTreeMap::new(),
            label: format!("split {}", ds.name),
            decl: &ds.name,
            span: ds.span,
        });
        b.plan.decls.insert(ds.name.clone(), vec![d, s]);
        data.push((d, s));
    }

    let mut trains: Vec<Vec<NodeId>> = vec![];
    for (i, t) in exp.trains.iter().enumerate() {
        let ids: Vec<NodeId> = exp.seeds.iter().map(|&seed| train_at(&mut b, exp, &data, i, seed)).collect();
        b.plan.decls.insert(t.name.clone(), ids.clone());
        trains.push(ids);
    }

    let mut unlearns: Vec<Vec<NodeId>> = vec![];
    for u in &exp.unlearns {
        let (d, s) = data[exp.trains[u.from].dataset];
        let searches = u.search.as_ref().map(|search| search_nodes(&mut b, exp, &data, u, search)).unwrap_or_default();
        let ids: Vec<NodeId> = exp
            .seeds
            .iter()
            .enumerate()
            .map(|(i, &seed)| {
                let mut inputs = vec![("original".into(), trains[u.from][i]), ("data".into(), d), ("split".into(), s)];
                let mut params = u.params.clone();
                if let Some(search) = &u.search {
                    // The best trial's values replace the searched fields at run time; the
                    // searches' keys stand for them here.
                    inputs.extend(searches.iter().enumerate().map(|(k, id)| (format!("search/{k}"), *id)));
                    params.insert("export".into(), search.call.args["export"].clone());
                }
                b.add(Spec {
                    kind: NodeKind::Unlearn,
                    op: &u.method,
                    version: op_version(Category::Method, &u.method),
                    params,
                    inputs,
                    seed: Some(seed),
                    env: BTreeMap::new(),
                    label: format!("unlearn {} [seed={seed}]", u.name),
                    decl: &u.name,
                    span: u.span,
                })
            })
            .collect();
        b.plan.decls.insert(u.name.clone(), ids.clone());
        unlearns.push(ids);
    }

    let dataset_of = |m: ModelRef| match m {
        ModelRef::Train(i) => exp.trains[i].dataset,
        ModelRef::Unlearn(i) => exp.trains[exp.unlearns[i].from].dataset,
    };
    let mut evaluates = vec![];
    for e in &exp.evaluates {
        let mut rows: Vec<ModelRef> = e.models.clone();
        if let Some(r) = e.reference {
            if !rows.contains(&ModelRef::Train(r)) {
                rows.push(ModelRef::Train(r));
            }
        }
        let mut inputs = vec![];
        let mut env = BTreeMap::new();
        for (row, &m) in rows.iter().enumerate() {
            let (d, s) = data[dataset_of(m)];
            let ids = match m {
                ModelRef::Train(i) => &trains[i],
                ModelRef::Unlearn(i) => &unlearns[i],
            };
            let name = exp.model_name(m);
            env.insert(format!("row.{row}"), name.to_string());
            for (i, &seed) in exp.seeds.iter().enumerate() {
                let measure = b.add(Spec {
                    kind: NodeKind::Measure,
                    op: "measure",
                    version: MEASURE_VERSION,
                    params: BTreeMap::new(),
                    inputs: vec![("model".into(), ids[i]), ("data".into(), d), ("split".into(), s)],
                    seed: Some(seed),
                    env: BTreeMap::new(),
                    label: format!("measure {name} [seed={seed}]"),
                    decl: &e.name,
                    span: e.span,
                });
                inputs.push((format!("{row}/{seed}"), measure));
                if let (true, Some(r)) = (e.metrics.iter().any(|m| m == "distance"), e.reference) {
                    let distance = b.add(Spec {
                        kind: NodeKind::Measure,
                        op: "distance",
                        version: op_version(Category::Metric, "distance"),
                        params: BTreeMap::new(),
                        inputs: vec![("model".into(), ids[i]), ("reference".into(), trains[r][i])],
                        seed: Some(seed),
                        env: BTreeMap::new(),
                        label: format!("distance {name} [seed={seed}]"),
                        decl: &e.name,
                        span: e.span,
                    });
                    inputs.push((format!("{row}/{seed}/distance"), distance));
                }
            }
        }
        let mut params = BTreeMap::new();
        params.insert("metrics".into(), Value::List(e.metrics.iter().map(|m| Value::Str(m.clone())).collect()));
        params.insert("rows".into(), Value::Int(rows.len() as i64));
        params.insert("shown".into(), Value::Int(e.models.len() as i64));
        params.insert("seeds".into(), Value::List(exp.seeds.iter().map(|s| Value::Int(*s as i64)).collect()));
        if let Some(r) = e.reference {
            let row = rows.iter().position(|m| *m == ModelRef::Train(r)).expect("reference was added to rows");
            params.insert("reference".into(), Value::Int(row as i64));
        }
        let id = b.add(Spec {
            kind: NodeKind::Evaluate,
            op: "evaluate",
            version: EVALUATE_VERSION,
            params,
            inputs,
            seed: None,
            env,
            label: format!("evaluate {}", e.name),
            decl: &e.name,
            span: e.span,
        });
        b.plan.decls.insert(e.name.clone(), vec![id]);
        evaluates.push((id, rows));
    }

    for r in &exp.reports {
        let (table, rows) = &evaluates[r.evaluate];
        let e = &exp.evaluates[r.evaluate];
        let mut params = BTreeMap::new();
        // Row labels are shown in the report, so they are part of its meaning (and only of it:
        // renaming a declaration re-renders the report and re-runs nothing else).
        params.insert("rows".into(), Value::List(rows.iter().map(|m| Value::Str(exp.model_name(*m).into())).collect()));
        params.insert("title".into(), Value::Str(e.name.clone()));
        // Dataset (declaration name) and architecture (op name) of each row, for the long CSV.
        let train_of = |m: ModelRef| match m {
            ModelRef::Train(i) => i,
            ModelRef::Unlearn(i) => exp.unlearns[i].from,
        };
        let names = |f: &dyn Fn(ModelRef) -> String| Value::List(rows.iter().map(|m| Value::Str(f(*m))).collect());
        params.insert("datasets".into(), names(&|m| exp.datasets[dataset_of(m)].name.clone()));
        params.insert("archs".into(), names(&|m| exp.models[exp.trains[train_of(m)].model].arch.op.clone()));
        params.insert("formats".into(), Value::List(r.outputs.iter().map(|(f, _)| Value::Str(f.clone())).collect()));
        let env = r
            .outputs
            .iter()
            .map(|(format, path)| (format!("out.{format}"), exp.base_dir.join(path).display().to_string()))
            .collect();
        let id = b.add(Spec {
            kind: NodeKind::Report,
            op: "report",
            version: REPORT_VERSION,
            params,
            inputs: vec![("table".into(), *table)],
            seed: None,
            env,
            label: format!("report {}", r.name),
            decl: &r.name,
            span: r.span,
        });
        b.plan.decls.entry(format!("report {}", r.name)).or_default().push(id);
        if !b.plan.decls.contains_key(&r.name) {
            b.plan.decls.insert(r.name.clone(), vec![id]);
        }
        b.plan.reports.push(id);
    }
    b.plan
}

/// The `train` node of `exp.trains[t]` at `seed`, with its seeded initialisation.
fn train_at(b: &mut Builder, exp: &Experiment, data: &[(NodeId, NodeId)], t: usize, seed: u64) -> NodeId {
    let t = &exp.trains[t];
    let (d, s) = data[t.dataset];
    let ds = &exp.datasets[t.dataset];
    let model = &exp.models[t.model];
    let mut init_params = model.arch.args.clone();
    init_params.insert("classes".into(), Value::Int(ds.classes));
    let init = b.add(Spec {
        kind: NodeKind::Init,
        op: &model.arch.op,
        version: op_version(Category::Arch, &model.arch.op),
        params: init_params,
        inputs: vec![],
        seed: Some(seed),
        env: BTreeMap::new(),
        label: format!("init {} ({} classes) [seed={seed}]", model.name, ds.classes),
        decl: &model.name,
        span: model.span,
    });
    let inits = b.plan.decls.entry(model.name.clone()).or_default();
    if !inits.contains(&init) {
        inits.push(init);
    }
    let mut params = t.params.clone();
    params.insert("subset".into(), Value::Str(t.subset.clone()));
    b.add(Spec {
        kind: NodeKind::Train,
        op: "train",
        version: op_version(Category::Train, "train"),
        params,
        inputs: vec![("init".into(), init), ("data".into(), d), ("split".into(), s)],
        seed: Some(seed),
        env: BTreeMap::new(),
        label: format!("train {} [seed={seed}]", t.name),
        decl: &t.name,
        span: t.span,
    })
}

/// One `search` node per searched seed of a tuned `unlearn`: the method's fixed values, the
/// searched space, the sampler settings, and the Original and Retrain models of that seed.
fn search_nodes(
    b: &mut Builder,
    exp: &Experiment,
    data: &[(NodeId, NodeId)],
    u: &Unlearn,
    search: &Search,
) -> Vec<NodeId> {
    let (d, s) = data[exp.trains[u.from].dataset];
    let seeds: Vec<u64> = match search.call.args.get("seeds") {
        Some(Value::List(items)) => items.iter().filter_map(Value::as_i64).map(|s| s as u64).collect(),
        _ => vec![0, 1, 2],
    };
    let ds = &exp.datasets[exp.trains[u.from].dataset];
    seeds
        .into_iter()
        .map(|seed| {
            let original = train_at(b, exp, data, u.from, seed);
            let reference = train_at(b, exp, data, search.reference, seed);
            let mut params: BTreeMap<String, Value> = u
                .params
                .iter()
                .filter(|(k, _)| !search.space.iter().any(|(n, _)| n == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            params.insert("space".into(), Value::List(search.space.iter().map(|(n, d)| d.to_value(n)).collect()));
            for key in ["trials", "sampler"] {
                params.insert(key.into(), search.call.args[key].clone());
            }
            // unlearners.md §1: UTKFace trials with a batch size above 128 are pruned.
            if ds.source.op == "utkface" {
                params.insert("prune_batch_above".into(), Value::Int(128));
            }
            b.add(Spec {
                kind: NodeKind::Search,
                op: &u.method,
                version: op_version(Category::Method, &u.method),
                params,
                inputs: vec![
                    ("original".into(), original),
                    ("reference".into(), reference),
                    ("data".into(), d),
                    ("split".into(), s),
                ],
                seed: Some(seed),
                env: BTreeMap::new(),
                label: format!("search {} [seed={seed}]", u.name),
                decl: &u.name,
                span: u.span,
            })
        })
        .collect()
}

fn op_version(category: Category, name: &str) -> u32 {
    ops::find(category, name).map_or(1, |op| op.version)
}

/// The arguments of one node, before keying.
struct Spec<'a> {
    kind: NodeKind,
    op: &'a str,
    version: u32,
    params: BTreeMap<String, Value>,
    inputs: Vec<(String, NodeId)>,
    seed: Option<u64>,
    env: BTreeMap<String, String>,
    label: String,
    decl: &'a str,
    span: Span,
}

struct Builder {
    plan: Plan,
}

impl Builder {
    /// Adds a node, or returns the existing node with the same key.
    fn add(&mut self, s: Spec<'_>) -> NodeId {
        let input_keys: Vec<(String, Key)> =
            s.inputs.iter().map(|(role, id)| (role.clone(), self.plan.nodes[id.0].key)).collect();
        let description = key::describe(s.kind, s.op, s.version, &s.params, &input_keys, s.seed);
        let key = key::key_of(&description);
        if let Some(id) = self.plan.by_key.get(&key) {
            return *id;
        }
        let id = NodeId(self.plan.nodes.len());
        self.plan.nodes.push(Node {
            key,
            kind: s.kind,
            op: s.op.to_string(),
            version: s.version,
            params: s.params,
            inputs: s.inputs,
            seed: s.seed,
            env: s.env,
            label: s.label,
            decl: s.decl.to_string(),
            span: s.span,
        });
        self.plan.descriptions.push(description);
        self.plan.by_key.insert(key, id);
        id
    }
}
