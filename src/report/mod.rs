//! Tables out of measurements: the `evaluate` node (numbers per model and seed, derived metrics,
//! aggregates over seeds) and the `report` node (Markdown, CSV and JSON renderings).
//!
//! Both are computed by the engine itself, without a backend: they read JSON, write files.

mod derived;
mod evaluate;
mod latex;
mod plot;
mod render;
mod table;

pub(crate) use evaluate::evaluate;
pub(crate) use render::{materialise, render, summary_markdown};

#[cfg(test)]
mod tests;
