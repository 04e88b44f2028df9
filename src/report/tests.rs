//! Derived metrics, ranking and every rendering of a fixed, hand-made evaluation.

use crate::artifact::Metrics;
use crate::ops::Metric;

use super::across::{analyse, Place, Spread};
use super::csv::csv;
use super::derived::{indiscernibility, retdev, retention, sape};
use super::evaluate::tabulate;
use super::json::json;
use super::markdown::markdown;
use super::present::{pm, Group, Labels, Setting};
use crate::artifact::table::{Ranked, Row, Table};

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

const ALL: &[&str] = &["accuracy", "mia", "indiscernibility", "rte", "retention", "sape"];

fn metrics(names: &[&str]) -> Vec<Metric> {
    names.iter().map(|s| Metric::from_name(s).expect("a metric")).collect()
}

/// Five models × three seeds; `retrained` (row 1) is the reference. `ft` and `neg_grad` are
/// close (tied), `ga` is far off.
fn fixture() -> (Table, Labels) {
    let measured = vec![
        // original: remembers the forget set.
        vec![m(1.0, 1.0, 0.90, 0.70, 100.0), m(0.99, 1.0, 0.91, 0.72, 101.0), m(1.0, 0.99, 0.90, 0.69, 99.0)],
        // retrained
        vec![m(0.98, 0.90, 0.90, 0.52, 90.0), m(0.98, 0.91, 0.89, 0.50, 92.0), m(0.99, 0.90, 0.90, 0.51, 88.0)],
        // ft
        vec![m(0.97, 0.92, 0.89, 0.55, 9.0), m(0.96, 0.90, 0.88, 0.53, 10.0), m(0.98, 0.93, 0.90, 0.56, 11.0)],
        // ga
        vec![m(0.60, 0.30, 0.55, 0.30, 2.0), m(0.70, 0.40, 0.65, 0.35, 2.5), m(0.50, 0.20, 0.45, 0.25, 1.5)],
        // neg_grad
        vec![m(0.96, 0.91, 0.88, 0.50, 5.0), m(0.97, 0.93, 0.89, 0.49, 6.0), m(0.95, 0.88, 0.87, 0.52, 4.0)],
    ];
    let mut table = tabulate(&metrics(ALL), &[0, 1, 2], 5, Some(1), &measured);
    with_provenance(&mut table);
    let labels = Labels {
        title: "bench".into(),
        methods: ["original", "retrained", "ft", "ga", "neg_grad"].map(String::from).to_vec(),
        datasets: vec!["mnist".into(); 5],
        models: vec!["cnn".into(); 5],
    };
    (table, labels)
}

/// What the `evaluate` node adds to [`fixture`]'s table: the context, each row's op and values
/// (`ft` tuned: its `lr` searched) and each seed's model key.
fn with_provenance(t: &mut Table) {
    use crate::artifact::table::Provenance;
    t.context = vec![
        ("dataset".into(), "mnist: mnist(path: \"mnist\"), split random(forget: 0.1, seed: 123, val: 0.15)".into()),
        ("model".into(), "net = cnn(width: 16)".into()),
    ];
    let train = |data: &str| Provenance {
        kind: "train".into(),
        op: "train".into(),
        values: [("data", data), ("epochs", "20"), ("optim", "sgd(lr: 0.05, momentum: 0.9)")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
        origins: Default::default(),
        searches: vec![],
    };
    let method = |op: &str, fields: &[(&str, &str, &str)]| Provenance {
        kind: "unlearn".into(),
        op: op.into(),
        values: fields.iter().map(|(k, v, _)| (k.to_string(), v.to_string())).collect(),
        origins: fields.iter().map(|(k, _, o)| (k.to_string(), o.to_string())).collect(),
        searches: vec![],
    };
    let models = [
        train("mnist.train"),
        train("mnist.retain"),
        method("finetune", &[("epochs", "3", "written"), ("lr", "0.0716", "searched"), ("batch", "256", "default")]),
        method("gradient_ascent", &[("epochs", "3", "written"), ("lr", "0.015", "written")]),
        method("neggrad_plus", &[("alpha", "0.8", "written"), ("lr", "0.03", "default")]),
    ];
    for (row, (r, model)) in t.rows.iter_mut().zip(models).enumerate() {
        r.model = Some(model);
        for s in &mut r.seeds {
            s.key = Some(format!("{row:x}{:x}", s.seed).repeat(32));
        }
    }
}

#[test]
fn retention_retdev_sape_indisc() {
    assert_eq!(retention(0.45, 0.9), Some(0.5));
    assert_eq!(retention(0.5, 0.0), None, "undefined against a zero reference");
    assert_eq!(retention(f64::NAN, 0.5), None);
    let rd = retdev(Some(1.1), Some(0.5), Some(1.0)).unwrap();
    assert!((rd - 0.6).abs() < 1e-15);
    assert_eq!(retdev(Some(1.0), None, Some(1.0)), None);
    assert_eq!(sape(0.5, 0.5), Some(0.0));
    assert_eq!(sape(0.0, 0.0), None);
    assert_eq!(sape(0.0, 0.3), Some(100.0));
    assert!((sape(0.8, 0.6).unwrap() - 100.0 * 0.2 / 1.4).abs() < 1e-12);
    assert_eq!(indiscernibility(0.5), Some(1.0));
    assert_eq!(indiscernibility(1.0), Some(0.0));
    assert_eq!(indiscernibility(0.25), Some(0.5));
}

#[test]
fn per_seed_pairing_and_ratio_of_means() {
    let (t, _) = fixture();
    let ft = &t.rows[2];
    // Seed 1: ft 0.96 / 0.90 / 0.88 against retrained 0.98 / 0.91 / 0.89 of seed 1.
    let s1 = &ft.seeds[1].values;
    let (rr, fr, tr) = (0.96 / 0.98, 0.90 / 0.91, 0.88 / 0.89);
    assert_eq!(s1["rr"], Some(rr));
    assert_eq!(s1["fr"], Some(fr));
    assert_eq!(s1["tr"], Some(tr));
    assert_eq!(s1["retdev"], Some((rr - 1.0).abs() + (fr - 1.0).abs() + (tr - 1.0).abs()));
    assert_eq!(s1["sape_forget"], Some(100.0 * (0.90f64 - 0.91).abs() / (0.91 + 0.90)));
    assert_eq!(s1["rte"], Some(92.0 / 10.0));
    // Mean of per-seed ratios vs ratio of means differ, and both are kept.
    let mean_of_ratios = t.rows[3].summary["rr"].mean;
    let ratio_of_means = t.rows[3].ratio_of_means["rr"].unwrap();
    let want = ((0.60 + 0.70) + 0.50) / 3.0 / (((0.98 + 0.98) + 0.99) / 3.0);
    assert!((ratio_of_means - want).abs() < 1e-15);
    assert!((mean_of_ratios - ratio_of_means).abs() > 1e-6);
    // The reference against itself.
    assert_eq!(t.rows[1].ratio_of_means["retdev"], Some(0.0));
    assert_eq!(t.rows[1].summary["retdev"].mean, 0.0);
}

#[test]
fn zero_reference_accuracy_is_undefined_not_a_crash() {
    let measured = vec![
        vec![m(0.9, 0.0, 0.8, 0.5, 1.0), m(0.9, 0.0, 0.8, 0.5, 1.0)],
        vec![m(0.8, 0.5, 0.7, 0.6, 2.0), m(0.8, 0.4, 0.7, 0.6, 0.0)],
    ];
    let t = tabulate(&metrics(ALL), &[0, 1], 2, Some(0), &measured);
    let row = &t.rows[1];
    assert_eq!(row.seeds[0].values["fr"], None);
    assert_eq!(row.seeds[0].values["retdev"], None);
    assert_eq!(row.seeds[1].values["rte"], None, "a zero-time model has no RTE");
    assert_eq!(row.summary["fr"].n, 0);
    assert!(row.summary["fr"].mean.is_nan());
    assert_eq!(row.ratio_of_means["fr"], None);
    assert_eq!(row.ratio_of_means["retdev"], None);
    assert_eq!(row.summary["sape_forget"].mean, 100.0);
    // Undefined RetDev ranks last and is tied with nothing; NaN survives a JSON round trip.
    assert_eq!(t.ranking.len(), 1);
    assert_eq!(t.ranking[0].retdev, None);
    assert!(t.ranking[0].tied_with.is_empty());
    let text = serde_json::to_string(&t).unwrap();
    let back: Table = serde_json::from_str(&text).unwrap();
    assert!(back.rows[1].summary["fr"].mean.is_nan());
    let (labels, _) = (Labels { methods: vec!["r".into(), "m".into()], ..Labels::default() }, ());
    assert!(markdown(&back, &labels).contains("| m | – |"));
}

#[test]
fn ranking_and_ties() {
    let (t, l) = fixture();
    let order: Vec<&str> = t.ranking.iter().map(|r| l.methods[r.row].as_str()).collect();
    assert_eq!(order, ["ft", "neg_grad", "original", "ga"], "by RetDev (ratio of means), ascending");
    assert_eq!(t.ranking.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(t.ranking.iter().all(|r| r.row != 1), "the reference is not ranked");
    let tied = |name: &str| {
        let r = t.ranking.iter().find(|r| l.methods[r.row] == name).unwrap();
        r.tied_with.iter().map(|&o| l.methods[o].as_str()).collect::<Vec<_>>()
    };
    assert!(tied("ft").contains(&"neg_grad") && tied("neg_grad").contains(&"ft"));
    assert!(tied("ga").is_empty(), "ga is far from everyone: {:?}", tied("ga"));
}

#[test]
fn ties_on_retdev_fall_back_to_indisc() {
    // Two identical methods but for the test MIA: the more indiscernible one ranks first.
    let reference = vec![m(0.9, 0.8, 0.85, 0.5, 10.0)];
    let measured = vec![reference, vec![m(0.9, 0.7, 0.8, 0.8, 1.0)], vec![m(0.9, 0.7, 0.8, 0.55, 1.0)]];
    let t = tabulate(&metrics(&["retention"]), &[0], 3, Some(0), &measured);
    assert_eq!(t.ranking.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 1]);
    // One seed: CIs are points; equal points overlap.
    assert_eq!(t.ranking[0].tied_with, [1]);
    assert_eq!(t.columns, ["rr", "fr", "tr", "retdev"], "indisc ranks without being shown");
}

#[test]
fn no_ranking_without_retention() {
    let (t, _) = fixture();
    let measured: Vec<Vec<Metrics>> = vec![vec![m(0.9, 0.8, 0.85, 0.5, 10.0)], vec![m(0.9, 0.7, 0.8, 0.8, 1.0)]];
    let plain = tabulate(&metrics(&["accuracy", "rte"]), &[0], 2, Some(0), &measured);
    assert!(plain.ranking.is_empty() && plain.rows[1].ratio_of_means.is_empty());
    assert!(!t.ranking.is_empty());
}

#[test]
fn markdown_snapshot() {
    let (t, l) = fixture();
    insta::assert_snapshot!(markdown(&t, &l));
}

#[test]
fn csv_snapshot() {
    let (t, l) = fixture();
    let text = csv(&t, &l);
    // One line per shown row, seed and metric, plus the header.
    assert_eq!(text.lines().count(), 1 + 5 * 3 * t.columns.len());
    insta::assert_snapshot!(text);
}

/// Rounds every number to 10 significant digits: the CI half-widths go through libm's
/// trigonometry.
fn round(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            *v = serde_json::json!(format!("{x:.10e}").parse::<f64>().unwrap());
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(round),
        serde_json::Value::Object(map) => map.values_mut().for_each(round),
        _ => {}
    }
}

#[test]
fn json_snapshot() {
    let (t, l) = fixture();
    let mut value = json(&t, &l);
    round(&mut value);
    insta::assert_snapshot!(serde_json::to_string_pretty(&value).unwrap());
}

#[test]
fn latex_snapshot() {
    let (t, l) = fixture();
    let text = super::latex::latex(&t, &l);
    assert!(text.contains("neg\\_grad") && !text.contains("neg_grad"));
    assert_eq!(text.matches("\\begin{tabular}").count(), 1);
    assert!(text.contains("\\toprule") && text.contains("\\midrule") && text.contains("\\bottomrule"));
    insta::assert_snapshot!(text);
}

#[test]
fn latex_escapes_specials() {
    assert_eq!(
        super::latex::escape("a_b&c%d$e#f{g}h~i^j\\k"),
        "a\\_b\\&c\\%d\\$e\\#f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j\\textbackslash{}k"
    );
}

#[test]
fn plot_snapshot() {
    let (t, l) = fixture();
    let text = super::plot::svg(&t, &l);
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    // Four methods and the reference, each a point, a legend entry and an RTE marker.
    for class in ["point", "key", "rte", "legend", "number"] {
        assert_eq!(elements(&text, class).len(), 5, "{class}");
    }
    check_layout(&text, &["original", "retrained (reference)", "ft", "ga", "neg_grad"]);
    insta::assert_snapshot!(text);
}

#[test]
fn plot_without_the_needed_metrics_says_so() {
    let measured: Vec<Vec<Metrics>> = vec![vec![m(0.9, 0.8, 0.85, 0.5, 10.0)], vec![m(0.9, 0.7, 0.8, 0.8, 1.0)]];
    let t = tabulate(&metrics(&["mia"]), &[0], 2, Some(0), &measured);
    let l = Labels { methods: vec!["r".into(), "m".into()], ..Labels::default() };
    let text = super::plot::svg(&t, &l);
    assert!(text.contains("needs metrics accuracy and indiscernibility") && text.contains("needs metric rte"));
}

/// Like the quickstart's evaluation: `original`, `retrained` (row 1, the reference), `ft`, `ga`
/// and `ngp` × two seeds. Every Indisc is near 0.95, the forget-accuracy gaps are a few points,
/// and the RTEs' 95 % CIs over two seeds (t = 12.7) reach far below zero.
fn quickstart_like() -> (Table, Labels) {
    let measured = vec![
        vec![m(1.0, 1.0, 0.95, 0.53, 20.0), m(1.0, 0.997, 0.94, 0.54, 21.0)],
        vec![m(0.99, 0.96, 0.95, 0.51, 19.0), m(0.99, 0.97, 0.94, 0.52, 18.0)],
        vec![m(0.995, 0.985, 0.95, 0.525, 2.2), m(0.99, 0.98, 0.95, 0.53, 3.1)],
        vec![m(0.93, 0.90, 0.90, 0.47, 1.1), m(0.95, 0.93, 0.92, 0.485, 2.3)],
        vec![m(0.985, 0.965, 0.94, 0.515, 2.5), m(0.99, 0.975, 0.945, 0.52, 3.6)],
    ];
    let table = tabulate(&metrics(SWEEP), &[0, 1], 5, Some(1), &measured);
    let labels = Labels {
        title: "bench".into(),
        methods: ["original", "retrained", "ft", "ga", "ngp"].map(String::from).to_vec(),
        datasets: vec!["mnist".into(); 5],
        models: vec!["cnn".into(); 5],
    };
    (table, labels)
}

/// `original`, `retrained` (row 1, the reference) and `n` methods × three seeds, spread over
/// forget-accuracy gaps, Indiscs and RTEs (about 2× to over 1000×), some of them close together.
fn many_methods(n: usize) -> (Table, Labels) {
    const NAMES: &str = "ft ga ngp scrub l1_sparse salun random_label bad_teacher ssd unsir fisher boundary_shrink \
                         boundary_expand cf_k eu_k amnesiac sfron neggrad rum ft_long_schedule_lr0.01";
    let mut measured = vec![
        vec![m(1.0, 1.0, 0.90, 0.70, 100.0), m(0.99, 1.0, 0.91, 0.72, 101.0), m(1.0, 0.99, 0.90, 0.69, 99.0)],
        vec![m(0.98, 0.90, 0.90, 0.52, 90.0), m(0.98, 0.91, 0.89, 0.50, 92.0), m(0.99, 0.90, 0.90, 0.51, 88.0)],
    ];
    for k in 0..n {
        let f = k as f64;
        let fa = 0.9 + 0.1 * ((f * 1.7).sin()) - 0.02 * (k % 3) as f64;
        let mia = 0.5 + 0.18 * ((f * 0.9).cos()) * (k % 4) as f64 / 3.0;
        let secs = 90.0 / (0.8 + (f * 0.37).exp() * 1.2);
        measured.push(
            (0..3)
                .map(|s| {
                    let d = (s as f64 - 1.0) * (0.005 + 0.01 * (k % 5) as f64);
                    m(0.97 + d / 4.0, (fa + d).min(1.0), 0.89, mia + d / 2.0, secs * (1.0 + d * 4.0))
                })
                .collect(),
        );
    }
    let table = tabulate(&metrics(SWEEP), &[0, 1, 2], n + 2, Some(1), &measured);
    let mut methods: Vec<String> = ["original", "retrained"].map(String::from).to_vec();
    methods.extend((0..n).map(|k| NAMES.split_whitespace().nth(k).map_or(format!("method_{k}"), String::from)));
    let (datasets, models) = (vec!["mnist".into(); n + 2], vec!["cnn".into(); n + 2]);
    let labels = Labels { title: "bench".into(), datasets, models, methods };
    (table, labels)
}

/// Writes `svg` as `<MUNL_PLOT_PREVIEW>/<name>.png` when that variable names a folder: a way to
/// look at the plots the tests draw.
fn preview(name: &str, svg: &str) {
    if let Some(dir) = std::env::var_os("MUNL_PLOT_PREVIEW") {
        let path = std::path::Path::new(&dir).join(format!("{name}.png"));
        std::fs::write(path, super::plot::png(svg).expect("a PNG")).expect("the preview written");
    }
}

#[test]
fn plot_previews() {
    let (t, l) = fixture();
    preview("fixture", &super::plot::svg(&t, &l));
    let (t, l) = quickstart_like();
    preview("quickstart", &super::plot::svg(&t, &l));
    let (t, l) = many_methods(20);
    preview("many", &super::plot::svg(&t, &l));
    let (g, l) = grouped_fixture();
    preview("grouped", &super::plot::grouped(&g, &l));
    preview("across", &super::plot::across("paper", &across_fixture()));
}

/// The elements of an SVG with `class="{class}"`, each from its tag name on, in order.
fn elements<'a>(svg: &'a str, class: &str) -> Vec<&'a str> {
    let mark = format!(r#" class="{class}""#);
    svg.split('<').filter(|e| e.contains(&mark)).collect()
}

/// A number attribute of an element.
fn attr(element: &str, name: &str) -> f64 {
    let at = element.find(&format!(r#" {name}=""#)).unwrap_or_else(|| panic!("no `{name}` in {element}"));
    element[at + name.len() + 3..].split('"').next().unwrap().parse().unwrap()
}

/// Where a marker is centred.
fn centre(element: &str) -> (f64, f64) {
    let at = element.find("translate(").expect("a marker") + "translate(".len();
    let (x, y) = element[at..].split(')').next().unwrap().split_once(' ').unwrap();
    (x.parse().unwrap(), y.parse().unwrap())
}

/// The text of a `<text>` element, a tick label read as a number.
fn content(element: &str) -> &str {
    element.split_once('>').unwrap().1
}

fn tick(element: &str) -> f64 {
    content(element).replace('−', "-").parse().unwrap()
}

/// A frame as (left, top, right, bottom).
fn frame(element: &str) -> (f64, f64, f64, f64) {
    let (x, y) = (attr(element, "x"), attr(element, "y"));
    (x, y, x + attr(element, "width"), y + attr(element, "height"))
}

/// The layout of a one-picture plot: the legend lists `names` top down, its rows at least a line
/// apart, inside the canvas and the panels' height, between the scatter and the RTE panel (so it
/// covers no point, even at a generous 7 px a character); every method's marker differs from the
/// others'; every point is inside its panel.
fn check_layout(svg: &str, names: &[&str]) {
    let height = attr(svg, "height");
    let frames: Vec<_> = elements(svg, "frame").into_iter().map(frame).collect();
    let [scatter, rte] = frames[..] else { panic!("two panels, not {frames:?}") };
    let legend = elements(svg, "legend");
    assert_eq!(legend.iter().map(|e| content(e)).collect::<Vec<_>>(), names);
    let ys: Vec<f64> = legend.iter().map(|e| attr(e, "y")).collect();
    assert!(ys.windows(2).all(|w| w[1] - w[0] >= 14.0), "legend rows overlap: {ys:?}");
    for (e, y) in legend.iter().zip(&ys) {
        let (x, width) = (attr(e, "x"), 7.0 * content(e).chars().count() as f64);
        assert!(*y > scatter.1 && *y < scatter.3 + 6.0 && *y < height, "{e} outside the panels' height");
        assert!(x - 16.0 > scatter.2 && x + width < rte.0, "{e} overlaps a panel");
    }
    let keys: Vec<String> = elements(svg, "key")
        .iter()
        .map(|e| {
            let (a, b) = e.split_once("transform=").unwrap();
            format!("{a}{}", b.split_once(')').unwrap().1)
        })
        .collect();
    assert_eq!(keys.len(), names.len());
    assert_eq!(super::present::distinct(keys.iter()).len(), keys.len(), "two methods look alike: {keys:?}");
    let inside = |(x, y): (f64, f64), (l, t, r, b): (f64, f64, f64, f64)| x >= l && x <= r && y >= t && y <= b;
    assert!(elements(svg, "point").into_iter().all(|e| inside(centre(e), scatter)));
    assert!(elements(svg, "rte").into_iter().all(|e| inside(centre(e), rte)));
}

#[test]
fn plot_of_the_quickstart_fits_its_axes_to_the_data() {
    let (t, l) = quickstart_like();
    let text = super::plot::svg(&t, &l);
    check_layout(&text, &["original", "retrained (reference)", "ft", "ga", "ngp"]);
    let frames: Vec<_> = elements(&text, "frame").into_iter().map(frame).collect();
    // Indisc near 0.95: the axis is not 0–1 but a little around the points, which spread over
    // a good part of the panel's height.
    let indisc: Vec<f64> = elements(&text, "y").into_iter().map(tick).collect();
    assert!(indisc.len() >= 3 && indisc[0] >= 0.7 && *indisc.last().unwrap() <= 1.0, "{indisc:?}");
    let ys: Vec<f64> = elements(&text, "point").into_iter().map(|e| centre(e).1).collect();
    let spread = ys.iter().copied().fold(f64::MIN, f64::max) - ys.iter().copied().fold(f64::MAX, f64::min);
    assert!(spread > 0.1 * (frames[0].3 - frames[0].1), "points bunched: {ys:?}");
    // The gap axis shows 0 (the reference) and no more than the CIs need.
    let (gaps, rte): (Vec<_>, Vec<_>) =
        elements(&text, "x").into_iter().partition(|e| attr(e, "x") < frames[0].2 + 1.0);
    let gaps: Vec<f64> = gaps.into_iter().map(tick).collect();
    assert!(gaps.contains(&0.0) && gaps[0] >= -0.3 && *gaps.last().unwrap() <= 0.2, "{gaps:?}");
    // RTE on a log axis: ticks at powers of ten; the CIs that run below 0 end in an arrowhead,
    // and the numbers say what they are.
    let rte: Vec<f64> = rte.into_iter().map(tick).collect();
    assert!(rte.contains(&1.0) && rte.contains(&10.0) && rte.windows(2).all(|w| w[1] >= 2.0 * w[0]), "{rte:?}");
    assert!(text.contains("(log scale)") && text.contains("arrowhead: cut at the axis"));
    let numbers: Vec<&str> = elements(&text, "number").into_iter().map(content).collect();
    assert_eq!(numbers, ["0.90 ± 0.59", "1.0", "7.2 ± 18.0", "13 ± 60", "6.3 ± 16.5"]);
    assert!(text.contains("Indisc (mean ± 95 % CI)") && text.contains("forget-accuracy gap to the reference"));
}

#[test]
fn plot_of_twenty_methods_has_a_readable_legend() {
    let (t, l) = many_methods(20);
    let text = super::plot::svg(&t, &l);
    let mut names: Vec<String> = l.methods.clone();
    names[1] = "retrained (reference)".into();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    check_layout(&text, &names);
    assert_eq!(elements(&text, "point").len(), 22);
    // The picture grew to fit the legend.
    assert!(attr(&text, "height") > 420.0);
}

/// The reference's Indisc column is the indiscernibility of the mean test MIA, not the mean of
/// the per-seed indiscernibilities (evaluation.md §6: all 17 rows of its table); it also breaks
/// ties in the ranking.
#[test]
fn indisc_is_taken_of_the_mean_test_mia() {
    let measured = vec![
        // a: test MIA 0.3 and 0.7: per-seed Indisc 0.6 and 0.6, of the mean 0.5 → 1.0.
        vec![m(0.9, 0.8, 0.9, 0.3, 1.0), m(0.9, 0.8, 0.9, 0.7, 1.0)],
        // reference
        vec![m(0.9, 0.8, 0.9, 0.5, 1.0), m(0.9, 0.8, 0.9, 0.5, 1.0)],
        // b: test MIA 0.45 twice: per-seed Indisc 0.9, of the mean 0.9 — same RetDev as a.
        vec![m(0.9, 0.8, 0.9, 0.45, 1.0), m(0.9, 0.8, 0.9, 0.45, 1.0)],
    ];
    let t = tabulate(&metrics(ALL), &[0, 1], 3, Some(1), &measured);
    assert_eq!(t.rows[0].indisc_of_mean, Some(1.0));
    assert!((t.rows[0].summary["indiscernibility"].mean - 0.6).abs() < 1e-12, "the per-seed mean is kept");
    assert!((t.rows[2].indisc_of_mean.unwrap() - 0.9).abs() < 1e-12);
    let order: Vec<usize> = t.ranking.iter().map(|r| r.row).collect();
    assert_eq!(order, [0, 2], "equal RetDev: the higher Indisc of the mean ranks first");
    let labels = Labels {
        title: "t".into(),
        methods: ["a", "reference", "b"].map(String::from).to_vec(),
        datasets: vec![],
        models: vec![],
    };
    let md = markdown(&t, &labels);
    assert!(md.lines().any(|l| l.starts_with("| a |") && l.contains("| 1.0000 |")), "{md}");
}

/// A report file that cannot be written (its path is a folder) is reported as failed, the other
/// formats are still written, and no temporary file is left anywhere.
#[test]
fn a_failed_report_write_fails_alone_and_leaves_nothing_behind() {
    use crate::ops::Format;
    use crate::plan::{Node, Paths, Payload, ReportSpec};
    let entry = tempfile::tempdir().unwrap();
    std::fs::write(entry.path().join(Format::Markdown.file()), "# ok\n").unwrap();
    std::fs::write(entry.path().join(Format::Csv.file()), "a,b\n").unwrap();
    let experiment = tempfile::tempdir().unwrap();
    std::fs::create_dir(experiment.path().join("isdir.csv")).unwrap();
    let outputs =
        vec![(Format::Markdown, experiment.path().join("ok.md")), (Format::Csv, experiment.path().join("isdir.csv"))];
    let node = Node {
        key: crate::digest::Key::of(b"report"),
        op: "report".into(),
        version: 2,
        payload: Payload::Report(ReportSpec {
            title: "e".into(),
            rows: vec![],
            formats: vec![Format::Csv],
            groups: vec![],
            settings: vec![],
        }),
        inputs: vec![],
        coords: Default::default(),
        paths: Paths { outputs, ..Paths::default() },
        label: "report e".into(),
        decl: "e".into(),
        span: crate::span::Span::new(0, 0),
        source: 0,
    };
    let done = super::materialise(&node, entry.path());
    assert_eq!(done.written, [experiment.path().join("ok.md")]);
    assert_eq!(done.failed.len(), 1, "{:?}", done.failed);
    assert_eq!(done.failed[0].0, experiment.path().join("isdir.csv"));
    assert_eq!(std::fs::read_to_string(experiment.path().join("ok.md")).unwrap(), "# ok\n");
    let left: Vec<_> = std::fs::read_dir(experiment.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
}

/// The metrics of the grouped fixture: no SAPE, to keep its snapshots short.
const SWEEP: &[&str] = &["accuracy", "mia", "indiscernibility", "rte", "retention"];

/// A sweep over `frac`: the same four models (`retrained`, row 1, the reference) × two seeds,
/// evaluated once per forget fraction. At `frac = 0.01` the ranking has no ties and `ga` is
/// last; at `frac = 0.1` `ga` ranks first, `ft` forgets less well and its second seed has no
/// test MIA.
fn grouped_fixture() -> (Vec<Group>, Labels) {
    let mut no_mia = m(0.94, 0.96, 0.86, 0.61, 13.0);
    no_mia.mia_test = None;
    no_mia.unavailable.insert("mia_test".into(), "too few forget samples".into());
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
            vec![m(0.95, 0.95, 0.87, 0.62, 12.0), no_mia],
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

/// The section of `text` from the line `heading` up to the next heading of the same level or
/// above (the end of the text at the latest).
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text.find(&format!("{heading}\n")).unwrap_or_else(|| panic!("no `{heading}` in\n{text}"));
    let level = heading.split(' ').next().unwrap();
    let rest = &text[start + heading.len()..];
    let end = rest
        .match_indices("\n#")
        .map(|(i, _)| i)
        .find(|&i| {
            rest[i + 1..].split(' ').next().is_some_and(|h| h.chars().all(|c| c == '#') && h.len() <= level.len())
        })
        .unwrap_or(rest.len());
    &text[start..start + heading.len() + end]
}

#[test]
fn grouped_markdown_has_a_column_per_dimension_and_details_per_group() {
    let (groups, l) = grouped_fixture();
    let text = super::markdown::grouped(&groups, &l);
    let summary = text.split(super::markdown::DETAILS).next().unwrap();
    assert!(summary
        .contains("| frac | method | RA | FA | TA | RR | FR | TR | RetDev | Indisc | T-MIA | RTE |\n|---|---|---:|"));
    // Every shown row of every group, in group order, led by its coordinate.
    let rows: Vec<(&str, &str)> = summary
        .lines()
        .filter(|line| line.starts_with("| 0."))
        .take(8)
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            (cells[0].trim_start_matches("| "), cells[1])
        })
        .collect();
    let names = ["original", "retrained (reference)", "ft", "ga"];
    let want: Vec<(&str, &str)> = ["0.01", "0.1"].iter().flat_map(|f| names.iter().map(move |n| (*f, *n))).collect();
    assert_eq!(rows, want);
    // The numbers are each group's own: ft's forget accuracy at 0.1 is its table's.
    let fa = |g: &Group| {
        let a = g.table.rows[2].summary["forget_acc"];
        pm(&a, a.ci95)
    };
    assert_ne!(fa(&groups[0]), fa(&groups[1]));
    for (g, frac) in groups.iter().zip(["0.01", "0.1"]) {
        let ra = g.table.rows[2].summary["retain_acc"];
        let line = format!("| {frac} | ft | {} | {} |", pm(&ra, ra.ci95), fa(g));
        assert!(summary.contains(&line), "{line} not in\n{summary}");
    }
    // ft's test MIA at 0.1 stands on one seed of two.
    assert!(summary.contains("(1/2 seeds)"), "{summary}");
    assert!(summary.contains("- frac = 0.1: ft, seed 1: `mia_test` unavailable: too few forget samples\n"));
    // The rank of each method per group, the reference not ranked.
    let ranks = section(summary, "### rank per group");
    assert!(ranks.contains("| frac | original | ft | ga |\n|---|---:|---:|---:|\n"), "{ranks}");
    for g in &groups {
        let r = |row: usize| g.table.ranking.iter().find(|r| r.row == row).unwrap();
        let cell = |row: usize| format!("{}{}", r(row).rank, if r(row).tied_with.is_empty() { "" } else { " ≈" });
        let line = format!("| {} | {} | {} | {} |", g.coords[0].1, cell(0), cell(2), cell(3));
        assert!(ranks.contains(&line), "{line} not in\n{ranks}");
    }
    // What the CLI prints stops before any group's details.
    assert!(!summary.contains("### frac =") && !summary.contains("per seed"));
    // Details per group, in order, each the ungrouped pieces one heading level down.
    let details = &text[summary.len()..];
    let at = |h: &str| details.find(&format!("\n{h}\n")).unwrap_or_else(|| panic!("no `{h}` in\n{details}"));
    assert!(at("### frac = 0.01") < at("### frac = 0.1"));
    for g in &groups {
        let alone = markdown(&g.table, &l);
        let within = section(details, &format!("### {}", g.name()));
        let pieces = ["### retention, ratio of means", "### ranking", "### all metrics (mean ± std)", "### per seed"];
        for piece in pieces {
            let want = section(&alone, piece).replacen("###", "####", 1);
            assert!(within.contains(&want), "{piece} of {} differs:\n{within}", g.name());
        }
    }
    insta::assert_snapshot!("grouped_markdown", text);
}

#[test]
fn grouped_csv_has_a_column_per_dimension_after_method() {
    let (groups, l) = grouped_fixture();
    let text = super::csv::grouped(&groups, &l);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("dataset,model,method,op,frac,seed,metric,value,key"));
    let columns = groups[0].table.columns.len();
    // Four shown rows × two seeds × every column, per group.
    assert_eq!(text.lines().count(), 1 + 2 * 4 * 2 * columns);
    let fracs: Vec<&str> = lines.map(|line| line.split(',').nth(4).unwrap()).collect();
    assert_eq!(fracs.iter().filter(|f| **f == "0.01").count(), 4 * 2 * columns);
    assert_eq!(fracs.iter().filter(|f| **f == "0.1").count(), 4 * 2 * columns);
    assert!(fracs[..4 * 2 * columns].iter().all(|f| *f == "0.01"), "groups in order");
    let fa = groups[1].table.rows[2].seeds[1].values["forget_acc"].unwrap();
    assert!(text.contains(&format!("\nmnist,cnn,ft,,0.1,1,forget_acc,{fa},\n")));
    assert!(text.contains("\nmnist,cnn,ft,,0.1,1,mia_test,,\n"), "an unavailable value is empty");
    // Each group's lines are the ungrouped lines with its coordinate inserted.
    for g in &groups {
        let alone = csv(&g.table, &l);
        for line in alone.lines().skip(1) {
            let f: Vec<&str> = line.splitn(5, ',').collect();
            let want = format!("{},{},{},{},{},{}", f[0], f[1], f[2], f[3], g.coords[0].1, f[4]);
            assert!(text.contains(&format!("\n{want}\n")), "{want}");
        }
    }
    insta::assert_snapshot!("grouped_csv", text);
}

#[test]
fn grouped_csv_with_two_dimensions_quotes_what_needs_it() {
    let (mut groups, l) = grouped_fixture();
    groups[0].coords.push(("ft.lr".into(), "0.01".into()));
    groups[1].coords.push(("ft.lr".into(), "a,b".into()));
    let text = super::csv::grouped(&groups, &l);
    assert!(text.starts_with("dataset,model,method,op,frac,ft.lr,seed,metric,value,key\n"));
    assert!(text.contains("\nmnist,cnn,ga,,0.01,0.01,0,retain_acc,0.6,\n"));
    assert!(text.contains("\nmnist,cnn,ga,,0.1,\"a,b\",0,retain_acc,0.96,\n"));
}

/// Checks that `text` is `value` as `report.json` has it, with the schema's and munl's versions,
/// then snapshots `value`, rounded.
fn json_text_and_snapshot(name: &str, mut value: serde_json::Value, text: &str) {
    let mut expected = value.clone();
    expected["schema"] = super::json::SCHEMA.into();
    expected["munl"] = env!("CARGO_PKG_VERSION").into();
    assert_eq!(text, serde_json::to_string_pretty(&expected).unwrap() + "\n");
    round(&mut value);
    insta::assert_snapshot!(name, serde_json::to_string_pretty(&value).unwrap());
}

#[test]
fn grouped_json_is_the_ungrouped_json_per_group_with_its_coordinates() {
    let (groups, l) = grouped_fixture();
    let value = super::json::grouped(&groups, &l);
    assert_eq!(value["title"], "sweep");
    assert_eq!(value["dimensions"], serde_json::json!(["frac"]));
    let each = value["groups"].as_array().unwrap();
    assert_eq!(each.len(), 2);
    for (v, g) in each.iter().zip(&groups) {
        assert_eq!(v["coords"], serde_json::json!({ "frac": g.coords[0].1 }));
        let mut rest = v.clone();
        rest.as_object_mut().unwrap().remove("coords");
        assert_eq!(rest, json(&g.table, &l));
    }
    json_text_and_snapshot("grouped_json", value, &super::json::grouped_text(&groups, &l).unwrap());
}

#[test]
fn grouped_latex_is_one_table_with_a_block_per_group() {
    let (groups, l) = grouped_fixture();
    let text = super::latex::grouped(&groups, &l);
    assert_eq!(text.matches("\\begin{tabular}").count(), 1);
    assert!(text.contains("\\begin{tabular}{llrrrrrrrrrrrl}\n"), "{text}");
    assert!(text.contains("\nfrac & Method & RA & FA"));
    // The coordinate on each block's first row, blocks separated by a rule.
    assert!(text.contains("\n0.01 & original & "));
    assert!(text.contains("\\\\\n\\midrule\n0.1 & original & "));
    assert!(text.contains("\n& retrained (reference) & "));
    assert_eq!(text.matches("\\midrule").count(), 2);
    assert_eq!(text.lines().filter(|l| l.ends_with(" \\\\")).count(), 1 + 2 * 4);
    insta::assert_snapshot!("grouped_latex", text);
}

#[test]
fn grouped_plot_stacks_one_picture_per_group_on_shared_axes() {
    let (groups, l) = grouped_fixture();
    let text = super::plot::grouped(&groups, &l);
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.contains(r#"height="820" viewBox="0 0 960 820""#), "two pictures tall");
    assert!(text.contains("sweep — frac = 0.01") && text.contains("sweep — frac = 0.1"));
    // Three methods and the reference per group.
    assert_eq!(elements(&text, "point").len(), 2 * 4);
    // The dashed guides (gap 0, RTE 1) sit at the same place in both pictures, though alone
    // each group's would not.
    let guides = |svg: &str| -> Vec<String> {
        svg.lines().filter(|l| l.contains("stroke-dasharray")).map(String::from).collect()
    };
    let blocks: Vec<&str> = text.split("<g transform=").skip(1).collect();
    assert_eq!(blocks.len(), 2);
    assert_eq!(guides(blocks[0]), guides(blocks[1]));
    // A method keeps its colour and marker, and the legend its place.
    let keys = |block: &str| elements(block, "key").join("|");
    assert_eq!(keys(blocks[0]), keys(blocks[1]));
    check_layout(&super::plot::svg(&groups[1].table, &l), &["original", "retrained (reference)", "ft", "ga"]);
    assert_ne!(guides(&super::plot::svg(&groups[0].table, &l)), guides(&super::plot::svg(&groups[1].table, &l)));
    insta::assert_snapshot!("grouped_plot", text);
}

/// Each table in a folder of its own, as an evaluation's cache entry, and the tables as read
/// back: what a report node sees (JSON does not round-trip every last bit).
fn stored<'a>(tables: impl Iterator<Item = &'a Table>) -> (Vec<tempfile::TempDir>, Vec<Table>) {
    let path = |dir: &tempfile::TempDir| dir.path().join(crate::artifact::file::TABLE);
    let dirs: Vec<tempfile::TempDir> = tables
        .map(|t| {
            let dir = tempfile::tempdir().unwrap();
            crate::artifact::write_json(&path(&dir), t).unwrap();
            dir
        })
        .collect();
    let read = dirs.iter().map(|dir| crate::artifact::read_json(&path(dir)).unwrap()).collect();
    (dirs, read)
}

/// A `report` node of `spec`.
fn report_node(spec: crate::plan::ReportSpec) -> crate::plan::Node {
    crate::plan::Node {
        key: crate::digest::Key::of(b"report"),
        op: "report".into(),
        version: 2,
        label: format!("report {}", spec.title),
        decl: spec.title.clone(),
        payload: crate::plan::Payload::Report(spec),
        inputs: vec![],
        coords: Default::default(),
        paths: crate::plan::Paths::default(),
        span: crate::span::Span::new(0, 0),
        source: 0,
    }
}

/// Renders a report node whose inputs `roles` are the folders `dirs` in order (again from the
/// first when there are more roles than folders), into a new folder.
fn run_report(
    node: &crate::plan::Node,
    roles: &[&str],
    dirs: &[tempfile::TempDir],
) -> Result<tempfile::TempDir, crate::artifact::NodeFailure> {
    use crate::backend::{Input, Job};
    let out = tempfile::tempdir().unwrap();
    let inputs = roles
        .iter()
        .zip(dirs.iter().cycle())
        .map(|(role, dir)| Input { role, node, key: crate::digest::Key::of(b"table"), dir: dir.path() })
        .collect();
    let job = Job { node, inputs, out: out.path(), progress: &|_, _, _| {} };
    super::render::render(&job).map(|()| out)
}

/// A rendered file of a report.
fn rendered(dir: &tempfile::TempDir, format: crate::ops::Format) -> String {
    std::fs::read_to_string(dir.path().join(format.file())).unwrap()
}

/// A `report` node reads `table/0`, `table/1`, … of a grouped evaluation and `table` of an
/// ungrouped one, and writes every format from them; the CLI's summary of a grouped report is
/// the cross-group part.
#[test]
fn render_reads_one_table_per_group() {
    use crate::ops::Format;
    use crate::plan::{ReportSpec, RowLabel};
    let (groups, l) = grouped_fixture();
    let (dirs, tables) = stored(groups.iter().map(|g| &g.table));
    let groups: Vec<Group> = groups.into_iter().zip(tables).map(|(g, table)| Group { table, ..g }).collect();
    let rows: Vec<RowLabel> =
        l.methods.iter().map(|n| RowLabel { name: n.clone(), dataset: "mnist".into(), arch: "cnn".into() }).collect();
    let node = |coords: Vec<Vec<(String, String)>>| {
        report_node(ReportSpec {
            title: "sweep".into(),
            rows: rows.clone(),
            formats: vec![],
            groups: coords,
            settings: vec![],
        })
    };
    let run = |node: &crate::plan::Node, roles: &[&str]| run_report(node, roles, &dirs);

    let coords: Vec<Vec<(String, String)>> = groups.iter().map(|g| g.coords.clone()).collect();
    let grouped = node(coords.clone());
    let out = run(&grouped, &["table/0", "table/1"]).unwrap();
    assert_eq!(rendered(&out, Format::Markdown), super::markdown::grouped(&groups, &l));
    assert_eq!(rendered(&out, Format::Csv), super::csv::grouped(&groups, &l));
    assert_eq!(rendered(&out, Format::Json), super::json::grouped_text(&groups, &l).unwrap());
    assert_eq!(rendered(&out, Format::Latex), super::latex::grouped(&groups, &l));
    assert_eq!(rendered(&out, Format::Plot), super::plot::grouped(&groups, &l));
    let printed = super::summary_markdown(out.path()).unwrap();
    assert!(printed.contains("| frac | method |") && printed.contains("### rank per group"));
    assert!(!printed.contains("### frac ="));

    // Ungrouped: the one input `table`, rendered exactly as a single table.
    let t = &groups[0].table;
    let out = run(&node(vec![]), &["table"]).unwrap();
    assert_eq!(rendered(&out, Format::Markdown), markdown(t, &l));
    assert_eq!(rendered(&out, Format::Csv), csv(t, &l));
    assert_eq!(rendered(&out, Format::Json), super::json::text(t, &l).unwrap());
    assert_eq!(rendered(&out, Format::Latex), super::latex::latex(t, &l));
    assert_eq!(rendered(&out, Format::Plot), super::plot::svg(t, &l));

    // A missing group table, or groups on different dimensions, fail the node.
    let err = run(&grouped, &["table/0"]).unwrap_err();
    assert_eq!(err.message, "missing table/1");
    let mut odd = coords;
    odd[1][0].0 = "ft.lr".into();
    let err = run(&node(odd), &["table/0", "table/1"]).unwrap_err();
    assert!(err.message.contains("do not share their dimensions"), "{}", err.message);
}

/// A table of `rows` shown rows without numbers, row 0 (`retrained`) the reference, ranked in the
/// order `ranking` lists them: (row, the rows statistically tied with it).
fn ranked(rows: usize, ranking: &[(usize, &[usize])]) -> Table {
    let row = || Row {
        seeds: vec![],
        summary: Default::default(),
        ratio_of_means: Default::default(),
        indisc_of_mean: None,
        model: None,
    };
    Table {
        context: vec![],
        columns: vec![],
        shown: rows,
        reference: Some(0),
        rows: (0..rows).map(|_| row()).collect(),
        ranking: ranking
            .iter()
            .enumerate()
            .map(|(i, (row, tied))| Ranked {
                row: *row,
                rank: i + 1,
                retdev: Some(i as f64),
                indisc: None,
                note: None,
                tied_with: tied.to_vec(),
            })
            .collect(),
    }
}

/// An ungrouped setting whose rows are `names`, all of one dataset and architecture.
fn setting(evaluation: &str, names: &[&str], dataset: &str, arch: &str, table: Table) -> Setting {
    let all = |v: &str| vec![v.to_string(); names.len()];
    Setting {
        evaluation: evaluation.into(),
        coords: vec![],
        labels: Labels {
            title: evaluation.into(),
            methods: names.iter().map(|n| n.to_string()).collect(),
            datasets: all(dataset),
            models: all(arch),
        },
        table,
    }
}

/// Four settings on two architectures: `ga` is not evaluated on mnist / vit, cifar / vit has no
/// ranking (and the only `scrub`), and `ng` ranks last on cifar / cnn for want of a RetDev.
fn across_ranks() -> Vec<Setting> {
    let four = ["retrained", "ft", "ga", "ng"];
    let mut cifar_cnn = ranked(4, &[(2, &[]), (1, &[3]), (3, &[1])]);
    cifar_cnn.ranking[2].note = Some("RetDev unavailable: no accuracy".into());
    vec![
        setting("mr.bench", &four, "mnist", "cnn", ranked(4, &[(1, &[3]), (3, &[1]), (2, &[])])),
        setting("cr.bench", &four, "cifar", "cnn", cifar_cnn),
        setting("mv.bench", &["retrained", "ng", "ft"], "mnist", "vit", ranked(3, &[(1, &[2]), (2, &[1])])),
        setting("cv.bench", &["retrained", "ft", "scrub"], "cifar", "vit", ranked(3, &[])),
    ]
}

#[test]
fn across_ranks_means_ranges_and_top_groups() {
    let a = analyse(&across_ranks());
    let names: Vec<&str> = a.settings.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["mnist / cnn", "cifar / cnn", "mnist / vit", "cifar / vit"]);
    assert_eq!(a.settings.iter().map(|n| n.ranked).collect::<Vec<_>>(), [true, true, true, false]);
    assert_eq!(a.architectures, ["cnn", "vit"]);
    // Best mean rank first; ga and ng share a mean of 2 and keep their order of first appearance;
    // scrub, never ranked, last; the reference is no method.
    let order: Vec<&str> = a.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(order, ["ft", "ga", "ng", "scrub"]);
    let spread = |mean: f64, min: usize, max: usize, n: usize| Some(Spread { mean, min, max, n });
    let place = |rank: usize, top: bool| Some(Place { rank, top });
    let [ft, ga, ng, scrub] = &a.methods[..] else { panic!("{:?}", a.methods) };
    // ft: 1 (best) on mnist / cnn; 2 on cifar / cnn, not tied with ga, the best; 2 on
    // mnist / vit, tied with ng, the best; absent from the ranking of cifar / vit.
    assert_eq!(ft.places, [place(1, true), place(2, false), place(2, true), None]);
    assert_eq!(ft.overall, spread(5.0 / 3.0, 1, 2, 3));
    assert_eq!(ft.per_arch, [spread(1.5, 1, 2, 2), spread(2.0, 2, 2, 1)]);
    assert_eq!((ft.top, ft.top_cell()), (2, "2 of 3".to_string()));
    assert_eq!(ga.places, [place(3, false), place(1, true), None, None]);
    assert_eq!(ga.overall, spread(2.0, 1, 3, 2));
    assert_eq!(ga.per_arch, [spread(2.0, 1, 3, 2), None]);
    assert_eq!(ga.top_cell(), "1 of 2");
    assert_eq!(ng.places, [place(2, true), place(3, false), place(1, true), None]);
    assert_eq!(ng.overall, spread(2.0, 1, 3, 3));
    assert_eq!(ng.per_arch, [spread(2.5, 2, 3, 2), spread(1.0, 1, 1, 1)]);
    assert_eq!(ng.top, 2);
    assert_eq!(scrub.places, [None; 4]);
    assert_eq!((scrub.overall, &scrub.per_arch[..], scrub.top_cell()), (None, &[None, None][..], "0 of 0".into()));
    assert_eq!(
        a.notes,
        [
            "ng in cifar / cnn ranks last: RetDev unavailable: no accuracy",
            "cifar / vit has no ranking (it needs the metric `retention` and a reference): its methods are not \
             ranked there",
        ]
    );
    assert_eq!(ft.overall.unwrap().mean_cell(), "1.67");
    assert_eq!(ga.overall.unwrap().range("–"), "1–3");
}

#[test]
fn across_names_settings_by_dataset_and_architecture() {
    let two = ["retrained", "ft"];
    let one = || ranked(2, &[(1, &[])]);
    let mut mixed = setting("mix", &two, "mnist", "cnn", one());
    mixed.labels.models[1] = "vit".into();
    let mut swept = setting("mr.sweep", &two, "mnist", "cnn", one());
    swept.coords = vec![("frac".into(), "0.1".into()), ("ft.lr".into(), "0.01".into())];
    // A row past the shown ones does not count.
    let mut hidden = setting("h", &["retrained", "ft", "extra"], "cifar", "resnet18", ranked(3, &[(1, &[])]));
    hidden.table.shown = 2;
    hidden.labels.models[2] = "vit".into();
    let settings = vec![
        setting("a.bench", &two, "mnist", "cnn", one()),
        setting("b.bench", &two, "mnist", "cnn", one()),
        mixed,
        swept,
        setting("unlabelled", &two, "", "", one()),
        hidden,
    ];
    let a = analyse(&settings);
    let names: Vec<&str> = a.settings.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "a.bench: mnist / cnn",
            "b.bench: mnist / cnn",
            "mix",
            "mnist / cnn, frac = 0.1, ft.lr = 0.01",
            "unlabelled",
            "cifar / resnet18"
        ]
    );
    let archs: Vec<Option<&str>> = a.settings.iter().map(|n| n.arch.as_deref()).collect();
    assert_eq!(archs, [Some("cnn"), Some("cnn"), None, Some("cnn"), None, Some("resnet18")]);
    assert_eq!(a.settings[2].dataset.as_deref(), Some("mnist"), "one dataset, two architectures");
    assert_eq!(a.architectures, ["cnn", "resnet18"]);
    assert_eq!(a.methods.len(), 1, "`extra` is not shown");
    assert!(a.notes.is_empty());
}

#[test]
fn across_markdown_of_hand_made_ranks() {
    let text = super::markdown::across("paper", &across_ranks());
    let summary = text.split(super::markdown::DETAILS).next().unwrap();
    assert!(summary.starts_with("## paper\n\n### ranks across settings\n\n"));
    let table = section(summary, "### ranks across settings");
    assert!(table.contains(
        "| method | mean rank | range (min–max) | top group | cnn: mean (range) | vit: mean (range) | mnist / cnn | \
         cifar / cnn | mnist / vit | cifar / vit |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    ));
    for line in [
        "| ft | 1.67 | 1–2 | 2 of 3 | 1.50 (1–2) | 2.00 (2–2) | **1** | 2 | **2** | – |",
        "| ga | 2.00 | 1–3 | 1 of 2 | 2.00 (1–3) | – | 3 | **1** | – | – |",
        "| ng | 2.00 | 1–3 | 2 of 3 | 2.50 (2–3) | 1.00 (1–1) | **2** | 3 | **1** | – |",
        "| scrub | – | – | 0 of 0 | – | – | – | – | – | – |",
    ] {
        assert!(table.contains(&format!("{line}\n")), "{line} not in\n{table}");
    }
    assert!(summary.contains("\n### notes\n\n- ng in cifar / cnn ranks last: RetDev unavailable: no accuracy\n"));
}

/// A report across three settings: the `frac` sweep of [`grouped_fixture`] (`mr.sweep` on
/// mnist / cnn, a setting per group) and `mv.bench` on mnist / vit11m, which does not evaluate
/// `ga` but `scrub`, and where `ft` diverged on every seed (no RetDev: it ranks last).
fn across_fixture() -> Vec<Setting> {
    let (groups, l) = grouped_fixture();
    let labels = Labels { title: "mr.sweep".into(), ..l };
    let mut settings: Vec<Setting> = groups
        .into_iter()
        .map(|g| Setting { evaluation: "mr.sweep".into(), coords: g.coords, labels: labels.clone(), table: g.table })
        .collect();
    let mut diverged = m(f64::NAN, f64::NAN, f64::NAN, 0.5, 5.0);
    diverged.diverged = Some("loss is NaN at epoch 2".into());
    let measured = vec![
        vec![m(1.0, 1.0, 0.92, 0.71, 200.0), m(1.0, 0.99, 0.91, 0.70, 210.0)],
        vec![m(0.99, 0.93, 0.92, 0.51, 180.0), m(0.99, 0.92, 0.91, 0.50, 185.0)],
        vec![diverged.clone(), diverged],
        vec![m(0.98, 0.94, 0.91, 0.52, 20.0), m(0.99, 0.93, 0.90, 0.53, 22.0)],
    ];
    let mut vit = setting(
        "mv.bench",
        &["original", "retrained", "ft", "scrub"],
        "mnist",
        "vit11m",
        tabulate(&metrics(SWEEP), &[0, 1], 4, Some(1), &measured),
    );
    vit.labels.title = "mv.bench".into();
    settings.push(vit);
    settings
}

#[test]
fn across_markdown_leads_with_ranks_and_details_each_setting() {
    let settings = across_fixture();
    let text = super::markdown::across("paper", &settings);
    let summary = text.split(super::markdown::DETAILS).next().unwrap();
    assert!(summary.contains("| mnist / cnn, frac = 0.01 | mnist / cnn, frac = 0.1 | mnist / vit11m |"), "{summary}");
    assert!(summary.contains("- ft in mnist / vit11m ranks last: RetDev unavailable"), "{summary}");
    assert!(!summary.contains("per seed") && !summary.contains("| RA |"), "details stay below DETAILS");
    // Per setting, in order, everything of its ungrouped report one heading level down.
    let details = &text[summary.len()..];
    let names = ["### mnist / cnn, frac = 0.01", "### mnist / cnn, frac = 0.1", "### mnist / vit11m"];
    let at: Vec<usize> = names.iter().map(|h| details.find(&format!("\n{h}\n")).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    for (s, heading) in settings.iter().zip(names) {
        let alone = markdown(&s.table, &s.labels);
        let body = alone.split_once("\n\n").unwrap().1.replace("\n### ", "\n#### ");
        let within = section(details, heading);
        assert!(within.contains(&body), "{heading} differs:\n{within}\nwant\n{body}");
    }
    insta::assert_snapshot!("across_markdown", text);
}

#[test]
fn across_csv_has_the_evaluation_and_every_dimension() {
    let mut settings = across_fixture();
    settings[1].coords.push(("ft.lr".into(), "0.01".into()));
    let text = super::csv::across(&settings);
    assert!(text.starts_with("evaluation,dataset,model,method,op,frac,ft.lr,seed,metric,value,key\n"));
    // Each setting's lines are its ungrouped lines, led by the evaluation, with its coordinates
    // (empty where it lacks a dimension).
    for (s, cells) in settings.iter().zip([",0.01,,", ",0.1,0.01,", ",,,"]) {
        let alone = csv(&s.table, &s.labels);
        for line in alone.lines().skip(1) {
            let f: Vec<&str> = line.splitn(5, ',').collect();
            let want = format!("{},{},{},{},{}{cells}{}", s.evaluation, f[0], f[1], f[2], f[3], f[4]);
            assert!(text.contains(&format!("\n{want}\n")), "{want}");
        }
    }
    let lines: usize = settings.iter().map(|s| csv(&s.table, &s.labels).lines().count() - 1).sum();
    assert_eq!(text.lines().count(), 1 + lines);
    assert!(text.contains("\nmv.bench,mnist,vit11m,ft,,,,0,retain_acc,,\n"), "a diverged value is empty");
    insta::assert_snapshot!("across_csv", super::csv::across(&across_fixture()));
}

#[test]
fn across_json_has_each_setting_and_each_method() {
    let settings = across_fixture();
    let value = super::json::across("paper", &settings);
    assert_eq!(value["title"], "paper");
    let each = value["settings"].as_array().unwrap();
    assert_eq!(each.len(), 3);
    for (v, s) in each.iter().zip(&settings) {
        assert_eq!(v["evaluation"], s.evaluation.as_str());
        assert_eq!(v["table"], json(&s.table, &s.labels));
    }
    assert_eq!(each[0]["name"], "mnist / cnn, frac = 0.01");
    assert_eq!(each[0]["coords"], serde_json::json!({ "frac": "0.01" }));
    assert_eq!((&each[2]["dataset"], &each[2]["model"]), (&"mnist".into(), &"vit11m".into()));
    let a = analyse(&settings);
    let methods = value["methods"].as_array().unwrap();
    assert_eq!(methods.len(), a.methods.len());
    for (v, m) in methods.iter().zip(&a.methods) {
        assert_eq!(v["method"], m.name.as_str());
        let ranks: Vec<Option<usize>> = m.places.iter().map(|p| p.map(|p| p.rank)).collect();
        assert_eq!(v["ranks"], serde_json::json!(ranks));
        assert_eq!(v["n"], m.overall.map_or(0, |o| o.n));
        assert_eq!(v["top_group"], m.top);
    }
    let scrub = methods.iter().find(|v| v["method"] == "scrub").unwrap();
    assert_eq!(scrub["ranks"], serde_json::json!([null, null, 1]));
    assert_eq!(scrub["per_architecture"]["vit11m"], serde_json::json!({"mean": 1.0, "min": 1, "max": 1, "n": 1}));
    assert_eq!(scrub["per_architecture"]["cnn"]["mean"], serde_json::Value::Null);
    json_text_and_snapshot("across_json", value, &super::json::across_text("paper", &settings).unwrap());
}

#[test]
fn across_latex_is_one_table_of_ranks() {
    let text = super::latex::across("paper", &across_ranks());
    assert_eq!(text.matches("\\begin{tabular}").count(), 1);
    assert!(text.contains("\\begin{tabular}{lrcrrrrrrr}\n"), "{text}");
    assert!(text.contains(
        "\nMethod & Mean rank & Range & Top group & cnn mean & vit mean & mnist / cnn & cifar / cnn & mnist / vit \
         & cifar / vit \\\\\n"
    ));
    assert!(text.contains("\nft & 1.67 & 1--2 & 2 of 3 & 1.50 & 2.00 & \\textbf{1} & 2 & \\textbf{2} & -- \\\\\n"));
    assert!(text.contains("\nscrub & -- & -- & 0 of 0 & -- & -- & -- & -- & -- & -- \\\\\n"));
    let mut settings = across_fixture();
    settings[0].labels.methods[2] = "f_t".into();
    let text = super::latex::across("paper", &settings);
    assert!(text.contains("\nf\\_t & ") && !text.contains("f_t"), "{text}");
    insta::assert_snapshot!("across_latex", super::latex::across("paper", &across_fixture()));
}

#[test]
fn across_plot_marks_each_rank_the_range_and_the_mean() {
    let settings = across_ranks();
    let text = super::plot::across("paper", &settings);
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.contains(">rank (1 = best)</text>"));
    // A dot per (method, setting) ranked, plus one per architecture in the legend; a range and a
    // mean per ranked method; scrub says it is not ranked.
    let placed: usize = settings.iter().map(|s| s.table.ranking.len()).sum();
    assert_eq!(text.matches("<circle").count(), placed + 2);
    assert_eq!(text.matches("<path").count(), 3);
    assert!(text.contains(">not ranked</text>"));
    // The methods top down in the order of their mean rank.
    let at = |name: &str| text.find(&format!(">{name}</text>")).unwrap();
    assert!(at("ft") < at("ga") && at("ga") < at("ng") && at("ng") < at("scrub"));
    assert!(super::plot::png(&text).is_ok());
    let none = super::plot::across("paper", &[setting("e", &["retrained", "ft"], "", "", ranked(2, &[]))]);
    assert!(none.contains("needs metric retention and a reference in some setting"));
    insta::assert_snapshot!("across_plot", super::plot::across("paper", &across_fixture()));
}

/// A report across settings reads `table/0`, `table/1`, … one per setting, and writes every
/// format from them (the PNG too when asked); a missing or surplus table fails the node.
#[test]
fn render_reads_one_table_per_setting() {
    use crate::ops::Format;
    use crate::plan::{ReportSpec, RowLabel, SettingLabel};
    let settings = across_fixture();
    let (dirs, tables) = stored(settings.iter().map(|s| &s.table));
    let settings: Vec<Setting> = settings.into_iter().zip(tables).map(|(s, table)| Setting { table, ..s }).collect();
    let label = |s: &Setting| SettingLabel {
        evaluation: s.evaluation.clone(),
        coords: s.coords.clone(),
        rows: (0..s.labels.methods.len())
            .map(|i| RowLabel {
                name: s.labels.methods[i].clone(),
                dataset: s.labels.datasets[i].clone(),
                arch: s.labels.models[i].clone(),
            })
            .collect(),
    };
    let node = report_node(ReportSpec {
        title: "paper".into(),
        rows: vec![],
        formats: vec![Format::Plot],
        groups: vec![],
        settings: settings.iter().map(label).collect(),
    });
    let run = |roles: &[&str]| run_report(&node, roles, &dirs);
    let out = run(&["table/0", "table/1", "table/2"]).unwrap();
    assert_eq!(rendered(&out, Format::Markdown), super::markdown::across("paper", &settings));
    assert_eq!(rendered(&out, Format::Csv), super::csv::across(&settings));
    assert_eq!(rendered(&out, Format::Json), super::json::across_text("paper", &settings).unwrap());
    assert_eq!(rendered(&out, Format::Latex), super::latex::across("paper", &settings));
    assert_eq!(rendered(&out, Format::Plot), super::plot::across("paper", &settings));
    assert!(out.path().join("report.png").is_file(), "a plot path asks for the PNG");
    let printed = super::summary_markdown(out.path()).unwrap();
    assert!(printed.contains("### ranks across settings") && !printed.contains("### mnist / vit11m"));

    let err = run(&["table/0", "table/1"]).unwrap_err();
    assert_eq!(err.message, "missing table/2");
    let err = run(&["table/0", "table/1", "table/2", "table/3"]).unwrap_err();
    assert_eq!(err.message, "`report paper` has 4 tables for 3 settings");
}
