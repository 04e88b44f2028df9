//! Derived metrics, ranking and every rendering of a fixed, hand-made evaluation.

use crate::artifact::Metrics;
use crate::ops::Metric;

use super::csv::csv;
use super::derived::{indiscernibility, retdev, retention, sape};
use super::evaluate::tabulate;
use super::json::json;
use super::markdown::markdown;
use super::present::{pm, Group, Labels};
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
        payload: Payload::Report(ReportSpec {
            title: "e".into(),
            rows: vec![],
            formats: vec![Format::Csv],
            groups: vec![],
        }),
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
    assert_eq!(lines.next(), Some("dataset,model,method,frac,seed,metric,value"));
    let columns = groups[0].table.columns.len();
    // Four shown rows × two seeds × every column, per group.
    assert_eq!(text.lines().count(), 1 + 2 * 4 * 2 * columns);
    let fracs: Vec<&str> = lines.map(|line| line.split(',').nth(3).unwrap()).collect();
    assert_eq!(fracs.iter().filter(|f| **f == "0.01").count(), 4 * 2 * columns);
    assert_eq!(fracs.iter().filter(|f| **f == "0.1").count(), 4 * 2 * columns);
    assert!(fracs[..4 * 2 * columns].iter().all(|f| *f == "0.01"), "groups in order");
    let fa = groups[1].table.rows[2].seeds[1].values["forget_acc"].unwrap();
    assert!(text.contains(&format!("\nmnist,cnn,ft,0.1,1,forget_acc,{fa}\n")));
    assert!(text.contains("\nmnist,cnn,ft,0.1,1,mia_test,\n"), "an unavailable value is empty");
    // Each group's lines are the ungrouped lines with its coordinate inserted.
    for g in &groups {
        let alone = csv(&g.table, &l);
        for line in alone.lines().skip(1) {
            let f: Vec<&str> = line.splitn(4, ',').collect();
            let want = format!("{},{},{},{},{}", f[0], f[1], f[2], g.coords[0].1, f[3]);
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
    assert!(text.starts_with("dataset,model,method,frac,ft.lr,seed,metric,value\n"));
    assert!(text.contains("\nmnist,cnn,ga,0.01,0.01,0,retain_acc,0.6\n"));
    assert!(text.contains("\nmnist,cnn,ga,0.1,\"a,b\",0,retain_acc,0.96\n"));
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
    let text = super::json::grouped_text(&groups, &l).unwrap();
    assert_eq!(text, serde_json::to_string_pretty(&value).unwrap() + "\n");
    let mut value = value;
    round(&mut value);
    insta::assert_snapshot!("grouped_json", serde_json::to_string_pretty(&value).unwrap());
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
    assert!(text.contains(r#"height="840" viewBox="0 0 960 840""#), "two pictures tall");
    assert!(text.contains("sweep — frac = 0.01") && text.contains("sweep — frac = 0.1"));
    // Three methods besides the reference per group.
    assert_eq!(text.matches("<circle").count(), 2 * 3);
    // The dashed guides (gap 0, RTE 1) sit at the same place in both pictures, though alone
    // each group's would not.
    let guides = |svg: &str| -> Vec<String> {
        svg.lines().filter(|l| l.contains("stroke-dasharray")).map(String::from).collect()
    };
    let blocks: Vec<&str> = text.split("<g transform=").skip(1).collect();
    assert_eq!(blocks.len(), 2);
    assert_eq!(guides(blocks[0]), guides(blocks[1]));
    assert_ne!(guides(&super::plot::svg(&groups[0].table, &l)), guides(&super::plot::svg(&groups[1].table, &l)));
    insta::assert_snapshot!("grouped_plot", text);
}

/// A `report` node reads `table/0`, `table/1`, … of a grouped evaluation and `table` of an
/// ungrouped one, and writes every format from them; the CLI's summary of a grouped report is
/// the cross-group part.
#[test]
fn render_reads_one_table_per_group() {
    use crate::backend::{Input, Job};
    use crate::ops::Format;
    use crate::plan::{Node, Paths, Payload, ReportSpec, RowLabel};
    let (groups, l) = grouped_fixture();
    let dirs: Vec<tempfile::TempDir> = groups
        .iter()
        .map(|g| {
            let dir = tempfile::tempdir().unwrap();
            crate::artifact::write_json(&dir.path().join(crate::artifact::file::TABLE), &g.table).unwrap();
            dir
        })
        .collect();
    // What the node sees: the tables as read back (JSON does not round-trip every last bit).
    let groups: Vec<Group> = groups
        .into_iter()
        .zip(&dirs)
        .map(|(g, dir)| Group {
            table: crate::artifact::read_json(&dir.path().join(crate::artifact::file::TABLE)).unwrap(),
            ..g
        })
        .collect();
    let rows: Vec<RowLabel> =
        l.methods.iter().map(|n| RowLabel { name: n.clone(), dataset: "mnist".into(), arch: "cnn".into() }).collect();
    let node = |coords: Vec<Vec<(String, String)>>| Node {
        key: crate::digest::Key::of(b"report"),
        op: "report".into(),
        version: 2,
        payload: Payload::Report(ReportSpec {
            title: "sweep".into(),
            rows: rows.clone(),
            formats: vec![],
            groups: coords,
        }),
        inputs: vec![],
        coords: Default::default(),
        paths: Paths { data: None, fetch: false, outputs: vec![] },
        label: "report sweep".into(),
        decl: "sweep".into(),
        span: crate::span::Span::new(0, 0),
    };
    let run = |node: &Node, roles: &[&str]| {
        let out = tempfile::tempdir().unwrap();
        let inputs = roles
            .iter()
            .zip(&dirs)
            .map(|(role, dir)| Input { role, node, key: crate::digest::Key::of(b"table"), dir: dir.path() })
            .collect();
        let job = Job { node, inputs, out: out.path(), progress: &|_, _, _| {} };
        super::render::render(&job).map(|()| out)
    };
    let read = |dir: &tempfile::TempDir, f: Format| std::fs::read_to_string(dir.path().join(f.file())).unwrap();

    let coords: Vec<Vec<(String, String)>> = groups.iter().map(|g| g.coords.clone()).collect();
    let grouped = node(coords.clone());
    let out = run(&grouped, &["table/0", "table/1"]).unwrap();
    assert_eq!(read(&out, Format::Markdown), super::markdown::grouped(&groups, &l));
    assert_eq!(read(&out, Format::Csv), super::csv::grouped(&groups, &l));
    assert_eq!(read(&out, Format::Json), super::json::grouped_text(&groups, &l).unwrap());
    assert_eq!(read(&out, Format::Latex), super::latex::grouped(&groups, &l));
    assert_eq!(read(&out, Format::Plot), super::plot::grouped(&groups, &l));
    let printed = super::summary_markdown(out.path()).unwrap();
    assert!(printed.contains("| frac | method |") && printed.contains("### rank per group"));
    assert!(!printed.contains("### frac ="));

    // Ungrouped: the one input `table`, rendered exactly as a single table.
    let t = &groups[0].table;
    let out = run(&node(vec![]), &["table"]).unwrap();
    assert_eq!(read(&out, Format::Markdown), markdown(t, &l));
    assert_eq!(read(&out, Format::Csv), csv(t, &l));
    assert_eq!(read(&out, Format::Json), super::json::text(t, &l).unwrap());
    assert_eq!(read(&out, Format::Latex), super::latex::latex(t, &l));
    assert_eq!(read(&out, Format::Plot), super::plot::svg(t, &l));

    // A missing group table, or groups on different dimensions, fail the node.
    let err = run(&grouped, &["table/0"]).unwrap_err();
    assert_eq!(err.message, "missing table/1");
    let mut odd = coords;
    odd[1][0].0 = "ft.lr".into();
    let err = run(&node(odd), &["table/0", "table/1"]).unwrap_err();
    assert!(err.message.contains("do not share their dimensions"), "{}", err.message);
}
