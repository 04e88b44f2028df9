//! The plan as a petgraph graph: demand (which nodes a target needs) and Graphviz output.

use petgraph::graph::{DiGraph, NodeIndex};

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

/// The nodes a run of `targets` visits, in id order, each with what `lookup` found for it:
/// walking down from the targets and stopping at every node `lookup` finds (a cache hit), whose
/// own inputs a run never looks at. `exec::execute` and `munl plan` both walk this way, so what
/// the plan says will run is what runs.
pub(crate) fn demand<T>(
    plan: &Plan,
    targets: &[NodeId],
    mut lookup: impl FnMut(NodeId) -> Option<T>,
) -> Vec<(NodeId, Option<T>)> {
    let mut found: Vec<Option<Option<T>>> = (0..plan.nodes.len()).map(|_| None).collect();
    let mut stack: Vec<NodeId> = targets.to_vec();
    while let Some(id) = stack.pop() {
        if found[id.0].is_some() {
            continue;
        }
        let hit = lookup(id);
        if hit.is_none() {
            stack.extend(plan.nodes[id.0].inputs.iter().map(|(_, input)| *input));
        }
        found[id.0] = Some(hit);
    }
    found.into_iter().enumerate().filter_map(|(i, f)| f.map(|hit| (NodeId(i), hit))).collect()
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
