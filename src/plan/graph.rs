//! The plan as a petgraph graph: demand (which nodes a target needs) and Graphviz output.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use super::{NodeId, NodeKind, Plan, Status, StatusKind};

/// Edges point from an input to the node that consumes it, weighted by the input's role (a node
/// that is two inputs of another, the reference measured against itself, is two edges); node
/// index i is `NodeId(i)`.
fn graph(plan: &Plan) -> DiGraph<(), &str> {
    let mut g = DiGraph::with_capacity(plan.nodes.len(), plan.nodes.len() * 3);
    for _ in &plan.nodes {
        g.add_node(());
    }
    for (i, node) in plan.nodes.iter().enumerate() {
        for (role, input) in &node.inputs {
            g.add_edge(NodeIndex::new(input.0), NodeIndex::new(i), role.as_str());
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

/// How each kind of node is drawn: its Graphviz shape and fill colour.
const KINDS: [(NodeKind, &str, &str); 9] = [
    (NodeKind::Dataset, "cylinder", "#dbe9f6"),
    (NodeKind::Split, "folder", "#dbe9f6"),
    (NodeKind::Init, "box", "#f2f2f2"),
    (NodeKind::Train, "box", "#d9f0d3"),
    (NodeKind::Unlearn, "box", "#fde0c5"),
    (NodeKind::Search, "diamond", "#fde0c5"),
    (NodeKind::Measure, "ellipse", "#ffffff"),
    (NodeKind::Evaluate, "note", "#e8e0f3"),
    (NodeKind::Report, "note", "#fff5c2"),
];

/// The border of a node by status: to run red and bold, cached green.
const RUN: &str = "color=\"#b03030\", penwidth=2.5";
const CACHED: &str = "color=\"#308030\"";

fn shape(kind: NodeKind) -> (&'static str, &'static str) {
    KINDS.iter().find(|(k, ..)| *k == kind).map_or(("box", "#ffffff"), |(_, s, c)| (s, c))
}

/// Graphviz DOT of the whole plan, with a legend of the node kinds (and, with statuses, of the
/// borders: to run bold red, cached green). Edges are labelled with the input's role in words.
pub(crate) fn to_dot(plan: &Plan, statuses: Option<&[Status]>) -> String {
    let mut out = String::from(
        "digraph munl {\n  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"monospace\"];\n  edge [fontname=\"monospace\", fontsize=10];\n",
    );
    for (i, node) in plan.nodes.iter().enumerate() {
        let status = match statuses.map(|s| s[i].kind) {
            Some(StatusKind::Run) => format!(", {RUN}"),
            Some(StatusKind::Cached) => format!(", {CACHED}"),
            None => String::new(),
        };
        let (shape, fill) = shape(node.kind());
        out.push_str(&format!(
            "  n{i} [label=\"{}\\n{} {}\", shape={shape}, fillcolor=\"{fill}\"{status}];\n",
            escape(&node.label),
            node.op,
            node.key.short()
        ));
    }
    for e in graph(plan).edge_references() {
        let (from, to) = (e.source().index(), e.target().index());
        let label = edge_label(e.weight(), &plan.nodes[from].label);
        out.push_str(&format!("  n{from} -> n{to} [label=\"{}\"];\n", escape(&label)));
    }
    out.push_str(&legend(plan, statuses.is_some()));
    out.push_str("}\n");
    out
}

/// The legend: a box per kind of node the plan has, and with statuses the two borders.
fn legend(plan: &Plan, statuses: bool) -> String {
    let mut out = String::from("  subgraph cluster_legend {\n    label=\"legend\";\n    fontname=\"monospace\";\n");
    for (kind, shape, fill) in KINDS.iter().filter(|(k, ..)| plan.nodes.iter().any(|n| n.kind() == *k)) {
        out.push_str(&format!("    legend_{0} [label=\"{0}\", shape={shape}, fillcolor=\"{fill}\"];\n", kind.as_str()));
    }
    if statuses {
        out.push_str(&format!("    legend_run [label=\"will run\", fillcolor=\"#ffffff\", {RUN}];\n"));
        out.push_str(&format!("    legend_cached [label=\"cached\", fillcolor=\"#ffffff\", {CACHED}];\n"));
    }
    out.push_str("  }\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// An edge's label: the input's role (`model`, `data`, `split`, `reference`); for the inputs of
/// tables and attacks, whose roles number rows and runs (`2/1/distance`), what the input is in
/// words, taken from its label: `ft seed 1 distance`.
fn edge_label(role: &str, source: &str) -> String {
    let numbered = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !role.split('/').any(|s| numbered(&s)) {
        return role.to_string();
    }
    // `measure ft [seed=1]` is `ft seed 1`.
    let subject = source.split_once(' ').map_or(source, |(_, rest)| rest);
    let subject = subject.replace(['[', ']'], "").replace('=', " ");
    let words: Vec<&str> = role.split('/').filter(|s| !numbered(s)).collect();
    let mut label = subject.trim().to_string();
    for w in words {
        label.push(' ');
        label.push_str(w);
    }
    label
}

#[cfg(test)]
mod tests {
    use super::edge_label;

    #[test]
    fn numbered_roles_are_named_from_their_input() {
        assert_eq!(edge_label("model", "train original [seed=0]"), "model");
        assert_eq!(edge_label("2/1/distance", "distance ft [seed=1]"), "ft seed 1 distance");
        assert_eq!(edge_label("0/1", "measure original [seed=1]"), "original seed 1");
        assert_eq!(edge_label("3/search/0", "search ft [seed=0]"), "ft seed 0 search");
        assert_eq!(edge_label("table/1", "evaluate bench [lr=0.1]"), "bench lr 0.1 table");
    }
}
