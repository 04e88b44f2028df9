//! The JSON rendering: every number of the table, with names and notes on the definitions; a
//! grouped report has that per group, with the group's coordinates; a report across settings has
//! that per setting, with each method's ranks across the settings.

use super::across::{analyse, Method, Spread, RULES};
use super::present::{dimensions, Group, Labels, Setting};
use crate::artifact::table::{Aggregate, Table};

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
                "indisc_of_mean_mia": row.indisc_of_mean,
                "model": row.model,
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
        "context": t.context.iter().map(|(what, text)| serde_json::json!({"kind": what, "text": text})).collect::<Vec<_>>(),
        "reference": t.reference.map(|r| l.method(r)),
        "columns": t.columns,
        "rows": rows,
        "ranking": ranking,
        "notes": {
            "summary": "mean, sample std (ddof 1) and 95 % Student-t CI half-width over the seeds; rr, fr, tr, retdev in `summary` are means of per-seed ratios against the reference of the same seed",
            "ratio_of_means": "mean accuracy over the seeds divided by the reference's mean accuracy",
            "indisc_of_mean_mia": "1 - |2m - 1| of the mean test MIA m over the seeds: the reference's Indisc; summary.indiscernibility is the mean of the per-seed values",
            "ranking": "retdev_ratio_of_means ascending, then indisc (of the mean test MIA) descending; tied_with: methods whose 95 % CIs of per-seed RetDev overlap",
        },
    })
}

/// [`json`] as the text of `report.json`: pretty-printed, ending in a newline.
pub(crate) fn text(t: &Table, l: &Labels) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(&stamped(json(t, l)))? + "\n")
}

/// A grouped report: the title, the grouping dimensions in order, and per group its coordinates
/// (`coords`: dimension → value as shown) beside everything [`json`] gives for its table.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> serde_json::Value {
    let each: Vec<serde_json::Value> = groups
        .iter()
        .map(|g| {
            let mut v = json(&g.table, l);
            v["coords"] = coords(&g.coords);
            v
        })
        .collect();
    serde_json::json!({
        "title": l.title,
        "dimensions": dimensions(groups),
        "groups": each,
    })
}

/// [`grouped`] as the text of `report.json`.
pub(crate) fn grouped_text(groups: &[Group], l: &Labels) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(&stamped(grouped(groups, l)))? + "\n")
}

/// Coordinates as an object: dimension → value as shown.
fn coords(coords: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(coords.iter().map(|(d, x)| (d.clone(), serde_json::Value::from(x.as_str()))).collect())
}

/// A report across settings: per setting its evaluation, name, dataset and architecture (`null`
/// unless every shown row shares it), coordinates and everything [`json`] gives for its table;
/// per method (best mean rank first) its rank per setting (`null` where absent or not ranked),
/// mean rank, range, count and top-group count, overall and per architecture; and notes.
pub(crate) fn across(title: &str, settings: &[Setting]) -> serde_json::Value {
    let a = analyse(settings);
    let each: Vec<serde_json::Value> = settings
        .iter()
        .zip(&a.settings)
        .map(|(s, n)| {
            serde_json::json!({
                "evaluation": s.evaluation,
                "name": n.name,
                "dataset": n.dataset,
                "model": n.arch,
                "coords": coords(&s.coords),
                "table": json(&s.table, &s.labels),
            })
        })
        .collect();
    let methods: Vec<serde_json::Value> = a.methods.iter().map(|m| method(m, &a.architectures)).collect();
    serde_json::json!({
        "title": title,
        "settings": each,
        "methods": methods,
        "notes": {
            "ranking": RULES,
            "ranks": "one entry per setting, in the order of `settings`: the method's rank there, null where the method is not in the setting or the setting has no ranking",
            "in_top_group": "per setting: whether the method is in its top group (rank 1 or statistically tied with rank 1), null where it is not ranked",
            "top_group": "in how many of the n settings that rank the method it is in the top group",
            "per_architecture": "mean, min, max and n of the ranks over the settings whose shown rows all have that architecture",
            "caveats": a.notes,
        },
    })
}

/// One method's ranks across the settings.
fn method(m: &Method, architectures: &[String]) -> serde_json::Value {
    let spread = |s: Option<Spread>| {
        serde_json::json!({
            "mean": s.map(|s| s.mean),
            "min": s.map(|s| s.min),
            "max": s.map(|s| s.max),
            "n": s.map_or(0, |s| s.n),
        })
    };
    let per_arch: serde_json::Map<String, serde_json::Value> =
        architectures.iter().zip(&m.per_arch).map(|(a, s)| (a.clone(), spread(*s))).collect();
    let overall = spread(m.overall);
    serde_json::json!({
        "method": m.name,
        "ranks": m.places.iter().map(|p| p.map(|p| p.rank)).collect::<Vec<_>>(),
        "in_top_group": m.places.iter().map(|p| p.map(|p| p.top)).collect::<Vec<_>>(),
        "mean_rank": overall["mean"],
        "min_rank": overall["min"],
        "max_rank": overall["max"],
        "n": overall["n"],
        "top_group": m.top,
        "per_architecture": per_arch,
    })
}

/// [`across`] as the text of `report.json`.
pub(crate) fn across_text(title: &str, settings: &[Setting]) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(&stamped(across(title, settings)))? + "\n")
}

/// The version of the layout of `report.json`: bumped when a field changes meaning or goes.
pub(crate) const SCHEMA: &str = "munl.report/2";

/// A report's JSON with its schema's version and the munl that wrote it.
fn stamped(v: serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert("schema".into(), SCHEMA.into());
    out.insert("munl".into(), env!("CARGO_PKG_VERSION").into());
    if let serde_json::Value::Object(fields) = v {
        out.extend(fields);
    }
    serde_json::Value::Object(out)
}
