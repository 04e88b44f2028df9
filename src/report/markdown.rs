//! The Markdown rendering: the paper-shaped summary, retention as ratio of means and the
//! ranking, then every metric and the per-seed rows. The CLI prints it up to [`DETAILS`].

use std::fmt::Write as _;

use super::present::{header, opt, paper_columns, pm, seeds_of, Labels};
use crate::artifact::table::Table;

/// Heading that ends what the CLI prints at the end of a run: `summary_markdown` cuts there.
pub(crate) const DETAILS: &str = "\n### all metrics";

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
                let cell = row.paper(c).map_or("–".into(), |a| {
                    // An aggregate over fewer seeds than the table has says over how many.
                    let partial =
                        if a.n < n && a.mean.is_finite() { format!(" ({}/{n} seeds)", a.n) } else { String::new() };
                    pm(&a, a.ci95) + &partial
                });
                let _ = write!(s, " {cell} |");
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
            s.push_str(
                "Indisc = 1 − |2·m − 1| of the mean test MIA m over the seeds, as the reference reports it \
                 (the mean of the per-seed values is under all metrics).\n",
            );
        }
        if paper.iter().any(|(c, _)| *c == "rte") {
            s.push_str("RTE = reference's time ÷ the model's time, same seed.\n");
        }
    }
    let notes = footnotes(t, l);
    if !notes.is_empty() {
        s.push_str("\n### unavailable values\n\n");
        s.push_str(&notes);
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
            "\nRanked by RetDev as ratio of means (ascending), equal values by Indisc of the mean test MIA (descending). \
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

/// Every metric of the shown rows, mean ± std.
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

/// One line per (model, seed) with missing values, saying why: "- ga, seed 0: the run diverged
/// (…); `mia_test` unavailable: …". Empty when nothing is missing.
fn footnotes(t: &Table, l: &Labels) -> String {
    let mut out = String::new();
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        for seed in row.seeds.iter().filter(|s| !s.notes.is_empty()) {
            let _ = writeln!(out, "- {}, seed {}: {}", l.method(i), seed.seed, seed.notes.join("; "));
        }
    }
    for r in t.ranking.iter().filter(|r| r.note.is_some()) {
        let _ = writeln!(out, "- {} ranks last: {}", l.method(r.row), r.note.as_deref().unwrap_or_default());
    }
    out
}
