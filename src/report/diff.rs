//! Comparing two runs (`munl diff`): two reports' tables metric by metric, flagging the changes
//! that exceed the combined 95 % CI, with methods, columns, ranks and model values that differ;
//! and two plans' nodes, matched by label, field by field. Data in, data out: the CLI reads the
//! files and the cache, and renders.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as J;

use super::present::Labels;
use crate::artifact::table::Table;
use crate::plan::RowLabel;

/// The version of the layout of `munl diff --json`: bumped when a field changes meaning or goes.
pub(crate) const SCHEMA: &str = "munl.diff/1";

/// The layout of `report.json` this module reads best (others are read as far as they match).
pub(crate) const REPORT_SCHEMA: &str = super::json::SCHEMA;

/// What a significance mark means, for every rendering's legend.
pub(crate) const SIGNIFICANT: &str = "the change exceeds the combined 95 % CI half-width \
     √(ci95_A² + ci95_B²) of the two means; not judged where a side has no CI (one seed)";

/// One table of a side as compared: each row's means and CIs, ranks and model values, named.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Sheet {
    /// What matches it with a table of the other side: "" for an ungrouped report's table, the
    /// coordinates for a group's, the name for a setting's, the node label for an evaluation's.
    pub(crate) key: String,
    /// What the output calls it.
    pub(crate) name: String,
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Line>,
    /// (method, rank), best first.
    pub(crate) ranks: Vec<(String, usize)>,
}

/// One row: a method's aggregates by column and its model's values (field → `.munl` text).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Line {
    pub(crate) method: String,
    pub(crate) summary: BTreeMap<String, Stat>,
    pub(crate) values: BTreeMap<String, String>,
}

/// A column's mean over the seeds and its 95 % CI half-width, `None` when undefined.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Stat {
    pub(crate) mean: Option<f64>,
    pub(crate) ci95: Option<f64>,
}

/// The tables of a report as `report.json` holds them: one for an ungrouped report, one per
/// group (matched by coordinates), or one per setting of a report across settings (by name).
pub(crate) fn sheets(report: &J) -> Result<Vec<Sheet>, String> {
    if let Some(settings) = report.get("settings").and_then(J::as_array) {
        return settings
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let name =
                    s.get("name").and_then(J::as_str).map_or_else(|| format!("setting {}", i + 1), str::to_string);
                sheet(&name, &name, s.get("table").unwrap_or(&J::Null))
            })
            .collect();
    }
    if let Some(groups) = report.get("groups").and_then(J::as_array) {
        let order: Vec<&str> = report
            .get("dimensions")
            .and_then(J::as_array)
            .map_or_else(Vec::new, |d| d.iter().filter_map(J::as_str).collect());
        return groups
            .iter()
            .map(|g| {
                let name = coords(g.get("coords").unwrap_or(&J::Null), &order);
                sheet(&name, &name, g)
            })
            .collect();
    }
    if report.get("rows").is_some() {
        let title = report.get("title").and_then(J::as_str).unwrap_or("table");
        return Ok(vec![sheet("", title, report)?]);
    }
    Err("it has no `rows`, `groups` or `settings`: not a report that munl wrote".into())
}

/// A group's coordinates as a name, `frac = 0.1, ft.lr = 0.01`, in the report's order of
/// dimensions (then any others).
fn coords(c: &J, order: &[&str]) -> String {
    let Some(map) = c.as_object() else { return String::new() };
    let mut keys: Vec<&str> = order.iter().copied().filter(|d| map.contains_key(*d)).collect();
    keys.extend(map.keys().map(String::as_str).filter(|k| !order.contains(k)));
    keys.iter().map(|k| format!("{k} = {}", text(&map[*k]))).collect::<Vec<_>>().join(", ")
}

/// A JSON scalar as text: strings unquoted.
fn text(v: &J) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// One table as [`super::json::json`] writes it: `columns`, `rows` (each with `method`,
/// `summary`, and the model's values as `values` or `model.values` when it has them) and
/// `ranking`. A method named twice is told apart as `name #2`.
pub(crate) fn sheet(key: &str, name: &str, table: &J) -> Result<Sheet, String> {
    let rows = table.get("rows").and_then(J::as_array).ok_or_else(|| format!("the table `{name}` has no `rows`"))?;
    let mut lines: Vec<Line> = vec![];
    for (i, row) in rows.iter().enumerate() {
        let method = row.get("method").and_then(J::as_str).map_or_else(|| format!("row {}", i + 1), str::to_string);
        let seen = lines.iter().filter(|l| l.method == method || l.method.starts_with(&format!("{method} #"))).count();
        let method = if seen == 0 { method } else { format!("{method} #{}", seen + 1) };
        let number = |v: Option<&J>| v.and_then(J::as_f64).filter(|x| x.is_finite());
        let summary = row
            .get("summary")
            .and_then(J::as_object)
            .map(|s| {
                s.iter()
                    .map(|(c, a)| (c.clone(), Stat { mean: number(a.get("mean")), ci95: number(a.get("ci95")) }))
                    .collect()
            })
            .unwrap_or_default();
        let values = row
            .get("values")
            .or_else(|| row.get("model").and_then(|m| m.get("values")))
            .and_then(J::as_object)
            .map(|v| v.iter().map(|(k, x)| (k.clone(), text(x))).collect())
            .unwrap_or_default();
        lines.push(Line { method, summary, values });
    }
    let mut columns: Vec<String> = table
        .get("columns")
        .and_then(J::as_array)
        .map(|c| c.iter().filter_map(J::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    if columns.is_empty() {
        for l in &lines {
            columns.extend(l.summary.keys().filter(|c| !columns.contains(c)).cloned().collect::<Vec<_>>());
        }
    }
    let ranks = table
        .get("ranking")
        .and_then(J::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|x| Some((x.get("method")?.as_str()?.to_string(), x.get("rank")?.as_u64()? as usize)))
                .collect()
        })
        .unwrap_or_default();
    Ok(Sheet { key: key.into(), name: name.into(), columns, rows: lines, ranks })
}

/// A cached evaluation's table as its report would show it, rows named by `rows` (`row N` past
/// their end): the sheet of its [`super::json::json`].
pub(crate) fn table_sheet(label: &str, table: &Table, rows: &[RowLabel]) -> Result<Sheet, String> {
    let names: Vec<String> = (0..table.rows.len())
        .map(|i| rows.get(i).map_or_else(|| format!("row {}", i + 1), |r| r.name.clone()))
        .collect();
    let labels = Labels {
        title: label.to_string(),
        methods: names,
        datasets: rows.iter().map(|r| r.dataset.clone()).collect(),
        models: rows.iter().map(|r| r.arch.clone()).collect(),
    };
    sheet(label, label, &super::json::json(table, &labels))
}

/// How a table of one side fared against the other's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Compared,
    OnlyInA,
    OnlyInB,
    /// In both plans, but its table is not in the cache on side A, B, or either.
    NotComputedInA,
    NotComputedInB,
    NotComputed,
}

/// The differences between two tables (or why there are none to show).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct TableDiff {
    pub(crate) name: String,
    pub(crate) status: Status,
    /// What to do about a status other than `compared`, when something can be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) help: Option<String>,
    /// Methods of B that A lacks, and of A that B lacks.
    pub(crate) methods_added: Vec<String>,
    pub(crate) methods_removed: Vec<String>,
    pub(crate) columns_added: Vec<String>,
    pub(crate) columns_removed: Vec<String>,
    /// Per method of both and column of both whose mean differs (every one with `all`).
    pub(crate) metrics: Vec<MetricDiff>,
    /// Methods whose rank differs (ranked on one side only included).
    pub(crate) ranks: Vec<RankDiff>,
    /// Per method of both, the model's values that differ.
    pub(crate) values: Vec<ValueDiff>,
}

impl TableDiff {
    /// A table without a comparison: only on one side, or not computed.
    pub(crate) fn uncompared(name: &str, status: Status, help: Option<String>) -> TableDiff {
        TableDiff {
            name: name.to_string(),
            status,
            help,
            methods_added: vec![],
            methods_removed: vec![],
            columns_added: vec![],
            columns_removed: vec![],
            metrics: vec![],
            ranks: vec![],
            values: vec![],
        }
    }

    /// Whether anything differs (a table on one side only, or not computed, counts).
    pub(crate) fn differs(&self) -> bool {
        self.status != Status::Compared
            || !self.methods_added.is_empty()
            || !self.methods_removed.is_empty()
            || !self.columns_added.is_empty()
            || !self.columns_removed.is_empty()
            || self.metrics.iter().any(|m| m.a != m.b)
            || self.ranks.iter().any(|r| r.a != r.b)
            || self.values.iter().any(|v| v.a != v.b)
    }
}

/// One method's mean of one column on each side, the change B − A, the change relative to |A|
/// in percent (where A is defined and not 0), and whether the change is significant (`None`
/// where a CI is missing).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MetricDiff {
    pub(crate) method: String,
    pub(crate) column: String,
    pub(crate) a: Option<f64>,
    pub(crate) b: Option<f64>,
    pub(crate) change: Option<f64>,
    pub(crate) relative: Option<f64>,
    pub(crate) significant: Option<bool>,
}

/// A method's rank on each side (`None`: not ranked there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct RankDiff {
    pub(crate) method: String,
    pub(crate) a: Option<usize>,
    pub(crate) b: Option<usize>,
}

/// A method's value of one field on each side, as text (`None`: the side does not have it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ValueDiff {
    pub(crate) method: String,
    pub(crate) field: String,
    pub(crate) a: Option<String>,
    pub(crate) b: Option<String>,
}

/// Pairs the tables of two sides by key (two single tables pair whatever their keys) and
/// compares each pair; tables of one side only are listed as such, in A's order then B's.
pub(crate) fn compare_sheets(a: &[Sheet], b: &[Sheet], all: bool) -> Vec<TableDiff> {
    if let ([x], [y]) = (a, b) {
        return vec![compare(x, y, all)];
    }
    let mut out = vec![];
    for x in a {
        match b.iter().find(|y| y.key == x.key) {
            Some(y) => out.push(compare(x, y, all)),
            None => out.push(TableDiff::uncompared(&x.name, Status::OnlyInA, None)),
        }
    }
    for y in b.iter().filter(|y| !a.iter().any(|x| x.key == y.key)) {
        out.push(TableDiff::uncompared(&y.name, Status::OnlyInB, None));
    }
    out
}

/// Two tables compared: rows matched by method, columns by name. Only what differs is listed,
/// unless `all`.
pub(crate) fn compare(a: &Sheet, b: &Sheet, all: bool) -> TableDiff {
    let only = |x: &[String], y: &[String]| x.iter().filter(|c| !y.contains(c)).cloned().collect::<Vec<_>>();
    let methods = |s: &Sheet| s.rows.iter().map(|l| l.method.clone()).collect::<Vec<_>>();
    let mut out = TableDiff::uncompared(&b.name, Status::Compared, None);
    out.methods_added = only(&methods(b), &methods(a));
    out.methods_removed = only(&methods(a), &methods(b));
    out.columns_added = only(&b.columns, &a.columns);
    out.columns_removed = only(&a.columns, &b.columns);
    let columns: Vec<&String> = a.columns.iter().filter(|c| b.columns.contains(c)).collect();
    for x in &a.rows {
        let Some(y) = b.rows.iter().find(|y| y.method == x.method) else { continue };
        for column in &columns {
            let (p, q) = (
                x.summary.get(*column).copied().unwrap_or_default(),
                y.summary.get(*column).copied().unwrap_or_default(),
            );
            if all || p.mean != q.mean {
                out.metrics.push(metric(&x.method, column, p, q));
            }
        }
        let mut fields: Vec<&String> = x.values.keys().chain(y.values.keys()).collect();
        fields.sort();
        fields.dedup();
        for field in fields {
            let (p, q) = (x.values.get(field), y.values.get(field));
            if all || p != q {
                out.values.push(ValueDiff {
                    method: x.method.clone(),
                    field: field.clone(),
                    a: p.cloned(),
                    b: q.cloned(),
                });
            }
        }
    }
    let rank = |s: &Sheet, m: &str| s.ranks.iter().find(|(n, _)| n == m).map(|(_, r)| *r);
    let mut ranked: Vec<&String> = vec![];
    for (m, _) in b.ranks.iter().chain(&a.ranks) {
        if !ranked.contains(&m) {
            ranked.push(m);
        }
    }
    for m in ranked {
        let (p, q) = (rank(a, m), rank(b, m));
        if all || p != q {
            out.ranks.push(RankDiff { method: m.clone(), a: p, b: q });
        }
    }
    out
}

/// One cell compared.
fn metric(method: &str, column: &str, p: Stat, q: Stat) -> MetricDiff {
    let change = p.mean.zip(q.mean).map(|(x, y)| y - x);
    let relative = p.mean.zip(change).filter(|(x, _)| *x != 0.0).map(|(x, d)| 100.0 * d / x.abs());
    let significant = change.zip(p.ci95).zip(q.ci95).map(|((d, s), t)| d.abs() > (s * s + t * t).sqrt());
    MetricDiff { method: method.into(), column: column.into(), a: p.mean, b: q.mean, change, relative, significant }
}

/// What the plan comparison knows of one node: its label, its key, and each parameter the key
/// sees as (canonical text, compared) and (`.munl` spelling, shown).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct NodeFacts {
    pub(crate) label: String,
    pub(crate) key: String,
    pub(crate) params: BTreeMap<String, (String, String)>,
}

/// The nodes of a family (a declaration's nodes of one op: the label without its `[…]`) that
/// something applies to: every point the family has (on the sides concerned), or these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Family {
    pub(crate) family: String,
    /// Every node of the family (of the side, or of both sides for a change).
    pub(crate) all: bool,
    /// The points, as their labels write them (`seed=0`); empty for a family of one node.
    pub(crate) points: Vec<String>,
}

/// A parameter that differs between the nodes of a family in both plans, with its spelling on
/// each side (`None`: the node does not have it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FieldDiff {
    #[serde(flatten)]
    pub(crate) at: Family,
    pub(crate) field: String,
    pub(crate) a: Option<String>,
    pub(crate) b: Option<String>,
}

/// Two plans' nodes compared by label.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct NodesDiff {
    /// How many nodes each plan has.
    pub(crate) nodes_a: usize,
    pub(crate) nodes_b: usize,
    /// Nodes in both whose keys differ.
    pub(crate) changed: usize,
    pub(crate) only_in_a: Vec<Family>,
    pub(crate) only_in_b: Vec<Family>,
    /// One per family, field and pair of values.
    pub(crate) fields: Vec<FieldDiff>,
    /// Nodes whose keys differ with the same parameters: an input (upstream) or a version of the
    /// op changed.
    pub(crate) inputs: Vec<Family>,
}

impl NodesDiff {
    pub(crate) fn differs(&self) -> bool {
        self.changed > 0 || !self.only_in_a.is_empty() || !self.only_in_b.is_empty()
    }
}

/// A label as (family, point): `unlearn ft [seed=0]` → (`unlearn ft`, `seed=0`).
fn split(label: &str) -> (&str, &str) {
    label.strip_suffix(']').and_then(|l| l.rsplit_once(" [")).unwrap_or((label, ""))
}

/// Points as a [`Family`]: `all` when they are every point of `of`.
fn family(name: &str, points: Vec<String>, of: &[String]) -> Family {
    let all = of.iter().all(|p| points.contains(p));
    Family { family: name.to_string(), all, points: points.into_iter().filter(|p| !p.is_empty()).collect() }
}

/// Each family's points, in first-seen order.
fn by_family<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = vec![];
    for label in labels {
        let (f, p) = split(label);
        match out.iter_mut().find(|(g, _)| g == f) {
            Some((_, points)) => points.push(p.to_string()),
            None => out.push((f.to_string(), vec![p.to_string()])),
        }
    }
    out
}

/// Points written compactly: those that differ in one dimension only share a line whose
/// values are joined by `|` (`frac=0.3, seed=0|1|2`), recursively from the first dimension; one
/// line per block. Points of other shapes are kept as they are.
pub(crate) fn compact(points: &[String]) -> Vec<String> {
    let parsed: Option<Vec<Vec<(&str, &str)>>> =
        points.iter().map(|p| p.split(", ").map(|c| c.split_once('=')).collect()).collect();
    match parsed {
        Some(parsed) if !parsed.is_empty() && parsed.iter().all(|p| p.len() == parsed[0].len()) => blocks(&parsed),
        _ => points.to_vec(),
    }
}

/// [`compact`] of points with the same dimensions.
fn blocks(points: &[Vec<(&str, &str)>]) -> Vec<String> {
    let Some(first) = points.first() else { return vec![] };
    let dims = first.len();
    if dims == 0 || points.iter().any(|p| p.iter().map(|(d, _)| d).ne(first.iter().map(|(d, _)| d))) {
        return points
            .iter()
            .map(|p| p.iter().map(|(d, v)| format!("{d}={v}")).collect::<Vec<_>>().join(", "))
            .collect();
    }
    let values: Vec<Vec<&str>> = (0..dims).map(|i| super::present::distinct(points.iter().map(|p| p[i].1))).collect();
    let mut unique = points.to_vec();
    unique.sort();
    unique.dedup();
    if values.iter().map(Vec::len).product::<usize>() == unique.len() {
        let parts: Vec<String> = first.iter().zip(&values).map(|((d, _), v)| format!("{d}={}", v.join("|"))).collect();
        return vec![parts.join(", ")];
    }
    let mut out = vec![];
    for v in &values[0] {
        let rest: Vec<Vec<(&str, &str)>> = points.iter().filter(|p| p[0].1 == *v).map(|p| p[1..].to_vec()).collect();
        out.extend(blocks(&rest).into_iter().map(|r| format!("{}={v}, {r}", first[0].0)));
    }
    out
}

/// Two plans compared: nodes only in one, and for nodes in both with different keys, the
/// parameters that differ, grouped per family and field (and values).
pub(crate) fn compare_nodes(a: &[NodeFacts], b: &[NodeFacts]) -> NodesDiff {
    let in_a: std::collections::HashMap<&str, &NodeFacts> = a.iter().map(|n| (n.label.as_str(), n)).collect();
    let in_b: std::collections::HashMap<&str, &NodeFacts> = b.iter().map(|n| (n.label.as_str(), n)).collect();
    let only = |side: &[NodeFacts], other: &std::collections::HashMap<&str, &NodeFacts>| {
        let families = by_family(side.iter().map(|n| n.label.as_str()));
        by_family(side.iter().map(|n| n.label.as_str()).filter(|l| !other.contains_key(l)))
            .into_iter()
            .map(|(f, points)| {
                let of = families.iter().find(|(g, _)| *g == f).map_or(&[][..], |(_, p)| p.as_slice());
                family(&f, points, of)
            })
            .collect::<Vec<_>>()
    };
    let both: Vec<(&NodeFacts, &NodeFacts)> =
        a.iter().filter_map(|x| in_b.get(x.label.as_str()).map(|y| (x, *y))).collect();
    let common = by_family(both.iter().map(|(x, _)| x.label.as_str()));
    let of = |f: &str| common.iter().find(|(g, _)| g == f).map_or(&[][..], |(_, p)| p.as_slice());
    // (family, field, a, b) → points; family → points.
    type Change = (String, String, Option<String>, Option<String>);
    let mut fields: Vec<(Change, Vec<String>)> = vec![];
    let mut inputs: Vec<(String, Vec<String>)> = vec![];
    let mut changed = 0;
    for (x, y) in both.iter().filter(|(x, y)| x.key != y.key) {
        changed += 1;
        let (f, point) = split(&x.label);
        let mut names: Vec<&String> = x.params.keys().chain(y.params.keys()).collect();
        names.sort();
        names.dedup();
        let mut any = false;
        for name in names {
            let (p, q) = (x.params.get(name), y.params.get(name));
            if p.map(|(c, _)| c) == q.map(|(c, _)| c) {
                continue;
            }
            any = true;
            let at = (f.to_string(), name.clone(), p.map(|(_, s)| s.clone()), q.map(|(_, s)| s.clone()));
            match fields.iter_mut().find(|(k, _)| *k == at) {
                Some((_, points)) => points.push(point.to_string()),
                None => fields.push((at, vec![point.to_string()])),
            }
        }
        if !any {
            match inputs.iter_mut().find(|(g, _)| g == f) {
                Some((_, points)) => points.push(point.to_string()),
                None => inputs.push((f.to_string(), vec![point.to_string()])),
            }
        }
    }
    NodesDiff {
        nodes_a: a.len(),
        nodes_b: b.len(),
        changed,
        only_in_a: only(a, &in_b),
        only_in_b: only(b, &in_a),
        fields: fields
            .into_iter()
            .map(|((f, field, p, q), points)| FieldDiff { at: family(&f, points, of(&f)), field, a: p, b: q })
            .collect(),
        inputs: inputs.into_iter().map(|(f, points)| family(&f, points, of(&f))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A table as `report.json` writes it: rows of (method, retain_acc mean, ci95), the ranking.
    fn table(rows: &[(&str, Option<f64>, Option<f64>)], ranking: &[&str]) -> J {
        json!({
            "title": "bench",
            "columns": ["retain_acc", "test_acc"],
            "rows": rows.iter().map(|(m, mean, ci)| json!({
                "method": m,
                "summary": {
                    "retain_acc": {"n": 3, "mean": mean, "std": 0.01, "ci95": ci},
                    "test_acc": {"n": 3, "mean": 0.5, "std": 0.0, "ci95": 0.0},
                },
            })).collect::<Vec<_>>(),
            "ranking": ranking.iter().enumerate().map(|(i, m)| json!({"rank": i + 1, "method": m})).collect::<Vec<_>>(),
        })
    }

    fn one(a: &J, b: &J) -> TableDiff {
        let d = compare_sheets(&sheets(a).unwrap(), &sheets(b).unwrap(), false);
        assert_eq!(d.len(), 1);
        d.into_iter().next().unwrap()
    }

    #[test]
    fn a_change_beyond_the_combined_ci_is_significant_and_one_within_is_not() {
        let a = table(&[("ft", Some(0.90), Some(0.01)), ("ga", Some(0.50), Some(0.10))], &["ft", "ga"]);
        let b = table(&[("ft", Some(0.95), Some(0.01)), ("ga", Some(0.55), Some(0.10))], &["ft", "ga"]);
        let d = one(&a, &b);
        assert_eq!(d.status, Status::Compared);
        // test_acc is unchanged: not listed.
        assert_eq!(d.metrics.len(), 2, "{d:?}");
        let ft = &d.metrics[0];
        assert_eq!((ft.method.as_str(), ft.column.as_str()), ("ft", "retain_acc"));
        assert!((ft.change.unwrap() - 0.05).abs() < 1e-12);
        assert!((ft.relative.unwrap() - 100.0 * 0.05 / 0.90).abs() < 1e-9);
        // 0.05 > √(0.01² + 0.01²) ≈ 0.014; 0.05 < √(0.1² + 0.1²) ≈ 0.14.
        assert_eq!(ft.significant, Some(true));
        assert_eq!(d.metrics[1].significant, Some(false));
        assert!(d.differs());
        assert!(d.ranks.is_empty());
    }

    #[test]
    fn without_a_ci_nothing_is_judged_and_undefined_means_have_no_change() {
        let a = table(&[("ft", Some(0.0), None), ("ga", None, Some(0.1))], &[]);
        let b = table(&[("ft", Some(0.2), Some(0.01)), ("ga", Some(0.3), Some(0.1))], &[]);
        let d = one(&a, &b);
        let ft = &d.metrics[0];
        assert_eq!((ft.significant, ft.relative), (None, None), "no CI on A, and no % of 0");
        let ga = &d.metrics[1];
        assert_eq!((ga.a, ga.b, ga.change, ga.significant), (None, Some(0.3), None, None));
    }

    #[test]
    fn methods_columns_and_ranks_added_or_removed_are_listed() {
        let a = table(&[("ft", Some(0.9), Some(0.01)), ("ga", Some(0.5), Some(0.1))], &["ft", "ga"]);
        let mut b = table(&[("l1", Some(0.8), Some(0.01)), ("ft", Some(0.9), Some(0.01))], &["l1", "ft"]);
        b["columns"] = json!(["retain_acc", "rte"]);
        let d = one(&a, &b);
        assert_eq!(d.methods_added, ["l1"]);
        assert_eq!(d.methods_removed, ["ga"]);
        assert_eq!(d.columns_added, ["rte"]);
        assert_eq!(d.columns_removed, ["test_acc"]);
        assert!(d.metrics.is_empty(), "ft's retain_acc is unchanged: {d:?}");
        assert_eq!(
            d.ranks,
            [
                RankDiff { method: "l1".into(), a: None, b: Some(1) },
                RankDiff { method: "ft".into(), a: Some(1), b: Some(2) },
                RankDiff { method: "ga".into(), a: Some(2), b: None },
            ]
        );
    }

    #[test]
    fn identical_tables_differ_in_nothing_unless_all_is_asked() {
        let a = table(&[("ft", Some(0.9), Some(0.01))], &["ft"]);
        let d = one(&a, &a);
        assert!(!d.differs() && d.metrics.is_empty() && d.ranks.is_empty(), "{d:?}");
        let all = compare_sheets(&sheets(&a).unwrap(), &sheets(&a).unwrap(), true);
        assert_eq!(all[0].metrics.len(), 2);
        assert_eq!(all[0].ranks, [RankDiff { method: "ft".into(), a: Some(1), b: Some(1) }]);
        assert!(!all[0].differs());
    }

    #[test]
    fn model_values_are_compared_per_method_in_either_place_they_are_written() {
        let mut a = table(&[("ft", Some(0.9), Some(0.01))], &[]);
        let mut b = a.clone();
        a["rows"][0]["values"] = json!({"lr": "0.01", "epochs": "1"});
        b["rows"][0]["model"] =
            json!({"kind": "unlearn", "op": "finetune", "values": {"lr": "0.02", "epochs": "1", "momentum": "0.9"}});
        let d = one(&a, &b);
        assert_eq!(
            d.values,
            [
                ValueDiff { method: "ft".into(), field: "lr".into(), a: Some("0.01".into()), b: Some("0.02".into()) },
                ValueDiff { method: "ft".into(), field: "momentum".into(), a: None, b: Some("0.9".into()) },
            ]
        );
        assert!(d.differs());
    }

    #[test]
    fn groups_match_by_coordinates_and_settings_by_name() {
        let group = |frac: &str, mean: f64| {
            let mut t = table(&[("ft", Some(mean), Some(0.0))], &[]);
            t["coords"] = json!({"frac": frac});
            t
        };
        let a = json!({"title": "bench", "dimensions": ["frac"], "groups": [group("0.1", 0.9), group("0.2", 0.8)]});
        let b = json!({"title": "bench", "dimensions": ["frac"], "groups": [group("0.2", 0.7), group("0.3", 0.6)]});
        let d = compare_sheets(&sheets(&a).unwrap(), &sheets(&b).unwrap(), false);
        let status: Vec<(&str, Status)> = d.iter().map(|t| (t.name.as_str(), t.status)).collect();
        assert_eq!(
            status,
            [("frac = 0.1", Status::OnlyInA), ("frac = 0.2", Status::Compared), ("frac = 0.3", Status::OnlyInB)]
        );
        assert_eq!(d[1].metrics[0].b, Some(0.7));

        let setting =
            |name: &str, mean: f64| json!({"name": name, "table": table(&[("ft", Some(mean), Some(0.0))], &[])});
        let a =
            json!({"title": "all", "settings": [setting("mr.bench", 0.9), setting("cv.bench", 0.5)], "methods": []});
        let b =
            json!({"title": "all", "settings": [setting("cv.bench", 0.6), setting("mr.bench", 0.9)], "methods": []});
        let d = compare_sheets(&sheets(&a).unwrap(), &sheets(&b).unwrap(), false);
        assert_eq!(d.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["mr.bench", "cv.bench"]);
        assert!(!d[0].differs() && d[1].differs());
    }

    #[test]
    fn json_that_is_no_report_is_refused_and_repeated_methods_are_told_apart() {
        assert!(sheets(&json!({"hello": 1})).is_err());
        assert!(sheets(&json!({"groups": [{"coords": {}}]})).is_err(), "a group without rows");
        let s = sheets(&table(&[("ft", Some(0.1), None), ("ft", Some(0.2), None)], &[])).unwrap();
        assert_eq!(s[0].rows.iter().map(|l| l.method.as_str()).collect::<Vec<_>>(), ["ft", "ft #2"]);
    }

    #[test]
    fn a_cached_table_reads_as_its_report_shows_it() {
        let row = |mean: f64| json!({"seeds": [], "summary": {"retain_acc": {"n": 2, "mean": mean, "std": 0.0, "ci95": null}}});
        let t: Table = serde_json::from_value(
            json!({"columns": ["retain_acc"], "shown": 2, "reference": 1, "rows": [row(0.9), row(0.8)], "ranking": []}),
        )
        .unwrap();
        let label = |n: &str| RowLabel { name: n.into(), dataset: "toy".into(), arch: "cnn".into() };
        let s = table_sheet("evaluate bench", &t, &[label("ft")]).unwrap();
        assert_eq!(s.key, "evaluate bench");
        assert_eq!(s.rows.iter().map(|l| l.method.as_str()).collect::<Vec<_>>(), ["ft", "row 2"]);
        assert_eq!(s.rows[0].summary["retain_acc"], Stat { mean: Some(0.9), ci95: None });
    }

    #[test]
    fn points_are_written_as_blocks_of_one_varying_dimension() {
        let p = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(compact(&p(&["seed=0", "seed=1", "seed=2"])), ["seed=0|1|2"]);
        let grid = p(&[
            "frac=0.3, lr=0.01, seed=0",
            "frac=0.3, lr=0.05, seed=0",
            "frac=0.3, lr=0.01, seed=1",
            "frac=0.3, lr=0.05, seed=1",
        ]);
        assert_eq!(compact(&grid), ["frac=0.3, lr=0.01|0.05, seed=0|1"]);
        let ragged = p(&["frac=0.05, seed=2", "frac=0.3, seed=0", "frac=0.3, seed=1"]);
        assert_eq!(compact(&ragged), ["frac=0.05, seed=2", "frac=0.3, seed=0|1"]);
        assert_eq!(compact(&p(&["a=1", "b=2, c=3"])), ["a=1", "b=2, c=3"], "different shapes are kept");
        assert_eq!(compact(&p(&["odd"])), ["odd"]);
    }

    fn node(label: &str, key: &str, params: &[(&str, &str)]) -> NodeFacts {
        NodeFacts {
            label: label.into(),
            key: key.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), (v.to_string(), v.to_string()))).collect(),
        }
    }

    #[test]
    fn plans_are_compared_per_family_and_field_with_the_points_affected() {
        let a = vec![
            node("unlearn ft [seed=0]", "a0", &[("lr", "0.01"), ("epochs", "1")]),
            node("unlearn ft [seed=1]", "a1", &[("lr", "0.01"), ("epochs", "1")]),
            node("train original [seed=0]", "t0", &[("epochs", "2")]),
            node("train original [seed=1]", "t1", &[("epochs", "2")]),
            node("measure ft [seed=0]", "m0", &[]),
            node("measure ft [seed=1]", "m1", &[]),
            node("unlearn ga [seed=0]", "g0", &[]),
            node("evaluate bench", "e", &[("rows", "3")]),
        ];
        let b = vec![
            node("unlearn ft [seed=0]", "b0", &[("lr", "0.02"), ("epochs", "1")]),
            node("unlearn ft [seed=1]", "b1", &[("lr", "0.02"), ("epochs", "1")]),
            node("train original [seed=0]", "t0", &[("epochs", "2")]),
            node("train original [seed=1]", "u1", &[("epochs", "3"), ("batch", "32")]),
            node("measure ft [seed=0]", "n0", &[]),
            node("measure ft [seed=1]", "n1", &[]),
            node("unlearn l1 [seed=0]", "l0", &[]),
            node("unlearn l1 [seed=1]", "l1", &[]),
            node("evaluate bench", "f", &[("rows", "3")]),
        ];
        let d = compare_nodes(&a, &b);
        assert_eq!((d.nodes_a, d.nodes_b, d.changed), (8, 9, 6));
        let fam = |f: &str, all: bool, p: &[&str]| Family {
            family: f.into(),
            all,
            points: p.iter().map(|s| s.to_string()).collect(),
        };
        let field = |at: Family, field: &str, a: Option<&str>, b: Option<&str>| FieldDiff {
            at,
            field: field.into(),
            a: a.map(String::from),
            b: b.map(String::from),
        };
        assert_eq!(
            d.fields,
            [
                field(fam("unlearn ft", true, &["seed=0", "seed=1"]), "lr", Some("0.01"), Some("0.02")),
                field(fam("train original", false, &["seed=1"]), "batch", None, Some("32")),
                field(fam("train original", false, &["seed=1"]), "epochs", Some("2"), Some("3")),
            ]
        );
        assert_eq!(d.inputs, [fam("measure ft", true, &["seed=0", "seed=1"]), fam("evaluate bench", true, &[])]);
        assert_eq!(d.only_in_a, [fam("unlearn ga", true, &["seed=0"])]);
        assert_eq!(d.only_in_b, [fam("unlearn l1", true, &["seed=0", "seed=1"])]);
        assert!(d.differs());
        assert!(!compare_nodes(&a, &a).differs());
    }
}
