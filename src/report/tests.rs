//! Derived metrics, ranking and every rendering of a fixed, hand-made evaluation.

use crate::artifact::Metrics;
use crate::ops::Metric;

use super::csv::csv;
use super::derived::{indiscernibility, retdev, retention, sape};
use super::evaluate::tabulate;
use super::json::json;
use super::markdown::markdown;
use super::present::Labels;
use crate::artifact::table::Table;

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
    let table = tabulate(&metrics(ALL), &[0, 1, 2], 5, Some(1), &measured);
    let labels = Labels {
        title: "bench".into(),
        methods: ["original", "retrained", "ft", "ga", "neg_grad"].map(String::from).to_vec(),
        datasets: vec!["mnist".into(); 5],
        models: vec!["cnn".into(); 5],
    };
    (table, labels)
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

#[test]
fn json_snapshot() {
    let (t, l) = fixture();
    // Rounded to 10 significant digits: the CI half-widths go through libm's trigonometry.
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
    // Four methods besides the reference, each a point and a bar.
    assert_eq!(text.matches("<circle").count(), 4);
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
        payload: Payload::Report(ReportSpec { title: "e".into(), rows: vec![], formats: vec![Format::Csv] }),
        inputs: vec![],
        coords: Default::default(),
        paths: Paths { data: None, fetch: false, outputs },
        label: "report e".into(),
        decl: "e".into(),
        span: crate::span::Span::new(0, 0),
    };
    let done = super::materialise(&node, entry.path());
    assert_eq!(done.written, [experiment.path().join("ok.md")]);
    assert_eq!(done.failed.len(), 1, "{:?}", done.failed);
    assert_eq!(done.failed[0].0, experiment.path().join("isdir.csv"));
    assert_eq!(std::fs::read_to_string(experiment.path().join("ok.md")).unwrap(), "# ok\n");
    let left: Vec<_> = std::fs::read_dir(experiment.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
}
