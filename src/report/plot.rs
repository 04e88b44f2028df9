//! The `plot` rendering: one SVG with two panels — per method, the forget-accuracy gap to the
//! reference against indiscernibility (mean ± 95 % CI both ways), and RTE bars (± 95 % CI).
//! Plain SVG 1.1 with generic font families, so it needs no font files and renders anywhere.
//! A grouped report stacks one such picture per group, on shared axes. A report across settings
//! is one picture of each method's ranks across the settings.

use std::fmt::Write as _;

use super::across::{analyse, Across, Method};
use super::present::{Group, Labels, Setting};
use crate::artifact::table::Table;
use crate::stats::summary::{summarize, Summary};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 420.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 350.0;
const PALETTE: &[&str] =
    &["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

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
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// A linear map of [lo, hi] onto [a, b].
#[derive(Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    a: f64,
    b: f64,
}

impl Axis {
    fn at(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)
    }
}

/// One method's numbers for the plot.
struct Point {
    name: String,
    colour: &'static str,
    gap: Option<Summary>,
    indisc: Option<(f64, f64)>,
    rte: Option<(f64, f64)>,
}

fn finite(s: Summary) -> Option<Summary> {
    s.mean.is_finite().then_some(s)
}

fn points(t: &Table, l: &Labels) -> Vec<Point> {
    let reference = t.reference.and_then(|r| t.rows.get(r));
    let mut out = vec![];
    for (i, row) in t.rows.iter().enumerate().take(t.shown) {
        if t.reference == Some(i) {
            continue;
        }
        // Forget-accuracy gap per seed, paired with the reference's same seed.
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
            name: l.methods.get(i).cloned().unwrap_or_else(|| "?".into()),
            colour: PALETTE[out.len() % PALETTE.len()],
            gap,
            indisc: mean_ci("indiscernibility"),
            rte: mean_ci("rte"),
        });
    }
    out
}

/// The frame of a panel, its ticks and its axis labels (no y label when `ylabel` is empty).
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

fn note(s: &mut String, x: f64, text: &str) {
    let _ = writeln!(
        s,
        r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#666">{}</text>"##,
        (TOP + BOTTOM) / 2.0,
        xml(text)
    );
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
/// compare at a glance: the forget-accuracy gaps (± CI) span [lo, hi], RTE bars (+ CI) reach top.
struct Scale {
    lo: f64,
    hi: f64,
    top: f64,
}

impl Scale {
    fn of(sets: &[Vec<Point>]) -> Scale {
        let all = || sets.iter().flatten();
        let gaps = || all().filter(|p| p.indisc.is_some()).filter_map(|p| p.gap);
        Scale {
            lo: gaps().map(|g| g.mean - half(&g)).fold(0.0, f64::min),
            hi: gaps().map(|g| g.mean + half(&g)).fold(0.0, f64::max),
            top: all().filter_map(|p| p.rte).map(|(m, c)| m + c).fold(1.0, f64::max) * 1.1,
        }
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

/// The SVG document.
pub(crate) fn svg(t: &Table, l: &Labels) -> String {
    let pts = points(t, l);
    let mut s = open(HEIGHT);
    picture(&mut s, &l.title, &pts, &Scale::of(std::slice::from_ref(&pts)));
    s.push_str("</svg>\n");
    s
}

/// A grouped report: the picture of each group below the previous one, titled with its
/// coordinates, all on the same axes; a method keeps its colour across the groups.
pub(crate) fn grouped(groups: &[Group], l: &Labels) -> String {
    let sets: Vec<Vec<Point>> = groups.iter().map(|g| points(&g.table, l)).collect();
    let scale = Scale::of(&sets);
    let mut s = open(HEIGHT * groups.len() as f64);
    for (k, (g, pts)) in groups.iter().zip(&sets).enumerate() {
        let _ = writeln!(s, r#"<g transform="translate(0 {:.1})">"#, k as f64 * HEIGHT);
        if k > 0 {
            let _ = writeln!(s, r##"<line x1="0" y1="0" x2="{WIDTH}" y2="0" stroke="#ccc"/>"##);
        }
        picture(&mut s, &format!("{} — {}", l.title, g.name()), pts, &scale);
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}

/// One picture, [`HEIGHT`] tall: the title and both panels.
fn picture(s: &mut String, title: &str, pts: &[Point], scale: &Scale) {
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="24" text-anchor="middle" font-size="16">{}</text>
<text x="{:.1}" y="42" text-anchor="middle" fill="#666">mean ± 95 % CI over the seeds</text>
"##,
        WIDTH / 2.0,
        xml(title),
        WIDTH / 2.0
    );

    // Left panel: forget-accuracy gap vs Indisc.
    let scatter: Vec<(&Point, Summary, (f64, f64))> = pts.iter().filter_map(|p| Some((p, p.gap?, p.indisc?))).collect();
    let (left, right) = (90.0, 440.0);
    if scatter.is_empty() {
        note(s, (left + right) / 2.0, "needs metrics accuracy and indiscernibility, and a reference");
    } else {
        let (lo, hi) = (scale.lo, scale.hi);
        let pad = ((hi - lo) * 0.08).max(0.01);
        let x = Axis { lo: lo - pad, hi: hi + pad, a: left, b: right };
        let y = Axis { lo: 0.0, hi: 1.0, a: BOTTOM, b: TOP };
        axes(s, x, y, &ticks(x.lo, x.hi), &ticks(0.0, 1.0), "forget accuracy − reference's (same seed)", "Indisc");
        let zero = x.at(0.0);
        let _ = writeln!(
            s,
            r##"<line x1="{zero:.1}" y1="{TOP:.1}" x2="{zero:.1}" y2="{BOTTOM:.1}" stroke="#999" stroke-dasharray="4 3"/>"##
        );
        for (p, g, (im, ic)) in &scatter {
            let (px, py) = (x.at(g.mean), y.at(*im));
            let c = p.colour;
            let _ = writeln!(
                s,
                r##"<g stroke="{c}"><line x1="{:.1}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}"/><line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{:.1}"/></g>"##,
                x.at(g.mean - half(g)),
                x.at(g.mean + half(g)),
                y.at(im - ic),
                y.at(im + ic)
            );
            let _ = writeln!(
                s,
                r##"<circle cx="{px:.1}" cy="{py:.1}" r="4" fill="{c}"/><text x="{:.1}" y="{:.1}" fill="{c}">{}</text>"##,
                px + 6.0,
                py - 6.0,
                xml(&p.name)
            );
        }
    }

    // Right panel: RTE bars.
    let bars: Vec<(&Point, (f64, f64))> = pts.iter().filter_map(|p| Some((p, p.rte?))).collect();
    let (left, right) = (560.0, 920.0);
    if bars.is_empty() {
        note(s, (left + right) / 2.0, "needs metric rte and a reference");
    } else {
        let top = scale.top;
        let y = Axis { lo: 0.0, hi: top, a: BOTTOM, b: TOP };
        let x = Axis { lo: 0.0, hi: 1.0, a: left, b: right };
        axes(s, x, y, &[], &ticks(0.0, top), "method", "RTE (reference's time ÷ method's)");
        let one = y.at(1.0);
        let _ = writeln!(
            s,
            r##"<line x1="{left:.1}" y1="{one:.1}" x2="{right:.1}" y2="{one:.1}" stroke="#999" stroke-dasharray="4 3"/>"##
        );
        let slot = (right - left) / bars.len() as f64;
        for (k, (p, (m, c))) in bars.iter().enumerate() {
            let cx = left + slot * (k as f64 + 0.5);
            let w = slot * 0.6;
            let (ym, y0) = (y.at(*m), y.at(0.0));
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{ym:.1}" width="{w:.1}" height="{:.1}" fill="{}"/>"##,
                cx - w / 2.0,
                y0 - ym,
                p.colour
            );
            let (lo, hi) = (y.at(m - c), y.at(m + c));
            let _ = writeln!(
                s,
                r##"<g stroke="#222"><line x1="{cx:.1}" y1="{lo:.1}" x2="{cx:.1}" y2="{hi:.1}"/><line x1="{:.1}" y1="{hi:.1}" x2="{:.1}" y2="{hi:.1}"/><line x1="{:.1}" y1="{lo:.1}" x2="{:.1}" y2="{lo:.1}"/></g>"##,
                cx - 4.0,
                cx + 4.0,
                cx - 4.0,
                cx + 4.0
            );
            let _ = writeln!(
                s,
                r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                BOTTOM + 18.0,
                xml(&p.name)
            );
        }
    }
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
        note(&mut s, WIDTH / 2.0, "needs metric retention and a reference in some setting");
        s.push_str("</svg>\n");
        return s;
    };
    legend(&mut s, &a);
    let x = Axis { lo: 0.5, hi: worst as f64 + 0.5, a: 200.0, b: 920.0 };
    let y = Axis { lo: 0.0, hi: 1.0, a: bottom, b: RANK_TOP };
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
