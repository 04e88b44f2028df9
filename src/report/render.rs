//! The `report` node: Markdown, CSV, JSON, LaTeX and SVG renderings of one evaluation's table,
//! and copying them to the paths the `.munl` file names.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::artifact::file;
use crate::artifact::NodeFailure;
use crate::backend::Job;
use crate::ops::Value;

use crate::artifact::table::{Aggregate, Table, COLUMNS};

/// File name of each format inside the report's cache entry.
fn file_of(format: &str) -> &'static str {
    match format {
        "markdown" => "report.md",
        "csv" => "report.csv",
        "latex" => "report.tex",
        "plot" => "report.svg",
        _ => "report.json",
    }
}

/// What a report says about its rows besides the numbers: the evaluation's name and, per row of
/// the table, the method (declaration) name, the dataset and the architecture.
#[derive(Clone, Debug, Default)]
pub(crate) struct Labels {
    pub(crate) title: String,
    pub(crate) methods: Vec<String>,
    /// Dataset declaration name per row ("" when the plan does not say).
    pub(crate) datasets: Vec<String>,
    /// Architecture (`cnn`, `resnet18`, …) per row ("" when the plan does not say).
    pub(crate) models: Vec<String>,
}

impl Labels {
    fn method(&self, row: usize) -> &str {
        self.methods.get(row).map_or("?", String::as_str)
    }

    /// The method's name, marked when it is the reference.
    fn shown_name(&self, t: &Table, row: usize) -> String {
        if t.reference == Some(row) {
            format!("{} (reference)", self.method(row))
        } else {
            self.method(row).to_string()
        }
    }
}

/// Renders every format into the node's folder (Markdown always: the CLI prints it).
pub(crate) fn render(job: &Job<'_>) -> Result<(), NodeFailure> {
    let input = job.input("table").ok_or_else(|| NodeFailure::new("missing table"))?;
    let table: Table = crate::artifact::read_json(&input.dir.join(file::TABLE))?;
    let strings = |name: &str| -> Vec<String> {
        match job.node.param(name) {
            Some(Value::List(v)) => v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
            _ => vec![],
        }
    };
    let labels = Labels {
        title: job.node.param("title").and_then(Value::as_str).unwrap_or("results").to_string(),
        methods: strings("rows"),
        datasets: strings("datasets"),
        models: strings("archs"),
    };
    let write = |name: &str, text: String| {
        let p = job.out.join(name);
        std::fs::write(&p, text).map_err(|e| NodeFailure::new(format!("cannot write {}: {e}", p.display())))
    };
    write(file_of("markdown"), markdown(&table, &labels))?;
    write(file_of("csv"), csv(&table, &labels))?;
    write(file_of("json"), serde_json::to_string_pretty(&json(&table, &labels)).map_err(|e| e.to_string())? + "\n")?;
    write(file_of("latex"), super::latex::latex(&table, &labels))?;
    let svg = super::plot::svg(&table, &labels);
    let formats = strings("formats");
    if formats.iter().any(|f| f == "plot") {
        let png = super::plot::png(&svg)?;
        let p = job.out.join("report.png");
        std::fs::write(&p, png).map_err(|e| NodeFailure::new(format!("cannot write {}: {e}", p.display())))?;
    }
    write(file_of("plot"), svg)
}

pub(crate) fn header(column: &str) -> &'static str {
    COLUMNS.iter().find(|(c, _, _)| *c == column).map_or("?", |(_, _, h)| h)
}

/// The paper-shaped summary (evaluation.md §6): column, header.
pub(crate) const PAPER: &[(&str, &str)] = &[
    ("retain_acc", "RA"),
    ("forget_acc", "FA"),
    ("test_acc", "TA"),
    ("rr", "RR"),
    ("fr", "FR"),
    ("tr", "TR"),
    ("retdev", "RetDev"),
    ("indiscernibility", "Indisc"),
    ("mia_test", "T-MIA"),
    ("rte", "RTE"),
];

/// The paper columns this table has.
pub(crate) fn paper_columns(t: &Table) -> Vec<(&'static str, &'static str)> {
    PAPER.iter().copied().filter(|(c, _)| t.columns.iter().any(|x| x == c)).collect()
}

pub(crate) fn cell(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "–".into()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("–".into(), cell)
}

/// `mean ± half-width` (the half-width only when there are two seeds or more).
fn pm(a: &Aggregate, spread: f64) -> String {
    if !a.mean.is_finite() {
        "–".into()
    } else if a.n > 1 {
        format!("{} ± {}", cell(a.mean), cell(spread))
    } else {
        cell(a.mean)
    }
}

/// The number of seeds behind the aggregates (the largest n of any cell).
pub(crate) fn seeds_of(t: &Table) -> usize {
    t.rows.iter().flat_map(|r| r.summary.values()).map(|a| a.n).max().unwrap_or(0)
}

/// Heading that ends what the CLI prints at the end of a run.
const DETAILS: &str = "\n### all metrics";

/// Summary (paper-shaped, mean ± 95 % CI), retention as ratio of means, ranking, then every
/// metric (mean ± std) and the per-seed rows.
pub(crate) fn markdown(t: &Table, l: &Labels) -> String {
    let mut s = format!("## {}\n\n", l.title);
    let n = seeds_of(t);
    let paper = paper_columns(t);
    let shown = t.rows.len().min(t.shown);
    if !paper.is_empty() {
        s.push_str("| method |");
        for (_, h) in &paper {
            let _ = write!(s, " {h} |");
        }
        s.push_str("\n|---|");
        s.push_str(&"---:|".repeat(paper.len()));
        s.push('\n');
        for (i, row) in t.rows.iter().enumerate().take(shown) {
            let _ = write!(s, "| {} |", l.shown_name(t, i));
            for (c, _) in &paper {
                let _ = write!(s, " {} |", row.summary.get(*c).map_or("–".into(), |a| pm(a, a.ci95)));
            }
            s.push('\n');
        }
        let _ = writeln!(s, "\nmean ± 95 % CI half-width (Student t) over {n} seed(s).");
        if paper.iter().any(|(c, _)| *c == "rr") {
            s.push_str(
                "RR, FR, TR: retain, forget and test accuracy ÷ the reference's of the same seed; \
                 RetDev = |RR − 1| + |FR − 1| + |TR − 1|; all four are means of the per-seed ratios.\n",
            );
        }
        if paper.iter().any(|(c, _)| *c == "indiscernibility") {
            s.push_str("Indisc = 1 − |2·T-MIA − 1| (test MIA).\n");
        }
        if paper.iter().any(|(c, _)| *c == "rte") {
            s.push_str("RTE = reference's time ÷ the model's time, same seed.\n");
        }
    }
    if t.rows.iter().take(shown).any(|r| !r.ratio_of_means.is_empty()) {
        s.push_str(
            "\n### retention, ratio of means\n\n| method | RR | FR | TR | RetDev |\n|---|---:|---:|---:|---:|\n",
        );
        for (i, row) in t.rows.iter().enumerate().take(shown) {
            let _ = write!(s, "| {} |", l.shown_name(t, i));
            for k in ["rr", "fr", "tr", "retdev"] {
                let _ = write!(s, " {} |", opt(row.ratio_of_means.get(k).copied().flatten()));
            }
            s.push('\n');
        }
        s.push_str("\nmean accuracy over the seeds ÷ the reference's mean accuracy.\n");
    }
    if !t.ranking.is_empty() {
        s.push_str(
            "\n### ranking\n\n| rank | method | RetDev (ratio of means) | RetDev (mean ± 95 % CI) | Indisc | tied with |\n\
             |---:|---|---:|---:|---:|---|\n",
        );
        for r in &t.ranking {
            let ci = t.rows[r.row].summary.get("retdev").map_or("–".into(), |a| pm(a, a.ci95));
            let tied: Vec<&str> = r.tied_with.iter().map(|&o| l.method(o)).collect();
            let mark = if tied.is_empty() { "" } else { " ≈" };
            let _ = writeln!(
                s,
                "| {}{mark} | {} | {} | {ci} | {} | {} |",
                r.rank,
                l.method(r.row),
                opt(r.retdev),
                opt(r.indisc),
                if tied.is_empty() { "–".to_string() } else { tied.join(", ") }
            );
        }
        s.push_str(
            "\nRanked by RetDev as ratio of means (ascending), equal values by mean Indisc (descending). \
             ≈: statistically tied — the 95 % CIs of the per-seed RetDev of the methods in \"tied with\" \
             overlap this method's.\n",
        );
    }
    s.push_str(DETAILS);
    s.push_str(" (mean ± std)\n\n");
    s.push_str(&all_metrics(t, l));
    let _ = writeln!(s, "\nmean ± sample std over {n} seed(s).\n");
    s.push_str("### per seed\n\n| model | seed |");
    for c in &t.columns {
        let _ = write!(s, " {} |", header(c));
    }
    s.push_str("\n|---|---|");
    s.push_str(&"---:|".repeat(t.columns.len()));
    s.push('\n');
    for (i, row) in t.rows.iter().enumerate().take(shown) {
        for seed in &row.seeds {
            let _ = write!(s, "| {} | {} |", l.method(i), seed.seed);
            for c in &t.columns {
                let _ = write!(s, " {} |", opt(seed.values.get(c).copied().flatten()));
            }
            s.push('\n');
        }
    }
    s
}

fn all_metrics(t: &Table, l: &Labels) -> String {
    let mut s = String::from("| model |");
    for c in &t.columns {
        let _ = write!(s, " {} |", header(c));
    }
    s.push_str("\n|---|");
    s.push_str(&"---:|".repeat(t.columns.len()));
    s.push('\n');
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let _ = write!(s, "| {} |", l.method(i));
        for c in &t.columns {
            let _ = write!(s, " {} |", row.summary.get(c).map_or("–".into(), |a| pm(a, a.std)));
        }
        s.push('\n');
    }
    s
}

fn csv_field(x: &str) -> String {
    if x.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", x.replace('"', "\"\""))
    } else {
        x.to_string()
    }
}

/// Long CSV: `dataset,model,method,seed,metric,value`, one line per shown row, seed and metric
/// (an undefined value is empty). Aggregates are in the JSON.
pub(crate) fn csv(t: &Table, l: &Labels) -> String {
    let mut s = String::from("dataset,model,method,seed,metric,value\n");
    let get = |v: &[String], i: usize| csv_field(v.get(i).map_or("", String::as_str));
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        for seed in &row.seeds {
            for c in &t.columns {
                let value = seed.values.get(c).copied().flatten().filter(|v| v.is_finite());
                let _ = writeln!(
                    s,
                    "{},{},{},{},{c},{}",
                    get(&l.datasets, i),
                    get(&l.models, i),
                    csv_field(l.method(i)),
                    seed.seed,
                    value.map_or(String::new(), |v| format!("{v}"))
                );
            }
        }
    }
    s
}

/// Everything: per-seed values, aggregates (mean, std, ci95, n; NaN as null), the ratio-of-means
/// retention and the ranking, with names.
pub(crate) fn json(t: &Table, l: &Labels) -> serde_json::Value {
    let name = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
    let rows: Vec<serde_json::Value> = t
        .rows
        .iter()
        .enumerate()
        .take(t.shown)
        .map(|(i, row)| {
            serde_json::json!({
                "method": l.method(i),
                "dataset": name(&l.datasets, i),
                "model": name(&l.models, i),
                "reference": t.reference == Some(i),
                "seeds": row.seeds,
                "summary": row.summary,
                "ratio_of_means": row.ratio_of_means,
            })
        })
        .collect();
    let ranking: Vec<serde_json::Value> = t
        .ranking
        .iter()
        .map(|r| {
            let retdev = t.rows[r.row].summary.get("retdev");
            serde_json::json!({
                "rank": r.rank,
                "method": l.method(r.row),
                "retdev_ratio_of_means": r.retdev,
                "retdev_mean_of_ratios": retdev.and_then(Aggregate::value),
                "retdev_ci95": retdev.map(|a| a.ci95).filter(|c| c.is_finite()),
                "indisc": r.indisc,
                "tied_with": r.tied_with.iter().map(|&o| l.method(o)).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "title": l.title,
        "reference": t.reference.map(|r| l.method(r)),
        "columns": t.columns,
        "rows": rows,
        "ranking": ranking,
        "notes": {
            "summary": "mean, sample std (ddof 1) and 95 % Student-t CI half-width over the seeds; rr, fr, tr, retdev in `summary` are means of per-seed ratios against the reference of the same seed",
            "ratio_of_means": "mean accuracy over the seeds divided by the reference's mean accuracy",
            "ranking": "retdev_ratio_of_means ascending, then indisc descending; tied_with: methods whose 95 % CIs of per-seed RetDev overlap",
        },
    })
}

/// The summary tables of a committed report, for printing at the end of a run.
pub(crate) fn summary_markdown(entry: &Path) -> Option<String> {
    let text = std::fs::read_to_string(entry.join("report.md")).ok()?;
    Some(text.split(DETAILS).next().unwrap_or(&text).trim_end().to_string() + "\n")
}

/// Copies the rendered files of a committed report node to its output paths (atomically, and
/// only when the content differs). Returns the paths written.
pub(crate) fn materialise(node: &crate::plan::Node, entry: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = vec![];
    for (k, target) in &node.env {
        let Some(format) = k.strip_prefix("out.") else { continue };
        let target = PathBuf::from(target);
        let png = format == "plot" && target.extension().is_some_and(|e| e.eq_ignore_ascii_case("png"));
        let content = std::fs::read(entry.join(if png { "report.png" } else { file_of(format) }))?;
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
