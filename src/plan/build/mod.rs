//! Adding nodes to a plan: [`Builder`] keys each node and merges equal ones; one file per kind
//! of declaration says which nodes it becomes.

mod datasets;
mod point;
mod tables;
mod trains;
mod unlearns;

use std::collections::{BTreeMap, HashMap};

pub(super) use datasets::datasets;
pub(super) use point::{Point, Points};
pub(super) use tables::{evaluates, reports, Tables};
pub(super) use trains::{train_at, trains};
pub(super) use unlearns::unlearns;

use super::{Coords, Description, Node, NodeId, Paths, Payload, Plan};
use crate::span::Span;

/// The dataset and split node of each dataset declaration, by declaration index, at each point
/// of the dimensions its split varies along.
pub(super) type Data = Vec<Points<(NodeId, NodeId)>>;

/// One node before keying.
pub(super) struct Spec<'a> {
    pub(super) op: &'a str,
    pub(super) version: u32,
    pub(super) payload: Payload,
    pub(super) inputs: Vec<(String, NodeId)>,
    pub(super) coords: Coords,
    pub(super) paths: Paths,
    pub(super) label: String,
    pub(super) decl: &'a str,
    pub(super) span: Span,
}

/// The coordinates a node's key holds: its model seed, if it has one. A node's other
/// coordinates reach its key only through what they change (its fields, its inputs).
pub(super) fn keyed(point: &Point) -> Coords {
    point.seed().map(|seed| Coords::from([("seed".to_string(), seed)])).unwrap_or_default()
}

/// A plan under construction.
pub(super) struct Builder {
    plan: Plan,
    /// The file whose declarations are being added: its index among the compiled sources, and
    /// the prefix its names take in the plan (`mr.` for `import "…" as mr`, empty for the file
    /// compiled).
    source: usize,
    prefix: String,
}

impl Builder {
    pub(super) fn new() -> Builder {
        Builder {
            plan: Plan {
                nodes: vec![],
                descriptions: vec![],
                decls: BTreeMap::new(),
                reports: vec![],
                by_key: HashMap::new(),
            },
            source: 0,
            prefix: String::new(),
        }
    }

    /// From now on, nodes come from source `source`, their names prefixed with `prefix`.
    pub(super) fn scope(&mut self, source: usize, prefix: &str) {
        self.source = source;
        self.prefix = prefix.to_string();
    }

    /// A name of the current file as the plan shows it: `mr.original` for an imported file.
    pub(super) fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub(super) fn finish(self) -> Plan {
        self.plan
    }

    /// Adds a node, or returns the existing node with the same key.
    pub(super) fn add(&mut self, s: Spec<'_>) -> NodeId {
        let input_keys = s.inputs.iter().map(|(role, id)| (role.clone(), self.plan.nodes[id.0].key)).collect();
        let description = Description::new(s.op, s.version, &s.payload, input_keys, s.coords.clone());
        let key = description.key();
        if let Some(id) = self.plan.by_key.get(&key) {
            return *id;
        }
        let id = NodeId(self.plan.nodes.len());
        self.plan.nodes.push(Node {
            key,
            op: s.op.to_string(),
            version: s.version,
            payload: s.payload,
            inputs: s.inputs,
            coords: s.coords,
            paths: s.paths,
            // Every label is `<kind> <declaration> …`: an imported declaration's name gets its
            // file's prefix (`train mr.original [seed=0]`).
            label: match s.label.split_once(' ') {
                Some((kind, rest)) if !self.prefix.is_empty() => format!("{kind} {}{rest}", self.prefix),
                _ => s.label,
            },
            decl: self.name(s.decl),
            span: s.span,
            source: self.source,
        });
        self.plan.descriptions.push(description);
        self.plan.by_key.insert(key, id);
        id
    }

    /// A node added before.
    pub(super) fn node(&self, id: NodeId) -> &Node {
        &self.plan.nodes[id.0]
    }

    /// Records the main nodes of a declaration (a target name).
    pub(super) fn declare(&mut self, name: &str, ids: Vec<NodeId>) {
        self.plan.decls.insert(self.name(name), ids);
    }

    /// Adds `id` to the nodes of a declaration, once.
    pub(super) fn declare_also(&mut self, name: &str, id: NodeId) {
        let ids = self.plan.decls.entry(self.name(name)).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    pub(super) fn is_declared(&self, name: &str) -> bool {
        self.plan.decls.contains_key(&self.name(name))
    }

    pub(super) fn add_report(&mut self, id: NodeId) {
        self.plan.reports.push(id);
    }
}
