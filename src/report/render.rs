//! The `report` node: reads the evaluation's table and the typed report payload, renders every
//! format into the node's cache entry, and copies the requested ones to the paths the `.munl`
//! file names. Each format's rendering lives in its own file; this one only picks which.

use std::path::{Path, PathBuf};

use super::markdown::DETAILS;
use super::present::Labels;
use super::{csv, json, latex, markdown, plot};
use crate::artifact::file;
use crate::artifact::table::Table;
use crate::artifact::NodeFailure;
use crate::backend::Job;
use crate::ops::Format;
use crate::plan::Payload;

/// The plot as PNG, beside its SVG, when a report asks for a `.png` path.
const PNG: &str = "report.png";

/// Which renderer writes which format: the one place a new format is wired in.
fn rendering(format: Format, t: &Table, l: &Labels) -> Result<String, NodeFailure> {
    Ok(match format {
        Format::Markdown => markdown::markdown(t, l),
        Format::Csv => csv::csv(t, l),
        Format::Json => json::text(t, l)?,
        Format::Latex => latex::latex(t, l),
        Format::Plot => plot::svg(t, l),
    })
}

/// Renders every format into the node's folder (Markdown always: the CLI prints it).
pub(crate) fn render(job: &Job<'_>) -> Result<(), NodeFailure> {
    let Payload::Report(spec) = &job.node.payload else {
        return Err(NodeFailure::new(format!("`{}` is not a report", job.node.label)));
    };
    let input = job.input("table").ok_or_else(|| NodeFailure::new("missing table"))?;
    let table: Table = crate::artifact::read_json(&input.dir.join(file::TABLE))?;
    let labels = Labels {
        title: spec.title.clone(),
        methods: spec.rows.iter().map(|r| r.name.clone()).collect(),
        datasets: spec.rows.iter().map(|r| r.dataset.clone()).collect(),
        models: spec.rows.iter().map(|r| r.arch.clone()).collect(),
    };
    let write = |name: &str, content: &[u8]| {
        let p = job.out.join(name);
        std::fs::write(&p, content).map_err(|e| NodeFailure::io(format!("cannot write {}: {e}", p.display())))
    };
    for format in Format::ALL {
        let text = rendering(format, &table, &labels)?;
        // The PNG is rasterised from the SVG, and only for a report with a plot path.
        if format == Format::Plot && spec.formats.contains(&format) {
            write(PNG, &plot::png(&text)?)?;
        }
        write(format.file(), text.as_bytes())?;
    }
    Ok(())
}

/// The summary tables of a committed report, for printing at the end of a run.
pub(crate) fn summary_markdown(entry: &Path) -> Option<String> {
    let text = std::fs::read_to_string(entry.join(Format::Markdown.file())).ok()?;
    Some(text.split(DETAILS).next().unwrap_or(&text).trim_end().to_string() + "\n")
}

/// Copies the rendered files of a committed report node to its output paths (atomically, and
/// only when the content differs). Returns the paths written.
pub(crate) fn materialise(node: &crate::plan::Node, entry: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = vec![];
    for (format, target) in &node.paths.outputs {
        let png = *format == Format::Plot && target.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
        let content = std::fs::read(entry.join(if png { PNG } else { format.file() }))?;
        if std::fs::read(target).is_ok_and(|old| old == content) {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = target.with_extension(format!("munl-tmp-{}", std::process::id()));
        std::fs::write(&tmp, &content)?;
        std::fs::rename(&tmp, target)?;
        written.push(target.clone());
    }
    Ok(written)
}
