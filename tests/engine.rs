//! The incremental engine with a recording fake backend: what runs, what is reused, what is
//! committed.

use std::path::{Path, PathBuf};

use munl::testing::{execute, explain, Cache, NodeKind, Routed, RunOptions, StatusKind, Stop, Summary, Tables};
use munl::{compile, Plan, Source};

use crate::fake::Fake;

const TOY: &str = include_str!("fixtures/toy.munl");

/// An experiment folder with its own cache.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        Lab { dir: tempfile::tempdir().unwrap() }
    }

    fn cache(&self) -> Cache {
        Cache::open(&self.dir.path().join("cache")).unwrap()
    }

    fn plan(&self, text: &str) -> Plan {
        let source = Source::new(self.dir.path().join("toy.munl"), text);
        compile(&source, Path::new("/nonexistent-data")).unwrap()
    }

    fn run_targets(&self, text: &str, fake: &Fake, targets: &[&str], keep_going: bool) -> (Plan, Summary) {
        let plan = self.plan(text);
        let ids: Vec<_> = if targets.is_empty() {
            plan.default_targets()
        } else {
            targets.iter().flat_map(|t| plan.target(t).unwrap()).collect()
        };
        let options = RunOptions { jobs: 2, keep_going, ..RunOptions::default() };
        let backend = Routed { tables: &Tables, compute: fake };
        let summary = execute(&plan, &ids, &self.cache(), &backend, &options, &|_| {});
        (plan, summary)
    }

    fn run(&self, text: &str, fake: &Fake) -> (Plan, Summary) {
        self.run_targets(text, fake, &[], false)
    }
}

fn labels(plan: &Plan, ids: &[munl::testing::NodeId]) -> Vec<String> {
    let mut l: Vec<String> = ids.iter().map(|id| plan.node(*id).label.clone()).collect();
    l.sort();
    l
}

#[test]
fn first_run_computes_everything_and_second_run_nothing() {
    let lab = Lab::new();
    let fake = Fake::default();
    let (plan, first) = lab.run(TOY, &fake);
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    // dataset + split + 2 inits + 2×2 trains + 2×2 unlearns + 4×2 measures + evaluate + report
    assert_eq!(first.ran.len(), plan.ids().count());
    assert_eq!(fake.take().len(), plan.ids().count() - 2, "evaluate and report run without the backend");

    let (_, second) = lab.run(TOY, &fake);
    assert!(fake.take().is_empty(), "a second run calls the backend for nothing");
    assert!(second.ran.is_empty());
    assert_eq!(second.hits.len(), 1, "only the report is even looked at");
}

#[test]
fn editing_a_field_reruns_that_node_and_its_dependants_only() {
    let lab = Lab::new();
    let fake = Fake::default();
    lab.run(TOY, &fake);
    fake.take();
    let edited = TOY.replace("lr = 0.01", "lr = 0.02");

    let plan = lab.plan(&edited);
    let statuses = explain(&plan, &lab.cache());
    let to_run: Vec<String> =
        plan.ids().filter(|id| statuses[id.0].kind == StatusKind::Run).map(|id| plan.node(id).label.clone()).collect();
    assert_eq!(
        to_run,
        [
            "unlearn ft [seed=0]",
            "unlearn ft [seed=1]",
            "measure ft [seed=0]",
            "measure ft [seed=1]",
            "evaluate bench",
            "report bench"
        ]
    );
    let ft0 = plan.target("unlearn ft [seed=0]").unwrap()[0];
    assert_eq!(statuses[ft0.0].reasons, ["`lr` 0.01 → 0.02"]);
    let m0 = plan.target("measure ft [seed=0]").unwrap()[0];
    assert_eq!(statuses[m0.0].reasons, ["input `unlearn ft [seed=0]` changed"]);

    let (_, summary) = lab.run(&edited, &fake);
    assert_eq!(
        fake.take(),
        ["measure ft [seed=0]", "measure ft [seed=1]", "unlearn ft [seed=0]", "unlearn ft [seed=1]"]
    );
    assert_eq!(summary.ran.len(), 6);
}

#[test]
fn comments_whitespace_and_renames_rerun_no_computation() {
    let lab = Lab::new();
    let fake = Fake::default();
    lab.run(TOY, &fake);
    fake.take();

    let reformatted =
        TOY.replace("  epochs = 2\n", "  epochs    =   2   # two passes\n\n").replace("# A tiny", "# Still a tiny");
    let (_, summary) = lab.run(&reformatted, &fake);
    assert!(fake.take().is_empty());
    assert!(summary.ran.is_empty(), "comments and whitespace are not meaning");

    let renamed = TOY
        .replace("unlearn ft ", "unlearn finetuned ")
        .replace("original, retrained, ft, ga", "original, retrained, finetuned, ga");
    let (plan, summary) = lab.run(&renamed, &fake);
    assert!(fake.take().is_empty(), "renaming computes nothing");
    assert_eq!(labels(&plan, &summary.ran), ["report bench"], "only the report's row labels changed");
}

#[test]
fn reordering_declarations_changes_no_key() {
    let lab = Lab::new();
    let a = lab.plan(TOY);
    let mut blocks: Vec<&str> = TOY.split("\n\n").collect();
    blocks.reverse();
    let b = lab.plan(&blocks.join("\n\n"));
    let keys = |p: &Plan| {
        let mut k: Vec<String> = p.ids().map(|id| p.node(id).key.hex()).collect();
        k.sort();
        k
    };
    assert_eq!(keys(&a), keys(&b));
}

/// The folder of the cache entry whose manifest has this label.
fn entry_of(cache_root: &Path, label: &str) -> PathBuf {
    for shard in std::fs::read_dir(cache_root.join("objects")).unwrap() {
        for entry in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let dir = entry.unwrap().path();
            let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
            let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
            if m["label"] == label {
                return dir;
            }
        }
    }
    panic!("no entry labelled {label}");
}

#[test]
fn a_deleted_entry_reruns_its_node() {
    let lab = Lab::new();
    let fake = Fake::default();
    lab.run(TOY, &fake);
    fake.take();
    std::fs::remove_dir_all(entry_of(&lab.dir.path().join("cache"), "unlearn ft [seed=0]")).unwrap();

    let plan = lab.plan(TOY);
    let statuses = explain(&plan, &lab.cache());
    let ft0 = plan.target("unlearn ft [seed=0]").unwrap()[0];
    assert_eq!(statuses[ft0.0].reasons, ["result missing from the cache"]);

    lab.run_targets(TOY, &fake, &["ft"], false);
    assert_eq!(fake.take(), ["unlearn ft [seed=0]"], "the other seed is still cached");
}

#[test]
fn a_corrupted_entry_is_not_trusted() {
    let lab = Lab::new();
    let fake = Fake::default();
    lab.run(TOY, &fake);
    fake.take();
    let dir = entry_of(&lab.dir.path().join("cache"), "unlearn ga [seed=1]");
    let run = walk(&dir).into_iter().find(|p| p.ends_with("run.json")).unwrap();
    std::fs::write(&run, "{").unwrap();
    lab.run_targets(TOY, &fake, &["ga"], false);
    assert_eq!(fake.take(), ["unlearn ga [seed=1]"]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_failing_node_commits_nothing_and_keep_going_runs_the_rest() {
    let lab = Lab::new();
    let failing = Fake::failing("gradient_ascent");
    let (plan, summary) = lab.run_targets(TOY, &failing, &[], true);
    assert_eq!(
        labels(&plan, &summary.failed.iter().map(|(id, _)| *id).collect::<Vec<_>>()),
        ["unlearn ga [seed=0]", "unlearn ga [seed=1]"]
    );
    assert_eq!(
        labels(&plan, &summary.skipped),
        ["evaluate bench", "measure ga [seed=0]", "measure ga [seed=1]", "report bench"]
    );
    assert!(summary.ran.iter().any(|id| plan.node(*id).label == "measure ft [seed=1]"), "independent nodes ran");
    assert!(
        walk(&lab.dir.path().join("cache/tmp"))
            .iter()
            .all(|p| !p.is_file() || p.extension().is_some_and(|e| e == "lock")),
        "no half-written results remain"
    );

    // Once the method works, only it and its dependants run: nothing computed was lost.
    let fake = Fake::default();
    lab.run(TOY, &fake);
    assert_eq!(
        fake.take(),
        ["measure ga [seed=0]", "measure ga [seed=1]", "unlearn ga [seed=0]", "unlearn ga [seed=1]"]
    );
}

#[test]
fn without_keep_going_a_failure_stops_new_work() {
    let lab = Lab::new();
    let failing = Fake::failing("train");
    let options = RunOptions { jobs: 1, ..RunOptions::default() };
    let plan = lab.plan(TOY);
    let backend = Routed { tables: &Tables, compute: &failing };
    let summary = execute(&plan, &plan.default_targets(), &lab.cache(), &backend, &options, &|_| {});
    assert_eq!(summary.failed.len(), 1, "the first failure stops the run");
    assert!(failing.take().iter().all(|l| !l.starts_with("unlearn")), "nothing downstream started");
}

/// A stop request (Ctrl-C) abandons the node in flight, starts nothing more, commits nothing
/// of the abandoned node, and keeps what finished: the next run goes on from there.
#[test]
fn a_stopped_run_abandons_what_runs_and_resumes_from_what_finished() {
    let lab = Lab::new();
    let stop = Stop::default();
    let fake = Fake { stopping_at: Some(("train original [seed=0]".into(), stop.clone())), ..Fake::default() };
    let plan = lab.plan(TOY);
    let options = RunOptions { jobs: 1, stop: stop.clone(), ..RunOptions::default() };
    let backend = Routed { tables: &Tables, compute: &fake };
    let summary = execute(&plan, &plan.default_targets(), &lab.cache(), &backend, &options, &|_| {});
    assert_eq!(summary.stopped_by, Some(2));
    assert!(summary.failed.is_empty(), "stopping is not a failure: {:?}", summary.failed);
    assert_eq!(labels(&plan, &summary.abandoned), ["train original [seed=0]"]);
    let calls = fake.take();
    let before: Vec<String> = calls.iter().filter(|l| !l.starts_with("train")).cloned().collect();
    assert_eq!(calls.len(), before.len() + 1, "nothing started after the stop: {calls:?}");
    assert_eq!(labels(&plan, &summary.ran), before);
    assert!(!summary.skipped.is_empty());
    let tmp = lab.dir.path().join("cache/tmp");
    let left: Vec<_> =
        std::fs::read_dir(&tmp).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "the abandoned node's folder is removed: {left:?}");

    let (plan, again) = lab.run(TOY, &Fake::default());
    assert_eq!(again.stopped_by, None);
    assert_eq!(labels(&plan, &again.hits), before, "what finished before the stop is reused");
    assert!(again.ran.iter().any(|id| plan.node(*id).label == "train original [seed=0]"));
}

/// U-LiRA's shape: every model once per (shadow, draw), a prediction of each, one attack per
/// model over all its runs, the searches at their restricted coordinates pooled by every run,
/// and a table with the attack's columns.
#[test]
fn ulira_attacks_each_model_over_its_runs() {
    let lab = Lab::new();
    let fake = Fake::default();
    let text = include_str!("fixtures/ulira.munl");
    let (plan, summary) = lab.run(text, &fake);
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let count = |prefix: &str| summary.ran.iter().filter(|id| plan.node(**id).label.starts_with(prefix)).count();
    assert_eq!((count("train "), count("unlearn "), count("search ")), (16, 16, 2));
    assert_eq!((count("predict "), count("membership "), count("measure ")), (32, 4, 0));
    let unlearn = plan.node(plan.target("ft").unwrap()[7]);
    assert_eq!(unlearn.label, "unlearn ft [shadow=3, draw=1, seed=0]");
    let searches: Vec<&str> = unlearn
        .inputs
        .iter()
        .filter(|(role, _)| role.starts_with("search/"))
        .map(|(_, id)| plan.node(*id).label.as_str())
        .collect();
    assert_eq!(searches, ["search ft [shadow=0, draw=0, seed=0]", "search ft [shadow=1, draw=0, seed=0]"]);
    let table = plan.target("ulira").unwrap()[0];
    let files = lab.cache().files_of(&plan.node(table).key).unwrap();
    let table: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(files.join("table.json")).unwrap()).unwrap();
    let columns = table["columns"].as_array().unwrap();
    assert!(columns.iter().any(|c| c == "ulira_auc") && !columns.iter().any(|c| c == "retain_acc"), "{columns:?}");
    assert!(table["rows"][2]["summary"]["ulira_p"]["mean"].as_f64().is_some(), "{table}");
}

#[test]
fn the_report_is_written_with_every_model_and_seed() {
    let lab = Lab::new();
    let fake = Fake::default();
    let (plan, _) = lab.run(TOY, &fake);
    let report = plan.node(plan.default_targets()[0]);
    let cache = lab.cache();
    let statuses = explain(&plan, &cache);
    assert_eq!(statuses[plan.default_targets()[0].0].kind, StatusKind::Cached);
    assert!(report.output_paths().any(|p| p.ends_with("results/bench.md")));
}

/// A tuned method: `lr` searched with the random sampler on two seeds.
fn search_file(trials: usize, seeds: &str) -> String {
    format!(
        "seeds = 0..1\n\
         dataset d {{ source = synthetic(classes: 4, size: 64, shape: [3, 8, 8], seed: 1); split = random() }}\n\
         model m = cnn()\n\
         train original {{ model = m; data = d.train; epochs = 1 }}\n\
         train retrained = original {{ data = d.retain }}\n\
         unlearn ft = finetune(original) {{\n  lr = log_uniform(0.001, 0.1)\n  tune = search(trials: {trials}, seeds: {seeds}, sampler: random)\n}}\n\
         evaluate e {{ models = [original, ft]; reference = retrained; metrics = [accuracy] }}\n"
    )
}

fn trials(calls: &[String]) -> Vec<String> {
    calls.iter().filter(|c| c.starts_with("trial ")).cloned().collect()
}

#[test]
fn raising_trials_runs_only_the_new_ones() {
    let lab = Lab::new();
    let fake = Fake::default();
    let (_, first) = lab.run(&search_file(3, "[0, 1]"), &fake);
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(trials(&fake.take()).len(), 6, "3 trials on each of 2 seeds");
    lab.run(&search_file(5, "[0, 1]"), &fake);
    assert_eq!(
        trials(&fake.take()),
        [
            "trial 3 of search ft [seed=0]",
            "trial 3 of search ft [seed=1]",
            "trial 4 of search ft [seed=0]",
            "trial 4 of search ft [seed=1]"
        ]
    );
    let (_, again) = lab.run(&search_file(5, "[0, 1]"), &fake);
    assert!(fake.take().is_empty() && again.ran.is_empty(), "nothing left to do");
}

#[test]
fn a_search_killed_at_a_trial_resumes_there() {
    let lab = Lab::new();
    let text = search_file(4, "[0]");
    let killed = Fake { failing_labels: ["trial 2 of search ft [seed=0]".to_string()].into(), ..Fake::default() };
    let (plan, summary) = lab.run(&text, &killed);
    assert_eq!(labels(&plan, &summary.failed.iter().map(|(id, _)| *id).collect::<Vec<_>>()), ["search ft [seed=0]"]);
    let before = trials(&killed.take());
    let name = |n: usize| format!("trial {n} of search ft [seed=0]");
    for n in 0..3 {
        assert!(before.contains(&name(n)), "{before:?}");
    }
    // The same proposals come again: the finished trials are hits (a trial that ran beside the
    // failing one finished and is kept), the failed one runs again, then the rest.
    let fake = Fake::default();
    let (_, resumed) = lab.run(&text, &fake);
    assert!(resumed.failed.is_empty(), "{:?}", resumed.failed);
    let after = trials(&fake.take());
    assert!(after.contains(&name(2)), "{after:?}");
    for t in &after {
        assert!(*t == name(2) || !before.contains(t), "{t} ran twice");
    }
    for n in 0..4 {
        assert!(before.contains(&name(n)) || after.contains(&name(n)), "trial {n} never ran");
    }
}

/// One method diverging on one seed completes (as the reference's final runs do) and the table
/// is still made, with that model's missing values marked and explained.
#[test]
fn a_diverged_seed_keeps_the_table_and_says_why() {
    let lab = Lab::new();
    let fake = Fake { diverging: ["unlearn ga [seed=0]".to_string()].into(), ..Fake::default() };
    let (_, summary) = lab.run(TOY, &fake);
    assert!(summary.failed.is_empty() && summary.skipped.is_empty(), "{summary:?}");
    let report = walk(lab.dir.path()).into_iter().find(|p| p.ends_with("report.md")).expect("the report is committed");
    let md = std::fs::read_to_string(report).unwrap();
    let note = md.lines().find(|l| l.starts_with("- ga, seed 0:")).unwrap_or_else(|| panic!("no footnote:\n{md}"));
    assert!(note.contains("diverged") && note.contains("`mia_test` unavailable"), "{note}");
    let ga = md.lines().find(|l| l.starts_with("| ga |")).expect("ga's row");
    assert!(ga.contains("(1/2 seeds)"), "the T-MIA of ga is over the one seed that has it: {ga}");
    assert!(!md.contains("- ft, seed"), "ft measured fine:\n{md}");
}

/// A setting run on its own is cached for the report across settings that imports it: running
/// the report computes only the other setting's nodes, and its CSV holds both settings.
#[test]
fn an_imported_setting_run_alone_is_cached_for_the_report_across_settings() {
    let lab = Lab::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/imports");
    for name in ["small.munl", "wide.munl", "paper.munl"] {
        std::fs::copy(fixtures.join(name), lab.dir.path().join(name)).unwrap();
    }
    let run = |name: &str, fake: &Fake| {
        let path = lab.dir.path().join(name);
        let source = Source::new(&path, std::fs::read_to_string(&path).unwrap());
        let plan = compile(&source, Path::new("/nonexistent-data")).unwrap();
        let options = RunOptions { jobs: 2, ..RunOptions::default() };
        let backend = Routed { tables: &Tables, compute: fake };
        let summary = execute(&plan, &plan.default_targets(), &lab.cache(), &backend, &options, &|_| {});
        assert!(summary.failed.is_empty(), "{:?}", summary.failed);
        plan
    };
    let fake = Fake::default();
    run("small.munl", &fake);
    assert!(fake.take().iter().any(|c| c == "unlearn ft [seed=0]"));
    let plan = run("paper.munl", &fake);
    let calls = fake.take();
    assert!(calls.iter().all(|c| !c.contains("small.")), "the imported setting was cached: {calls:?}");
    assert!(calls.iter().any(|c| c == "unlearn wide.ft [frac=0.3, seed=1]"), "{calls:?}");

    assert!(plan.target("paper").is_some());
    let entry = entry_of(&lab.dir.path().join("cache"), "report paper");
    let file = |name: &str| walk(&entry).into_iter().find(|p| p.ends_with(name)).unwrap();
    let csv = std::fs::read_to_string(file("report.csv")).unwrap();
    assert!(csv.starts_with("evaluation,dataset,model,method,op,frac,seed,metric,value,key,hp."), "{csv}");
    for line in
        ["small.bench,toy,cnn,ft,finetune,,0,retain_acc,", "wide.bench,blobs,cnn,ga,gradient_ascent,0.3,1,retdev,"]
    {
        assert!(csv.lines().any(|l| l.starts_with(line)), "no line `{line}…` in\n{csv}");
    }
    let markdown = std::fs::read_to_string(file("report.md")).unwrap();
    assert!(markdown.contains("mean rank"), "{markdown}");
}

/// Three runs of one file on one cache at once (threads here; `tests/kill.rs` does it with
/// processes): every node is computed exactly once, the others wait for it, and each run ends
/// with every node available.
#[test]
fn concurrent_runs_on_one_cache_compute_each_node_once() {
    let lab = Lab::new();
    let plan = lab.plan(TOY);
    let fakes: Vec<Fake> =
        (0..3).map(|_| Fake { delay: std::time::Duration::from_millis(30), ..Fake::default() }).collect();
    let summaries: Vec<Summary> = std::thread::scope(|scope| {
        let runs: Vec<_> = fakes
            .iter()
            .map(|fake| {
                let plan = &plan;
                let cache = lab.cache();
                scope.spawn(move || {
                    let options = RunOptions { jobs: 2, ..RunOptions::default() };
                    let backend = Routed { tables: &Tables, compute: fake };
                    execute(plan, &plan.default_targets(), &cache, &backend, &options, &|_| {})
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut computed: Vec<String> = fakes.iter().flat_map(|f| f.take()).collect();
    computed.sort();
    let mut unique = computed.clone();
    unique.dedup();
    assert_eq!(computed, unique, "a node computed twice");
    let compute_nodes = plan.ids().filter(|id| !matches!(plan.node(*id).kind(), NodeKind::Evaluate | NodeKind::Report));
    assert_eq!(computed.len(), compute_nodes.count());
    let total = plan.ids().count();
    for s in &summaries {
        assert!(s.failed.is_empty() && s.skipped.is_empty(), "{s:?}");
        assert_eq!(s.ran.len() + s.elsewhere.len() + s.hits.len(), total, "{s:?}");
    }
    assert!(summaries.iter().any(|s| !s.elsewhere.is_empty()), "the runs overlapped");
}

/// `munl cache gc` removes only what it is told it may: without a file, `--recent` or
/// `--older-than` it refuses; `--recent` keeps the latest result of every node and so removes
/// an edited method's earlier results, reported by declaration; `--older-than` keeps the young.
#[test]
fn gc_keeps_what_it_is_told_and_says_what_it_removes_by_declaration() {
    let lab = Lab::new();
    let fake = Fake::default();
    lab.run(TOY, &fake);
    let edited = TOY.replace(
        "unlearn ft = finetune(original) { epochs = 1; lr = 0.01 }",
        "unlearn ft = finetune(original) { epochs = 1; lr = 0.02 }",
    );
    assert_ne!(edited, TOY);
    lab.run(&edited, &fake);
    std::fs::write(lab.dir.path().join("toy.munl"), &edited).unwrap();
    let gc = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_munl"))
            .args(["cache", "gc"])
            .args(args)
            .current_dir(lab.dir.path())
            .env("MUNL_CACHE", lab.dir.path().join("cache"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let entries = || {
        std::fs::read_dir(lab.dir.path().join("cache/objects"))
            .unwrap()
            .flat_map(|s| std::fs::read_dir(s.unwrap().path()).unwrap())
            .count()
    };
    let before = entries();
    let (code, _, err) = gc(&[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("say what to keep") && err.contains("nothing was removed"), "{err}");
    assert_eq!(entries(), before);
    let (code, out, _) = gc(&["--older-than", "1", "--dry-run"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("would remove 0 entries"), "everything is younger than a day: {out}");
    let (code, out, err) = gc(&["--recent", "--dry-run"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("would remove 2 entries of `unlearn ft`"), "the two seeds' lr = 0.01 runs: {out}");
    assert!(!out.contains("`train"), "the trainings are current: {out}");
    assert_eq!(entries(), before, "a dry run removes nothing");
    let (code, out, _) = gc(&["toy.munl"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("removed 2 entries of `unlearn ft`"), "{out}");
    assert!(entries() < before);
    let (_, summary) = lab.run(&edited, &fake);
    assert!(summary.ran.is_empty(), "what the file needs was kept");
}

/// The table says where each row's model comes from: the op, the values its runs used (a tuned
/// method's searched field holding the best trial's value), where each came from, and every
/// seed's model key; the report's CSV carries them as columns.
#[test]
fn the_table_records_the_values_each_model_was_made_with() {
    let lab = Lab::new();
    let text = search_file(3, "[0]").replace("evaluate e {", "report e { csv = \"e.csv\" }\nevaluate e {");
    let (plan, summary) = lab.run(&text, &Fake::default());
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let files = walk(lab.dir.path());
    let read = |name: &str| -> serde_json::Value {
        let path = files.iter().find(|p| p.ends_with(name)).unwrap_or_else(|| panic!("no {name}"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let search = read("search.json");
    let best = &search["trials"][search["best"].as_u64().unwrap() as usize]["values"]["lr"];
    let table = read("table.json");
    let ft = &table["rows"][1]["model"];
    assert_eq!(ft["op"], "finetune");
    assert_eq!(ft["values"]["lr"], best.to_string(), "the best trial's lr: {ft}");
    assert_eq!(ft["origins"]["lr"], "searched");
    assert_eq!(ft["origins"]["epochs"], "default");
    let original = &table["rows"][0]["model"];
    assert_eq!(
        (&original["op"], &original["values"]["data"], &original["values"]["epochs"]),
        (&"train".into(), &"d.train".into(), &"1".into())
    );
    assert_eq!((&original["origins"]["epochs"], &original["origins"]["batch"]), (&"written".into(), &"default".into()));
    assert_eq!(original["values"]["model"], "m");
    let key = plan.target("train original [seed=0]").map(|ids| plan.node(ids[0]).key.hex());
    assert_eq!(table["rows"][0]["seeds"][0]["key"].as_str(), key.as_deref());
    assert!(table["context"].to_string().contains("synthetic(classes: 4"), "{}", table["context"]);
    // The run itself records what it received, beside its model.
    let used = files
        .iter()
        .filter(|p| p.ends_with("values.json"))
        .map(|p| serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(used.len(), 1, "one unlearn run: {used:?}");
    assert_eq!(used[0]["lr"], best.to_string());
    let csv = std::fs::read_to_string(files.iter().find(|p| p.ends_with("report.csv")).expect("the CSV")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let line: Vec<&str> =
        csv.lines().find(|l| l.starts_with("d,cnn,ft,finetune,0,retain_acc,")).expect("ft's line").split(',').collect();
    let lr = header.iter().position(|c| *c == "hp.lr").expect("an hp.lr column");
    assert_eq!(line[lr], best.to_string());
}

/// Writing a field's default value changes no model, measurement or search, but the table says
/// which values the file wrote: only the tables and the reports that render them are new.
#[test]
fn writing_a_default_re_renders_the_table_only() {
    let lab = Lab::new();
    let keys = |text: &str| -> std::collections::BTreeMap<String, String> {
        let plan = lab.plan(text);
        plan.ids().map(|id| (plan.node(id).label.clone(), plan.node(id).key.hex())).collect()
    };
    let before = keys(TOY);
    let after = keys(&TOY.replace("  batch  = 32\n", "  batch  = 32\n  augment = reference\n"));
    assert_ne!(before, keys(&TOY.replace("batch  = 32", "batch  = 16")), "a changed value changes keys");
    let changed: Vec<&String> = before.iter().filter(|(l, k)| after.get(*l) != Some(k)).map(|(l, _)| l).collect();
    assert_eq!(changed, ["evaluate bench", "report bench"]);
}
