//! The LaTeX rendering: one booktabs `tabular` (needs `\usepackage{booktabs}`), to `\input`
//! inside a `table` environment.

use std::fmt::Write as _;

use super::present::{paper_columns, seeds_of, Labels};
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
    let mut s = format!(
        "% munl report `{}`: mean $\\pm$ 95 % CI half-width over {} seed(s).\n",
        l.title.replace('\n', " "),
        seeds_of(t)
    );
    s.push_str("% RR, FR, TR, RetDev: means of per-seed ratios to the reference of the same seed.\n");
    s.push_str("% Indisc: 1 - |2m - 1| of the mean test MIA m over the seeds, as the reference reports it.\n");
    if ranked {
        s.push_str("% Rank: RetDev as ratio of means ascending, then Indisc descending; tied: overlapping 95 % CIs of RetDev.\n");
    }
    s.push_str("% Needs \\usepackage{booktabs}.\n");
    let mut spec = String::from("l");
    spec.push_str(&"r".repeat(paper.len()));
    if ranked {
        spec.push_str("rl");
    }
    let _ = writeln!(s, "\\begin{{tabular}}{{{spec}}}\n\\toprule");
    s.push_str("Method");
    for (_, h) in &paper {
        let _ = write!(s, " & {}", escape(h));
    }
    if ranked {
        s.push_str(" & Rank & Tied with");
    }
    s.push_str(" \\\\\n\\midrule\n");
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let name = l.methods.get(i).map_or("?", String::as_str);
        s.push_str(&escape(name));
        if t.reference == Some(i) {
            s.push_str(" (reference)");
        }
        for (c, _) in &paper {
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
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s
}
