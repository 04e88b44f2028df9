//! The `munl` binary: exit codes, JSON output, and a real end-to-end run on tiny synthetic data.

use std::path::Path;
use std::process::{Command, Output};

fn munl(dir: &Path, args: &[&str]) -> Output {
    munl_with(dir, args, &[])
}

/// `munl ARGS` in `dir` with its own cache and data root, `env` over the defaults (other test
/// modules run munl this way too).
pub(crate) fn munl_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(args)
        .current_dir(dir)
        .env("MUNL_CACHE", dir.join("cache"))
        .env("MUNL_DATA", dir.join("data"))
        .env("TORCH_CPP_LOG_LEVEL", "ERROR")
        // After the defaults, so that a test can replace them.
        .envs(env.iter().copied())
        .output()
        .expect("the munl binary runs")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lab(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

const TOY: &str = include_str!("fixtures/toy.munl");

#[test]
fn check_reports_every_error_and_exits_1() {
    let dir = lab(&[("errors.munl", include_str!("fixtures/errors.munl"))]);
    let out = munl(dir.path(), &["check", "errors.munl"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for code in [
        "munl::lower::unknown_setting",
        "munl::lower::unknown_name",
        "munl::lower::inheritance_cycle",
        "munl::lower::bad_path",
    ] {
        assert!(err.contains(code), "missing {code} in:\n{err}");
    }
}

#[test]
fn check_accepts_a_good_file() {
    let dir = lab(&[("toy.munl", TOY)]);
    let out = munl(dir.path(), &["check", "toy.munl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok"));
}

#[test]
fn plan_json_has_one_object_per_node() {
    let dir = lab(&[("toy.munl", TOY)]);
    let out = munl(dir.path(), &["plan", "toy.munl", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(lines.len(), 22);
    let ft = lines.iter().find(|l| l["label"] == "unlearn ft [seed=1]").expect("ft seed 1 is planned");
    assert_eq!(ft["name"], "ft");
    assert_eq!(ft["kind"], "unlearn");
    assert_eq!(ft["dims"]["seed"], 1);
    assert_eq!(ft["status"], "run");
    assert_eq!(ft["reasons"][0], "new node");
    assert_eq!(ft["key"].as_str().unwrap().len(), 64);
}

#[test]
fn unknown_target_is_a_user_error() {
    let dir = lab(&[("toy.munl", TOY)]);
    let out = munl(dir.path(), &["plan", "toy.munl", "fx"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("did you mean `ft`?"), "{}", text(&out.stderr));
}

#[test]
fn methods_lists_the_methods_with_defaults() {
    let out = munl(Path::new("."), &["methods"]);
    let s = text(&out.stdout);
    for m in ["finetune", "gradient_ascent", "neggrad_plus", "alpha", "= 0.95"] {
        assert!(s.contains(m), "missing {m}:\n{s}");
    }
    let out = munl(Path::new("."), &["methods", "finetun"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn methods_name_prints_algorithm_fields_spaces_and_quirks() {
    let out = munl(Path::new("."), &["methods", "salun"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(text(&out.stdout));
}

/// `munl methods FILE.py` lists a Python file's methods and fields as `munl check` reads them
/// (the first line names the interpreter's versions, which vary by machine).
#[test]
fn methods_of_a_python_file() {
    let out = munl(Path::new("."), &["methods", "tests/fixtures/python/methods/mine.py"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let (first, rest) = s.split_once('\n').unwrap();
    assert!(first.starts_with("tests/fixtures/python/methods/mine.py (Python 3."), "{first}");
    insta::assert_snapshot!(rest);
    let out = munl(Path::new("."), &["methods", "tests/fixtures/python/methods/broken.py"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("broken.py: '(' was never closed (line 1)"), "{}", text(&out.stderr));
}

#[test]
fn graph_is_dot() {
    let dir = lab(&[("toy.munl", TOY)]);
    let out = munl(dir.path(), &["graph", "toy.munl"]);
    let s = text(&out.stdout);
    assert!(s.starts_with("digraph munl {") && s.contains("->"), "{s}");
}

/// A real run through the torch backend on CPU: everything computes, the report is written and
/// printed, and a second run does nothing.
/// Needs the torch worker, built only with the `torch` feature.
#[test]
#[cfg(feature = "torch")]
fn run_end_to_end_then_nothing() {
    // The toy experiment with every metric and every report format.
    let toy = TOY
        .replace("rte]", "rte, retention, sape, distance]")
        .replace("  csv      = \"results/bench.csv\"\n", "  csv = \"results/bench.csv\"\n  json = \"results/bench.json\"\n  latex = \"results/bench.tex\"\n  plot = \"results/bench.svg\"\n");
    let toy = toy + "\nreport pics {\n  evaluate = bench\n  plot = \"results/bench.png\"\n}\n";
    assert!(toy.contains("retention") && toy.contains("latex"), "{toy}");
    let dir = lab(&[("toy.munl", toy.as_str())]);
    let out = munl(dir.path(), &["run", "toy.munl", "--device", "cpu", "--jobs", "2"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("| ga |"), "the report table is printed:\n{stdout}");
    let md = std::fs::read_to_string(dir.path().join("results/bench.md")).expect("markdown report written");
    assert!(md.contains("### per seed"));
    let csv = std::fs::read_to_string(dir.path().join("results/bench.csv")).expect("csv report written");
    assert!(csv.starts_with("dataset,model,method,op,seed,metric,value,key,hp."), "{csv}");
    assert!(csv.contains("\ntoy,cnn,ft,finetune,1,retdev,"), "{csv}");
    assert!(csv.contains(",l2_to_ref_relative,"), "weight distances to the reference: {csv}");
    assert!(
        csv.contains("\ntoy,cnn,retrained,train,0,l2_to_ref,0,"),
        "the reference is at distance 0 from itself: {csv}"
    );
    assert!(md.contains("### ranking") && md.contains("RetDev"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results/bench.json")).unwrap()).unwrap();
    assert_eq!(json["ranking"].as_array().map(Vec::len), Some(3), "original, ft, ga: {json}");
    let tex = std::fs::read_to_string(dir.path().join("results/bench.tex")).unwrap();
    assert!(tex.contains("\\begin{tabular}") && tex.contains("\\bottomrule"), "{tex}");
    let svg = std::fs::read_to_string(dir.path().join("results/bench.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<circle"), "{svg}");
    let png = std::fs::read(dir.path().join("results/bench.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{} bytes", png.len());

    // Nothing to compute: the torch worker is never started (a missing one does not matter).
    let again =
        munl_with(dir.path(), &["run", "toy.munl", "--device", "cpu"], &[("MUNL_WORKER", "/nonexistent/munl-torch")]);
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again.stderr).contains("munl: 0 ran"), "{}", text(&again.stderr));

    let show = munl(dir.path(), &["show", "toy.munl", "unlearn ft [seed=0]", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["status"], "cached");
    assert!(v["stored"]["run.json"]["seconds"].as_f64().unwrap() > 0.0);

    let init = munl(dir.path(), &["show", "toy.munl", "init net (4 classes) [seed=1]", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&init.stdout).unwrap();
    assert!(v["parameters"].as_u64().unwrap() > 1000, "{v}");
    let summary = text(&munl(dir.path(), &["show", "toy.munl", "init net (4 classes) [seed=0]"]).stdout);
    assert!(summary.contains("fc1") && summary.contains("total"), "{summary}");

    let verify = munl(dir.path(), &["cache", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
}

/// A sweep runs end to end: a table per (forget fraction, learning rate), one report with the
/// swept fields as columns; editing one swept value re-runs only that value's nodes.
#[test]
#[cfg(feature = "torch")]
fn a_sweep_reports_its_dimensions_as_columns() {
    let sweep = include_str!("fixtures/sweep.munl");
    let dir = lab(&[("sweep.munl", sweep)]);
    let out = munl(dir.path(), &["run", "sweep.munl", "--device", "cpu", "--jobs", "2"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let csv = std::fs::read_to_string(dir.path().join("results/sweep.csv")).unwrap();
    assert!(csv.starts_with("dataset,model,method,op,frac,ft.lr,seed,metric,value,key,hp."), "{csv}");
    for line in ["\ntoy,cnn,ft,finetune,0.05,0.01,1,forget_acc,", "\ntoy,cnn,ft,finetune,0.2,0.05,0,retain_acc,"] {
        assert!(csv.contains(line), "{line:?} in {csv}");
    }
    let stdout = text(&out.stdout);
    assert!(stdout.contains("| frac | ft.lr | method |"), "the printed summary has the swept columns:\n{stdout}");

    std::fs::write(dir.path().join("sweep.munl"), sweep.replace("each(0.01, 0.05)", "each(0.01, 0.07)")).unwrap();
    let again = munl(dir.path(), &["run", "sweep.munl", "--device", "cpu"]);
    let err = text(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{err}");
    // Per fraction: two runs of ft at 0.07, their two measurements and the group's table; and
    // the report.
    assert!(err.contains("munl: 11 ran,"), "{err}");
    let csv = std::fs::read_to_string(dir.path().join("results/sweep.csv")).unwrap();
    assert!(csv.contains(",ft,finetune,0.2,0.07,") && !csv.contains(",finetune,0.05,0.05,"), "{csv}");
}

/// U-LiRA end to end through the worker: every run's model scored, each model attacked over
/// its runs, the attack's numbers in the printed table and in the CSV (over runs: no seed).
#[test]
#[cfg(feature = "torch")]
fn ulira_runs_through_the_worker() {
    let dir = lab(&[("ulira.munl", include_str!("fixtures/ulira.munl"))]);
    let out = munl(dir.path(), &["run", "ulira.munl", "--device", "cpu", "--jobs", "2"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // A dataset, 8 splits, an initialisation, 16 trainings, 2 searches, 16 unlearnings, 32
    // predictions, 4 attacks, the table and the report.
    assert!(err.contains("munl: 82 ran,"), "{err}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("| method | U-LiRA P | U-LiRA AUC | U-LiRA NaN | LiRA-conf. AUC |"), "{stdout}");
    let csv = std::fs::read_to_string(dir.path().join("results/ulira.csv")).unwrap();
    for method in ["original", "retrained", "ft", "ga"] {
        // dataset, model, method, op, seed (none: over runs), metric, value, key, hp.…
        let line =
            csv.lines().find(|l| l.starts_with(&format!("toy,cnn,{method},")) && l.contains(",,ulira_logit_auc,"));
        let auc: f64 = line.and_then(|l| l.split(',').nth(6)?.parse().ok()).unwrap_or_else(|| panic!("{csv}"));
        assert!((0.0..=1.0).contains(&auc), "{method}: {auc}");
    }
}

/// A NaN loss fails its node with exit code 2 and an error pointing at the declaration.
/// A diverging method completes, as the reference's final runs do, and the report still comes
/// out with its unavailable values explained. Needs the torch worker (`torch` feature).
#[test]
#[cfg(feature = "torch")]
fn a_diverging_method_still_gets_its_report() {
    let bad =
        TOY.replace("unlearn ga = gradient_ascent(original)", "unlearn ga = gradient_ascent(original) { lr = 1e30 }");
    let dir = lab(&[("toy.munl", &bad)]);
    let out = munl(dir.path(), &["run", "toy.munl", "--device", "cpu"]);
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    let note = stdout.lines().find(|l| l.starts_with("- ga, seed 0:")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(note.contains("the run diverged (loss became") && note.contains("unavailable"), "{note}");
    let report = std::fs::read_to_string(dir.path().join("results/bench.md")).expect("the report");
    assert!(report.contains("| ga |"), "{report}");
}

/// An Original that diverges fails its node, named in a diagnostic, and keeps what was computed.
/// Needs the torch worker (`torch` feature).
#[test]
#[cfg(feature = "torch")]
fn a_diverging_original_names_the_declaration_and_exits_2() {
    let bad = TOY.replace("  epochs = 2\n", "  epochs = 2\n  optim = sgd(lr: 1e30)\n");
    assert_ne!(bad, TOY);
    let dir = lab(&[("toy.munl", &bad)]);
    let out = munl(dir.path(), &["run", "toy.munl", "original", "--device", "cpu"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("train original [seed=0]") && err.contains("loss became"), "{err}");
    assert!(err.contains("munl::exec::node_failed"), "{err}");
    // The nodes it needed were computed and kept.
    let plan = munl(dir.path(), &["plan", "toy.munl", "toy", "--json"]);
    assert!(text(&plan.stdout).lines().all(|l| l.contains("\"cached\"")), "{}", text(&plan.stdout));
}

#[test]
fn a_missing_worker_fails_the_nodes_with_help() {
    let dir = lab(&[("toy.munl", TOY)]);
    let out =
        munl_with(dir.path(), &["run", "toy.munl", "--device", "cpu"], &[("MUNL_WORKER", "/nonexistent/munl-torch")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot start the torch worker"), "{}", text(&out.stderr));
}

/// Needs the torch worker, built only with the `torch` feature.
#[test]
#[cfg(feature = "torch")]
fn a_search_runs_its_trials_in_the_worker_and_the_best_values_win() {
    // Two searched fields, 3 trials on one seed with the real torch worker; the final run
    // takes the best trial's values.
    let toy = TOY.replace(
        "unlearn ft = finetune(original) { epochs = 1; lr = 0.01 }",
        "unlearn ft = finetune(original) {\n  epochs = 1\n  lr = log_uniform(0.001, 0.1)\n  batch = choice([16, 32])\n  tune = search(trials: 3, seeds: [0], sampler: random)\n}",
    );
    assert!(toy.contains("tune"), "{toy}");
    let dir = lab(&[("toy.munl", toy.as_str())]);
    let out = munl(dir.path(), &["run", "toy.munl", "ft", "--device", "cpu"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let show = munl(dir.path(), &["show", "toy.munl", "search ft [seed=0]", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let search = &v["stored"]["search.json"];
    let trials = search["trials"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(trials.len(), 3);
    for t in trials {
        let lr = t["values"]["lr"].as_f64().unwrap();
        assert!((0.001..0.1).contains(&lr), "{t}");
        assert!([16, 32].contains(&t["values"]["batch"].as_i64().unwrap()), "{t}");
        assert_eq!(t["objectives"].as_array().unwrap().len(), 4, "{t}");
    }
    assert!(search["best"].as_u64().is_some(), "{search}");
    // The trials as a table, objectives named, one row per trial.
    let csv = std::fs::read_to_string(Path::new(v["entry"].as_str().unwrap()).join("trials.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("number,state,batch,lr,retain_gap,forget_gap,val_gap,mia_gap,score,seconds,best,note,key"),
        "{csv}"
    );
    assert_eq!(lines.count(), 3, "{csv}");
    // A trial opens by its key.
    let key = trials[0]["key"].as_str().unwrap();
    let trial = munl(dir.path(), &["show", "toy.munl", &key[..10]]);
    let shown = text(&trial.stdout);
    assert!(shown.starts_with("trial 0 of search ft [seed=0]"), "{shown}{}", text(&trial.stderr));
    assert!(shown.contains("retain_gap") && shown.contains("status   cached in"), "{shown}");
    // The final run's values, and where each came from.
    let ft = munl(dir.path(), &["show", "toy.munl", "unlearn ft [seed=0]", "--json"]);
    let ft: serde_json::Value = serde_json::from_slice(&ft.stdout).unwrap();
    let origins = &ft["origins"];
    assert_eq!(
        (origins["lr"].as_str(), origins["batch"].as_str(), origins["epochs"].as_str(), origins["momentum"].as_str()),
        (Some("searched"), Some("searched"), Some("written"), Some("default")),
        "{ft}"
    );
    let best = &trials[search["best"].as_u64().unwrap() as usize]["values"];
    assert_eq!(ft["used"]["lr"], best["lr"], "the best trial's lr is the one used: {ft}");
    let text_show = text(&munl(dir.path(), &["show", "toy.munl", "unlearn ft [seed=0]"]).stdout);
    assert!(text_show.contains("(searched: the best trial's;") && text_show.contains("(written)"), "{text_show}");
}

/// Thousands of nested brackets are a diagnostic, not a stack overflow.
#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    let deep = format!("model deep = cnn(width: {}8{})\n", "[".repeat(6085), "]".repeat(6085));
    let dir = lab(&[("deep.munl", &deep)]);
    for cmd in ["check", "plan"] {
        let out = munl(dir.path(), &[cmd, "deep.munl"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {err}");
        assert!(err.contains("munl::syntax::too_deep") && err.contains("nested more than 64 deep"), "{err}");
    }
    // Brackets in strings and comments do not count.
    let quoted = format!("# {}\nmodel m = cnn()\n", "(".repeat(200));
    let dir = lab(&[("quoted.munl", &quoted)]);
    assert_eq!(munl(dir.path(), &["check", "quoted.munl"]).status.code(), Some(0));
}

/// A byte-order mark is accepted; bytes that are not UTF-8 are an error that says where.
#[test]
fn byte_order_marks_and_invalid_utf8() {
    let dir = lab(&[("bom.munl", &format!("\u{feff}{TOY}"))]);
    let out = munl(dir.path(), &["check", "bom.munl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut bytes = b"seeds = 0..2\n# caf".to_vec();
    bytes.extend([0xe9, b'\n']);
    std::fs::write(dir.path().join("latin1.munl"), bytes).unwrap();
    let out = munl(dir.path(), &["check", "latin1.munl"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("not UTF-8") && err.contains("byte offset 18 (line 2)"), "{err}");
}

/// An empty or comments-only file is valid but does nothing: say so.
#[test]
fn an_empty_file_is_warned_about() {
    let dir = lab(&[("empty.munl", "# nothing yet\n")]);
    for cmd in ["check", "run"] {
        let out = munl(dir.path(), &[cmd, "empty.munl"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stderr).contains("warning: empty.munl declares nothing"), "{}", text(&out.stderr));
    }
}

/// `munl plan … | head` ends quietly when the reader goes away, whatever the command.
#[test]
fn a_closed_output_pipe_ends_quietly() {
    let many = TOY.replace("seeds = 0..2", "seeds = 0..3000");
    let dir = lab(&[("many.munl", &many)]);
    for args in [&["plan", "many.munl"][..], &["graph", "many.munl"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_munl"))
            .args(args)
            .current_dir(dir.path())
            .env("MUNL_CACHE", dir.path().join("cache"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
    }
}

/// A report file that cannot be written fails the run (exit 2) without losing the others or
/// leaving temporaries. Needs the torch worker (`torch` feature).
#[test]
#[cfg(feature = "torch")]
fn a_report_that_cannot_be_written_fails_the_run() {
    let dir = lab(&[("toy.munl", TOY)]);
    std::fs::create_dir_all(dir.path().join("results/bench.csv")).unwrap();
    let out = munl(dir.path(), &["run", "toy.munl", "--device", "cpu"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("`report bench` cannot write") && err.contains("bench.csv"), "{err}");
    assert!(err.contains("1 failed"), "{err}");
    assert!(dir.path().join("results/bench.md").is_file(), "the other format is written");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("results")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
}

/// `plan` says what `run` will do: with the report cached, a deleted measurement under it is not
/// needed, and neither command runs it. Needs the torch worker (`torch` feature).
#[test]
#[cfg(feature = "torch")]
fn plan_and_run_agree_when_an_input_of_a_cached_node_is_gone() {
    let dir = lab(&[("toy.munl", TOY)]);
    assert_eq!(munl(dir.path(), &["run", "toy.munl", "--device", "cpu"]).status.code(), Some(0));
    let show = munl(dir.path(), &["show", "toy.munl", "measure ft [seed=0]", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).expect("show --json");
    std::fs::remove_dir_all(shown["entry"].as_str().expect("a cached entry")).unwrap();
    let plan = text(&munl(dir.path(), &["plan", "toy.munl"]).stdout);
    assert!(plan.ends_with("1 nodes: 0 to run, 1 cached\n"), "{plan}");
    let run = munl(dir.path(), &["run", "toy.munl", "--device", "cpu"]);
    assert!(text(&run.stderr).contains("0 ran, 1 cached"), "{}", text(&run.stderr));
    // Asking for the measurement itself runs it, and the plan says so first.
    let plan = text(&munl(dir.path(), &["plan", "toy.munl", "measure ft [seed=0]"]).stdout);
    assert!(plan.contains("1 to run"), "{plan}");
}

/// A cache that cannot be created says why (the OS reason) and what to do.
#[test]
fn an_unusable_cache_says_why() {
    let dir = lab(&[("toy.munl", TOY), ("afile", "not a folder")]);
    let out = munl_with(
        dir.path(),
        &["plan", "toy.munl"],
        &[("MUNL_CACHE", dir.path().join("afile/cache").to_str().unwrap())],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Not a directory") && err.contains("MUNL_CACHE"), "{err}");
}

/// A worker that dies fails the nodes in flight with its last error output (or says there was
/// none), not with a pointer to output that may not be there.
#[test]
fn a_dying_worker_is_quoted() {
    use std::os::unix::fs::PermissionsExt;
    let dir = lab(&[("toy.munl", TOY)]);
    let worker = dir.path().join("dying-worker");
    std::fs::write(&worker, "#!/bin/sh\nread line\necho 'boom: out of device memory' >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = munl_with(
        dir.path(),
        &["run", "toy.munl", "toy", "--device", "cpu"],
        &[("MUNL_WORKER", worker.to_str().unwrap())],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the torch worker exited")
            && err.contains("its last error output")
            && err.contains("boom: out of device memory"),
        "{err}"
    );
}

/// `munl plan` shows each search's space as searched, and warns when a range holds one value
/// (a 4-epoch Original caps the searched epochs at ⌈0.2 × 4⌉ = 1).
#[test]
fn plan_shows_a_searchs_space_and_warns_when_a_range_collapses() {
    let file = "seeds = 0..1\n\
                dataset d { source = synthetic(classes: 4, size: 64, shape: [3, 8, 8], seed: 1); split = random() }\n\
                model m = cnn()\n\
                train original { model = m; data = d.train; epochs = 4 }\n\
                train retrained = original { data = d.retain }\n\
                unlearn ft = finetune(original) { tune = search(trials: 3, seeds: [0]) }\n\
                evaluate e { models = [original, ft]; reference = retrained; metrics = [accuracy] }\n";
    let dir = lab(&[("s.munl", file)]);
    let out = munl(dir.path(), &["plan", "s.munl"]);
    let s = text(&out.stdout);
    assert!(s.contains("space: lr ~ log_uniform(1e-5, 1e-1), momentum ~ fixed 0.9"), "{s}");
    assert!(s.contains("warning: `epochs` ~ int_uniform(1, 1) holds one value"), "{s}");
    assert!(!s.contains("`lr` ~"), "only the collapsed range warns: {s}");
    let json = munl(dir.path(), &["plan", "s.munl", "--json"]);
    let search = text(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["kind"] == "search")
        .expect("the search node");
    let epochs = search["space"].as_array().unwrap().iter().find(|d| d["field"] == "epochs").unwrap().clone();
    assert_eq!((epochs["dist"].as_str(), epochs["collapsed"].as_bool()), (Some("int_uniform(1, 1)"), Some(true)));
    // Six epochs give E_max = 2: no warning.
    let dir = lab(&[("s.munl", &file.replace("epochs = 4", "epochs = 6"))]);
    let s = text(&munl(dir.path(), &["plan", "s.munl"]).stdout);
    assert!(s.contains("epochs ~ int_uniform(1, 2)") && !s.contains("warning"), "{s}");
}

/// `munl diff` of two report fixtures, run in their folder (so the names it prints are stable).
fn diff_reports(extra: &[&str]) -> Output {
    let mut args = vec!["diff", "a.json", "b.json"];
    args.extend(extra);
    let out = munl(Path::new("tests/fixtures/diff"), &args);
    assert_eq!(out.status.code(), Some(0), "differences are no error: {}", text(&out.stderr));
    out
}

/// Two reports: ft's changed means (two beyond the combined CI), ga removed, l1 added, a column
/// added, ranks and ft's `lr` changed, all in one aligned table and lists.
#[test]
fn diff_of_two_reports_as_text() {
    insta::assert_snapshot!(text(&diff_reports(&[]).stdout));
}

#[test]
fn diff_of_two_reports_as_markdown() {
    insta::assert_snapshot!(text(&diff_reports(&["--md"]).stdout));
}

#[test]
fn diff_of_two_reports_as_json() {
    let mut v: serde_json::Value = serde_json::from_slice(&diff_reports(&["--json"]).stdout).expect("one JSON object");
    assert_eq!(v["schema"], "munl.diff/1");
    assert_eq!(v["differs"], true);
    v.as_object_mut().unwrap().remove("munl");
    insta::assert_json_snapshot!(v);
}

/// A report against itself: nothing differs, `--all` lists every metric anyway.
#[test]
fn diff_of_a_report_with_itself() {
    let out = munl(Path::new("tests/fixtures/diff"), &["diff", "a.json", "a.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("bench\n  no differences\n"), "{}", text(&out.stdout));
    let out = munl(Path::new("tests/fixtures/diff"), &["diff", "a.json", "a.json", "--json", "--all"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["differs"], false);
    // 4 methods × 4 columns, every change 0.
    let metrics = v["tables"][0]["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 16);
    assert!(metrics.iter().all(|m| m["change"] == 0.0 || m["a"].is_null()), "{metrics:?}");
}

/// Bad inputs are user errors (exit 1) that say what is wrong.
#[test]
fn diff_refuses_mixed_sides_and_files_that_are_no_reports() {
    let dir = lab(&[
        ("a.munl", include_str!("fixtures/diff/a.munl")),
        ("a.json", include_str!("fixtures/diff/a.json")),
        ("plain.json", "{\"hello\": 1}"),
        ("broken.json", "{\"rows\": "),
    ]);
    for (args, says) in [
        (["a.munl", "a.json"], "cannot compare a `.munl` file with a report"),
        (["plain.json", "a.json"], "`plain.json` cannot be compared: it has no `rows`, `groups` or `settings`"),
        (["a.json", "broken.json"], "`broken.json` is not a report: not JSON"),
        (["a.json", "missing.json"], "cannot read `missing.json`"),
        // A missing side is said to be missing, not of the wrong kind.
        (["missing.json", "a.munl"], "cannot read `missing.json`: no such file"),
    ] {
        let out = munl(dir.path(), &["diff", args[0], args[1]]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(says), "{args:?}: {}", text(&out.stderr));
    }
}

/// Two experiment files that differ in one field, before any run: the field, the nodes that
/// change with it, and evaluations not computed. Nothing is created in the cache folder.
#[test]
fn diff_of_two_experiment_files_shows_the_changed_field() {
    let dir =
        lab(&[("a.munl", include_str!("fixtures/diff/a.munl")), ("b.munl", include_str!("fixtures/diff/b.munl"))]);
    let out = munl(dir.path(), &["diff", "a.munl", "b.munl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
    assert!(!dir.path().join("cache").exists());
    let out = munl(dir.path(), &["diff", "a.munl", "b.munl", "--md"]);
    assert!(text(&out.stdout).contains("| changed | unlearn ft | lr | 0.01 → 0.02 | all |"), "{}", text(&out.stdout));
    let out = munl(dir.path(), &["diff", "a.munl", "b.munl", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "experiments");
    assert_eq!(v["nodes"]["fields"][0]["field"], "lr");
    assert_eq!(v["tables"][0]["status"], "not_computed");
}

/// Both files run (with the recording fake backend) into one cache: the evaluation's tables
/// are compared, and only the rows downstream of the changed field differ.
#[test]
fn diff_of_two_experiment_files_compares_their_cached_tables() {
    let dir =
        lab(&[("a.munl", include_str!("fixtures/diff/a.munl")), ("b.munl", include_str!("fixtures/diff/b.munl"))]);
    let fake = crate::fake::Fake::default();
    for name in ["a.munl", "b.munl"] {
        issue17_run(dir.path(), name, &fake);
    }
    let out = munl(dir.path(), &["diff", "a.munl", "b.munl", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let table = &v["tables"][0];
    assert_eq!((table["name"].as_str(), table["status"].as_str()), (Some("evaluate bench"), Some("compared")));
    let methods: std::collections::BTreeSet<&str> =
        table["metrics"].as_array().unwrap().iter().map(|m| m["method"].as_str().unwrap()).collect();
    assert!(methods.contains("ft"), "{table}");
    assert!(!methods.contains("original") && !methods.contains("ga"), "unchanged models: {table}");
    let lr = table["values"].as_array().unwrap().iter().find(|x| x["field"] == "lr").expect("ft's lr");
    assert_eq!((&lr["method"], &lr["a"], &lr["b"]), (&"ft".into(), &"0.01".into(), &"0.02".into()), "{table}");
    let out = munl(dir.path(), &["diff", "a.munl", "b.munl"]);
    let s = text(&out.stdout);
    assert!(s.contains("\nevaluate bench\n  method  metric") && !s.contains("not computed"), "{s}");
}

/// `munl freeze` after a search (run with the recording fake backend): the block holds the
/// best trial's values, the search is gone, the comments stay, and the file still plans.
#[test]
fn freeze_writes_the_best_values_into_the_block() {
    let file = "seeds = 0..1\n\
        dataset d { source = synthetic(classes: 4, size: 64, shape: [3, 8, 8], seed: 1); split = random() }\n\
        model m = cnn()\n\
        train original { model = m; data = d.train; epochs = 1 }\n\
        train retrained = original { data = d.retain }\n\
        # the method under study\n\
        unlearn ft = finetune(original) {\n  lr   = log_uniform(0.001, 0.1)  # its rate\n  tune = search(trials: 3, seeds: [0], sampler: random)\n}\n\
        evaluate e { models = [original, ft]; reference = retrained; metrics = [accuracy] }\n";
    let dir = lab(&[("s.munl", file)]);
    let before = munl(dir.path(), &["freeze", "s.munl", "ft"]);
    assert_eq!(before.status.code(), Some(1));
    assert!(text(&before.stderr).contains("have not run"), "{}", text(&before.stderr));
    issue17_run(dir.path(), "s.munl", &crate::fake::Fake::default());
    let show = munl(dir.path(), &["show", "s.munl", "search ft [seed=0]", "--json"]);
    let search: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let search = &search["stored"]["search.json"];
    let best = &search["trials"][search["best"].as_u64().unwrap() as usize]["values"]["lr"];
    let out = munl(dir.path(), &["freeze", "s.munl", "ft"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let frozen = std::fs::read_to_string(dir.path().join("s.munl")).unwrap();
    assert!(frozen.contains(&format!("  lr   = {best}  # its rate\n")), "{frozen}");
    assert!(!frozen.contains("tune =") && frozen.contains("# the method under study"), "{frozen}");
    let check = munl(dir.path(), &["check", "s.munl"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

/// `--set ft.lr=0.02` plans exactly what the file edited to say so plans: the same keys; the
/// plan lists the override; a mistaken one names itself.
#[test]
fn set_overrides_a_field_as_if_the_file_said_so() {
    let edited = TOY.replace(
        "unlearn ft = finetune(original) { epochs = 1; lr = 0.01 }",
        "unlearn ft = finetune(original) { epochs = 1; lr = 0.02 }",
    );
    assert_ne!(edited, TOY);
    let dir = lab(&[("toy.munl", TOY), ("edited.munl", edited.as_str())]);
    let keys = |file: &str, extra: &[&str]| -> Vec<(String, String)> {
        let mut args = vec!["plan", file, "--json"];
        args.extend_from_slice(extra);
        let out = munl(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| (v["label"].as_str().unwrap().to_string(), v["key"].as_str().unwrap().to_string()))
            .collect()
    };
    let overridden = keys("toy.munl", &["--set", "ft.lr=0.02"]);
    assert_eq!(overridden, keys("edited.munl", &[]));
    assert_ne!(overridden, keys("toy.munl", &[]));
    let seeds = keys("toy.munl", &["--set", "seeds=0..3", "--set", "ga.lr=0.5"]);
    assert!(seeds.iter().any(|(l, _)| l == "unlearn ga [seed=2]"), "{seeds:?}");
    let plan = munl(dir.path(), &["plan", "toy.munl", "--set", "ft.lr=0.02"]);
    assert!(text(&plan.stdout).starts_with("--set   ft.lr = 0.02\n"), "{}", text(&plan.stdout));
    let wrong = munl(dir.path(), &["check", "toy.munl", "--set", "fx.lr=0.02"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stderr).contains("--set fx.lr = 0.02: no declaration `fx`"), "{}", text(&wrong.stderr));
    let bad_value = munl(dir.path(), &["check", "toy.munl", "--set", "ft.lr=\"fast\""]);
    assert_eq!(bad_value.status.code(), Some(1), "a value is checked as the file's are");
}

/// `munl ARGS` in `dir` with `NO_COLOR` and `CLICOLOR_FORCE` unset, then `env` set: the colour
/// tests must not depend on the environment they run in.
fn munl_colour(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(args)
        .current_dir(dir)
        .env("MUNL_CACHE", dir.join("cache"))
        .env("MUNL_DATA", dir.join("data"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied())
        .output()
        .expect("the munl binary runs")
}

/// `--color always` colours diagnostics and help even off a terminal and whatever `NO_COLOR`
/// says; `auto` (no terminal here) colours only with `CLICOLOR_FORCE` and never with `NO_COLOR`;
/// `never` never does.
#[test]
fn colour_follows_the_color_option_then_no_color_then_clicolor_force() {
    let dir = lab(&[("errors.munl", include_str!("fixtures/errors.munl"))]);
    let check = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["check", "errors.munl"];
        all.extend_from_slice(args);
        let out = munl_colour(dir.path(), &all, env);
        assert_eq!(out.status.code(), Some(1), "{args:?} {env:?}");
        text(&out.stderr).contains("\x1b[")
    };
    assert!(check(&["--color", "always"], &[]));
    assert!(check(&["--color=always"], &[("NO_COLOR", "1")]), "`always` wins over NO_COLOR");
    assert!(!check(&["--color", "never"], &[]));
    assert!(!check(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!check(&[], &[]), "auto, not a terminal");
    assert!(!check(&["--color", "auto"], &[("NO_COLOR", "1")]));
    assert!(check(&["--color", "auto"], &[("CLICOLOR_FORCE", "1")]));
    assert!(check(&[], &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]), "an empty NO_COLOR is unset");
    assert!(!check(&[], &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]), "NO_COLOR wins over CLICOLOR_FORCE");
    // clap's help follows the same option.
    let help = |args: &[&str], env: &[(&str, &str)]| {
        let out = munl_colour(dir.path(), args, env);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        text(&out.stdout).contains("\x1b[")
    };
    assert!(help(&["--color", "always", "--help"], &[("NO_COLOR", "1")]));
    assert!(help(&["check", "--help", "--color=always"], &[]));
    assert!(!help(&["--color", "never", "--help"], &[]));
    assert!(!help(&["--help"], &[]));
}

/// Each outcome has its own exit status: usage errors 64 (not clap's 2, a failed node's), help
/// and version 0 on stdout, a problem in the file 1.
#[test]
fn exit_codes_tell_usage_errors_from_file_problems() {
    let dir = lab(&[("toy.munl", TOY), ("errors.munl", include_str!("fixtures/errors.munl"))]);
    for args in [
        &["bogus"][..],
        &["check"][..],
        &["plan", "toy.munl", "--no-such-flag"][..],
        &["--color", "mauve", "check", "toy.munl"][..],
        &["run", "toy.munl", "--jobs", "many"][..],
        &["completions", "tcsh"][..],
        &[][..],
    ] {
        let out = munl(dir.path(), args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("--help"), "{args:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    for args in [&["--help"][..], &["-h"][..], &["plan", "--help"][..], &["help", "run"][..], &["--version"][..]] {
        let out = munl(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(!out.stdout.is_empty() && out.stderr.is_empty(), "{args:?}");
    }
    assert_eq!(munl(dir.path(), &["check", "errors.munl"]).status.code(), Some(1));
    assert_eq!(munl(dir.path(), &["check", "missing.munl"]).status.code(), Some(1));
}

/// `munl --help` lists every command and option, the exit status and the environment.
#[test]
fn help_lists_commands_exit_status_and_environment() {
    let out = munl_colour(Path::new("."), &["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(text(&out.stdout));
}

/// Completion scripts for every shell clap_complete knows, and a roff man page.
#[test]
fn completions_and_man_page_are_generated_from_the_command_line() {
    let bash = munl(Path::new("."), &["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0), "{}", text(&bash.stderr));
    let script = text(&bash.stdout);
    assert!(script.contains("complete -F _munl") || script.contains("_munl()"), "{script}");
    for sub in ["check", "plan", "run", "cache", "completions", "--exit-code", "--color"] {
        assert!(script.contains(sub), "bash completion lacks {sub}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = munl(Path::new("."), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("freeze"), "{shell}");
    }
    let man = munl(Path::new("."), &["man"]);
    assert_eq!(man.status.code(), Some(0), "{}", text(&man.stderr));
    let page = text(&man.stdout);
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains(".TH munl 1"), "{}", &page[..page.len().min(400)]);
    assert!(page.contains("MUNL_CACHE") && page.contains("Exit status"), "the long help's sections are in the page");
}

/// `munl check --json`: one JSON array, `[]` for a good file; each problem with its file, code,
/// severity, message and labels whose offsets, lines and columns point at the same text.
#[test]
fn check_json_lists_the_problems_with_their_places() {
    let errors = include_str!("fixtures/errors.munl");
    let dir = lab(&[("toy.munl", TOY), ("errors.munl", errors)]);
    let good = munl(dir.path(), &["check", "toy.munl", "--json"]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    assert_eq!(text(&good.stdout), "[]\n");
    let bad = munl(dir.path(), &["check", "errors.munl", "--json"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(bad.stderr.is_empty(), "{}", text(&bad.stderr));
    let problems: Vec<serde_json::Value> = serde_json::from_slice(&bad.stdout).expect("one JSON array");
    assert!(problems.len() >= 4, "{problems:?}");
    assert!(problems.iter().all(|p| p["file"] == "errors.munl" && p["severity"] == "error"), "{problems:?}");
    let unknown = problems
        .iter()
        .find(|p| p["code"] == "munl::lower::unknown_name" && p["message"].as_str().unwrap().contains("nett"))
        .expect("`nett` is unknown");
    let label = &unknown["labels"][0];
    let offset = label["offset"].as_u64().unwrap() as usize;
    let length = label["length"].as_u64().unwrap() as usize;
    assert_eq!(&errors[offset..offset + length], "nett");
    let line = errors.lines().nth(label["line"].as_u64().unwrap() as usize - 1).unwrap();
    let column = label["column"].as_u64().unwrap() as usize;
    assert_eq!(&line[column - 1..column - 1 + 4], "nett", "{label}");
    assert_eq!(label["end_column"].as_u64().unwrap() as usize, column + 4);
    assert!(problems.iter().any(|p| p["help"].is_string()), "a did-you-mean help: {problems:?}");
    let missing = munl(dir.path(), &["check", "missing.munl", "--json"]);
    assert_eq!(missing.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&missing.stdout).unwrap();
    assert!(v[0]["message"].as_str().unwrap().starts_with("cannot read `missing.munl`"), "{v}");
    assert_eq!(v[0]["labels"], serde_json::json!([]));
}

/// `munl plan --exit-code` exits 3 while anything would run (its listing printed as ever) and 0
/// once everything is cached; `--quiet` prints nothing and implies `--exit-code`.
#[test]
fn plan_exit_code_says_whether_anything_would_run() {
    let file = include_str!("fixtures/diff/a.munl");
    let dir = lab(&[("a.munl", file)]);
    let plain = munl(dir.path(), &["plan", "a.munl"]);
    assert_eq!(plain.status.code(), Some(0), "without the flag, pending work is no error");
    let pending = munl(dir.path(), &["plan", "a.munl", "--exit-code"]);
    assert_eq!(pending.status.code(), Some(3), "{}", text(&pending.stderr));
    assert_eq!(pending.stdout, plain.stdout, "the listing is kept");
    for quiet in ["--quiet", "-q"] {
        let out = munl(dir.path(), &["plan", "a.munl", quiet]);
        assert_eq!(out.status.code(), Some(3));
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}", text(&out.stdout));
    }
    let json = munl(dir.path(), &["plan", "a.munl", "--json", "--exit-code"]);
    assert_eq!(json.status.code(), Some(3));
    assert!(text(&json.stdout).lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    issue17_run(dir.path(), "a.munl", &crate::fake::Fake::default());
    let done = munl(dir.path(), &["plan", "a.munl", "--exit-code"]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    assert!(text(&done.stdout).contains("0 to run"), "{}", text(&done.stdout));
    let quiet = munl(dir.path(), &["plan", "a.munl", "-q"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stdout.is_empty());
    // A problem in the file is still 1, and said.
    std::fs::write(dir.path().join("a.munl"), "model m = cnnn()\n").unwrap();
    let bad = munl(dir.path(), &["plan", "a.munl", "--quiet"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("cnnn"), "{}", text(&bad.stderr));
}

/// `munl methods NAME` documents a declaration's own fields (types, defaults, help) as it does
/// an op's: `train`'s recipe, `dataset`, `evaluate`, `report`, the settings (issue 17).
#[test]
fn methods_lists_the_fields_of_declarations_and_ops_with_types_and_defaults() {
    for name in ["train", "report", "dataset", "evaluate", "seeds", "sgd", "random"] {
        let out = munl(Path::new("."), &["methods", name]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        insta::assert_snapshot!(format!("methods_{name}"), text(&out.stdout));
    }
    let all = format!("\n{}", text(&munl(Path::new("."), &["methods", "--all"]).stdout));
    for (header, fields) in [
        ("settings (the file's settings)", &["seeds", "device"][..]),
        ("dataset (a declaration)", &["source", "split", "limit"]),
        ("train (a declaration)", &["model", "data", "epochs", "batch", "optim", "sched", "augment"]),
        ("evaluate (a declaration)", &["models", "reference", "metrics", "over"]),
        ("report (a declaration)", &["evaluate", "markdown", "csv", "json", "latex", "plot", "html"]),
    ] {
        let at = all.find(&format!("\n{header}\n")).unwrap_or_else(|| panic!("no `{header}` in:\n{all}"));
        let block = all[at + 1..].split("\n\n").next().unwrap();
        for field in fields {
            assert!(block.contains(&format!("\n  {field} ")), "`{header}` lacks `{field}`:\n{block}");
        }
    }
    assert_eq!(all.matches("\ntrain (").count(), 1, "the recipe is listed once, with its declaration");
    let out = munl(Path::new("."), &["methods", "datset"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("did you mean `dataset`?"), "{}", text(&out.stderr));
    // Lowering suggests from the same table.
    let dir = lab(&[("d.munl", "dataset d { sorce = synthetic(classes: 4, size: 60, test: 12, shape: [1, 8, 8]) }\n")]);
    let out = munl(dir.path(), &["check", "d.munl"]);
    assert!(text(&out.stderr).contains("did you mean `source`?"), "{}", text(&out.stderr));
}

/// The toy experiment on one seed with a weight-distance metric: every kind of input a table has.
fn issue17_small() -> String {
    TOY.replace("seeds = 0..2", "seeds = [3]")
        .replace("metrics   = [accuracy, mia, indiscernibility, rte]", "metrics   = [accuracy, distance]")
}

/// `munl graph` draws node kinds and statuses with a legend, and names a table's inputs
/// (`ft seed 3 distance`, not `2/3/distance`); a reference measured against itself shows both
/// roles.
#[test]
fn graph_has_a_legend_and_readable_edge_labels() {
    let dir = lab(&[("small.munl", &issue17_small())]);
    let out = munl(dir.path(), &["graph", "small.munl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dot = text(&out.stdout);
    assert!(dot.contains("[label=\"ft seed 3 distance\"]") && !dot.contains("/distance"), "{dot}");
    assert!(dot.contains("[label=\"reference\"]") && dot.contains("subgraph cluster_legend"), "{dot}");
    insta::assert_snapshot!(dot);
}

/// A safetensors file of `(name, dtype, shape, little-endian bytes)`.
fn issue17_safetensors(tensors: &[(&str, &str, Vec<u64>, Vec<u8>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = vec![];
    for (name, dtype, shape, bytes) in tensors {
        let at = data.len();
        data.extend_from_slice(bytes);
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [at, data.len()]}),
        );
    }
    let header = serde_json::Value::Object(header).to_string();
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.bytes());
    out.extend(data);
    out
}

fn issue17_i64(values: impl Iterator<Item = i64>) -> Vec<u8> {
    values.flat_map(i64::to_le_bytes).collect()
}

/// The fake backend, with real tensors where `munl show` reads them: the toy dataset's 160
/// labels (`i % 4`), a split of it, and a small model with a 4-class head.
struct Issue17Tensors(crate::fake::Fake);

impl munl::testing::Backend for Issue17Tensors {
    fn run(&self, job: &munl::testing::Job<'_>) -> Result<(), munl::testing::NodeFailure> {
        use munl::testing::NodeKind;
        self.0.run(job)?;
        let write = |name: &str, bytes: Vec<u8>| std::fs::write(job.out.join(name), bytes).unwrap();
        match job.node.kind() {
            NodeKind::Dataset => {
                let _ = std::fs::remove_file(job.out.join("artifact.txt"));
                write(
                    "data.safetensors",
                    issue17_safetensors(&[
                        ("images", "U8", vec![160, 1, 1, 1], vec![0; 160]),
                        ("labels", "I64", vec![160], issue17_i64((0..160).map(|i| i % 4))),
                    ]),
                );
                let info = munl::testing::DatasetInfo {
                    source: "synthetic".into(),
                    classes: 4,
                    n_train: 120,
                    n_test: 40,
                    shape: [1, 1, 1],
                };
                write("dataset.json", serde_json::to_vec(&info).unwrap());
            }
            NodeKind::Split => {
                let _ = std::fs::remove_file(job.out.join("artifact.txt"));
                let sets =
                    [("train", 0..100), ("val", 100..120), ("retain", 0..90), ("forget", 90..100), ("test", 120..160)];
                let tensors: Vec<_> = sets
                    .into_iter()
                    .map(|(n, r)| (n, "I64", vec![r.end - r.start], issue17_i64(r.map(|i| i as i64))))
                    .collect();
                write("split.safetensors", issue17_safetensors(&tensors));
            }
            NodeKind::Init | NodeKind::Train | NodeKind::Unlearn => write(
                "model.safetensors",
                issue17_safetensors(&[
                    ("conv1.weight", "F32", vec![8, 3], vec![0; 96]),
                    ("fc.weight", "F32", vec![4, 8], vec![0; 128]),
                    ("fc.bias", "F32", vec![4], vec![0; 16]),
                ]),
            ),
            _ => {}
        }
        Ok(())
    }
}

/// Runs `name` in `dir` into its cache with `compute` (the table backend for the tables).
fn issue17_run(dir: &Path, name: &str, compute: &dyn munl::testing::Backend) {
    crate::fake::compute_reports(dir, name, &dir.join("data"), compute);
}

/// `munl show` of a split gives each part's size and images per class (from the dataset's
/// labels); of a model, its parameters and its classifier head; `--json` carries the same.
#[test]
fn show_tells_a_splits_parts_per_class_and_a_models_head() {
    let dir = lab(&[("small.munl", &issue17_small())]);
    issue17_run(dir.path(), "small.munl", &Issue17Tensors(crate::fake::Fake::default()));
    let out = munl(dir.path(), &["show", "small.munl", "split toy"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("  part     retain        90 images; per class 23 23 22 22\n"), "{s}");
    assert!(s.contains("  part     forget        10 images; per class 2 2 3 3\n"), "{s}");
    assert!(s.contains("  part     test          40 images; per class 10 10 10 10\n"), "{s}");
    let out = munl(dir.path(), &["show", "small.munl", "split toy", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let parts = v["parts"].as_array().expect("the parts");
    let names: Vec<&str> = parts.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["train", "val", "retain", "forget", "test"]);
    assert_eq!(parts[3]["size"], 10);
    assert_eq!(parts[3]["per_class"], serde_json::json!([2, 2, 3, 3]));
    let out = munl(dir.path(), &["show", "small.munl", "train original [seed=3]"]);
    let s = text(&out.stdout);
    assert!(s.contains("  model    60 parameters (36 in the classifier head for 4 classes)\n"), "{s}");
    let out = munl(dir.path(), &["show", "small.munl", "train original [seed=3]", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&v["parameters"], &v["head"]), (&60.into(), &serde_json::json!({"parameters": 36, "classes": 4})));
}

/// `munl cache ls` after two files that differ in ft's `lr`: one line per entry with its kind,
/// age, size and key, and the two results of each ft label told apart by `lr` (or, downstream,
/// by their differing input); `cache verify` ends with the count it checked.
#[test]
fn cache_ls_tells_the_results_of_one_label_apart() {
    let a = include_str!("fixtures/diff/a.munl").replace("[accuracy, mia, retention]", "[accuracy, distance]");
    let b = a.replace("lr = 0.01", "lr = 0.02");
    let dir = lab(&[("a.munl", &a), ("b.munl", &b)]);
    for name in ["a.munl", "b.munl"] {
        issue17_run(dir.path(), name, &crate::fake::Fake::default());
    }
    let out = munl(dir.path(), &["cache", "ls"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let ft: Vec<&str> = s.lines().filter(|l| l.starts_with("unlearn ") && l.contains("unlearn ft [seed=0]")).collect();
    assert_eq!(ft.len(), 2, "{s}");
    // Both ran within a second: which is newer is the unit tests' concern.
    assert!(ft.iter().any(|l| l.ends_with("lr=0.02")) && ft.iter().any(|l| l.ends_with("lr=0.01")), "{s}");
    assert!(ft.iter().all(|l| l.contains(" s ago") && !l.contains("epochs=")), "{s}");
    assert!(s.lines().any(|l| l.starts_with("distance ") && l.contains("distance ft [seed=0]")), "{s}");
    assert!(!s.lines().any(|l| l.starts_with("measure ") && l.contains("distance")), "{s}");
    let distances: Vec<&str> = s.lines().filter(|l| l.contains("distance ft [seed=0]")).collect();
    assert!(distances.len() == 2 && distances.iter().all(|l| l.contains("input model=")), "{s}");
    let out = munl(dir.path(), &["cache", "verify"]);
    let entries = s.lines().last().unwrap().trim_end_matches(" entries").to_string();
    assert_eq!(text(&out.stdout), format!("{entries} entries verified, every one intact\n"));
}
