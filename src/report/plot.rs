//! The `plot` rendering. An evaluation is one picture of three columns: left, per method, the
//! forget-accuracy gap to the reference against indiscernibility (mean ± 95 % CI both ways) on
//! axes fitted to the data; in the middle the legend, a row per method (its marker and name);
//! right, on the legend's rows, each method's RTE (mean ± 95 % CI) on a log axis and its numbers.
//! Plain SVG 1.1 with generic font families, so it needs no font files and renders anywhere.
//! A grouped report stacks one such picture per group, on shared axes. A report across settings
//! is one picture of each method's ranks across the settings.

use std::fmt::Write as _;

use super::across::{analyse, Across, Method};
use super::present::{distinct, Group, Labels, Setting};
use crate::artifact::table::Table;
use crate::stats::summary::{summarize, Summary};

const WIDTH: f64 = 960.0;
/// The height of a picture that only says what it lacks.
const HEIGHT: f64 = 420.0;
const PALETTE: &[&str] =
    &["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/// Where the panels of a picture start, below its title and caption.
const TOP: f64 = 72.0;
/// The least height of the panels; taller when the legend needs more rows.
const PANEL: f64 = 280.0;
/// The least distance between two legend rows, and the most.
const ROW: (f64, f64) = (18.0, 40.0);
/// Below the panels: tick labels and axis titles.
const MARGIN: f64 = 58.0;
/// The scatter panel's frame, left and right.
const SCATTER: (f64, f64) = (84.0, 404.0);
/// Where the legend column starts.
const LEGEND: f64 = 428.0;
/// The width of the column of numbers right of the RTE panel.
const NUMBERS: f64 = 92.0;
/// A generous width of one character of the default font size, to size the legend column.
const CHAR: f64 = 6.8;
/// The longest name the legend shows in full; longer ones are cut with an ellipsis.
const NAME_CHARS: usize = 28;
/// The colour of the reference's marker and of its dashed guides.
const INK: &str = "#222222";

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// About five round tick values covering [lo, hi].
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= 6.0).unwrap_or(10.0 * mag);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v }).collect()
}

fn label(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s.strip_prefix('-') {
        Some("0") => "0".into(),
        Some(positive) => format!("−{positive}"),
        None => s.to_string(),
    }
}

/// The ticks of a log axis over [lo, hi] (lo > 0): labelled ones at the powers of ten, and at
/// 2× and 5× them when the axis spans fewer than three powers; unlabelled ones at the other
/// integer multiples.
fn log_ticks(lo: f64, hi: f64) -> (Vec<(f64, String)>, Vec<f64>) {
    let (first, last) = (lo.log10().floor() as i32 - 1, hi.log10().ceil() as i32 + 1);
    let inside = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
    let powers = (first..=last).filter(|&k| inside(power(1, k))).count();
    let labelled: &[u32] = if powers >= 3 { &[1] } else { &[1, 2, 5] };
    let (mut major, mut minor) = (vec![], vec![]);
    for k in first..=last {
        for m in 1..=9 {
            let v = power(m, k);
            if !inside(v) {
                continue;
            }
            if labelled.contains(&m) {
                major.push((
                    v,
                    if k >= 0 { format!("{}", m as u64 * 10u64.pow(k as u32)) } else { format!("{v:.*}", -k as usize) },
                ));
            } else {
                minor.push(v);
            }
        }
    }
    (major, minor)
}

/// m · 10^k.
fn power(m: u32, k: i32) -> f64 {
    m as f64 * 10f64.powi(k)
}

/// The range of an axis showing data over [lo, hi]: at least `least` wide, padded by 6 % of
/// that on both sides, within `domain` (the quantity's possible values: a CI running past them
/// is cut at the frame).
fn fit((lo, hi): (f64, f64), least: f64, (floor, ceil): (f64, f64)) -> (f64, f64) {
    let (lo, hi) = (lo.clamp(floor, ceil), hi.clamp(floor, ceil));
    let span = (hi - lo).max(least);
    let (mid, reach) = ((lo + hi) / 2.0, span * 0.56);
    let (mut a, mut b) = (mid - reach, mid + reach);
    if a < floor {
        b = (b + floor - a).min(ceil);
        a = floor;
    }
    if b > ceil {
        a = (a - (b - ceil)).max(floor);
        b = ceil;
    }
    (a, b)
}

/// A map of [lo, hi] onto pixels [a, b], linear or logarithmic (then lo > 0).
#[derive(Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    a: f64,
    b: f64,
    log: bool,
}

impl Axis {
    fn linear((lo, hi): (f64, f64), a: f64, b: f64) -> Axis {
        Axis { lo, hi, a, b, log: false }
    }

    fn at(&self, v: f64) -> f64 {
        let f = |v: f64| if self.log { v.max(f64::MIN_POSITIVE).log10() } else { v };
        let (lo, hi) = (f(self.lo), f(self.hi));
        self.a + (f(v).clamp(lo, hi) - lo) / (hi - lo) * (self.b - self.a)
    }
}

/// How a method is drawn: its colour and marker. Ten colours, then the same colours with other
/// markers, so that twenty or forty methods are still told apart.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Style {
    colour: &'static str,
    shape: Shape,
}

/// A marker's shape: filled for the methods, open for the reference.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Circle,
    Square,
    Up,
    Down,
    /// The reference: an open diamond.
    Diamond,
}

const REFERENCE: Style = Style { colour: INK, shape: Shape::Diamond };

/// The style of the `k`-th method of a report (counted over all its pictures).
fn style(k: usize) -> Style {
    const SHAPES: [Shape; 4] = [Shape::Circle, Shape::Square, Shape::Up, Shape::Down];
    Style { colour: PALETTE[k % PALETTE.len()], shape: SHAPES[(k / PALETTE.len()) % SHAPES.len()] }
}

/// A marker centred at (x, y), of `class` (`point`, `key` or `rte`, for the tests).
fn marker(s: &mut String, class: &str, style: Style, x: f64, y: f64) {
    let c = style.colour;
    let shape = match style.shape {
        Shape::Circle => r#"<circle r="4.5""#,
        Shape::Square => r#"<rect x="-4.2" y="-4.2" width="8.4" height="8.4""#,
        Shape::Up => r#"<path d="M 0 -5.5 L 5.2 3.6 L -5.2 3.6 Z""#,
        Shape::Down => r#"<path d="M 0 5.5 L 5.2 -3.6 L -5.2 -3.6 Z""#,
        Shape::Diamond => r#"<path d="M 0 -6 L 6 0 L 0 6 L -6 0 Z""#,
    };
    let paint = if style.shape == Shape::Diamond {
        format!(r#"fill="none" stroke="{c}" stroke-width="1.6""#)
    } else {
        format!(r#"fill="{c}" stroke="white" stroke-width="0.8""#)
    };
    let _ = writeln!(s, r#"{shape} class="{class}" transform="translate({x:.1} {y:.1})" {paint}/>"#);
}

/// One row of the table (a method, or the reference) for the plot.
struct Point {
    /// The method's name (the key of its style across pictures).
    name: String,
    reference: bool,
    style: Style,
    gap: Option<Summary>,
    indisc: Option<(f64, f64)>,
    rte: Option<(f64, f64)>,
}

impl Point {
    /// The name in the legend: the reference says it is one; a long name is cut.
    fn shown(&self) -> String {
        let name = if self.reference { format!("{} (reference)", self.name) } else { self.name.clone() };
        if name.chars().count() <= NAME_CHARS {
            return name;
        }
        name.chars().take(NAME_CHARS - 1).chain(['…']).collect()
    }
}

fn finite(s: Summary) -> Option<Summary> {
    s.mean.is_finite().then_some(s)
}

/// The shown rows of a table, the reference included, in the table's order.
fn points(t: &Table, l: &Labels) -> Vec<Point> {
    let reference = t.reference.and_then(|r| t.rows.get(r));
    let mut out = vec![];
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        // Forget-accuracy gap per seed, paired with the reference's same seed (0 for itself).
        let gap = reference.and_then(|r| {
            let gaps: Vec<f64> = row
                .seeds
                .iter()
                .filter_map(|s| {
                    let mine = s.values.get("forget_acc").copied().flatten()?;
                    let theirs =
                        r.seeds.iter().find(|x| x.seed == s.seed)?.values.get("forget_acc").copied().flatten()?;
                    Some(mine - theirs)
                })
                .collect();
            finite(summarize(&gaps))
        });
        let mean_ci = |c: &str| {
            row.summary
                .get(c)
                .filter(|a| a.mean.is_finite())
                .map(|a| (a.mean, if a.ci95.is_finite() { a.ci95 } else { 0.0 }))
        };
        out.push(Point {
            name: l.method(i).to_string(),
            reference: t.reference == Some(i),
            style: REFERENCE,
            gap,
            indisc: mean_ci("indiscernibility"),
            rte: mean_ci("rte").filter(|(m, _)| *m > 0.0),
        });
    }
    out
}

/// Gives every method its style: by its place among the methods of all the pictures, so that
/// a method keeps its colour and marker from one group to the next.
fn dress(sets: &mut [Vec<Point>]) {
    let names = distinct(sets.iter().flatten().filter(|p| !p.reference).map(|p| p.name.clone()));
    for p in sets.iter_mut().flatten().filter(|p| !p.reference) {
        p.style = style(names.iter().position(|n| *n == p.name).unwrap_or(0));
    }
}

/// The half-width of a CI, 0 when undefined.
fn half(g: &Summary) -> f64 {
    if g.ci95.is_finite() {
        g.ci95
    } else {
        0.0
    }
}

/// Axis ranges shared by every picture of one SVG, so that the groups of a grouped report
/// compare at a glance, each fitted to the data it shows (mean ± CI), with a little padding:
/// the forget-accuracy gap (always showing 0, the reference), Indisc, and RTE (log, always
/// showing 1, the reference).
struct Scale {
    gap: (f64, f64),
    indisc: (f64, f64),
    rte: (f64, f64),
}

impl Scale {
    fn of(sets: &[Vec<Point>]) -> Scale {
        let all = || sets.iter().flatten();
        let scatter = || all().filter_map(|p| Some((p.gap?, p.indisc?)));
        let gaps = (
            scatter().map(|(g, _)| g.mean - half(&g)).fold(0.0, f64::min),
            scatter().map(|(g, _)| g.mean + half(&g)).fold(0.0, f64::max),
        );
        let indisc = (
            scatter().map(|(_, (m, c))| m - c).fold(f64::INFINITY, f64::min),
            scatter().map(|(_, (m, c))| m + c).fold(f64::NEG_INFINITY, f64::max),
        );
        let indisc = if indisc.0 <= indisc.1 { indisc } else { (0.0, 1.0) };
        // RTE: every mean and upper end; a lower end only down to a tenth of the least mean
        // (below, and at or under 0, its whisker ends in an arrow at the frame).
        let rtes = || all().filter_map(|p| p.rte);
        let least = rtes().map(|(m, _)| m).fold(1.0, f64::min);
        let lo = rtes().map(|(m, c)| m - c).filter(|&v| v >= least / 10.0).fold(least, f64::min);
        let hi = rtes().map(|(m, c)| m + c).fold(1.0, f64::max);
        let (a, b) = fit((lo.log10(), hi.log10()), 1.0, (f64::NEG_INFINITY, f64::INFINITY));
        Scale {
            gap: fit(gaps, 0.02, (-1.0, 1.0)),
            indisc: fit(indisc, 0.02, (0.0, 1.0)),
            rte: (10f64.powf(a), 10f64.powf(b)),
        }
    }
}

/// The vertical layout of the pictures of one SVG (all alike) and the width of the legend.
struct Layout {
    rows: usize,
    legend: f64,
}

impl Layout {
    fn of(sets: &[Vec<Point>]) -> Layout {
        let chars = sets.iter().flatten().map(|p| p.shown().chars().count()).max().unwrap_or(0);
        Layout { rows: sets.iter().map(Vec::len).max().unwrap_or(0).max(1), legend: 20.0 + CHAR * chars.max(6) as f64 }
    }

    fn bottom(&self) -> f64 {
        TOP + PANEL.max(ROW.0 * self.rows as f64)
    }

    fn height(&self) -> f64 {
        self.bottom() + MARGIN
    }

    /// The middle of the `k`-th row of the legend and of the RTE panel: evenly spread over the
    /// panels' height, centred, at most [`ROW`]`.1` apart.
    fn row(&self, k: usize) -> f64 {
        let step = ((self.bottom() - TOP) / self.rows as f64).min(ROW.1);
        (TOP + self.bottom()) / 2.0 + (k as f64 - (self.rows as f64 - 1.0) / 2.0) * step
    }

    /// The RTE panel's frame, left and right.
    fn rte(&self) -> (f64, f64) {
        (LEGEND + self.legend + 8.0, WIDTH - 16.0 - NUMBERS)
    }
}

/// The opening of the SVG document, `height` tall, on white.
fn open(height: f64) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
"##
    )
}

/// The number of seeds of a table (the most any row has).
fn seeds(t: &Table) -> usize {
    t.rows.iter().map(|r| r.seeds.len()).max().unwrap_or(0)
}

/// The SVG document.
pub(crate) fn svg(t: &Table, l: &Labels) -> String {
    let mut sets = vec![points(t, l)];
    dress(&mut sets);
    let (scale, layout) = (Scale::of(&sets), Layout::of(&sets));
    let mut s = open(layout.height());
    picture(&mut s, &l.title, seeds(t), &sets[0], &scale, &layout);
    s.push_str("</svg>\n");
    s
}

/// A grouped report: the picture of each group below the previous one, titled with its
/// coordinates, all on the same axes and equally tall; a method keeps its colour and marker
/// across the groups.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> String {
    let mut sets: Vec<Vec<Point>> = groups.iter().map(|g| points(&g.table, l)).collect();
    dress(&mut sets);
    let (scale, layout) = (Scale::of(&sets), Layout::of(&sets));
    let mut s = open(layout.height() * groups.len() as f64);
    for (k, (g, pts)) in groups.iter().zip(&sets).enumerate() {
        let _ = writeln!(s, r#"<g transform="translate(0 {:.1})">"#, k as f64 * layout.height());
        if k > 0 {
            let _ = writeln!(s, r##"<line x1="0" y1="0" x2="{WIDTH}" y2="0" stroke="#ccc"/>"##);
        }
        picture(&mut s, &format!("{} — {}", l.title, g.name()), seeds(&g.table), pts, &scale, &layout);
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}

/// A panel's frame from `x.a` to `x.b` and `top` to `bottom`, with x ticks (labelled, with light
/// grid lines, and `minor` ones), and its x axis title.
fn x_axis(s: &mut String, x: Axis, (top, bottom): (f64, f64), ticks: &[(f64, String)], minor: &[f64], title: &str) {
    for (v, _) in ticks {
        let px = x.at(*v);
        let _ = writeln!(s, r##"<line x1="{px:.1}" y1="{top:.1}" x2="{px:.1}" y2="{bottom:.1}" stroke="#e6e6e6"/>"##);
    }
    let _ = writeln!(
        s,
        r##"<rect class="frame" x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#444"/>"##,
        x.a,
        x.b - x.a,
        bottom - top
    );
    for (v, text) in ticks {
        let px = x.at(*v);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{bottom:.1}" x2="{px:.1}" y2="{:.1}" stroke="#444"/><text class="x" x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            bottom + 5.0,
            bottom + 18.0,
            xml(text)
        );
    }
    for v in minor {
        let px = x.at(*v);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{bottom:.1}" x2="{px:.1}" y2="{:.1}" stroke="#444"/>"##,
            bottom + 3.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13">{}</text>"##,
        (x.a + x.b) / 2.0,
        bottom + 40.0,
        xml(title)
    );
}

/// The y ticks of a panel whose frame starts at `left` and ends at `right` (labelled, with light
/// grid lines), and its y axis title.
fn y_axis(s: &mut String, y: Axis, (left, right): (f64, f64), ticks: &[f64], title: &str) {
    for &v in ticks {
        let py = y.at(v);
        let _ = writeln!(
            s,
            r##"<line x1="{left:.1}" y1="{py:.1}" x2="{right:.1}" y2="{py:.1}" stroke="#e6e6e6"/><line x1="{:.1}" y1="{py:.1}" x2="{left:.1}" y2="{py:.1}" stroke="#444"/><text class="y" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            left - 5.0,
            left - 8.0,
            py + 4.0,
            label(v)
        );
    }
    let (lx, ly) = (left - 56.0, (y.a + y.b) / 2.0);
    let _ = writeln!(
        s,
        r##"<text x="{lx:.1}" y="{ly:.1}" text-anchor="middle" font-size="13" transform="rotate(-90 {lx:.1} {ly:.1})">{}</text>"##,
        xml(title)
    );
}

/// The dashed guide of the reference at `x` from `top` to `bottom`, named above the frame.
fn reference_guide(s: &mut String, x: f64, (top, bottom): (f64, f64), (left, right): (f64, f64)) {
    let lx = x.clamp(left + 30.0, right - 30.0);
    let _ = writeln!(
        s,
        r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="{INK}" stroke-dasharray="5 3"/><text x="{lx:.1}" y="{:.1}" text-anchor="middle" fill="#555">reference</text>"##,
        top - 6.0
    );
}

/// A whisker over [lo, hi] along `axis`, at `at` across it, horizontal or vertical: capped at
/// both ends, or ending in an arrowhead at the frame where the interval runs past the axis.
/// Whether it does.
fn whisker(s: &mut String, axis: Axis, (lo, hi): (f64, f64), at: f64, horizontal: bool, colour: &str) -> bool {
    let slack = (axis.hi - axis.lo) * 1e-9;
    let (clipped_lo, clipped_hi) = (lo < axis.lo - slack || (axis.log && lo <= 0.0), hi > axis.hi + slack);
    let (p, q) = (axis.at(lo), axis.at(hi));
    let xy = |along: f64, across: f64| if horizontal { (along, across) } else { (across, along) };
    let ((x1, y1), (x2, y2)) = (xy(p, at), xy(q, at));
    let _ = write!(
        s,
        r##"<g stroke="{colour}" fill="{colour}" stroke-width="1.2" stroke-opacity="0.8"><line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}"/>"##
    );
    for (end, clipped, inward) in [(p, clipped_lo, (q - p).signum()), (q, clipped_hi, (p - q).signum())] {
        if clipped {
            // An arrowhead pointing out of the frame.
            let ((ax, ay), (bx, by), (cx, cy)) =
                (xy(end, at), xy(end + 6.0 * inward, at - 3.5), xy(end + 6.0 * inward, at + 3.5));
            let _ = write!(s, r##"<path d="M {ax:.1} {ay:.1} L {bx:.1} {by:.1} L {cx:.1} {cy:.1} Z" stroke="none"/>"##);
        } else {
            let ((ax, ay), (bx, by)) = (xy(end, at - 3.0), xy(end, at + 3.0));
            let _ = write!(s, r##"<line x1="{ax:.1}" y1="{ay:.1}" x2="{bx:.1}" y2="{by:.1}"/>"##);
        }
    }
    s.push_str("</g>\n");
    clipped_lo || clipped_hi
}

/// A mean ± CI as the numbers column shows it: three significant digits or so.
fn number((mean, ci): (f64, f64)) -> String {
    let digits = if mean == 0.0 { 2 } else { (1 - mean.abs().log10().floor() as i32).clamp(0, 3) as usize };
    if ci > 0.0 {
        format!("{mean:.digits$} ± {ci:.digits$}")
    } else {
        format!("{mean:.digits$}")
    }
}

fn note(s: &mut String, x: f64, y: f64, text: &str) {
    let _ = writeln!(s, r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" fill="#666">{}</text>"##, xml(text));
}

/// One picture, [`Layout::height`] tall: the title, the caption, the scatter panel, the legend
/// and the RTE panel with its numbers.
fn picture(s: &mut String, title: &str, seeds: usize, pts: &[Point], scale: &Scale, layout: &Layout) {
    let mut body = String::new();
    let clipped = panels(&mut body, pts, scale, layout);
    let mut caption = format!(
        "markers: mean over {seeds} seed{}; whiskers: 95 % CI of the mean (Student t{})",
        if seeds == 1 { "" } else { "s" },
        if clipped { "; arrowhead: cut at the axis" } else { "" }
    );
    if pts.iter().any(|p| p.reference) {
        caption.push_str("; open diamond, dashed lines: the reference");
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="24" text-anchor="middle" font-size="16">{}</text>
<text x="{:.1}" y="44" text-anchor="middle" fill="#555">{}</text>
"##,
        WIDTH / 2.0,
        xml(title),
        WIDTH / 2.0,
        xml(&caption)
    );
    s.push_str(&body);
}

/// The panels and the legend of a picture; whether a whisker was cut at the frame.
fn panels(s: &mut String, pts: &[Point], scale: &Scale, layout: &Layout) -> bool {
    let has_reference = pts.iter().any(|p| p.reference);
    let mut clipped = false;
    let (top, bottom) = (TOP, layout.bottom());

    // Left panel: forget-accuracy gap vs Indisc; the markers over all the whiskers.
    let scatter: Vec<(&Point, Summary, (f64, f64))> = pts.iter().filter_map(|p| Some((p, p.gap?, p.indisc?))).collect();
    if scatter.is_empty() {
        note(
            s,
            (SCATTER.0 + SCATTER.1) / 2.0,
            (top + bottom) / 2.0,
            "needs metrics accuracy and indiscernibility, and a reference",
        );
    } else {
        let x = Axis::linear(scale.gap, SCATTER.0, SCATTER.1);
        let y = Axis::linear(scale.indisc, bottom, top);
        let xt: Vec<(f64, String)> = ticks(x.lo, x.hi).into_iter().map(|v| (v, label(v))).collect();
        y_axis(s, y, SCATTER, &ticks(y.lo, y.hi), "Indisc (mean ± 95 % CI)");
        x_axis(s, x, (top, bottom), &xt, &[], "forget-accuracy gap to the reference (mean ± 95 % CI)");
        reference_guide(s, x.at(0.0), (top, bottom), SCATTER);
        for (p, g, (im, ic)) in &scatter {
            let (px, py) = (x.at(g.mean), y.at(*im));
            if half(g) > 0.0 {
                clipped |= whisker(s, x, (g.mean - half(g), g.mean + half(g)), py, true, p.style.colour);
            }
            if *ic > 0.0 {
                clipped |= whisker(s, y, (im - ic, im + ic), px, false, p.style.colour);
            }
        }
        // The reference last, open: on top of any method it would otherwise hide.
        for (p, g, (im, _)) in
            scatter.iter().filter(|(p, _, _)| !p.reference).chain(scatter.iter().filter(|(p, _, _)| p.reference))
        {
            marker(s, "point", p.style, x.at(g.mean), y.at(*im));
        }
    }

    // Middle: the legend, a row per table row; the RTE panel's rows are the same.
    for (k, p) in pts.iter().enumerate() {
        let cy = layout.row(k);
        marker(s, "key", p.style, LEGEND + 7.0, cy);
        let _ = writeln!(
            s,
            r##"<text class="legend" x="{:.1}" y="{:.1}">{}</text>"##,
            LEGEND + 18.0,
            cy + 4.0,
            xml(&p.shown())
        );
    }

    // Right panel: RTE, log axis, with the numbers on the right.
    let (left, right) = layout.rte();
    if pts.iter().all(|p| p.rte.is_none()) {
        note(s, (left + WIDTH) / 2.0, (top + bottom) / 2.0, "needs metric rte and a reference");
        return clipped;
    }
    let x = Axis { lo: scale.rte.0, hi: scale.rte.1, a: left, b: right, log: true };
    let (major, minor) = log_ticks(x.lo, x.hi);
    for k in 0..pts.len() {
        let cy = layout.row(k);
        let _ = writeln!(s, r##"<line x1="{left:.1}" y1="{cy:.1}" x2="{right:.1}" y2="{cy:.1}" stroke="#f0f0f0"/>"##);
    }
    x_axis(s, x, (top, bottom), &major, &minor, "RTE = reference's time ÷ method's (log scale)");
    if has_reference {
        reference_guide(s, x.at(1.0), (top, bottom), (left, right));
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#555">RTE ± 95 % CI</text>"##,
        WIDTH - 12.0,
        top - 6.0
    );
    for (k, p) in pts.iter().enumerate() {
        let cy = layout.row(k);
        let Some((m, c)) = p.rte else {
            let _ = writeln!(
                s,
                r##"<text class="number" x="{:.1}" y="{:.1}" text-anchor="end" fill="#666">–</text>"##,
                WIDTH - 12.0,
                cy + 4.0
            );
            continue;
        };
        if c > 0.0 {
            clipped |= whisker(s, x, (m - c, m + c), cy, true, p.style.colour);
        }
        marker(s, "rte", p.style, x.at(m), cy);
        let _ = writeln!(
            s,
            r##"<text class="number" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - 12.0,
            cy + 4.0,
            number((m, c))
        );
    }
    clipped
}

/// The frame of the picture of ranks across settings, its ticks and its axis labels (no y label
/// when `ylabel` is empty).
fn axes(s: &mut String, x: Axis, y: Axis, xs: &[f64], ys: &[f64], xlabel: &str, ylabel: &str) {
    let _ = writeln!(
        s,
        r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#444"/>"##,
        x.a,
        y.b,
        x.b - x.a,
        y.a - y.b
    );
    for &v in xs {
        let px = x.at(v);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}" stroke="#444"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            y.a,
            y.a + 5.0,
            y.a + 18.0,
            label(v)
        );
    }
    for &v in ys {
        let py = y.at(v);
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#444"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            x.a - 5.0,
            x.a,
            x.a - 8.0,
            py + 4.0,
            label(v)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
        (x.a + x.b) / 2.0,
        y.a + 38.0,
        xml(xlabel)
    );
    if ylabel.is_empty() {
        return;
    }
    let (lx, ly) = (x.a - 48.0, (y.a + y.b) / 2.0);
    let _ = writeln!(
        s,
        r##"<text x="{lx:.1}" y="{ly:.1}" text-anchor="middle" transform="rotate(-90 {lx:.1} {ly:.1})">{}</text>"##,
        xml(ylabel)
    );
}

/// The height of one method's row in the picture of ranks across settings.
const RANK_ROW: f64 = 28.0;
/// Where that picture's rows start (below the title and the legend).
const RANK_TOP: f64 = 80.0;
/// The colour of a setting whose rows differ in architecture.
const MIXED: &str = "#444444";

/// A report across settings: per method (a row, best mean rank first) its rank in each setting
/// as a dot coloured by the setting's architecture, the range of its ranks as a line and its
/// mean rank as a larger open diamond; rank 1 (the best) at the left.
pub(crate) fn across(title: &str, settings: &[Setting]) -> String {
    let a = analyse(settings);
    let worst = a.methods.iter().filter_map(|m| m.overall).map(|o| o.max).max();
    let bottom = RANK_TOP + RANK_ROW * a.methods.len().max(1) as f64;
    let mut s = open(if worst.is_some() { bottom + 60.0 } else { HEIGHT });
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="24" text-anchor="middle" font-size="16">{}</text>
<text x="{:.1}" y="42" text-anchor="middle" fill="#666">rank in each setting (dots), range (line) and mean rank (diamond)</text>"##,
        WIDTH / 2.0,
        xml(title),
        WIDTH / 2.0
    );
    let Some(worst) = worst else {
        note(&mut s, WIDTH / 2.0, 205.0, "needs metric retention and a reference in some setting");
        s.push_str("</svg>\n");
        return s;
    };
    legend(&mut s, &a);
    let x = Axis { lo: 0.5, hi: worst as f64 + 0.5, a: 200.0, b: 920.0, log: false };
    let y = Axis { lo: 0.0, hi: 1.0, a: bottom, b: RANK_TOP, log: false };
    let step = worst.div_ceil(10);
    let xs: Vec<f64> = (1..=worst).step_by(step).map(|r| r as f64).collect();
    axes(&mut s, x, y, &xs, &[], "rank (1 = best)", "");
    for (i, m) in a.methods.iter().enumerate() {
        rank_row(&mut s, m, &a, x, RANK_TOP + RANK_ROW * (i as f64 + 0.5));
    }
    s.push_str("</svg>\n");
    s
}

/// The colour of an architecture: its place among the report's in the palette; [`MIXED`] for
/// none.
fn arch_colour(a: &Across, arch: Option<&String>) -> &'static str {
    let place = arch.and_then(|arch| a.architectures.iter().position(|x| x == arch));
    place.map_or(MIXED, |k| PALETTE[k % PALETTE.len()])
}

/// The colour of each architecture (and of the settings without one), on one line.
fn legend(s: &mut String, a: &Across) {
    let mut entries: Vec<(&str, &str)> =
        a.architectures.iter().map(|arch| (arch.as_str(), arch_colour(a, Some(arch)))).collect();
    if a.settings.iter().any(|n| n.arch.is_none()) {
        entries.push(("mixed architectures", MIXED));
    }
    let mut at = 200.0;
    for (name, colour) in entries {
        let _ = writeln!(
            s,
            r##"<circle cx="{at:.1}" cy="60" r="4" fill="{colour}"/><text x="{:.1}" y="64">{}</text>"##,
            at + 8.0,
            xml(name)
        );
        at += 24.0 + 7.0 * name.chars().count() as f64;
    }
}

/// One method's row, centred at `cy`: its name, the range, a dot per setting that ranks it
/// (spread a little vertically so that equal ranks stay visible) and the mean.
fn rank_row(s: &mut String, m: &Method, a: &Across, x: Axis, cy: f64) {
    let _ =
        writeln!(s, r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##, x.a - 8.0, cy + 4.0, xml(&m.name));
    let Some(o) = m.overall else {
        let _ = writeln!(s, r##"<text x="{:.1}" y="{:.1}" fill="#666">not ranked</text>"##, x.a + 8.0, cy + 4.0);
        return;
    };
    let _ = writeln!(
        s,
        r##"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#999" stroke-width="2"/>"##,
        x.at(o.min as f64),
        x.at(o.max as f64)
    );
    let n = m.places.len() as f64;
    let spacing = (16.0 / n).min(3.0);
    for (k, (place, setting)) in m.places.iter().zip(&a.settings).enumerate() {
        let Some(p) = place else { continue };
        let dy = (k as f64 - (n - 1.0) / 2.0) * spacing;
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"><title>{}: {}</title></circle>"##,
            x.at(p.rank as f64),
            cy + dy,
            arch_colour(a, setting.arch.as_ref()),
            xml(&setting.name),
            p.rank
        );
    }
    let (px, d) = (x.at(o.mean), 7.0);
    let _ = writeln!(
        s,
        r##"<path d="M {px:.1} {:.1} L {:.1} {cy:.1} L {px:.1} {:.1} L {:.1} {cy:.1} Z" fill="none" stroke="#222" stroke-width="2"/>"##,
        cy - d,
        px + d,
        cy + d,
        px - d
    );
}

/// Pixels per SVG unit in the PNG.
const PNG_SCALE: f32 = 2.0;

/// The SVG rasterised to PNG (twice the SVG's size), text set in the bundled Ubuntu font so
/// that no system font is needed.
pub(crate) fn png(svg: &str) -> Result<Vec<u8>, String> {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_font_data(epaint_default_fonts::UBUNTU_LIGHT.to_vec());
    fonts.set_sans_serif_family("Ubuntu");
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("plot: {e}"))?;
    let size = tree.size().to_int_size().scale_by(PNG_SCALE).ok_or("plot: empty image")?;
    let mut pixels = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("plot: empty image")?;
    resvg::render(&tree, tiny_skia::Transform::from_scale(PNG_SCALE, PNG_SCALE), &mut pixels.as_mut());
    pixels.encode_png().map_err(|e| format!("plot: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks() {
        let labels = |lo, hi| ticks(lo, hi).into_iter().map(label).collect::<Vec<_>>();
        assert_eq!(labels(0.0, 1.0), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(labels(-0.05, 0.3), ["0", "0.1", "0.2", "0.3"]);
        assert_eq!(labels(0.0, 13.2), ["0", "2.5", "5", "7.5", "10", "12.5"]);
        assert_eq!(label(0.6000000000000001), "0.6");
        assert_eq!(label(-0.0), "0");
        assert_eq!(label(-0.15), "−0.15");
        assert_eq!(label(0.0025), "0.0025");
    }

    #[test]
    fn axes_fit_the_data_with_a_little_padding_inside_the_domain() {
        // Indisc 0.93–0.97: about 6 % more on each side, not 0–1.
        let (lo, hi) = fit((0.93, 0.97), 0.02, (0.0, 1.0));
        assert!((lo - 0.9276).abs() < 1e-9 && (hi - 0.9724).abs() < 1e-9, "{lo} {hi}");
        // A CI past 1 is cut there; the padding shifts inside the domain.
        assert_eq!(fit((0.8, 1.05), 0.02, (0.0, 1.0)), (0.8 - 0.2 * 0.12, 1.0));
        // A single value still gets an axis.
        let (lo, hi) = fit((0.5, 0.5), 0.02, (0.0, 1.0));
        assert!(lo < 0.49 && hi > 0.51);
        let ticks = ticks(0.9276, 0.9724);
        assert!(ticks.len() >= 3 && ticks.iter().all(|t| (0.9276..=0.9724).contains(t)), "{ticks:?}");
    }

    #[test]
    fn log_axes_tick_the_powers_of_ten() {
        let labels = |lo, hi| log_ticks(lo, hi).0.into_iter().map(|(_, l)| l).collect::<Vec<_>>();
        assert_eq!(labels(0.25, 2000.0), ["1", "10", "100", "1000"]);
        assert_eq!(labels(0.6, 60.0), ["1", "2", "5", "10", "20", "50"]);
        assert_eq!(labels(0.04, 0.9), ["0.05", "0.1", "0.2", "0.5"]);
        // Unlabelled ticks between: 2–9 × 10^k.
        assert_eq!(log_ticks(1.0, 10.0).1.len(), 6);
        let x = Axis { lo: 0.1, hi: 100.0, a: 0.0, b: 300.0, log: true };
        assert!((x.at(1.0) - 100.0).abs() < 1e-9 && (x.at(10.0) - 200.0).abs() < 1e-9);
        assert_eq!(x.at(-3.0), 0.0, "a value at or below 0 sits at the frame");
    }

    #[test]
    fn forty_methods_are_drawn_apart() {
        let styles: Vec<Style> = (0..40).map(style).collect();
        assert_eq!(distinct(styles.iter()).len(), 40);
        assert!(!styles.contains(&REFERENCE));
    }

    #[test]
    fn numbers_have_about_three_digits() {
        assert_eq!(number((7.234, 18.04)), "7.2 ± 18.0");
        assert_eq!(number((13.2, 60.4)), "13 ± 60");
        assert_eq!(number((0.9012, 0.587)), "0.90 ± 0.59");
        assert_eq!(number((1.0, 0.0)), "1.0");
        assert_eq!(number((1389.2, 659.0)), "1389 ± 659");
    }

    #[test]
    fn png_has_text_and_twice_the_size() {
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/><text x="10" y="40" font-size="30">RTE ± 95 %</text></svg>"#
        );
        let bytes = png(&svg).unwrap();
        let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (2 * WIDTH as u32, 2 * HEIGHT as u32));
        // The text was drawn with the bundled font: some pixels are not white.
        assert!(buf.chunks(4).any(|p| p[0] < 128), "no text rendered");
    }
}
