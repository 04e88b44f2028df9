//! Tables out of measurements: the `evaluate` node (numbers per model and seed, derived metrics,
//! aggregates over seeds) and the `report` node (Markdown, CSV, JSON, LaTeX, plot and HTML
//! renderings).
//!
//! Both are computed by [`Tables`], a backend like any other: they read JSON and write files,
//! without libtorch, in the `munl` process itself.
//!
//! - `evaluate.rs`, `derived.rs`: the `evaluate` node and its derived metrics and ranking.
//! - `render.rs`: the `report` node; reads its table, or one per group of an evaluation grouped
//!   by dimensions, or one per setting of a report across settings; the matches of a `Format`
//!   to its renderer, and copying the rendered files to their paths.
//! - `markdown.rs`, `csv.rs`, `json.rs`, `latex.rs`, `plot.rs`, `html.rs`: one format each, from
//!   the table and its labels.
//! - `across.rs`: a report across settings analysed (each method's ranks, mean rank, range, top
//!   group), for the formats to render.
//! - `present.rs`: what the formats share (row labels, groups, settings, column headers, number
//!   cells); it imports none of them.
//! - `diff.rs`: two reports' tables (or cached evaluations) and two plans compared, for `munl diff`.

mod across;
mod csv;
mod derived;
mod diff;
mod evaluate;
mod html;
mod json;
mod latex;
mod markdown;
mod plot;
mod present;
mod render;

pub(crate) use diff::{
    compact, compare, compare_nodes, compare_sheets, sheets, table_sheet, Family, NodeFacts, NodesDiff, Sheet, Status,
    TableDiff, REPORT_SCHEMA, SCHEMA as DIFF_SCHEMA, SIGNIFICANT,
};
pub(crate) use render::{materialise, summary_markdown};

use crate::artifact::NodeFailure;
use crate::backend::{Backend, Job};
use crate::plan::NodeKind;

/// The backend of `evaluate` and `report` nodes.
pub struct Tables;

impl Backend for Tables {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        match job.node.kind() {
            NodeKind::Evaluate => evaluate::evaluate(job),
            NodeKind::Report => render::render(job),
            other => Err(NodeFailure::new(format!("the table backend does not compute `{}` nodes", other.as_str()))),
        }
    }
}

#[cfg(test)]
mod tests;
