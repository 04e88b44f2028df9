//! The LaTeX rendering: one booktabs `tabular` (needs `\usepackage{booktabs}`), to `\input`
//! inside a `table` environment. A grouped report is the same table with a column per grouping
//! dimension, one block of rows per group. A report across settings is the table of each
//! method's ranks across the settings.

use std::fmt::Write as _;

use super::across::{analyse, Across, Place, RULES};
use super::present::{dimensions, paper_columns, paper_columns_in, seeds_in, seeds_of, Group, Labels, Setting};
use crate::artifact::table::{Aggregate, Table};

/// Escapes LaTeX's special characters in text.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

fn num(x: f64) -> String {
    format!("{x:.4}")
}

fn cell(a: Option<&Aggregate>) -> String {
    match a {
        Some(a) if a.mean.is_finite() && a.n > 1 && a.ci95.is_finite() => {
            format!("${} \\pm {}$", num(a.mean), num(a.ci95))
        }
        Some(a) if a.mean.is_finite() => format!("${}$", num(a.mean)),
        _ => "--".into(),
    }
}

/// The paper-shaped table: a row per shown model with RA … RTE (mean ± 95 % CI), then the rank
/// and the methods it is statistically tied with when there is a ranking.
pub(crate) fn latex(t: &Table, l: &Labels) -> String {
    let paper = paper_columns(t);
    let ranked = !t.ranking.is_empty();
    let mut s = preamble(&l.title, seeds_of(t), ranked);
    head(&mut s, &[], &paper, ranked);
    rows(&mut s, &[], t, l, &paper, ranked);
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s
}

/// A grouped report as one table: a column per grouping dimension before the method, each
/// group's rows in a block (its coordinates on the block's first row), blocks separated by rules.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> String {
    let paper = paper_columns_in(groups);
    let ranked = groups.iter().any(|g| !g.table.ranking.is_empty());
    let dims = dimensions(groups);
    let mut s = preamble(&l.title, seeds_in(groups), ranked);
    let _ = writeln!(
        s,
        "% One block of rows per group ({}), each evaluated on its own: ratios, ranks and ties are within the group.",
        dims.join(", ")
    );
    head(&mut s, &dims, &paper, ranked);
    for (k, g) in groups.iter().enumerate() {
        if k > 0 {
            s.push_str("\\midrule\n");
        }
        let lead: Vec<String> = g.values().into_iter().map(escape).collect();
        rows(&mut s, &lead, &g.table, l, &paper, ranked);
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s
}

/// A report across settings: a row per method (best mean rank first) with its mean rank, range,
/// top-group count, mean rank per architecture and rank per setting (bold in the top group).
pub(crate) fn across(title: &str, settings: &[Setting]) -> String {
    let a = analyse(settings);
    let mut s = format!("% munl report `{}`: ranks across settings.\n", title.replace('\n', " "));
    let _ = writeln!(s, "% {RULES}");
    s.push_str("% Bold: in the setting's top group; --: not in the setting, or not ranked there.\n");
    for note in &a.notes {
        let _ = writeln!(s, "% Note: {}", note.replace('\n', " "));
    }
    s.push_str("% Needs \\usepackage{booktabs}.\n");
    across_head(&mut s, &a);
    for m in &a.methods {
        s.push_str(&escape(&m.name));
        let (mean, range) = m.overall.map_or(("--".into(), "--".into()), |o| (o.mean_cell(), o.range("--")));
        let _ = write!(s, " & {mean} & {range} & {}", m.top_cell());
        for p in &m.per_arch {
            let _ = write!(s, " & {}", p.map_or("--".into(), |p| p.mean_cell()));
        }
        for &p in &m.places {
            let _ = write!(s, " & {}", Place::cell(p, |r| format!("\\textbf{{{r}}}"), "--"));
        }
        s.push_str(" \\\\\n");
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s
}

/// `\begin{tabular}` and the header row of the ranks across settings.
fn across_head(s: &mut String, a: &Across) {
    let spec = format!("lrcr{}", "r".repeat(a.architectures.len() + a.settings.len()));
    let _ = writeln!(s, "\\begin{{tabular}}{{{spec}}}\n\\toprule");
    s.push_str("Method & Mean rank & Range & Top group");
    for arch in &a.architectures {
        let _ = write!(s, " & {} mean", escape(arch));
    }
    for n in &a.settings {
        let _ = write!(s, " & {}", escape(&n.name));
    }
    s.push_str(" \\\\\n\\midrule\n");
}

/// The comments above the table: what the numbers are.
fn preamble(title: &str, seeds: usize, ranked: bool) -> String {
    let mut s =
        format!("% munl report `{}`: mean $\\pm$ 95 % CI half-width over {seeds} seed(s).\n", title.replace('\n', " "));
    s.push_str("% RR, FR, TR, RetDev: means of per-seed ratios to the reference of the same seed.\n");
    s.push_str("% Indisc: 1 - |2m - 1| of the mean test MIA m over the seeds, as the reference reports it.\n");
    if ranked {
        s.push_str("% Rank: RetDev as ratio of means ascending, then Indisc descending; tied: overlapping 95 % CIs of RetDev.\n");
    }
    s.push_str("% Needs \\usepackage{booktabs}.\n");
    s
}

/// `\begin{tabular}` and the header row: a column per grouping dimension, the method, the paper
/// columns, then the rank and the ties.
fn head(s: &mut String, dims: &[&str], paper: &[(&str, &str)], ranked: bool) {
    let mut spec = "l".repeat(dims.len() + 1);
    spec.push_str(&"r".repeat(paper.len()));
    if ranked {
        spec.push_str("rl");
    }
    let _ = writeln!(s, "\\begin{{tabular}}{{{spec}}}\n\\toprule");
    for d in dims {
        let _ = write!(s, "{} & ", escape(d));
    }
    s.push_str("Method");
    for (_, h) in paper {
        let _ = write!(s, " & {}", escape(h));
    }
    if ranked {
        s.push_str(" & Rank & Tied with");
    }
    s.push_str(" \\\\\n\\midrule\n");
}

/// One table's rows; the first is led by the (escaped) cells `lead`, the others by as many empty
/// cells.
fn rows(s: &mut String, lead: &[String], t: &Table, l: &Labels, paper: &[(&str, &str)], ranked: bool) {
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        for v in lead {
            if i == 0 {
                let _ = write!(s, "{v} & ");
            } else {
                s.push_str("& ");
            }
        }
        let name = l.methods.get(i).map_or("?", String::as_str);
        s.push_str(&escape(name));
        if t.reference == Some(i) {
            s.push_str(" (reference)");
        }
        for (c, _) in paper {
            let _ = write!(s, " & {}", cell(row.paper(c).as_ref()));
        }
        if ranked {
            match t.ranking.iter().find(|r| r.row == i) {
                Some(r) => {
                    let tied: Vec<String> =
                        r.tied_with.iter().map(|&o| escape(l.methods.get(o).map_or("?", String::as_str))).collect();
                    let tied = if tied.is_empty() { "--".to_string() } else { tied.join(", ") };
                    let _ = write!(s, " & {} & {tied}", r.rank);
                }
                None => s.push_str(" & -- & --"),
            }
        }
        s.push_str(" \\\\\n");
    }
}
