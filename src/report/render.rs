//! The `report` node: reads the evaluation's table (or, for an evaluation grouped by
//! dimensions, one table per group; for a report across settings, one per setting) and the typed
//! report payload, renders every format into the node's cache entry, and copies the requested
//! ones to the paths the `.munl` file names. Each format's rendering lives in its own file; this
//! one only picks which.

use std::path::{Path, PathBuf};

use super::markdown::DETAILS;
use super::present::{Group, Labels, Setting};
use super::{csv, html, json, latex, markdown, plot};
use crate::artifact::file;
use crate::artifact::table::Table;
use crate::artifact::NodeFailure;
use crate::backend::Job;
use crate::ops::Format;
use crate::plan::{Payload, ReportSpec, RowLabel};

/// The plot as PNG, beside its SVG, when a report asks for a `.png` path.
const PNG: &str = "report.png";

/// Which renderer writes which format (with [`across`], the places a new format is wired in).
/// An ungrouped report is one group without coordinates.
fn rendering(format: Format, groups: &[Group], l: &Labels) -> Result<String, NodeFailure> {
    if let [Group { coords, table: t }] = groups {
        if coords.is_empty() {
            return Ok(match format {
                Format::Markdown => markdown::markdown(t, l),
                Format::Csv => csv::csv(t, l),
                Format::Json => json::text(t, l)?,
                Format::Latex => latex::latex(t, l),
                Format::Plot => plot::svg(t, l),
                Format::Html => html::html(t, l),
            });
        }
    }
    Ok(match format {
        Format::Markdown => markdown::grouped(groups, l),
        Format::Csv => csv::grouped(groups, l),
        Format::Json => json::grouped_text(groups, l)?,
        Format::Latex => latex::grouped(groups, l),
        Format::Plot => plot::grouped(groups, l),
        Format::Html => html::grouped(groups, l),
    })
}

/// A report across settings, by the renderer of each format.
fn across(format: Format, title: &str, settings: &[Setting]) -> Result<String, NodeFailure> {
    Ok(match format {
        Format::Markdown => markdown::across(title, settings),
        Format::Csv => csv::across(settings),
        Format::Json => json::across_text(title, settings)?,
        Format::Latex => latex::across(title, settings),
        Format::Plot => plot::across(title, settings),
        Format::Html => html::across(title, settings),
    })
}

/// What a report renders: one evaluation's table or tables (one per group) with the names of
/// its rows, or the settings of a report across settings, each naming its own rows.
enum Content {
    Groups(Vec<Group>, Labels),
    Settings(Vec<Setting>),
}

impl Content {
    /// The report's content as the payload describes it, with its tables read from the inputs.
    fn read(job: &Job<'_>, spec: &ReportSpec) -> Result<Content, NodeFailure> {
        if spec.settings.is_empty() {
            Ok(Content::Groups(groups(job, spec)?, labels(&spec.title, &spec.rows)))
        } else {
            settings(job, spec).map(Content::Settings)
        }
    }

    /// One format's rendering.
    fn render(&self, format: Format, title: &str) -> Result<String, NodeFailure> {
        match self {
            Content::Groups(groups, l) => rendering(format, groups, l),
            Content::Settings(settings) => across(format, title, settings),
        }
    }
}

/// The names of a table's rows.
fn labels(title: &str, rows: &[RowLabel]) -> Labels {
    Labels {
        title: title.to_string(),
        methods: rows.iter().map(|r| r.name.clone()).collect(),
        datasets: rows.iter().map(|r| r.dataset.clone()).collect(),
        models: rows.iter().map(|r| r.arch.clone()).collect(),
    }
}

/// The table of the input `role`.
fn read_table(job: &Job<'_>, role: &str) -> Result<Table, NodeFailure> {
    let input = job.input(role).ok_or_else(|| NodeFailure::new(format!("missing {role}")))?;
    crate::artifact::read_json::<Table>(&input.dir.join(file::TABLE))
}

/// The settings of a report across settings: one per input `table/0`, `table/1`, … and no other
/// table input.
fn settings(job: &Job<'_>, spec: &ReportSpec) -> Result<Vec<Setting>, NodeFailure> {
    let tables = job.inputs.iter().filter(|i| i.role == "table" || i.role.starts_with("table/")).count();
    if tables > spec.settings.len() {
        return Err(NodeFailure::new(format!(
            "`{}` has {tables} tables for {} settings",
            job.node.label,
            spec.settings.len()
        )));
    }
    spec.settings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(Setting {
                evaluation: s.evaluation.clone(),
                coords: s.coords.clone(),
                labels: labels(&s.evaluation, &s.rows),
                table: read_table(job, &format!("table/{i}"))?,
            })
        })
        .collect()
}

/// The report's tables: the input `table` of an ungrouped report, else `table/0`, `table/1`, …
/// with the coordinates of each group.
fn groups(job: &Job<'_>, spec: &ReportSpec) -> Result<Vec<Group>, NodeFailure> {
    if spec.groups.is_empty() {
        return Ok(vec![Group { coords: vec![], table: read_table(job, "table")? }]);
    }
    let dims = |g: &[(String, String)]| g.iter().map(|(d, _)| d.clone()).collect::<Vec<_>>();
    if spec.groups.iter().any(|g| g.is_empty() || dims(g) != dims(&spec.groups[0])) {
        return Err(NodeFailure::new(format!("the groups of `{}` do not share their dimensions", job.node.label)));
    }
    spec.groups
        .iter()
        .enumerate()
        .map(|(i, coords)| Ok(Group { coords: coords.clone(), table: read_table(job, &format!("table/{i}"))? }))
        .collect()
}

/// Renders every format into the node's folder (Markdown always: the CLI prints it).
pub(crate) fn render(job: &Job<'_>) -> Result<(), NodeFailure> {
    let Payload::Report(spec) = &job.node.payload else {
        return Err(NodeFailure::new(format!("`{}` is not a report", job.node.label)));
    };
    let content = Content::read(job, spec)?;
    let write = |name: &str, bytes: &[u8]| {
        let p = job.out.join(name);
        std::fs::write(&p, bytes).map_err(|e| NodeFailure::io(format!("cannot write {}: {e}", p.display())))
    };
    for format in Format::ALL {
        let text = content.render(format, &spec.title)?;
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

/// What copying a report's files to their paths did.
#[derive(Debug, Default)]
pub(crate) struct Materialised {
    /// Files written (those already up to date are not).
    pub(crate) written: Vec<PathBuf>,
    /// Files that could not be written, with why. The others are written regardless.
    pub(crate) failed: Vec<(PathBuf, std::io::Error)>,
}

/// Copies the rendered files of a committed report node to its output paths, each atomically
/// (a temporary file beside the target, renamed over it, removed if anything fails) and only
/// when the content differs.
pub(crate) fn materialise(node: &crate::plan::Node, entry: &Path) -> Materialised {
    let mut done = Materialised::default();
    for (format, target) in &node.paths.outputs {
        match write_one(*format, target, entry) {
            Ok(true) => done.written.push(target.clone()),
            Ok(false) => {}
            Err(e) => done.failed.push((target.clone(), e)),
        }
    }
    done
}

/// Writes one output; `false` when it was already up to date.
fn write_one(format: Format, target: &Path, entry: &Path) -> std::io::Result<bool> {
    let png = format == Format::Plot && target.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
    let content = std::fs::read(entry.join(if png { PNG } else { format.file() }))?;
    if std::fs::read(target).is_ok_and(|old| old == content) {
        return Ok(false);
    }
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file"));
    };
    std::fs::create_dir_all(parent)?;
    // Beside the target, so the rename is atomic and nothing lands outside its folder.
    let tmp = parent.join(format!(".{}.munl-tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = std::fs::write(&tmp, &content).and_then(|()| std::fs::rename(&tmp, target));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| true)
}
