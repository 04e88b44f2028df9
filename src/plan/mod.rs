//! Planning: an `Experiment` becomes a DAG of keyed nodes — one per (declaration, coordinates)
//! plus the internal nodes a declaration needs (data load, split, model initialisation,
//! measurement).
//!
//! Keys are computed from upstream keys, so the plan knows every cache hit and miss before
//! anything runs. Two nodes with the same meaning are one node. `build/` adds the nodes of each
//! kind of declaration.

mod build;
mod estimate;
mod explain;
mod fingerprint;
mod graph;
mod key;
mod node;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub(crate) use estimate::{duration, Estimator};
pub use explain::{explain, Status, StatusKind};
#[cfg(feature = "torch")]
pub(crate) use fingerprint::csv_fields;
pub(crate) use graph::{demand, to_dot};
pub(crate) use key::Description;
pub(crate) use node::{
    Coords, EvaluateSpec, Params, Paths, Payload, ReportSpec, RowLabel, RowModel, SearchSpec, SettingLabel,
};
pub use node::{Node, NodeId, NodeKind};

use crate::digest::Key;
use crate::lower::Experiment;

/// The planned DAG. Invariant: every node's inputs have smaller ids (ids are a topological order).
#[derive(Debug)]
pub struct Plan {
    pub(crate) nodes: Vec<Node>,
    /// What each key hashes, by node id.
    pub(crate) descriptions: Vec<Description>,
    /// Declaration name → its main nodes (one per seed, or one).
    pub(crate) decls: BTreeMap<String, Vec<NodeId>>,
    /// Report nodes, in declaration order: the default targets.
    pub(crate) reports: Vec<NodeId>,
    by_key: HashMap<Key, NodeId>,
}

impl Plan {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len()).map(NodeId)
    }

    /// A node's parameters as its key sees them: the op's fields and the engine's settings in
    /// one flat map (what `munl show` prints and `munl plan` compares).
    pub fn params(&self, id: NodeId) -> &std::collections::BTreeMap<String, crate::ops::Value> {
        &self.descriptions[id.0].params
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
        let evaluates: Vec<NodeId> = self.ids().filter(|id| self.node(*id).kind() == NodeKind::Evaluate).collect();
        if !evaluates.is_empty() {
            return evaluates;
        }
        self.decls.values().flatten().copied().collect()
    }
}

/// Plans an experiment. `data_root` resolves relative dataset folders (`$MUNL_DATA`, else `data/`).
pub(crate) fn plan(exp: &Experiment, data_root: &Path) -> Plan {
    let mut b = build::Builder::new();
    planned(&mut b, exp, data_root, "");
    b.finish()
}

/// Adds the nodes of `exp` (its imports' first, their names prefixed `alias.`) and returns its
/// evaluations' tables. Only the file compiled (`prefix` empty) adds its reports: an imported
/// file's reports, with their own output paths, are written when that file is run.
fn planned(b: &mut build::Builder, exp: &Experiment, data_root: &Path, prefix: &str) -> build::Tables {
    let imported: Vec<build::Tables> =
        exp.imports.iter().map(|i| planned(b, &i.experiment, data_root, &format!("{prefix}{}.", i.alias))).collect();
    b.scope(exp.source, prefix);
    let data = build::datasets(b, exp, data_root);
    let trains = build::trains(b, exp, &data);
    let unlearns = build::unlearns(b, exp, &data, &trains);
    let evaluates = build::evaluates(b, exp, &data, &trains, &unlearns);
    if prefix.is_empty() {
        build::reports(b, exp, &evaluates, &imported);
    }
    evaluates
}
