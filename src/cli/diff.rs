//! `munl diff A B`: what differs between two experiment files (their plans' nodes, and the
//! metrics of the evaluations the cache holds for both) or between two reports munl wrote.
//! Differences are not an error: the exit status is 0 either way, 1 for a file that cannot be
//! read or compared.

use std::path::Path;

use serde_json::json;

use crate::artifact::file;
use crate::artifact::table::Table;
use crate::plan::{NodeId, NodeKind, Payload, Plan, RowLabel};
use crate::report::{
    compact, compare, compare_nodes, compare_sheets, sheets, table_sheet, NodeFacts, NodesDiff, Sheet, Status,
    TableDiff, DIFF_SCHEMA, REPORT_SCHEMA, SIGNIFICANT,
};

use super::load::{load, Loaded};
use super::{fail, EXIT_OK};

/// How `munl diff` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Text,
    Markdown,
    Json,
}

impl Style {
    /// The style the flags `--json` and `--md` ask for (clap lets only one through).
    pub(crate) fn of(json: bool, md: bool) -> Style {
        match (json, md) {
            (true, _) => Style::Json,
            (_, true) => Style::Markdown,
            _ => Style::Text,
        }
    }
}

/// `munl diff A B [--json | --md] [--all]`
pub(crate) fn diff(a: &Path, b: &Path, cache_root: &Path, style: Style, all: bool) -> u8 {
    let (ka, kb) = match (kind(a), kind(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let compared = match (ka, kb) {
        (Kind::Report, Kind::Report) => reports(a, b, all),
        (Kind::Munl, Kind::Munl) => experiments(a, b, cache_root, all),
        _ => Err(fail(format!(
            "cannot compare a `.munl` file with a report: give two `.munl` files or two `report.json` files \
             (`{}` is {}, `{}` is {})",
            a.display(),
            ka.name(),
            b.display(),
            kb.name()
        ))),
    };
    let (nodes, tables) = match compared {
        Ok(x) => x,
        Err(code) => return code,
    };
    let names = (a.display().to_string(), b.display().to_string());
    let out = match style {
        Style::Text => text(&names, nodes.as_ref(), &tables),
        Style::Markdown => markdown(&names, nodes.as_ref(), &tables),
        Style::Json => {
            let differs = nodes.as_ref().is_some_and(NodesDiff::differs) || tables.iter().any(TableDiff::differs);
            let mut v = json!({
                "schema": DIFF_SCHEMA,
                "munl": env!("CARGO_PKG_VERSION"),
                "a": names.0,
                "b": names.1,
                "kind": if nodes.is_some() { "experiments" } else { "reports" },
                "differs": differs,
                "nodes": nodes,
                "tables": tables,
                "legend": {
                    "change": "B − A",
                    "relative": "the change in percent of |A|, null where A is 0 or undefined",
                    "significant": SIGNIFICANT,
                    "points": "the nodes of a family (a label without its `[…]`) concerned: `all` of them, or these",
                },
            });
            if nodes.is_none() {
                v.as_object_mut().map(|o| o.remove("nodes"));
            }
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
    };
    print!("{out}");
    EXIT_OK
}

/// What a file given to `munl diff` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Munl,
    Report,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Munl => "an experiment file",
            Kind::Report => "a report",
        }
    }
}

/// `.munl` and `.json` by extension; otherwise a file whose text starts with `{` is a report.
/// A file that is not there is said to be missing before anything else.
fn kind(path: &Path) -> Result<Kind, u8> {
    if !path.is_file() {
        return Err(fail(format!("cannot read `{}`: no such file", path.display())));
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("munl") => Ok(Kind::Munl),
        Some("json") => Ok(Kind::Report),
        _ => {
            let text =
                std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read `{}`: {e}", path.display())))?;
            Ok(if text.trim_start().starts_with('{') { Kind::Report } else { Kind::Munl })
        }
    }
}

/// What a comparison found: the nodes (experiments only) and the tables.
type Compared = (Option<NodesDiff>, Vec<TableDiff>);

/// Two `report.json` files, table by table.
fn reports(a: &Path, b: &Path, all: bool) -> Result<Compared, u8> {
    let (x, y) = (report(a)?, report(b)?);
    Ok((None, compare_sheets(&x, &y, all)))
}

/// A report's tables, or the message saying why the file is not one.
fn report(path: &Path) -> Result<Vec<Sheet>, u8> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read `{shown}`: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail(format!("`{shown}` is not a report: not JSON ({e})")))?;
    match v.get("schema").and_then(serde_json::Value::as_str) {
        Some(s) if !s.starts_with("munl.report/") => {
            return Err(fail(format!("`{shown}` is not a report: its schema is `{s}`, not `{REPORT_SCHEMA}`")))
        }
        Some(s) if version(s) > version(REPORT_SCHEMA) => eprintln!(
            "warning: `{shown}` has schema `{s}`, newer than this munl's `{REPORT_SCHEMA}`: what matches is compared"
        ),
        _ => {}
    }
    sheets(&v).map_err(|e| fail(format!("`{shown}` cannot be compared: {e}")))
}

/// The number of a schema's version (`munl.report/2` → 2; 0 when it has none).
fn version(schema: &str) -> u32 {
    schema.rsplit('/').next().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Two experiment files: their plans' nodes by label, then each evaluation of both with the
/// tables the cache holds.
fn experiments(a: &Path, b: &Path, cache_root: &Path, all: bool) -> Result<Compared, u8> {
    let (x, y) = (load(a)?, load(b)?);
    let nodes = compare_nodes(&facts(&x.plan), &facts(&y.plan));
    // A missing cache holds nothing: do not create one to find that out.
    let cache = if cache_root.is_dir() { Some(super::load::cache(cache_root)?) } else { None };
    let table = |l: &Loaded, id: NodeId| -> Option<Sheet> {
        let node = l.plan.node(id);
        let entry = cache.as_ref()?.lookup(&node.key)?;
        let t: Table = crate::artifact::read_json(&entry.dir.join(file::TABLE)).ok()?;
        table_sheet(&node.label, &t, &rows(l, id)).ok()
    };
    let run = |p: &Path| format!("run `munl run {}`", p.display());
    let evaluations = |l: &Loaded| -> Vec<NodeId> {
        l.plan.ids().filter(|id| l.plan.node(*id).kind() == NodeKind::Evaluate).collect()
    };
    let (ea, eb) = (evaluations(&x), evaluations(&y));
    let find = |l: &Loaded, ids: &[NodeId], label: &str| ids.iter().copied().find(|id| l.plan.node(*id).label == label);
    let mut tables = vec![];
    for &i in &ea {
        let label = &x.plan.node(i).label;
        let Some(j) = find(&y, &eb, label) else {
            tables.push(TableDiff::uncompared(label, Status::OnlyInA, None));
            continue;
        };
        tables.push(match (table(&x, i), table(&y, j)) {
            (Some(p), Some(q)) => compare(&p, &q, all),
            (None, Some(_)) => TableDiff::uncompared(label, Status::NotComputedInA, Some(run(a))),
            (Some(_), None) => TableDiff::uncompared(label, Status::NotComputedInB, Some(run(b))),
            (None, None) => TableDiff::uncompared(
                label,
                Status::NotComputed,
                Some(format!("{} and `munl run {}`", run(a), b.display())),
            ),
        });
    }
    for &j in &eb {
        let label = &y.plan.node(j).label;
        if find(&x, &ea, label).is_none() {
            tables.push(TableDiff::uncompared(label, Status::OnlyInB, None));
        }
    }
    Ok((Some(nodes), tables))
}

/// Every node's label, key and parameters (with the op's version, as `(version)`).
fn facts(plan: &Plan) -> Vec<NodeFacts> {
    plan.ids()
        .map(|id| {
            let node = plan.node(id);
            let mut params: std::collections::BTreeMap<String, (String, String)> =
                plan.params(id).iter().map(|(k, v)| (k.clone(), (v.canonical().to_string(), v.to_string()))).collect();
            params.insert("(version)".into(), (node.version.to_string(), node.version.to_string()));
            NodeFacts { label: node.label.clone(), key: node.key.hex(), params }
        })
        .collect()
}

/// The names of an evaluation's rows: as a report of it shows them, else its declaration's
/// models (the reference last if not listed).
fn rows(l: &Loaded, id: NodeId) -> Vec<RowLabel> {
    for r in l.plan.ids().map(|r| l.plan.node(r)) {
        let Payload::Report(spec) = &r.payload else { continue };
        for (role, input) in &r.inputs {
            if *input != id {
                continue;
            }
            let setting =
                role.strip_prefix("table/").and_then(|i| i.parse::<usize>().ok()).and_then(|i| spec.settings.get(i));
            return setting.map_or_else(|| spec.rows.clone(), |s| s.rows.clone());
        }
    }
    let exp = &l.experiment;
    let Some(e) = exp.evaluates.iter().find(|e| e.name == l.plan.node(id).decl) else { return vec![] };
    let mut models = e.models.clone();
    if let Some(r) = e.reference.map(crate::lower::ModelRef::Train) {
        if !models.contains(&r) {
            models.push(r);
        }
    }
    models
        .into_iter()
        .map(|m| RowLabel { name: exp.model_name(m).to_string(), dataset: String::new(), arch: String::new() })
        .collect()
}

/// A number as the tables show it, `–` when undefined.
fn number(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("{x:.4}"))
}

/// A signed change.
fn change(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("{x:+.4}"))
}

/// A signed change in percent.
fn relative(x: Option<f64>) -> String {
    x.map_or_else(String::new, |x| format!("{x:+.2} %"))
}

fn mark(significant: Option<bool>) -> &'static str {
    if significant == Some(true) {
        "*"
    } else {
        ""
    }
}

/// An optional text, `—` when absent.
fn or_dash(x: &Option<String>) -> String {
    x.clone().unwrap_or_else(|| "—".into())
}

/// Which nodes of a family: `all`, or the points, compactly (at most 6 blocks named).
fn points(f: &crate::report::Family) -> String {
    const NAMED: usize = 6;
    if f.all {
        return if f.points.is_empty() { String::new() } else { "all".into() };
    }
    let blocks = compact(&f.points);
    let mut shown: Vec<String> = blocks.iter().take(NAMED).cloned().collect();
    if blocks.len() > NAMED {
        shown.push(format!("{} more", blocks.len() - NAMED));
    }
    shown.join("; ")
}

/// A value cut to `max` characters, for the terminal (`--json` and `--md` keep it whole).
fn cut(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    s.chars().take(max - 1).collect::<String>() + "…"
}

/// Rows of cells as columns two spaces apart, each padded to its widest cell (those marked
/// right-aligned on the right), every line indented and trimmed at its end.
fn aligned(rows: &[Vec<String>], right: &[bool], indent: &str) -> String {
    let width = |i: usize| rows.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0);
    let widths: Vec<usize> = (0..rows.iter().map(Vec::len).max().unwrap_or(0)).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i] - c.chars().count());
                if right.get(i).copied().unwrap_or(false) {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        out.push_str(format!("{indent}{}", cells.join("  ")).trim_end());
        out.push('\n');
    }
    out
}

/// The nodes' differences as two blocks of rows: the changed fields (what, family, field,
/// `A → B` with each side cut to `max` characters, which nodes), then the families whose inputs
/// changed or that one side lacks (what, family, which nodes).
fn node_rows(n: &NodesDiff, max: usize) -> [Vec<Vec<String>>; 2] {
    let changed = n
        .fields
        .iter()
        .map(|f| {
            let change = format!("{} → {}", cut(or_dash(&f.a), max), cut(or_dash(&f.b), max));
            vec!["changed".into(), f.at.family.clone(), f.field.clone(), change, points(&f.at)]
        })
        .collect();
    let mut others = vec![];
    let families = [("inputs changed", &n.inputs), ("only in A", &n.only_in_a), ("only in B", &n.only_in_b)];
    for (what, families) in families {
        for f in families {
            others.push(vec![what.into(), f.family.clone(), points(f)]);
        }
    }
    [changed, others]
}

/// What the nodes line says.
fn node_summary(n: &NodesDiff) -> String {
    format!(
        "{} nodes in A, {} in B: {} with different keys, {} only in A, {} only in B",
        n.nodes_a,
        n.nodes_b,
        n.changed,
        n.only_in_a.iter().map(count).sum::<usize>(),
        n.only_in_b.iter().map(count).sum::<usize>()
    )
}

/// How many nodes a family entry stands for, when it names them (1 for a family of one node).
fn count(f: &crate::report::Family) -> usize {
    f.points.len().max(1)
}

/// Why a table was not compared, in words.
fn uncompared(t: &TableDiff) -> Option<String> {
    let what = match t.status {
        Status::Compared => return None,
        Status::OnlyInA => "only in A",
        Status::OnlyInB => "only in B",
        Status::NotComputedInA => "not computed in A",
        Status::NotComputedInB => "not computed in B",
        Status::NotComputed => "not computed",
    };
    Some(match &t.help {
        Some(help) => format!("{what} ({help})"),
        None => what.to_string(),
    })
}

/// The lists of a compared table besides its metrics, those not empty: (heading, items).
fn lists(t: &TableDiff) -> Vec<(&'static str, &[String])> {
    [
        ("methods only in B", &t.methods_added),
        ("methods only in A", &t.methods_removed),
        ("columns only in B", &t.columns_added),
        ("columns only in A", &t.columns_removed),
    ]
    .into_iter()
    .filter(|(_, items)| !items.is_empty())
    .map(|(what, items)| (what, items.as_slice()))
    .collect()
}

fn rank(r: Option<usize>) -> String {
    r.map_or_else(|| "—".into(), |r| r.to_string())
}

/// Terminal text: a header naming A and B, the nodes, then each table.
fn text(names: &(String, String), nodes: Option<&NodesDiff>, tables: &[TableDiff]) -> String {
    let mut out = format!("A  {}\nB  {}\n", names.0, names.1);
    if let Some(n) = nodes {
        out.push_str(&format!("\nnodes: {}\n", node_summary(n)));
        let mut blocks = node_rows(n, 40);
        // What and which family line up across both blocks.
        for i in 0..2 {
            let width = blocks.iter().flatten().map(|r| r[i].chars().count()).max().unwrap_or(0);
            for r in blocks.iter_mut().flatten() {
                let pad = width - r[i].chars().count();
                r[i].push_str(&" ".repeat(pad));
            }
        }
        for rows in blocks {
            out.push_str(&aligned(&rows, &[], "  "));
        }
    }
    let mut marked = false;
    for t in tables {
        if let Some(why) = uncompared(t) {
            out.push_str(&format!("\n{}: {why}\n", t.name));
            continue;
        }
        out.push_str(&format!("\n{}\n", t.name));
        if !t.differs() && t.metrics.is_empty() {
            out.push_str("  no differences\n");
            continue;
        }
        if !t.metrics.is_empty() {
            let mut rows = vec![["method", "metric", "A", "B", "change", "change %", ""].map(String::from).to_vec()];
            for m in &t.metrics {
                marked |= m.significant == Some(true);
                rows.push(vec![
                    m.method.clone(),
                    m.column.clone(),
                    number(m.a),
                    number(m.b),
                    change(m.change),
                    relative(m.relative),
                    mark(m.significant).into(),
                ]);
            }
            out.push_str(&aligned(&rows, &[false, false, true, true, true, true, false], "  "));
        }
        for (what, items) in lists(t) {
            out.push_str(&format!("  {what}: {}\n", items.join(", ")));
        }
        if !t.ranks.is_empty() {
            let ranks: Vec<String> =
                t.ranks.iter().map(|r| format!("{} {} → {}", r.method, rank(r.a), rank(r.b))).collect();
            out.push_str(&format!("  ranks: {}\n", ranks.join(", ")));
        }
        if !t.values.is_empty() {
            out.push_str("  values:\n");
            let rows: Vec<Vec<String>> = t
                .values
                .iter()
                .map(|v| vec![v.method.clone(), v.field.clone(), or_dash(&v.a), "→".into(), or_dash(&v.b)])
                .collect();
            out.push_str(&aligned(&rows, &[], "    "));
        }
    }
    if marked {
        out.push_str(&format!("\n* {SIGNIFICANT}\n"));
    }
    out
}

/// A Markdown cell: pipes escaped.
fn md(s: &str) -> String {
    s.replace('|', "\\|")
}

/// A Markdown table.
fn md_table(header: &[&str], align: &str, rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n|{}|\n", header.join(" | "), align);
    for r in rows {
        out.push_str(&format!("| {} |\n", r.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | ")));
    }
    out
}

/// Markdown: a heading naming A and B, the nodes as a table, then a section per table.
fn markdown(names: &(String, String), nodes: Option<&NodesDiff>, tables: &[TableDiff]) -> String {
    let mut out = format!("# munl diff\n\n- A: `{}`\n- B: `{}`\n", names.0, names.1);
    if let Some(n) = nodes {
        out.push_str(&format!("\n## Nodes\n\n{}.\n", node_summary(n)));
        let [changed, others] = node_rows(n, usize::MAX);
        let moved = |r: Vec<String>| vec![r[0].clone(), r[1].clone(), String::new(), String::new(), r[2].clone()];
        let rows: Vec<Vec<String>> = changed.into_iter().chain(others.into_iter().map(moved)).collect();
        if !rows.is_empty() {
            out.push('\n');
            out.push_str(&md_table(&["", "nodes", "field", "A → B", "which"], "---|---|---|---|---", &rows));
        }
    }
    let mut marked = false;
    for t in tables {
        out.push_str(&format!("\n## {}\n\n", md(&t.name)));
        if let Some(why) = uncompared(t) {
            out.push_str(&format!("{}.\n", md(&why)));
            continue;
        }
        if !t.differs() && t.metrics.is_empty() {
            out.push_str("No differences.\n");
            continue;
        }
        if !t.metrics.is_empty() {
            let rows: Vec<Vec<String>> = t
                .metrics
                .iter()
                .map(|m| {
                    marked |= m.significant == Some(true);
                    vec![
                        m.method.clone(),
                        format!("`{}`", m.column),
                        number(m.a),
                        number(m.b),
                        change(m.change),
                        relative(m.relative),
                        mark(m.significant).replace('*', "\\*"),
                    ]
                })
                .collect();
            out.push_str(&md_table(
                &["method", "metric", "A", "B", "change", "change %", "significant"],
                "---|---|--:|--:|--:|--:|:-:",
                &rows,
            ));
        }
        for (what, items) in lists(t) {
            let items: Vec<String> = items.iter().map(|i| format!("`{}`", md(i))).collect();
            out.push_str(&format!("\n{}{}: {}.\n", what[..1].to_uppercase(), &what[1..], items.join(", ")));
        }
        if !t.ranks.is_empty() {
            out.push_str("\nRanks:\n\n");
            let rows: Vec<Vec<String>> = t.ranks.iter().map(|r| vec![r.method.clone(), rank(r.a), rank(r.b)]).collect();
            out.push_str(&md_table(&["method", "A", "B"], "---|--:|--:", &rows));
        }
        if !t.values.is_empty() {
            out.push_str("\nValues:\n\n");
            let rows: Vec<Vec<String>> = t
                .values
                .iter()
                .map(|v| vec![v.method.clone(), format!("`{}`", v.field), or_dash(&v.a), or_dash(&v.b)])
                .collect();
            out.push_str(&md_table(&["method", "field", "A", "B"], "---|---|---|---", &rows));
        }
    }
    if marked {
        out.push_str(&format!("\n\\* {SIGNIFICANT}.\n"));
    }
    out
}
