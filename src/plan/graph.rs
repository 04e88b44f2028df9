//! The plan as a petgraph graph: demand (which nodes a target needs) and Graphviz output.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Reversed};

use super::{NodeId, Plan, Status, StatusKind};

/// Edges point from an input to the node that consumes it; node index i is `NodeId(i)`.
fn graph(plan: &Plan) -> DiGraph<(), ()> {
    let mut g = DiGraph::with_capacity(plan.nodes.len(), plan.nodes.len() * 3);
    for _ in &plan.nodes {
        g.add_node(());
    }
    for (i, node) in plan.nodes.iter().enumerate() {
        for (_, input) in &node.inputs {
            g.add_edge(NodeIndex::new(input.0), NodeIndex::new(i), ());
        }
    }
    g
}

/// Every node the targets need (themselves included), in topological order.
pub(crate) fn ancestors(plan: &Plan, targets: &[NodeId]) -> Vec<NodeId> {
    let g = graph(plan);
    let reversed = Reversed(&g);
    let mut needed = vec![false; plan.nodes.len()];
    for t in targets {
        let mut dfs = Dfs::new(reversed, NodeIndex::new(t.0));
        while let Some(n) = dfs.next(reversed) {
            needed[n.index()] = true;
        }
    }
    // Ids are a topological order by construction (inputs are added first).
    (0..plan.nodes.len()).filter(|i| needed[*i]).map(NodeId).collect()
}

/// Graphviz DOT of the whole plan; with statuses, nodes to run are drawn bold.
pub(crate) fn to_dot(plan: &Plan, statuses: Option<&[Status]>) -> String {
    let g = graph(plan);
    let mut out = String::from("digraph munl {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
    for (i, node) in plan.nodes.iter().enumerate() {
        let style = match statuses.map(|s| s[i].kind) {
            Some(StatusKind::Run) => ", style=bold, color=\"#b03030\"",
            Some(StatusKind::Cached) => ", color=\"#308030\"",
            None => "",
        };
        out.push_str(&format!(
            "  n{i} [label=\"{}\\n{} {}\"{style}];\n",
            node.label.replace('"', "\\\""),
            node.op,
            node.key.short()
        ));
    }
    for e in g.raw_edges() {
        let role = &plan.nodes[e.target().index()]
            .inputs
            .iter()
            .find(|(_, id)| id.0 == e.source().index())
            .map_or("", |(r, _)| r.as_str());
        out.push_str(&format!("  n{} -> n{} [label=\"{role}\"];\n", e.source().index(), e.target().index()));
    }
    out.push_str("}\n");
    out
}
