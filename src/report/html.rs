//! The HTML rendering: one self-contained page — CSS inline, the plots inline as SVG, no script,
//! nothing loaded from anywhere — with what the Markdown shows (the paper-shaped summary, the
//! ranking with its ties, every metric, the unavailable values) and what it keeps short: each
//! seed's values and model key in a collapsible block per method, each model's provenance (the
//! values used, by origin, its keys and time) and each search's trials with their Pareto front
//! over the four objectives, as a table and a scatter plot.
//!
//! A grouped report and a report across settings are laid out as their Markdown is: the tables
//! over every group (setting) first, then a section per group (setting). Every piece of text
//! goes through [`escape`].

use std::fmt::Write as _;

use super::across::{analyse, Place, RULES};
use super::plot;
use super::present::{
    dimensions, distinct, header, is_ulira, opt, paper_columns_in, pm, ranked_rows, seeds_in, seeds_of, Group, Labels,
    Setting, PAPER,
};
use crate::artifact::table::{Aggregate, Table};
use crate::artifact::{SearchResult, TrialRecord, OBJECTIVES};

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The page's style: the system's fonts, tables with a dark header, zebra rows and numbers
/// right-aligned.
const CSS: &str = r#":root { color-scheme: light; --head: #1e4d78; --line: #d0d7de; --zebra: #f3f6f9; --muted: #57606a; --accent: #e8590c; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: #1f2328; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.9em; margin: 0 0 .3em; }
h2 { font-size: 1.4em; margin: 1.8em 0 .6em; padding-bottom: .25em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.15em; margin: 1.6em 0 .5em; }
h4 { font-size: 1em; margin: 1.3em 0 .4em; }
h5 { font-size: .95em; margin: 1.1em 0 .4em; }
p, ul { margin: .5em 0; }
ul { padding-left: 1.4em; }
.note, figcaption { color: var(--muted); font-size: .9em; }
p.note { max-width: 80em; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .86em; background: #eef1f4; padding: .05em .3em; border-radius: 3px; }
.scroll { overflow-x: auto; margin: .6em 0; }
table { border-collapse: collapse; font-size: .86em; }
p.legend { margin-top: -.2em; font-size: .85em; }
th, td { padding: .3em .55em; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--head); color: #fff; font-weight: 600; white-space: nowrap; border-bottom: 0; }
tbody tr:nth-child(even) { background: var(--zebra); }
.pm { color: var(--muted); font-size: .9em; }
.num small { color: var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.ref td { font-style: italic; color: #3d4650; }
tr.top td { background: #e7f5ec; }
tr.best td { background: #fff3bf; font-weight: 600; }
td.front { color: var(--accent); font-weight: 700; text-align: center; }
.chips code { display: inline-block; margin: 0 .3em .2em 0; white-space: nowrap; }
code.searched { background: #fff3bf; box-shadow: inset 0 0 0 1px #f0c36d; }
code.default { color: var(--muted); background: transparent; box-shadow: inset 0 0 0 1px var(--line); }
dl.context { display: grid; grid-template-columns: max-content 1fr; gap: .25em 1em; margin: .5em 0 1em; }
dl.context dt { color: var(--muted); }
dl.context dd { margin: 0; }
details { border: 1px solid var(--line); border-radius: 6px; margin: .5em 0; padding: .35em .9em; }
details > summary { cursor: pointer; font-weight: 600; }
details[open] > summary { margin-bottom: .3em; }
figure { margin: 1em 0; }
figure svg { display: block; max-width: 100%; height: auto; }
.search { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.search figure { margin: .3em 0; flex: 0 0 auto; max-width: 400px; }
.search .front { flex: 1 1 30em; min-width: 0; }
.search .front .scroll { margin-top: 0; }
details.trials td { white-space: nowrap; }
section.part { margin-top: 2.8em; border-top: 4px solid var(--head); }
section.part > h2 { border-bottom: 0; margin-top: .6em; }
footer { margin-top: 3em; padding-top: .8em; border-top: 1px solid var(--line); color: var(--muted); font-size: .85em; }
"#;

/// The page around `body`, titled `title`.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"munl {version}\">\n<title>{t} · munl report</title>\n<style>\n{CSS}</style>\n\
         </head>\n<body>\n<main>\n{body}<footer>Written by munl {version}. This page is self-contained: no script, \
         nothing loaded from elsewhere.</footer>\n</main>\n</body>\n</html>\n",
        t = escape(title),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// A table being built: its columns (title, numeric) and rows (class, cells already in HTML).
struct Grid {
    head: Vec<(String, bool)>,
    rows: Vec<(String, Vec<String>)>,
    /// What the numbers are, shown below the table (HTML).
    caption: Option<String>,
}

impl Grid {
    fn new() -> Grid {
        Grid { head: vec![], rows: vec![], caption: None }
    }

    /// A column titled `title` (text), numeric (right-aligned) or not.
    fn col(&mut self, title: &str, num: bool) -> &mut Grid {
        self.head.push((escape(title), num));
        self
    }

    /// A row of cells in HTML, of the CSS class `class` ("" for none).
    fn row(&mut self, class: &str, cells: Vec<String>) {
        self.rows.push((class.to_string(), cells));
    }

    /// The table in a horizontally scrolling box (wide tables scroll, the page does not), and
    /// its caption below it.
    fn write(&self, s: &mut String) {
        s.push_str("<div class=\"scroll\"><table>\n");
        s.push_str("<thead><tr>");
        for (title, num) in &self.head {
            let _ = write!(s, "<th{}>{title}</th>", if *num { " class=\"num\"" } else { "" });
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for (class, cells) in &self.rows {
            if class.is_empty() {
                s.push_str("<tr>");
            } else {
                let _ = write!(s, "<tr class=\"{class}\">");
            }
            for (k, c) in cells.iter().enumerate() {
                let num = self.head.get(k).is_some_and(|(_, n)| *n);
                let _ = write!(s, "<td{}>{c}</td>", if num { " class=\"num\"" } else { "" });
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table></div>\n");
        // Below the table rather than a `<caption>`, which would wrap at the width of a narrow one.
        if let Some(c) = &self.caption {
            let _ = writeln!(s, "<p class=\"note legend\">{c}</p>");
        }
    }
}

/// A heading of level `h` (text).
fn heading(s: &mut String, h: usize, text: &str) {
    let _ = writeln!(s, "<h{h}>{}</h{h}>", escape(text));
}

/// A paragraph of notes, already in HTML.
fn note(s: &mut String, html: &str) {
    let _ = writeln!(s, "<p class=\"note\">{html}</p>");
}

/// Text in `<code>`.
fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

/// The first 12 hex digits of a key, the whole key as its tooltip.
fn short_key(key: &str) -> String {
    format!("<code title=\"{}\">{}</code>", escape(key), escape(key.get(..12).unwrap_or(key)))
}

/// [`pm`] in HTML: the spread smaller, so that wide tables fit.
fn pm_cell(a: &Aggregate, spread: f64) -> String {
    match pm(a, spread).split_once(" ± ") {
        Some((mean, half)) => format!("{mean}<span class=\"pm\"> ± {half}</span>"),
        None => escape(&pm(a, spread)),
    }
}

/// What the rows were trained on, as a definition list; nothing for a table that does not say.
fn context(s: &mut String, t: &Table) {
    if t.context.is_empty() {
        return;
    }
    s.push_str("<dl class=\"context\">\n");
    for (what, text) in &t.context {
        let _ = writeln!(s, "<dt>{}</dt><dd>{}</dd>", escape(what), code(text));
    }
    s.push_str("</dl>\n");
}

/// A plot of `plot.rs` inside a figure: its SVG inlined without the namespace declarations
/// (HTML gives inline `<svg>` its namespace; the page names no address).
fn figure(s: &mut String, svg: &str, caption: &str) {
    let _ = writeln!(
        s,
        "<figure class=\"plot\">\n{}<figcaption>{}</figcaption>\n</figure>",
        inline_svg(svg),
        escape(caption)
    );
}

/// An SVG document as inline SVG: any XML declaration or comment before the root dropped, and
/// the root's `xmlns` attributes.
fn inline_svg(svg: &str) -> String {
    let Some(start) = svg.find("<svg") else { return String::new() };
    let rest = &svg[start..];
    let end = rest.find('>').map_or(rest.len(), |e| e + 1);
    let (open, body) = rest.split_at(end);
    let mut tag = String::new();
    let mut attrs = open.trim_start_matches("<svg").trim_end_matches('>');
    let closing = if attrs.ends_with('/') { "/>" } else { ">" };
    attrs = attrs.trim_end_matches('/');
    // Attributes are `name="value"` (or single quotes); values hold no quote of their kind.
    let mut rest = attrs.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=').unwrap_or(rest.len());
        let name = rest[..eq].trim();
        let after = rest[eq..].trim_start_matches('=').trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'');
        let (value, next) = match quote {
            Some(q) => {
                let close = after[1..].find(q).map_or(after.len(), |c| c + 2);
                (&after[..close], &after[close..])
            }
            None => {
                let stop = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..stop], &after[stop..])
            }
        };
        if !name.starts_with("xmlns") && !name.is_empty() {
            let _ = write!(tag, " {name}={value}");
        }
        rest = next.trim_start();
    }
    format!("<svg{tag}{closing}{body}")
}

/// The header of every page: the title and, when given, what the rows were trained on.
fn title(s: &mut String, title: &str, t: Option<&Table>) {
    s.push_str("<header>\n");
    heading(s, 1, title);
    if let Some(t) = t {
        context(s, t);
    }
    s.push_str("</header>\n");
}

/// The paper-shaped summary of `tables` (each led by its cells: a group's coordinates) under a
/// heading of level `h` stating the convention, and what its numbers are.
fn paper(s: &mut String, h: usize, dims: &[&str], tables: &[(Vec<&str>, &Table)], l: &Labels) {
    let n = tables.iter().map(|(_, t)| seeds_of(t)).max().unwrap_or(0);
    // The paper columns any of the tables has, in the paper's order.
    let columns: Vec<(&str, &str)> =
        PAPER.iter().copied().filter(|(c, _)| tables.iter().any(|(_, t)| t.columns.iter().any(|x| x == c))).collect();
    if columns.is_empty() {
        return;
    }
    heading(s, h, &format!("summary: mean ± 95 % CI over {n} seed(s)"));
    let mut g = Grid::new();
    for d in dims {
        g.col(d, false);
    }
    g.col("method", false);
    for (_, head) in &columns {
        g.col(head, true);
    }
    for (lead, t) in tables {
        for (i, row) in t.rows.iter().enumerate().take(t.shown) {
            let mut cells: Vec<String> = lead.iter().map(|v| escape(v)).collect();
            cells.push(escape(&l.shown_name(t, i)));
            for (c, _) in &columns {
                cells.push(row.paper(c).map_or("–".into(), |a| {
                    let partial = if a.n < n && a.mean.is_finite() {
                        format!("<br><small>{}/{n} seeds</small>", a.n)
                    } else {
                        String::new()
                    };
                    pm_cell(&a, a.ci95) + &partial
                }));
            }
            g.row(if t.reference == Some(i) { "ref" } else { "" }, cells);
        }
    }
    g.caption = Some(escape(&format!(
        "mean ± 95 % CI half-width (Student t) over the seeds, {n} seed(s); a cell over fewer seeds says over how many."
    )));
    g.write(s);
    paper_notes(s, &columns, n);
}

/// What the summary's numbers are.
fn paper_notes(s: &mut String, columns: &[(&str, &str)], n: usize) {
    let has = |c: &str| columns.iter().any(|(x, _)| *x == c);
    let mut lines: Vec<String> = vec![];
    if columns.iter().any(|(c, _)| !is_ulira(c)) && n < 3 {
        lines.push(format!(
            "<strong>{n} seed(s) only:</strong> {} to compare methods; the reference uses 10 (<code>seeds = 0..10</code>).",
            if n == 1 { "no interval, nothing" } else { "intervals 12.7 × the standard error wide, too few" }
        ));
    }
    if columns.iter().any(|(c, _)| is_ulira(c)) {
        lines.push(escape(
            "U-LiRA (the Deep Unlearn paper's unlearning LiRA; reference code munl/lira/), over each model's runs: P = NaN-mean membership probability of the forgotten \
             cases (ideal 0.5), AUC against never-seen cases, ± 95 % CI over samples; NaN = share of forgotten cases \
             with an undefined P. LiRA-conf.: the same attack on logit-scaled confidence. The in-sample fit puts the \
             noise floor above 0.5: compare with Retrain's row.",
        ));
    }
    if has("rr") {
        lines.push(escape(
            "RR, FR, TR: retain, forget and test accuracy ÷ the reference's of the same seed; RetDev = |RR − 1| + \
             |FR − 1| + |TR − 1|; all four are means of the per-seed ratios.",
        ));
    }
    if has("indiscernibility") {
        lines.push(escape(
            "Indisc = 1 − |2·m − 1| of the mean test MIA m over the seeds, as the reference reports it (the mean of \
             the per-seed values is under all metrics).",
        ));
    }
    if has("rte") {
        lines.push(escape("RTE = reference's time ÷ the model's time, same seed."));
    }
    if !lines.is_empty() {
        note(s, &lines.join("<br>\n"));
    }
}

/// The unavailable values of the shown rows of `tables` (each with its prefix: a group's name),
/// under a heading of level `h`; nothing when nothing is missing.
fn unavailable(s: &mut String, h: usize, tables: &[(String, &Table)], l: &Labels) {
    let mut items = vec![];
    for (prefix, t) in tables {
        for (i, row) in t.rows.iter().enumerate().take(t.shown) {
            for seed in row.seeds.iter().filter(|s| !s.notes.is_empty()) {
                items.push(format!("{prefix}{}, seed {}: {}", l.method(i), seed.seed, seed.notes.join("; ")));
            }
        }
        for r in t.ranking.iter().filter(|r| r.note.is_some()) {
            items.push(format!("{prefix}{} ranks last: {}", l.method(r.row), r.note.as_deref().unwrap_or_default()));
        }
    }
    if items.is_empty() {
        return;
    }
    heading(s, h, "unavailable values");
    s.push_str("<ul class=\"notes\">\n");
    for item in items {
        let _ = writeln!(s, "<li>{}</li>", escape(&item));
    }
    s.push_str("</ul>\n");
}

/// The methods in the top group: rank 1 and those statistically tied with it.
fn top_group(t: &Table) -> Vec<usize> {
    let Some(best) = t.ranking.iter().find(|r| r.rank == 1) else { return vec![] };
    let mut out = vec![best.row];
    out.extend(&best.tied_with);
    out
}

/// The ranking with its ties, under a heading of level `h`; nothing without a ranking.
fn ranking(s: &mut String, h: usize, t: &Table, l: &Labels) {
    if t.ranking.is_empty() {
        return;
    }
    heading(s, h, "ranking");
    let mut g = Grid::new();
    g.col("rank", true).col("method", false).col("RetDev (ratio of means)", true);
    g.col("RetDev (mean ± 95 % CI)", true).col("Indisc", true).col("tied with", false);
    let top = top_group(t);
    for r in &t.ranking {
        let ci = t.rows[r.row].summary.get("retdev").map_or("–".into(), |a| pm_cell(a, a.ci95));
        let tied: Vec<&str> = r.tied_with.iter().map(|&o| l.method(o)).collect();
        let mark = if tied.is_empty() { "" } else { " ≈" };
        let cells = vec![
            escape(&format!("{}{mark}", r.rank)),
            escape(l.method(r.row)),
            escape(&opt(r.retdev)),
            ci,
            escape(&opt(r.indisc)),
            escape(&if tied.is_empty() { "–".to_string() } else { tied.join(", ") }),
        ];
        g.row(if top.contains(&r.row) { "top" } else { "" }, cells);
    }
    g.caption = Some(escape(
        "Ranked by RetDev as ratio of means (ascending), equal values by Indisc of the mean test MIA (descending). \
         ≈: statistically tied — the 95 % CIs of the per-seed RetDev of the methods in \"tied with\" overlap this \
         method's. Highlighted: the top group (rank 1 and the methods tied with it).",
    ));
    g.write(s);
}

/// Retention as ratio of means, under a heading of level `h`; nothing without retention.
fn retention(s: &mut String, h: usize, t: &Table, l: &Labels) {
    if !t.rows.iter().take(t.shown).any(|r| !r.ratio_of_means.is_empty()) {
        return;
    }
    heading(s, h, "retention, ratio of means");
    let mut g = Grid::new();
    g.col("method", false);
    for c in ["RR", "FR", "TR", "RetDev"] {
        g.col(c, true);
    }
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let mut cells = vec![escape(&l.shown_name(t, i))];
        cells.extend(["rr", "fr", "tr", "retdev"].map(|k| escape(&opt(row.ratio_of_means.get(k).copied().flatten()))));
        g.row(if t.reference == Some(i) { "ref" } else { "" }, cells);
    }
    g.caption = Some(escape("mean accuracy over the seeds ÷ the reference's mean accuracy."));
    g.write(s);
}

/// Every metric of the shown rows, mean ± std, under a heading of level `h`.
fn all_metrics(s: &mut String, h: usize, t: &Table, l: &Labels) {
    heading(s, h, "all metrics (mean ± std)");
    let mut g = Grid::new();
    g.col("method", false);
    for c in &t.columns {
        g.col(header(c), true);
    }
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let mut cells = vec![escape(&l.shown_name(t, i))];
        cells.extend(t.columns.iter().map(|c| row.summary.get(c).map_or("–".into(), |a| pm_cell(a, a.std))));
        g.row(if t.reference == Some(i) { "ref" } else { "" }, cells);
    }
    g.caption = Some(escape(&format!("mean ± sample std over {} seed(s).", seeds_of(t))));
    g.write(s);
}

/// Every seed's values and model key, one collapsible block per shown row, under a heading of
/// level `h`.
fn per_seed(s: &mut String, h: usize, t: &Table, l: &Labels) {
    heading(s, h, "per seed");
    note(
        s,
        "Each method's seeds: every value, and the key of the model measured (<code>munl show FILE KEY</code> \
         shows it).",
    );
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let notes = row.seeds.iter().filter(|s| !s.notes.is_empty()).count();
        let _ = writeln!(
            s,
            "<details class=\"seeds\"><summary>{} <span class=\"note\">— {} seed(s){}</span></summary>",
            escape(&l.shown_name(t, i)),
            row.seeds.len(),
            if notes > 0 { format!(", {notes} with unavailable values") } else { String::new() }
        );
        let keyed = row.seeds.iter().any(|s| s.key.is_some());
        let mut g = Grid::new();
        g.col("seed", true);
        for c in &t.columns {
            g.col(header(c), true);
        }
        if keyed {
            g.col("model key", false);
        }
        for seed in &row.seeds {
            let mut cells = vec![seed.seed.to_string()];
            cells.extend(t.columns.iter().map(|c| escape(&opt(seed.values.get(c).copied().flatten()))));
            if keyed {
                cells.push(seed.key.as_deref().map_or("–".into(), code));
            }
            g.row("", cells);
        }
        g.write(s);
        let noted: Vec<_> = row.seeds.iter().filter(|s| !s.notes.is_empty()).collect();
        if !noted.is_empty() {
            s.push_str("<ul class=\"notes\">\n");
            for seed in noted {
                let _ = writeln!(s, "<li>seed {}: {}</li>", seed.seed, escape(&seed.notes.join("; ")));
            }
            s.push_str("</ul>\n");
        }
        s.push_str("</details>\n");
    }
}

/// Each shown row's model: its op, the values it was made with by origin (written by the file,
/// chosen by the search, the catalogue's defaults), its time and its keys, under a heading of
/// level `h`; nothing for a table without provenance.
fn models(s: &mut String, h: usize, t: &Table, l: &Labels) {
    let rows: Vec<usize> = (0..t.shown.min(t.rows.len())).filter(|&i| t.rows[i].model.is_some()).collect();
    if rows.is_empty() {
        return;
    }
    heading(s, h, "models: values used");
    let searched =
        rows.iter().any(|&i| t.rows[i].model.as_ref().is_some_and(|m| m.origins.values().any(|o| o == "searched")));
    let timed = t.columns.iter().any(|c| c == "seconds");
    let mut g = Grid::new();
    g.col("method", false).col("op", false).col("written", false);
    if searched {
        g.col("searched", false);
    }
    g.col("defaults", false);
    if timed {
        g.col("time (s)", true);
    }
    g.col("model key per seed", false);
    for &i in &rows {
        let (row, Some(m)) = (&t.rows[i], &t.rows[i].model) else { continue };
        let origin = |k: &str| m.origins.get(k).map_or("written", String::as_str);
        let chips = |which: &str| -> String {
            let items: Vec<String> = m
                .values
                .iter()
                .filter(|(k, _)| {
                    origin(k) == which || (which == "written" && !matches!(origin(k), "default" | "searched"))
                })
                .map(|(k, v)| format!("<code class=\"{which}\">{}</code>", escape(&format!("{k} = {v}"))))
                .collect();
            if items.is_empty() {
                "–".into()
            } else {
                format!("<span class=\"chips\">{}</span>", items.join(" "))
            }
        };
        let mut cells = vec![
            escape(&l.shown_name(t, i)),
            escape(&if m.kind == m.op { m.op.clone() } else { format!("{} {}", m.kind, m.op) }),
            chips("written"),
        ];
        if searched {
            cells.push(chips("searched"));
        }
        cells.push(chips("default"));
        if timed {
            cells.push(row.summary.get("seconds").map_or("–".into(), |a| pm_cell(a, a.std)));
        }
        let keys: Vec<String> = row
            .seeds
            .iter()
            .filter_map(|s| s.key.as_deref().map(|k| format!("{}: {}", s.seed, short_key(k))))
            .collect();
        cells.push(if keys.is_empty() { "–".into() } else { keys.join("<br>") });
        g.row(if t.reference == Some(i) { "ref" } else { "" }, cells);
    }
    let mut caption = String::from("written: by the file");
    if searched {
        caption.push_str("; searched: chosen by the search (the best trial's, after the export rule)");
    }
    caption.push_str("; defaults: the catalogue's.");
    if timed {
        caption.push_str(" time: the method's seconds, mean ± std over the seeds.");
    }
    caption.push_str(" key: the model of each seed (its first 12 hex digits; the whole key is under per seed).");
    g.caption = Some(escape(&caption));
    g.write(s);
    searches(s, h + 1, t, l);
}

/// Each tuned model's searches: the trials with the best and the Pareto front marked, and a
/// scatter plot of two objectives, under headings of level `h`.
fn searches(s: &mut String, h: usize, t: &Table, l: &Labels) {
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        let Some(m) = &row.model else { continue };
        for (k, search) in m.searches.iter().enumerate() {
            let title = if m.searches.len() > 1 {
                format!("search of {}, {} of {}", l.method(i), k + 1, m.searches.len())
            } else {
                format!("search of {}", l.method(i))
            };
            heading(s, h, &title);
            trials(s, search);
        }
    }
}

/// Whether a trial completed (only completed trials have objectives to compare).
fn complete(t: &TrialRecord) -> bool {
    t.state == "complete"
}

/// The trial's objectives, +∞ for an undefined one or a missing one.
fn objectives(t: &TrialRecord) -> Vec<f64> {
    (0..OBJECTIVES.len()).map(|k| t.objectives.get(k).copied().flatten().unwrap_or(f64::INFINITY)).collect()
}

/// The indices of the completed trials that no other completed trial dominates over the four
/// objectives (all minimised).
pub(crate) fn pareto(trials: &[TrialRecord]) -> Vec<usize> {
    let done: Vec<usize> = (0..trials.len()).filter(|&i| complete(&trials[i])).collect();
    let vectors: Vec<Vec<f64>> = done.iter().map(|&i| objectives(&trials[i])).collect();
    let points: Vec<&[f64]> = vectors.iter().map(Vec::as_slice).collect();
    let fronts = crate::search::fronts(&points);
    fronts.first().map_or_else(Vec::new, |f| f.iter().map(|&k| done[k]).collect())
}

/// An objective or score: four decimals, ∞ for +∞.
fn objective(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.4}"),
        Some(v) if v.is_nan() => "–".into(),
        _ => "∞".into(),
    }
}

/// One search: what it ran and chose, its scatter plot and its trials.
fn trials(s: &mut String, search: &SearchResult) {
    let front = pareto(&search.trials);
    let done = search.trials.iter().filter(|t| complete(t)).count();
    let best = search.best.and_then(|b| search.trials.get(b));
    let mut summary = format!(
        "{} trial(s), {done} completed; Pareto front over the four objectives: {} trial(s). ",
        search.trials.len(),
        front.len()
    );
    match best {
        Some(b) => {
            let _ = write!(
                summary,
                "Best: trial {} (score {}), the smallest Euclidean norm of the objectives among the first {} completed trials.",
                b.number,
                objective(b.score),
                search.best_among_first
            );
        }
        None => summary.push_str("No trial completed: there is no best."),
    }
    note(s, &escape(&summary));
    s.push_str("<div class=\"search\">\n");
    let finite = |t: &TrialRecord, k: usize| t.objectives.get(k).copied().flatten().is_some_and(f64::is_finite);
    let hidden = search.trials.iter().filter(|t| complete(t) && !(finite(t, 0) && finite(t, 1))).count();
    let mut caption = format!(
        "{} against {} per completed trial; orange: the Pareto front over all four objectives; ringed: the best.",
        OBJECTIVES[1], OBJECTIVES[0]
    );
    if hidden > 0 {
        let _ = write!(
            caption,
            " Not shown: {hidden} completed trial(s) with an infinite {} or {}.",
            OBJECTIVES[0], OBJECTIVES[1]
        );
    }
    let _ = writeln!(
        s,
        "<figure class=\"pareto\">\n{}<figcaption>{}</figcaption>\n</figure>",
        scatter(&search.trials, &front, search.best),
        escape(&caption)
    );
    let mut g = trial_grid(search, &front, &front, false);
    g.caption = Some(escape(&format!(
        "The Pareto front: the completed trials no other completed trial matches in every objective and beats in \
         one. All four objectives are minimised: {} = |accuracy − Retrain's| / 3 on the retain, forget and \
         validation sets, {} = 2·|val MIA − 0.5|; score: their Euclidean norm.",
        OBJECTIVES[..3].join(", "),
        OBJECTIVES[3]
    )));
    s.push_str("<div class=\"front\">\n");
    g.write(s);
    s.push_str("</div>\n</div>\n");
    let all: Vec<usize> = (0..search.trials.len()).collect();
    let mut g = trial_grid(search, &all, &front, true);
    g.caption = Some(escape("∞: undefined (a pruned or failed trial). ●: on the Pareto front."));
    // Long searches fold their table; short ones show it.
    let open = if search.trials.len() <= 30 { " open" } else { "" };
    let _ = writeln!(s, "<details class=\"trials\"{open}><summary>all trials ({})</summary>", search.trials.len());
    g.write(s);
    s.push_str("</details>\n");
}

/// The trials `rows` of a search: number, searched values, the four objectives and the score,
/// and when `full` the state, seconds, whether on the `front` and the note; the best highlighted.
fn trial_grid(search: &SearchResult, rows: &[usize], front: &[usize], full: bool) -> Grid {
    let fields: Vec<&String> = distinct(search.trials.iter().flat_map(|t| t.values.keys()));
    let noted = full && search.trials.iter().any(|t| t.note.is_some());
    let mut g = Grid::new();
    g.col("trial", true);
    for f in &fields {
        g.col(f, true);
    }
    for o in OBJECTIVES {
        g.col(o, true);
    }
    g.col("score", true);
    if full {
        g.col("state", false).col("seconds", true).col("Pareto", false);
    }
    if noted {
        g.col("note", false);
    }
    for &i in rows {
        let t = &search.trials[i];
        let best = search.best == Some(i);
        let mut cells = vec![t.number.to_string()];
        cells.extend(fields.iter().map(|f| t.values.get(*f).map_or("–".into(), |v| escape(&v.to_string()))));
        cells.extend((0..OBJECTIVES.len()).map(|k| escape(&objective(t.objectives.get(k).copied().flatten()))));
        cells.push(escape(&objective(t.score)) + if best { " (best)" } else { "" });
        if full {
            cells.push(escape(&t.state));
            cells.push(t.seconds.map_or("–".into(), |x| format!("{x:.2}")));
            cells.push(if front.contains(&i) { "●".into() } else { String::new() });
        }
        if noted {
            cells.push(escape(t.note.as_deref().unwrap_or("")));
        }
        g.row(if best { "best" } else { "" }, cells);
    }
    g
}

/// About five round ticks from 0 (or `lo` when below) covering `hi`, and the axis end.
fn ticks(lo: f64, hi: f64) -> (Vec<f64>, f64) {
    let span = if hi > lo { hi - lo } else { 1.0 };
    let raw = span / 4.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|s| span / s <= 5.0).unwrap_or(10.0 * power);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil().max(first / step + 1.0) * step;
    let n = ((last - first) / step).round() as usize;
    ((0..=n).map(|k| first + k as f64 * step).collect(), last)
}

/// A tick's label: as many decimals as the step needs.
fn tick_label(v: f64, step: f64) -> String {
    let decimals =
        (-step.log10().floor()).max(0.0) as usize + usize::from(step / 10f64.powf(step.log10().floor()) == 2.5);
    format!("{v:.decimals$}")
}

/// The scatter plot of one search: `OBJECTIVES[1]` (forget gap) on x, `OBJECTIVES[0]` (retain
/// gap) on y, a dot per completed trial with both finite; the Pareto front (over all four
/// objectives) in orange, the best trial ringed. Inline SVG, every dot titled with its numbers.
fn scatter(trials: &[TrialRecord], front: &[usize], best: Option<usize>) -> String {
    const W: f64 = 400.0;
    const H: f64 = 330.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 34.0;
    const BOTTOM: f64 = 48.0;
    let value = |t: &TrialRecord, k: usize| t.objectives.get(k).copied().flatten().filter(|v| v.is_finite());
    let points: Vec<(usize, f64, f64)> = trials
        .iter()
        .enumerate()
        .filter(|(_, t)| complete(t))
        .filter_map(|(i, t)| Some((i, value(t, 1)?, value(t, 0)?)))
        .collect();
    let extent = |f: &dyn Fn(&(usize, f64, f64)) -> f64| {
        let lo = points.iter().map(f).fold(0.0f64, f64::min);
        let hi = points.iter().map(f).fold(0.0f64, f64::max);
        (lo, hi)
    };
    let (xlo, xhi) = extent(&|p| p.1);
    let (ylo, yhi) = extent(&|p| p.2);
    // A little room beyond the largest value, so that no dot sits on the frame.
    let (xt, xend) = ticks(xlo, xhi * 1.04);
    let (yt, yend) = ticks(ylo, yhi * 1.04);
    let (x0, y0) = (xt[0], yt[0]);
    let px = |x: f64| LEFT + (x - x0) / (xend - x0) * (W - LEFT - RIGHT);
    let py = |y: f64| H - BOTTOM - (y - y0) / (yend - y0) * (H - TOP - BOTTOM);
    let mut s = format!(
        "<svg class=\"scatter\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"system-ui, sans-serif\" \
         font-size=\"11\" role=\"img\" aria-label=\"{} against {} per trial\">\n<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n",
        OBJECTIVES[1], OBJECTIVES[0]
    );
    let step = |t: &[f64]| if t.len() > 1 { t[1] - t[0] } else { 1.0 };
    for &x in &xt {
        let _ = writeln!(
            s,
            "<line x1=\"{0:.1}\" y1=\"{TOP}\" x2=\"{0:.1}\" y2=\"{1}\" stroke=\"#e5e8eb\"/><text x=\"{0:.1}\" y=\"{2}\" \
             text-anchor=\"middle\" fill=\"#57606a\">{3}</text>",
            px(x),
            H - BOTTOM,
            H - BOTTOM + 15.0,
            tick_label(x, step(&xt))
        );
    }
    for &y in &yt {
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#e5e8eb\"/><text x=\"{2}\" y=\"{3:.1}\" \
             text-anchor=\"end\" fill=\"#57606a\">{4}</text>",
            py(y),
            W - RIGHT,
            LEFT - 6.0,
            py(y) + 4.0,
            tick_label(y, step(&yt))
        );
    }
    let _ = writeln!(
        s,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#8c959f\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#1f2328\">{} (lower is better)</text>\n\
         <text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#1f2328\">{} (lower is better)</text>",
        W - LEFT - RIGHT,
        H - TOP - BOTTOM,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0,
        OBJECTIVES[1],
        (TOP + H - BOTTOM) / 2.0,
        OBJECTIVES[0],
    );
    // The legend, above the frame.
    let _ = writeln!(
        s,
        "<circle cx=\"{LEFT}\" cy=\"16\" r=\"4.5\" fill=\"#e8590c\"/><text x=\"{}\" y=\"20\" fill=\"#1f2328\">Pareto front</text>\n\
         <circle cx=\"{}\" cy=\"16\" r=\"3.5\" fill=\"#98a2ad\"/><text x=\"{}\" y=\"20\" fill=\"#1f2328\">dominated</text>\n\
         <circle cx=\"{}\" cy=\"16\" r=\"7\" fill=\"none\" stroke=\"#1f2328\" stroke-width=\"1.5\"/><text x=\"{}\" y=\"20\" fill=\"#1f2328\">best</text>",
        LEFT + 9.0,
        LEFT + 100.0,
        LEFT + 109.0,
        LEFT + 190.0,
        LEFT + 202.0,
    );
    let dot = |s: &mut String, &(i, x, y): &(usize, f64, f64), on_front: bool| {
        let t = &trials[i];
        let numbers: Vec<String> = OBJECTIVES
            .iter()
            .enumerate()
            .map(|(k, o)| format!("{o} {}", objective(t.objectives.get(k).copied().flatten())))
            .collect();
        let (class, r, fill) = if on_front { ("front", 4.5, "#e8590c") } else { ("other", 3.5, "#98a2ad") };
        let _ = writeln!(
            s,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\" fill=\"{fill}\" fill-opacity=\"0.9\"><title>{}</title></circle>",
            px(x),
            py(y),
            escape(&format!("trial {}: {}", t.number, numbers.join(", ")))
        );
    };
    for p in points.iter().filter(|p| !front.contains(&p.0)) {
        dot(&mut s, p, false);
    }
    for p in points.iter().filter(|p| front.contains(&p.0)) {
        dot(&mut s, p, true);
    }
    if let Some(&(_, x, y)) = points.iter().find(|p| Some(p.0) == best) {
        let _ = writeln!(
            s,
            "<circle class=\"best\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"7.5\" fill=\"none\" stroke=\"#1f2328\" stroke-width=\"1.5\"/>",
            px(x),
            py(y)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Everything of one table below its header, with headings of level `h`: the summary, the
/// unavailable values, the ranking, the plot when given, retention as ratio of means, every
/// metric, the models and their searches, and the per-seed blocks.
fn body(s: &mut String, h: usize, t: &Table, l: &Labels, plot: Option<&str>) {
    paper(s, h, &[], &[(vec![], t)], l);
    unavailable(s, h, &[(String::new(), t)], l);
    ranking(s, h, t, l);
    if let Some(svg) = plot {
        heading(s, h, "plot");
        figure(s, svg, PLOT_CAPTION);
    }
    details(s, h, t, l);
}

/// What [`body`] shows after the plot.
fn details(s: &mut String, h: usize, t: &Table, l: &Labels) {
    retention(s, h, t, l);
    all_metrics(s, h, t, l);
    models(s, h, t, l);
    per_seed(s, h, t, l);
}

/// What the report's plot shows.
const PLOT_CAPTION: &str = "Left: per method the forget-accuracy gap to the reference (mean ± 95 % CI of the per-seed \
                            differences) against Indisc; right: RTE ± 95 % CI.";

/// The HTML page of one table.
pub(crate) fn html(t: &Table, l: &Labels) -> String {
    let mut s = String::new();
    title(&mut s, &l.title, Some(t));
    body(&mut s, 2, t, l, Some(&plot::svg(t, l)));
    page(&l.title, &s)
}

/// A grouped report: one summary of every group's rows (a column per grouping dimension), the
/// unavailable values, each method's rank per group and the plot; then a section per group with
/// its ranking, retention as ratio of means, every metric, models, searches and seeds.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> String {
    let mut s = String::new();
    let contexts = distinct(groups.iter().map(|g| &g.table.context));
    title(&mut s, &l.title, if contexts.len() == 1 { groups.first().map(|g| &g.table) } else { None });
    let dims = dimensions(groups);
    let tables: Vec<(Vec<&str>, &Table)> = groups.iter().map(|g| (g.values(), &g.table)).collect();
    paper(&mut s, 2, &dims, &tables, l);
    if !paper_columns_in(groups).is_empty() {
        note(
            &mut s,
            &escape(&format!(
                "Each group ({}) is a separate evaluation over {} seed(s): ratios are to the reference of the same group.",
                dims.join(", "),
                seeds_in(groups)
            )),
        );
    }
    let prefixed: Vec<(String, &Table)> = groups.iter().map(|g| (format!("{}: ", g.name()), &g.table)).collect();
    unavailable(&mut s, 2, &prefixed, l);
    ranks(&mut s, &dims, groups, l);
    heading(&mut s, 2, "plot");
    figure(&mut s, &plot::grouped(groups, l), &format!("{} One picture per group, on shared axes.", PLOT_CAPTION));
    for g in groups {
        s.push_str("<section class=\"part\">\n");
        heading(&mut s, 2, &g.name());
        if contexts.len() > 1 {
            context(&mut s, &g.table);
        }
        ranking(&mut s, 3, &g.table, l);
        details(&mut s, 3, &g.table, l);
        s.push_str("</section>\n");
    }
    page(&l.title, &s)
}

/// Each ranked method's rank per group: a row per group (its coordinates first), a column per
/// method ranked in any group; nothing when no group has a ranking.
fn ranks(s: &mut String, dims: &[&str], groups: &[Group], l: &Labels) {
    let ranked = ranked_rows(groups);
    if ranked.is_empty() {
        return;
    }
    heading(s, 2, "rank per group");
    let mut grid = Grid::new();
    for d in dims {
        grid.col(d, false);
    }
    for &i in &ranked {
        grid.col(l.method(i), true);
    }
    for g in groups {
        let mut cells: Vec<String> = g.values().iter().map(|v| escape(v)).collect();
        let top = top_group(&g.table);
        for &i in &ranked {
            cells.push(match g.table.ranking.iter().find(|r| r.row == i) {
                Some(r) => {
                    let text = format!("{}{}", r.rank, if r.tied_with.is_empty() { "" } else { " ≈" });
                    if top.contains(&i) {
                        format!("<strong>{}</strong>", escape(&text))
                    } else {
                        escape(&text)
                    }
                }
                None => "–".into(),
            });
        }
        grid.row("", cells);
    }
    grid.caption = Some(escape(
        "Rank within the group by RetDev as ratio of means, ties broken by Indisc; ≈: statistically tied with another \
         method of the group; bold: in the group's top group. The rankings per group are below.",
    ));
    grid.write(s);
}

/// A report across settings: each method's ranks across the settings, the rule behind them, the
/// notes and the plot; then a section per setting with everything of its own report.
pub(crate) fn across(title_text: &str, settings: &[Setting]) -> String {
    let a = analyse(settings);
    let mut s = String::new();
    title(&mut s, title_text, None);
    heading(&mut s, 2, "ranks across settings");
    let mut g = Grid::new();
    g.col("method", false).col("mean rank", true).col("range (min–max)", true).col("top group", true);
    for arch in &a.architectures {
        g.col(&format!("{arch}: mean (range)"), true);
    }
    for n in &a.settings {
        g.col(&n.name, true);
    }
    for m in &a.methods {
        let (mean, range) = m.overall.map_or(("–".into(), "–".into()), |o| (o.mean_cell(), o.range("–")));
        let mut cells = vec![escape(&m.name), escape(&mean), escape(&range), escape(&m.top_cell())];
        for p in &m.per_arch {
            cells.push(escape(&p.map_or("–".into(), |p| format!("{} ({})", p.mean_cell(), p.range("–")))));
        }
        for &p in &m.places {
            cells.push(Place::cell(p, |r| format!("<strong>{r}</strong>"), "–"));
        }
        g.row("", cells);
    }
    g.caption = Some(escape("Bold: in the setting's top group; –: not in the setting, or not ranked there."));
    g.write(&mut s);
    note(&mut s, &escape(RULES));
    if !a.notes.is_empty() {
        heading(&mut s, 2, "notes");
        s.push_str("<ul class=\"notes\">\n");
        for n in &a.notes {
            let _ = writeln!(s, "<li>{}</li>", escape(n));
        }
        s.push_str("</ul>\n");
    }
    heading(&mut s, 2, "plot");
    figure(
        &mut s,
        &plot::across(title_text, settings),
        "A row per method, best mean rank on top: its rank in each setting (a dot coloured by the setting's \
         architecture), the range as a line and the mean rank as an open diamond.",
    );
    for (setting, named) in settings.iter().zip(&a.settings) {
        s.push_str("<section class=\"part\">\n");
        heading(&mut s, 2, &named.name);
        context(&mut s, &setting.table);
        body(&mut s, 3, &setting.table, &setting.labels, None);
        s.push_str("</section>\n");
    }
    page(title_text, &s)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::evaluate::tabulate;
    use super::*;
    use crate::artifact::table::Provenance;
    use crate::artifact::Metrics;
    use crate::ops::{Metric, Value};

    fn m(ra: f64, fa: f64, ta: f64, mia_test: f64, seconds: f64) -> Metrics {
        Metrics {
            retain_acc: ra,
            forget_acc: fa,
            val_acc: ta,
            test_acc: ta,
            mia_val: Some(mia_test),
            mia_test: Some(mia_test),
            seconds,
            distances: None,
            unavailable: Default::default(),
            diverged: None,
        }
    }

    fn metrics(names: &[&str]) -> Vec<Metric> {
        names.iter().map(|s| Metric::from_name(s).expect("a metric")).collect()
    }

    const SWEEP: &[&str] = &["accuracy", "mia", "indiscernibility", "rte", "retention"];

    /// A trial of `lr` with its objectives (retain, forget, val, MIA gap; `None` = +∞).
    fn trial(number: usize, lr: f64, objectives: [Option<f64>; 4], state: &str) -> TrialRecord {
        let score = objectives.iter().try_fold(0.0, |acc, o| o.map(|v| acc + v * v)).map(f64::sqrt);
        TrialRecord {
            number,
            values: [("lr".to_string(), Value::Float(lr))].into(),
            state: state.into(),
            objectives: objectives.to_vec(),
            score: if state == "complete" { score } else { None },
            note: None,
            key: Some(format!("{number:02x}").repeat(32)),
            seconds: Some(1.5 + number as f64),
        }
    }

    /// Eight trials: 0, 1, 4, 5 (identical to 0) and 6 on the Pareto front over the four
    /// objectives; 2 dominated by 0; 3 pruned; 7 dominated by 1 and with an infinite forget gap.
    /// The best (smallest norm) is 1.
    fn search() -> SearchResult {
        let mut trials = vec![
            trial(0, 0.01, [Some(0.02), Some(0.10), Some(0.02), Some(0.30)], "complete"),
            trial(1, 0.0716, [Some(0.01), Some(0.20), Some(0.01), Some(0.10)], "complete"),
            trial(2, 0.002, [Some(0.03), Some(0.12), Some(0.03), Some(0.35)], "complete"),
            trial(3, 0.09, [None; 4], "pruned"),
            trial(4, 0.05, [Some(0.05), Some(0.05), Some(0.04), Some(0.50)], "complete"),
            trial(5, 0.011, [Some(0.02), Some(0.10), Some(0.02), Some(0.30)], "complete"),
            trial(6, 0.03, [Some(0.04), Some(0.25), Some(0.05), Some(0.05)], "complete"),
            trial(7, 0.08, [Some(0.01), None, Some(0.01), Some(0.10)], "complete"),
        ];
        trials[3].note = Some("pruned: loss <nan> & \"diverged\"".into());
        SearchResult { trials, best: Some(1), best_among_first: 100 }
    }

    /// Five models × three seeds (`retrained`, row 1, the reference), with provenance: `ft` is
    /// tuned (its `lr` searched, one search), `ga`'s seed 2 lost its MIA.
    fn fixture() -> (Table, Labels) {
        let mut no_mia = m(0.50, 0.20, 0.45, 0.25, 1.5);
        no_mia.mia_test = None;
        no_mia.unavailable.insert("mia_test".into(), "too few forget samples".into());
        let measured = vec![
            vec![m(1.0, 1.0, 0.90, 0.70, 100.0), m(0.99, 1.0, 0.91, 0.72, 101.0), m(1.0, 0.99, 0.90, 0.69, 99.0)],
            vec![m(0.98, 0.90, 0.90, 0.52, 90.0), m(0.98, 0.91, 0.89, 0.50, 92.0), m(0.99, 0.90, 0.90, 0.51, 88.0)],
            vec![m(0.97, 0.92, 0.89, 0.55, 9.0), m(0.96, 0.90, 0.88, 0.53, 10.0), m(0.98, 0.93, 0.90, 0.56, 11.0)],
            vec![m(0.60, 0.30, 0.55, 0.30, 2.0), m(0.70, 0.40, 0.65, 0.35, 2.5), no_mia],
            vec![m(0.96, 0.91, 0.88, 0.50, 5.0), m(0.97, 0.93, 0.89, 0.49, 6.0), m(0.95, 0.88, 0.87, 0.52, 4.0)],
        ];
        let mut t = tabulate(&metrics(SWEEP), &[0, 1, 2], 5, Some(1), &measured);
        provenance(&mut t);
        let labels = Labels {
            title: "bench".into(),
            methods: ["original", "retrained", "ft", "ga", "neg_grad"].map(String::from).to_vec(),
            datasets: vec!["mnist".into(); 5],
            models: vec!["cnn".into(); 5],
        };
        (t, labels)
    }

    /// The context, each row's op and values, each seed's key; `ft` (row 2) searched.
    fn provenance(t: &mut Table) {
        t.context = vec![
            ("dataset".into(), "mnist: mnist(path: \"mnist\"), split random(forget: 0.1, seed: 123, val: 0.15)".into()),
            ("model".into(), "net = cnn(width: 16)".into()),
        ];
        let of = |kind: &str, op: &str, fields: &[(&str, &str, &str)]| Provenance {
            kind: kind.into(),
            op: op.into(),
            values: fields.iter().map(|(k, v, _)| (k.to_string(), v.to_string())).collect(),
            origins: if kind == "train" {
                BTreeMap::new()
            } else {
                fields.iter().map(|(k, _, o)| (k.to_string(), o.to_string())).collect()
            },
            searches: vec![],
        };
        let mut ft = of(
            "unlearn",
            "finetune",
            &[("epochs", "3", "written"), ("lr", "0.0716", "searched"), ("batch", "256", "default")],
        );
        ft.searches = vec![search()];
        let models = [
            of("train", "train", &[("data", "mnist.train", ""), ("epochs", "20", "")]),
            of("train", "train", &[("data", "mnist.retain", ""), ("epochs", "20", "")]),
            ft,
            of("unlearn", "gradient_ascent", &[("epochs", "3", "written"), ("lr", "0.015", "written")]),
            of("unlearn", "neggrad_plus", &[("alpha", "0.8", "written"), ("lr", "0.03", "default")]),
        ];
        for (row, (r, model)) in t.rows.iter_mut().zip(models).enumerate() {
            r.model = Some(model);
            for s in &mut r.seeds {
                s.key = Some(format!("{row:x}{:x}", s.seed).repeat(32));
            }
        }
    }

    /// A sweep over `frac`: four models × two seeds per group.
    fn grouped_fixture() -> (Vec<Group>, Labels) {
        let measured = [
            vec![
                vec![m(1.0, 1.0, 0.90, 0.70, 100.0), m(0.99, 1.0, 0.91, 0.72, 101.0)],
                vec![m(0.98, 0.90, 0.90, 0.52, 90.0), m(0.98, 0.91, 0.89, 0.50, 92.0)],
                vec![m(0.97, 0.92, 0.89, 0.55, 9.0), m(0.96, 0.90, 0.88, 0.53, 10.0)],
                vec![m(0.60, 0.30, 0.55, 0.30, 2.0), m(0.61, 0.31, 0.55, 0.31, 2.5)],
            ],
            vec![
                vec![m(1.0, 1.0, 0.90, 0.75, 100.0), m(1.0, 0.99, 0.90, 0.74, 99.0)],
                vec![m(0.97, 0.85, 0.88, 0.50, 80.0), m(0.98, 0.86, 0.89, 0.51, 82.0)],
                vec![m(0.95, 0.95, 0.87, 0.62, 12.0), m(0.94, 0.96, 0.86, 0.61, 13.0)],
                vec![m(0.96, 0.86, 0.88, 0.49, 3.0), m(0.97, 0.87, 0.88, 0.50, 3.5)],
            ],
        ];
        let groups = ["0.01", "0.1"]
            .into_iter()
            .zip(measured)
            .map(|(frac, measured)| Group {
                coords: vec![("frac".into(), frac.into())],
                table: tabulate(&metrics(SWEEP), &[0, 1], 4, Some(1), &measured),
            })
            .collect();
        let labels = Labels {
            title: "sweep".into(),
            methods: ["original", "retrained", "ft", "ga"].map(String::from).to_vec(),
            datasets: vec!["mnist".into(); 4],
            models: vec!["cnn".into(); 4],
        };
        (groups, labels)
    }

    /// The two groups of [`grouped_fixture`] as settings of one evaluation, and a setting of
    /// another architecture without a ranking.
    fn across_fixture() -> Vec<Setting> {
        let (groups, l) = grouped_fixture();
        let labels = Labels { title: "mr.sweep".into(), ..l };
        let mut settings: Vec<Setting> = groups
            .into_iter()
            .map(|g| Setting {
                evaluation: "mr.sweep".into(),
                coords: g.coords,
                labels: labels.clone(),
                table: g.table,
            })
            .collect();
        let measured = vec![
            vec![m(1.0, 1.0, 0.92, 0.71, 200.0), m(1.0, 0.99, 0.91, 0.70, 210.0)],
            vec![m(0.99, 0.93, 0.92, 0.51, 180.0), m(0.99, 0.92, 0.91, 0.50, 185.0)],
            vec![m(0.98, 0.94, 0.91, 0.52, 20.0), m(0.99, 0.93, 0.90, 0.53, 22.0)],
        ];
        settings.push(Setting {
            evaluation: "mv.bench".into(),
            coords: vec![],
            labels: Labels {
                title: "mv.bench".into(),
                methods: ["original", "retrained", "scrub"].map(String::from).to_vec(),
                datasets: vec!["mnist".into(); 3],
                models: vec!["vit11m".into(); 3],
            },
            table: tabulate(&metrics(&["accuracy", "rte"]), &[0, 1], 3, Some(1), &measured),
        });
        settings
    }

    /// The page with its style sheet and the plots of `plot.rs` (snapshot elsewhere) left out.
    fn redacted(page: &str) -> String {
        let mut out = String::new();
        let mut rest = page;
        while let Some(start) = rest.find("<figure class=\"plot\">\n<svg") {
            let end = rest[start..].find("</svg>").map(|e| start + e + "</svg>".len()).unwrap();
            out.push_str(&rest[..start]);
            out.push_str("<figure class=\"plot\">\n<svg>…</svg>");
            rest = &rest[end..];
        }
        out.push_str(rest);
        let (a, b) = (out.find("<style>\n").unwrap(), out.find("</style>").unwrap());
        format!("{}<style>…{}", &out[..a], &out[b..])
    }

    /// Nothing is loaded from anywhere, and the elements open and close in pairs.
    fn check_page(page: &str) {
        let lower = page.to_ascii_lowercase();
        for bad in ["http://", "https://", "src=", "<script", "<link", "<img", "<iframe", "url(", "@import", "//cdn"] {
            assert!(!lower.contains(bad), "{bad} in the page");
        }
        assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">") && page.ends_with("</html>\n"));
        for tag in ["table", "details", "section", "figure", "svg", "tr", "ul", "header", "main"] {
            let opened = page.matches(&format!("<{tag}>")).count() + page.matches(&format!("<{tag} ")).count();
            assert_eq!(opened, page.matches(&format!("</{tag}>")).count(), "<{tag}> open and closed");
        }
    }

    #[test]
    fn escape_replaces_every_special() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("± ≈ – plain"), "± ≈ – plain");
        assert_eq!(escape("&amp;"), "&amp;amp;", "escaped once more, not passed through");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn html_snapshot() {
        let (t, l) = fixture();
        let page = html(&t, &l);
        check_page(&page);
        insta::assert_snapshot!("html", redacted(&page));
    }

    #[test]
    fn grouped_html_snapshot() {
        let (groups, l) = grouped_fixture();
        let page = grouped(&groups, &l);
        check_page(&page);
        assert_eq!(page.matches("<section class=\"part\">").count(), 2);
        assert!(page.contains("<h2>frac = 0.01</h2>") && page.contains("<h2>frac = 0.1</h2>"));
        insta::assert_snapshot!("grouped_html", redacted(&page));
    }

    #[test]
    fn across_html_snapshot() {
        let settings = across_fixture();
        let page = across("paper", &settings);
        check_page(&page);
        assert_eq!(page.matches("<section class=\"part\">").count(), 3);
        insta::assert_snapshot!("across_html", redacted(&page));
    }

    #[test]
    fn the_plots_are_inline_without_a_namespace() {
        let (t, l) = fixture();
        let svg = plot::svg(&t, &l);
        let inline = inline_svg(&svg);
        assert!(html(&t, &l).contains(&inline));
        assert!(inline.starts_with("<svg ") && inline.trim_end().ends_with("</svg>") && !inline.contains("xmlns"));
        let (groups, l) = grouped_fixture();
        assert!(grouped(&groups, &l).contains(&inline_svg(&plot::grouped(&groups, &l))));
        let settings = across_fixture();
        assert!(across("paper", &settings).contains(&inline_svg(&plot::across("paper", &settings))));
        let odd = "<?xml version=\"1.0\"?>\n<svg xmlns:xlink='http://www.w3.org/1999/xlink' width=\"10\" \
                   xmlns=\"http://www.w3.org/2000/svg\"><g/></svg>";
        assert_eq!(inline_svg(odd), "<svg width=\"10\"><g/></svg>");
    }

    #[test]
    fn every_text_is_escaped() {
        let measured = vec![vec![m(0.9, 0.8, 0.85, 0.5, 10.0)], vec![m(0.9, 0.7, 0.8, 0.6, 1.0)]];
        let mut t = tabulate(&metrics(SWEEP), &[0], 2, Some(0), &measured);
        t.context = vec![("dataset".into(), "d: <img src=x onerror=alert(1)>".into())];
        t.rows[1].seeds[0].notes = vec!["`mia_test` unavailable: 0 < 1 & \"quoted\"".into()];
        let l = Labels {
            title: "<script>alert(\"x\")</script>".into(),
            methods: vec!["retrained".into(), "ft<&>\"'".into()],
            ..Labels::default()
        };
        let page = html(&t, &l);
        assert!(!page.contains("<script") && !page.contains("<img"), "{page}");
        assert!(page.contains("<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</h1>"));
        assert!(page.contains("<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; · munl report</title>"));
        assert!(page.contains("ft&lt;&amp;&gt;&quot;&#39;"));
        assert!(page.contains("<code>d: &lt;img src=x onerror=alert(1)&gt;</code>"));
        assert!(page.contains("0 &lt; 1 &amp; &quot;quoted&quot;"));
        // The search's note and values too.
        let (t, l) = fixture();
        let page = html(&t, &l);
        assert!(page.contains("pruned: loss &lt;nan&gt; &amp; &quot;diverged&quot;"));
    }

    #[test]
    fn the_pareto_front_is_over_all_four_objectives() {
        let s = search();
        assert_eq!(pareto(&s.trials), [0, 1, 4, 5, 6]);
        assert!(pareto(&[]).is_empty());
        // Only pruned trials: no front.
        assert!(pareto(&[trial(0, 0.1, [None; 4], "pruned")]).is_empty());
    }

    #[test]
    fn a_search_shows_its_trials_front_and_best() {
        let (t, l) = fixture();
        let page = html(&t, &l);
        assert!(page.contains("<h3>search of ft</h3>"));
        let svg = &page[page.find("<svg class=\"scatter\"").unwrap()..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        // Completed trials with both plotted objectives finite: 0, 1, 2, 4, 5, 6 (7 has ∞).
        assert_eq!(svg.matches("<circle class=\"front\"").count(), 5);
        assert_eq!(svg.matches("<circle class=\"other\"").count(), 1);
        assert_eq!(svg.matches("<circle class=\"best\"").count(), 1);
        assert!(page.contains("Not shown: 1 completed trial(s) with an infinite retain_gap or forget_gap."));
        assert!(svg
            .contains("<title>trial 1: retain_gap 0.0100, forget_gap 0.2000, val_gap 0.0100, mia_gap 0.1000</title>"));
        // The best trial's row is highlighted, the front marked.
        let table = &page[page.find("<details class=\"trials\" open>").unwrap()..];
        let rows: Vec<&str> = table.lines().filter(|r| r.starts_with("<tr")).collect();
        assert_eq!(rows.iter().filter(|r| r.starts_with("<tr class=\"best\">")).count(), 1);
        assert!(rows.iter().any(|r| r.starts_with("<tr class=\"best\"><td class=\"num\">1</td>")));
        assert_eq!(rows.iter().filter(|r| r.contains("<td>●</td>")).count(), 5);
        for o in OBJECTIVES {
            assert!(table.contains(&format!("<th class=\"num\">{o}</th>")), "{o}");
        }
        assert!(table.contains("<td class=\"num\">∞</td>"), "an infinite objective");
    }

    #[test]
    fn provenance_shows_values_by_origin_keys_and_time() {
        let (t, l) = fixture();
        let page = html(&t, &l);
        let models = &page[page.find("<h2>models: values used</h2>").unwrap()..];
        let ft = models.lines().find(|r| r.starts_with("<tr><td>ft</td>") || r.contains("<td>ft</td>")).unwrap();
        assert!(ft.contains("<td>unlearn finetune</td>"), "{ft}");
        assert!(ft.contains("<code class=\"written\">epochs = 3</code>"), "{ft}");
        assert!(ft.contains("<code class=\"searched\">lr = 0.0716</code>"), "{ft}");
        assert!(ft.contains("<code class=\"default\">batch = 256</code>"), "{ft}");
        assert!(ft.contains("0: <code title=\"20202020"), "every seed's key: {ft}");
        assert!(
            ft.contains("<td class=\"num\">10.0000<span class=\"pm\"> ± 1.0000</span></td>"),
            "the seconds, mean ± std: {ft}"
        );
        // The per-seed block has the whole keys.
        assert!(page.contains(&format!("<code>{}</code>", "22".repeat(32))));
    }

    /// Writes the pages of the fixtures to `$MUNL_HTML_PREVIEW`, when set, to look at them in a
    /// browser.
    #[test]
    fn html_previews() {
        let Some(dir) = std::env::var_os("MUNL_HTML_PREVIEW") else { return };
        let write = |name: &str, page: String| {
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.html")), page).expect("the preview written")
        };
        let (t, l) = fixture();
        write("fixture", html(&t, &l));
        let (groups, l) = grouped_fixture();
        write("grouped", grouped(&groups, &l));
        write("across", across("paper", &across_fixture()));
    }

    #[test]
    fn ticks_cover_the_data_from_zero() {
        let (t, end) = ticks(0.0, 0.23);
        assert_eq!(t.first(), Some(&0.0));
        assert!(end >= 0.23 && t.len() <= 6 && t.len() >= 3, "{t:?}");
        let (t, end) = ticks(0.0, 0.0);
        assert!(end > 0.0 && t.len() >= 2, "{t:?}");
        assert_eq!(tick_label(0.25, 0.05), "0.25");
        assert_eq!(tick_label(2.0, 1.0), "2");
    }
}
