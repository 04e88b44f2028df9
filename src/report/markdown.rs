//! The Markdown rendering: the paper-shaped summary, retention as ratio of means and the
//! ranking, then every metric and the per-seed rows. The CLI prints it up to [`DETAILS`].
//!
//! A grouped report puts every group's rows in one summary table (a column per grouping
//! dimension) followed by each method's rank per group; the details follow per group, under a
//! heading naming its coordinates.
//!
//! A report across settings leads with each method's rank per setting, its mean rank and range;
//! the details follow per setting, under a heading naming it.

use std::fmt::Write as _;

use super::across::{analyse, Across, Place, RULES};
use super::present::{
    dimensions, distinct, header, is_ulira, opt, paper_columns, paper_columns_in, pm, ranked_rows, seeds_in, seeds_of,
    Group, Labels, Setting,
};
use crate::artifact::table::Table;

/// Heading that ends what the CLI prints at the end of a run: `summary_markdown` cuts there.
pub(crate) const DETAILS: &str = "\n### all metrics";

/// Summary (paper-shaped, mean ± 95 % CI), retention as ratio of means, ranking, then every
/// metric (mean ± std) and the per-seed rows.
pub(crate) fn markdown(t: &Table, l: &Labels) -> String {
    let mut s = format!("## {}\n\n", l.title);
    body(&mut s, t, l, "###");
    s
}

/// Everything of [`markdown`] below its title, with headings of level `h`: at `###` the heading
/// of every metric is [`DETAILS`].
fn body(s: &mut String, t: &Table, l: &Labels, h: &str) {
    s.push_str(&context(t));
    let n = seeds_of(t);
    let paper = paper_columns(t);
    if !paper.is_empty() {
        let _ = write!(s, "{h} summary: mean ± 95 % CI over {n} seed(s)\n\n");
        paper_head(s, &[], &paper);
        paper_rows(s, &[], t, &paper, l, n);
        paper_notes(s, &paper, n);
    }
    let notes = footnotes(t, l, "");
    if !notes.is_empty() {
        let _ = write!(s, "\n{h} unavailable values\n\n");
        s.push_str(&notes);
    }
    details(s, t, l, h);
}

/// Retention as ratio of means, the ranking, every metric (mean ± std) and the per-seed rows,
/// under headings of level `h`.
fn details(s: &mut String, t: &Table, l: &Labels, h: &str) {
    models(s, t, l, h);
    retention(s, t, l, h);
    ranking(s, t, l, h);
    let _ = write!(s, "\n{h} all metrics (mean ± std)\n\n");
    s.push_str(&all_metrics(t, l));
    let _ = writeln!(s, "\nmean ± sample std over {} seed(s).\n", seeds_of(t));
    per_seed(s, t, l, h);
}

/// A grouped report: one paper-shaped summary of every group's rows (a column per grouping
/// dimension), each method's rank per group and the unavailable values; then, per group under a
/// heading naming it, retention as ratio of means, the ranking, every metric and the per-seed
/// rows.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> String {
    let mut s = format!("## {}\n\n", l.title);
    let contexts = distinct(groups.iter().map(|g| context(&g.table)));
    if let [one] = contexts.as_slice() {
        s.push_str(one);
    }
    let dims = dimensions(groups);
    let n = seeds_in(groups);
    let paper = paper_columns_in(groups);
    if !paper.is_empty() {
        let _ = write!(s, "### summary: mean ± 95 % CI over {n} seed(s)\n\n");
        paper_head(&mut s, &dims, &paper);
        for g in groups {
            paper_rows(&mut s, &g.values(), &g.table, &paper, l, n);
        }
        paper_notes(&mut s, &paper, n);
        let _ = writeln!(
            s,
            "Each group ({}) is a separate evaluation: ratios are to the reference of the same group.",
            dims.join(", ")
        );
    }
    let notes: String = groups.iter().map(|g| footnotes(&g.table, l, &format!("{}: ", g.name()))).collect();
    if !notes.is_empty() {
        s.push_str("\n### unavailable values\n\n");
        s.push_str(&notes);
    }
    ranks(&mut s, &dims, groups, l);
    s.push_str(DETAILS);
    s.push_str(
        ", per group\n\nPer group: retention as ratio of means, the ranking, every metric (mean ± std) and the \
         per-seed rows.\n",
    );
    for g in groups {
        let _ = writeln!(s, "\n### {}", g.name());
        if contexts.len() > 1 {
            s.push('\n');
            s.push_str(&context(&g.table));
        }
        details(&mut s, &g.table, l, "####");
    }
    s
}

/// A report across settings: each method's rank per setting with its mean rank, range, top-group
/// count and per-architecture mean, the rule behind them and what keeps ranks from being
/// compared; then, per setting under a heading naming it, everything [`markdown`] shows of its
/// table.
pub(crate) fn across(title: &str, settings: &[Setting]) -> String {
    let a = analyse(settings);
    let mut s = format!("## {title}\n\n");
    ranks_across(&mut s, &a);
    if !a.notes.is_empty() {
        s.push_str("\n### notes\n\n");
        for note in &a.notes {
            let _ = writeln!(s, "- {note}");
        }
    }
    s.push_str(DETAILS);
    s.push_str(
        ", per setting\n\nPer setting: the paper-shaped summary, retention as ratio of means, the ranking, every \
         metric (mean ± std) and the per-seed rows.\n",
    );
    for (setting, named) in settings.iter().zip(&a.settings) {
        let _ = writeln!(s, "\n### {}\n", named.name);
        body(&mut s, &setting.table, &setting.labels, "####");
    }
    s
}

/// The table of ranks across settings: a row per method, best mean rank first; a column per
/// architecture (mean and range) and per setting (the rank, bold in the top group).
fn ranks_across(s: &mut String, a: &Across) {
    s.push_str("### ranks across settings\n\n| method | mean rank | range (min–max) | top group |");
    for arch in &a.architectures {
        let _ = write!(s, " {arch}: mean (range) |");
    }
    for n in &a.settings {
        let _ = write!(s, " {} |", n.name);
    }
    s.push_str("\n|---|");
    s.push_str(&"---:|".repeat(3 + a.architectures.len() + a.settings.len()));
    s.push('\n');
    for m in &a.methods {
        let (mean, range) = m.overall.map_or(("–".into(), "–".into()), |o| (o.mean_cell(), o.range("–")));
        let _ = write!(s, "| {} | {mean} | {range} | {} |", m.name, m.top_cell());
        for p in &m.per_arch {
            let _ = write!(s, " {} |", p.map_or("–".into(), |p| format!("{} ({})", p.mean_cell(), p.range("–"))));
        }
        for &p in &m.places {
            let _ = write!(s, " {} |", Place::cell(p, |r| format!("**{r}**"), "–"));
        }
        s.push('\n');
    }
    let _ = writeln!(s, "\n{RULES} Bold: in the setting's top group; –: not in the setting, or not ranked there.");
}

/// The header of the paper-shaped summary: a column per grouping dimension, the method, then
/// the paper columns.
fn paper_head(s: &mut String, dims: &[&str], paper: &[(&str, &str)]) {
    s.push('|');
    for d in dims {
        let _ = write!(s, " {d} |");
    }
    s.push_str(" method |");
    for (_, h) in paper {
        let _ = write!(s, " {h} |");
    }
    s.push_str("\n|");
    s.push_str(&"---|".repeat(dims.len() + 1));
    s.push_str(&"---:|".repeat(paper.len()));
    s.push('\n');
}

/// The summary rows of one table (mean ± 95 % CI), each led by the cells `lead` (the group's
/// coordinates); `n` is the number of seeds a complete aggregate has.
fn paper_rows(s: &mut String, lead: &[&str], t: &Table, paper: &[(&str, &str)], l: &Labels, n: usize) {
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        s.push('|');
        for v in lead {
            let _ = write!(s, " {v} |");
        }
        let _ = write!(s, " {} |", l.shown_name(t, i));
        for (c, _) in paper {
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
}

/// What the summary's numbers are.
fn paper_notes(s: &mut String, paper: &[(&str, &str)], n: usize) {
    s.push('\n');
    if paper.iter().any(|(c, _)| !is_ulira(c)) {
        let _ = writeln!(s, "mean ± 95 % CI half-width (Student t) over {n} seed(s).");
        if n < 3 {
            // Student's t at 1 degree of freedom is 12.7: two seeds give intervals that tie
            // almost everything; one gives none.
            let _ = writeln!(
                s,
                "**{n} seed(s) only:** {} to compare methods; the reference uses 10 (`seeds = 0..10`).",
                if n == 1 { "no interval, nothing" } else { "intervals 12.7 × the standard error wide, too few" }
            );
        }
    }
    if paper.iter().any(|(c, _)| is_ulira(c)) {
        s.push_str(
            "U-LiRA (the Deep Unlearn paper's unlearning LiRA; reference code munl/lira/), over each model's runs: P = NaN-mean membership probability of the \
             forgotten cases (ideal 0.5), AUC against never-seen cases, ± 95 % CI over samples; NaN = share \
             of forgotten cases with an undefined P (the reference's binary correctness has σ = 0 wherever a \
             model is always right). LiRA-conf.: the same attack on logit-scaled confidence (Hayes et al.). \
             The in-sample fit puts the noise floor above 0.5: compare with Retrain's row.\n",
        );
    }
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

/// What the rows were trained on, as a paragraph: `dataset mnist: … · model net = cnn(…)`;
/// empty for a table that does not say.
fn context(t: &Table) -> String {
    if t.context.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = t.context.iter().map(|(what, text)| format!("{what} `{text}`")).collect();
    format!("{}\n\n", parts.join(" · "))
}

/// Each shown row's model: its op, the values the file wrote or the search chose (marked `*`),
/// its defaults and its key, under a heading of level `h`; nothing for a table without them.
fn models(s: &mut String, t: &Table, l: &Labels, h: &str) {
    if t.rows.iter().take(t.shown).all(|r| r.model.is_none()) {
        return;
    }
    let _ =
        write!(s, "\n{h} models: values used\n\n| method | op | values | defaults | key |\n|---|---|---|---|---|\n");
    let mut searched = false;
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let Some(m) = &row.model else { continue };
        let origin = |k: &str| m.origins.get(k).map_or("written", String::as_str);
        let list = |pick: &dyn Fn(&str) -> bool| -> String {
            let items: Vec<String> = m
                .values
                .iter()
                .filter(|(k, _)| pick(origin(k)))
                .map(|(k, v)| format!("{k} = {v}{}", if origin(k) == "searched" { " *" } else { "" }))
                .collect();
            if items.is_empty() {
                "–".into()
            } else {
                format!("`{}`", items.join("`, `"))
            }
        };
        searched |= m.origins.values().any(|o| o == "searched");
        let key = row
            .seeds
            .first()
            .and_then(|s| s.key.as_deref())
            .map_or("–".into(), |k| format!("`{}`", &k[..k.len().min(12)]));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {key} |",
            l.shown_name(t, i),
            m.op,
            list(&|o| o != "default"),
            list(&|o| o == "default"),
        );
    }
    s.push_str("\nvalues: written in the file");
    if searched {
        s.push_str(", or chosen by the search (`*`, the best trial's)");
    }
    s.push_str("; defaults: the catalogue's. key: the first seed's model (`munl show FILE KEY`; every seed's is under per seed).\n");
}

/// Retention as ratio of means, under a heading of level `h`; nothing without retention.
fn retention(s: &mut String, t: &Table, l: &Labels, h: &str) {
    if !t.rows.iter().take(t.shown).any(|r| !r.ratio_of_means.is_empty()) {
        return;
    }
    let _ =
        write!(s, "\n{h} retention, ratio of means\n\n| method | RR | FR | TR | RetDev |\n|---|---:|---:|---:|---:|\n");
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let _ = write!(s, "| {} |", l.shown_name(t, i));
        for k in ["rr", "fr", "tr", "retdev"] {
            let _ = write!(s, " {} |", opt(row.ratio_of_means.get(k).copied().flatten()));
        }
        s.push('\n');
    }
    s.push_str("\nmean accuracy over the seeds ÷ the reference's mean accuracy.\n");
}

/// The ranking with its ties, under a heading of level `h`; nothing without a ranking.
fn ranking(s: &mut String, t: &Table, l: &Labels, h: &str) {
    if t.ranking.is_empty() {
        return;
    }
    let _ = write!(
        s,
        "\n{h} ranking\n\n| rank | method | RetDev (ratio of means) | RetDev (mean ± 95 % CI) | Indisc | tied with |\n\
         |---:|---|---:|---:|---:|---|\n"
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

/// Each ranked method's rank per group: a row per group (its coordinates first), a column per
/// method ranked in any group; nothing when no group has a ranking.
fn ranks(s: &mut String, dims: &[&str], groups: &[Group], l: &Labels) {
    let ranked = ranked_rows(groups);
    if ranked.is_empty() {
        return;
    }
    s.push_str("\n### rank per group\n\n|");
    for d in dims {
        let _ = write!(s, " {d} |");
    }
    for &i in &ranked {
        let _ = write!(s, " {} |", l.method(i));
    }
    s.push_str("\n|");
    s.push_str(&"---|".repeat(dims.len()));
    s.push_str(&"---:|".repeat(ranked.len()));
    s.push('\n');
    for g in groups {
        s.push('|');
        for v in g.values() {
            let _ = write!(s, " {v} |");
        }
        for &i in &ranked {
            match g.table.ranking.iter().find(|r| r.row == i) {
                Some(r) => {
                    let _ = write!(s, " {}{} |", r.rank, if r.tied_with.is_empty() { "" } else { " ≈" });
                }
                None => s.push_str(" – |"),
            }
        }
        s.push('\n');
    }
    s.push_str(
        "\nRank within the group by RetDev as ratio of means, ties broken by Indisc; ≈: statistically tied with \
         another method of the group (the rankings per group are below).\n",
    );
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

/// Every seed's values of the shown rows, under a heading of level `h`.
fn per_seed(s: &mut String, t: &Table, l: &Labels, h: &str) {
    let keyed = t.rows.iter().any(|r| r.seeds.iter().any(|s| s.key.is_some()));
    let _ = write!(s, "{h} per seed\n\n| model | seed |");
    for c in &t.columns {
        let _ = write!(s, " {} |", header(c));
    }
    s.push_str(if keyed { " key |\n|---|---|" } else { "\n|---|---|" });
    s.push_str(&"---:|".repeat(t.columns.len()));
    s.push_str(if keyed { "---|\n" } else { "\n" });
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        for seed in &row.seeds {
            let _ = write!(s, "| {} | {} |", l.method(i), seed.seed);
            for c in &t.columns {
                let _ = write!(s, " {} |", opt(seed.values.get(c).copied().flatten()));
            }
            if keyed {
                let _ = write!(s, " `{}` |", seed.key.as_deref().map_or("–", |k| &k[..k.len().min(12)]));
            }
            s.push('\n');
        }
    }
}

/// One line per (model, seed) with missing values, saying why: "- ga, seed 0: the run diverged
/// (…); `mia_test` unavailable: …", each led by `prefix` (a group's name). Empty when nothing is
/// missing.
fn footnotes(t: &Table, l: &Labels, prefix: &str) -> String {
    let mut out = String::new();
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        for seed in row.seeds.iter().filter(|s| !s.notes.is_empty()) {
            let _ = writeln!(out, "- {prefix}{}, seed {}: {}", l.method(i), seed.seed, seed.notes.join("; "));
        }
    }
    for r in t.ranking.iter().filter(|r| r.note.is_some()) {
        let _ = writeln!(out, "- {prefix}{} ranks last: {}", l.method(r.row), r.note.as_deref().unwrap_or_default());
    }
    out
}
