//! The `report` node: Markdown, CSV and JSON renderings of one evaluation's table, and copying
//! them to the paths the `.munl` file names.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::exec::{Job, NodeFailure};
use crate::ops::Value;

use super::table::{Table, COLUMNS};

/// File name of each format inside the report's cache entry.
fn file_of(format: &str) -> &'static str {
    match format {
        "markdown" => "report.md",
        "csv" => "report.csv",
        _ => "report.json",
    }
}

/// Renders every requested format into the node's folder (Markdown always: the CLI prints it).
pub(crate) fn render(job: &Job<'_>) -> Result<(), NodeFailure> {
    let input = job.input("table").ok_or_else(|| NodeFailure::new("missing table"))?;
    let path = input.dir.join("table.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let table: Table = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let names: Vec<String> = match job.node.param("rows") {
        Some(Value::List(v)) => v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => vec![],
    };
    let title = job.node.param("title").and_then(Value::as_str).unwrap_or("results");
    let write = |name: &str, text: String| {
        let p = job.out.join(name);
        std::fs::write(&p, text).map_err(|e| NodeFailure::new(format!("cannot write {}: {e}", p.display())))
    };
    write("report.md", markdown(title, &table, &names))?;
    write("report.csv", csv(&table, &names))?;
    write("report.json", serde_json::to_string_pretty(&json(&table, &names)).map_err(|e| e.to_string())?)
}

fn header(column: &str) -> &'static str {
    COLUMNS.iter().find(|(c, _, _)| *c == column).map_or("?", |(_, _, h)| h)
}

fn cell(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else {
        format!("{x:.4}")
    }
}

/// The summary table (mean ± std over seeds) then the per-seed rows.
fn markdown(title: &str, t: &Table, names: &[String]) -> String {
    let mut s = format!("## {title}\n\n");
    s.push_str(&summary_table(t, names));
    let n = t.rows.first().and_then(|r| r.summary.values().next()).map_or(0, |a| a.n);
    let _ = writeln!(s, "\nmean ± std over {n} seed(s); 95% confidence half-widths are in the CSV.\n");
    s.push_str("### per seed\n\n| model | seed |");
    for c in &t.columns {
        let _ = write!(s, " {} |", header(c));
    }
    s.push_str("\n|---|---|");
    s.push_str(&"---:|".repeat(t.columns.len()));
    s.push('\n');
    for (row, name) in t.rows.iter().zip(names).take(t.shown) {
        for seed in &row.seeds {
            let _ = write!(s, "| {name} | {} |", seed.seed);
            for c in &t.columns {
                let _ = write!(s, " {} |", seed.values[c].map_or("–".into(), cell));
            }
            s.push('\n');
        }
    }
    s
}

fn summary_table(t: &Table, names: &[String]) -> String {
    let mut s = String::from("| model |");
    for c in &t.columns {
        let _ = write!(s, " {} |", header(c));
    }
    s.push_str("\n|---|");
    s.push_str(&"---:|".repeat(t.columns.len()));
    s.push('\n');
    for (row, name) in t.rows.iter().zip(names).take(t.shown) {
        let _ = write!(s, "| {name} |");
        for c in &t.columns {
            let a = row.summary[c];
            if a.n > 1 {
                let _ = write!(s, " {} ± {} |", cell(a.mean), cell(a.std));
            } else {
                let _ = write!(s, " {} |", cell(a.mean));
            }
        }
        s.push('\n');
    }
    s
}

/// Long CSV: one line per (model, seed), then `mean`, `std`, `ci95` and `n` lines per model.
fn csv(t: &Table, names: &[String]) -> String {
    let mut s = String::from("model,seed");
    for c in &t.columns {
        let _ = write!(s, ",{c}");
    }
    s.push('\n');
    let field = |x: Option<f64>| x.filter(|v| !v.is_nan()).map_or(String::new(), |v| format!("{v}"));
    for (row, name) in t.rows.iter().zip(names).take(t.shown) {
        for seed in &row.seeds {
            let _ = write!(s, "{name},{}", seed.seed);
            for c in &t.columns {
                let _ = write!(s, ",{}", field(seed.values[c]));
            }
            s.push('\n');
        }
        for (label, pick) in [
            ("mean", (|a: &super::table::Aggregate| a.mean) as fn(&super::table::Aggregate) -> f64),
            ("std", |a| a.std),
            ("ci95", |a| a.ci95),
            ("n", |a| a.n as f64),
        ] {
            let _ = write!(s, "{name},{label}");
            for c in &t.columns {
                let _ = write!(s, ",{}", field(Some(pick(&row.summary[c]))));
            }
            s.push('\n');
        }
    }
    s
}

fn json(t: &Table, names: &[String]) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = t
        .rows
        .iter()
        .zip(names)
        .take(t.shown)
        .map(|(row, name)| serde_json::json!({ "model": name, "seeds": row.seeds, "summary": row.summary }))
        .collect();
    serde_json::json!({ "columns": t.columns, "rows": rows })
}

/// The summary table of a committed report, for printing at the end of a run.
pub(crate) fn summary_markdown(entry: &Path) -> Option<String> {
    let text = std::fs::read_to_string(entry.join("report.md")).ok()?;
    Some(text.split("\nmean ± std").next().unwrap_or(&text).trim_end().to_string() + "\n")
}

/// Copies the rendered files of a committed report node to its output paths (atomically, and
/// only when the content differs). Returns the paths written.
pub(crate) fn materialise(node: &crate::plan::Node, entry: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = vec![];
    for (k, target) in &node.env {
        let Some(format) = k.strip_prefix("out.") else { continue };
        let content = std::fs::read(entry.join(file_of(format)))?;
        let target = PathBuf::from(target);
        if std::fs::read(&target).is_ok_and(|old| old == content) {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = target.with_extension(format!("munl-tmp-{}", std::process::id()));
        std::fs::write(&tmp, &content)?;
        std::fs::rename(&tmp, &target)?;
        written.push(target);
    }
    Ok(written)
}
