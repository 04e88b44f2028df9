//! The JSON rendering: every number of the table, with names and notes on the definitions; a
//! grouped report has that per group, with the group's coordinates.

use super::present::{dimensions, Group, Labels};
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
            "indisc_of_mean_mia": "1 - |2m - 1| of the mean test MIA m over the seeds: the reference's Indisc; summary.indiscernibility is the mean of the per-seed values",
            "ranking": "retdev_ratio_of_means ascending, then indisc (of the mean test MIA) descending; tied_with: methods whose 95 % CIs of per-seed RetDev overlap",
        },
    })
}

/// [`json`] as the text of `report.json`: pretty-printed, ending in a newline.
pub(crate) fn text(t: &Table, l: &Labels) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(&json(t, l))? + "\n")
}

/// A grouped report: the title, the grouping dimensions in order, and per group its coordinates
/// (`coords`: dimension → value as shown) beside everything [`json`] gives for its table.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> serde_json::Value {
    let each: Vec<serde_json::Value> = groups
        .iter()
        .map(|g| {
            let mut v = json(&g.table, l);
            let coords: serde_json::Map<String, serde_json::Value> =
                g.coords.iter().map(|(d, x)| (d.clone(), serde_json::Value::from(x.as_str()))).collect();
            v["coords"] = serde_json::Value::Object(coords);
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
    Ok(serde_json::to_string_pretty(&grouped(groups, l))? + "\n")
}
