//! Snapshots of what the front end makes of fixture files: diagnostics and rendered plans.

use std::path::Path;

use munl::{compile, Plan, Source};

fn compile_fixture(name: &str, text: &str) -> Result<Plan, String> {
    let source = Source::new(format!("tests/fixtures/{name}"), text);
    compile(&source, Path::new("/data")).map_err(|d| munl::testing::render(&d))
}

/// One line per node: kind, label, short key, and its inputs by role.
fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for node in plan.ids().map(|id| plan.node(id)) {
        let inputs: Vec<String> =
            node.inputs.iter().map(|(role, id)| format!("{role}={}", plan.node(*id).key.short())).collect();
        out.push_str(&format!(
            "{} {:<9} {:<28} {}\n",
            node.key.short(),
            node.kind().as_str(),
            node.label,
            inputs.join(" ")
        ));
    }
    out
}

#[test]
fn every_error_of_a_file_at_once() {
    let err = compile_fixture("errors.munl", include_str!("fixtures/errors.munl")).unwrap_err();
    insta::assert_snapshot!(err);
}

#[test]
fn a_syntax_error_points_into_the_file() {
    let err = compile_fixture("broken.munl", "dataset d {\n  source mnist(\"mnist\")\n}\n").unwrap_err();
    insta::assert_snapshot!(err);
}

#[test]
fn toy_plan() {
    let plan = compile_fixture("toy.munl", include_str!("fixtures/toy.munl")).unwrap();
    insta::assert_snapshot!(render(&plan));
}

/// A sweep: every declaration once per combination of the dimensions it varies along (named
/// in its label), an evaluation per group of the dimensions it does not aggregate over, and
/// keys that hold a coordinate only through what it changes.
#[test]
fn sweep_plan() {
    let plan = compile_fixture("sweep.munl", include_str!("fixtures/sweep.munl")).unwrap();
    insta::assert_snapshot!(render(&plan));
}

/// Editing one value of a dimension changes the keys of that value's nodes only.
#[test]
fn one_sweep_value_edited_changes_only_its_nodes() {
    let text = include_str!("fixtures/sweep.munl");
    let before = compile_fixture("sweep.munl", text).unwrap();
    let after = compile_fixture("sweep.munl", &text.replace("each(0.01, 0.05)", "each(0.01, 0.07)")).unwrap();
    let keys = |plan: &Plan| -> std::collections::BTreeMap<String, String> {
        plan.ids().map(|id| (plan.node(id).label.clone(), plan.node(id).key.short())).collect()
    };
    let (before, after) = (keys(&before), keys(&after));
    let changed: Vec<&String> = after.iter().filter(|(l, k)| before.get(*l) != Some(*k)).map(|(l, _)| l).collect();
    // The edited value's runs, their measurements, their groups' tables and the report.
    assert!(changed.iter().all(|l| l.contains("ft.lr=0.07") || *l == "report bench"), "{changed:#?}");
    assert_eq!(changed.len(), 2 * (2 + 2 + 1) + 1, "{changed:#?}");
}

/// The reference's full U-LiRA (pipeline.md §2): 64 × 10 runs, an Original and a Retrain for
/// each from one initialisation, six methods on all 640, 6 × 32 searches, a prediction per model
/// and run, and one attack per model.
#[test]
fn the_full_ulira_plan_has_the_references_counts() {
    let text = include_str!("../experiments/deepunlearn/ulira_cifar10_resnet18.munl");
    let plan = compile_fixture("ulira.munl", text).unwrap();
    let count = |kind: &str| plan.ids().filter(|id| plan.node(*id).kind().as_str() == kind).count();
    let op = |name: &str| plan.ids().filter(|id| plan.node(*id).op == name).count();
    assert_eq!((count("train"), count("unlearn"), count("search"), count("init")), (1280, 3840, 192, 1));
    assert_eq!((op("predict"), op("membership"), count("split")), (5120, 8, 640));
}

#[test]
fn dimension_errors_at_once() {
    let err = compile_fixture("dimension_errors.munl", include_str!("fixtures/dimension_errors.munl")).unwrap_err();
    insta::assert_snapshot!(err);
}

#[test]
fn an_evaluation_aggregates_only_over_its_models_dimensions() {
    let text = include_str!("fixtures/sweep.munl")
        .replace("metrics   = [accuracy, mia]", "metrics = [accuracy]\n  over = [seed, ft.lr]");
    let text = text
        .replace("models    = [original, retrained, ft]", "models = [original]")
        .replace("reference = retrained", "");
    let err = compile_fixture("sweep.munl", &text).unwrap_err();
    assert!(err.contains("munl::lower::not_along") && err.contains("aggregates over `ft.lr`"), "{err}");
    assert!(err.contains("its models vary along `frac`, `seed`"), "{err}");
}

#[test]
fn the_language_example_plans() {
    // language.md §1 without its searched method (search arrives with the search engine).
    let text = include_str!("fixtures/language_example.munl");
    let plan = compile_fixture("language_example.munl", text).unwrap();
    assert_eq!(plan.target("ft").unwrap().len(), 3, "one node per seed");
    let dataset = plan.target("mnist").unwrap()[0];
    assert_eq!(
        plan.node(dataset).data_dir(),
        Some(Path::new("/data/mnist")),
        "dataset folders resolve against the data root"
    );
    assert!(!plan.params(dataset).contains_key("dir"), "where data lives is not what it means");
}

#[test]
fn inheritance_copies_fields_then_overrides() {
    let plan = compile_fixture("toy.munl", include_str!("fixtures/toy.munl")).unwrap();
    let (original, retrained) = (plan.target("original").unwrap()[0], plan.target("retrained").unwrap()[0]);
    assert_eq!(plan.params(original)["epochs"], plan.params(retrained)["epochs"]);
    assert_eq!(plan.params(retrained)["subset"], munl::testing::Value::Str("retain".into()));
    assert_ne!(plan.node(original).key, plan.node(retrained).key);
}

#[test]
fn an_inheritance_cycle_shows_every_edge() {
    let text = "train a = b { }\ntrain b = c { }\ntrain c = a { }\n";
    let err = compile_fixture("cycle.munl", text).unwrap_err();
    assert!(err.contains("a → b → c → a"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn every_shipped_experiment_checks() {
    let mut files = vec![];
    for dir in ["experiments", "experiments/deepunlearn", "experiments/byo"] {
        for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "munl") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 11, "the quickstart and the ten reference settings");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let source = Source::new(&f, text);
        if let Err(e) = compile(&source, Path::new("/data")) {
            let text = munl::testing::render(&e);
            // `experiments/byo` reads the arrays its `make_data.py` writes (not in the
            // repository): until it has run, `munl check` says exactly that, and nothing else.
            let generated = f.parent().unwrap().join("data/mnist.npz");
            let only_the_generated_data = f.ends_with("byo/byo.munl")
                && !generated.exists()
                && text.contains("munl::lower::missing_data")
                && text.contains("./data/mnist.npz")
                && text.matches('×').count() == 1;
            assert!(only_the_generated_data, "{}:\n{text}", f.display());
        }
    }
}

#[test]
fn method_flags_and_per_phase_lists_are_typed() {
    let head = "dataset d { source = synthetic(classes: 4, size: 64, shape: [3, 8, 8], seed: 1); split = random() }\n\
                model m = cnn()\ntrain o { model = m; data = d.train; epochs = 1 }\n";
    let ok = format!("{head}unlearn s = salun(o) {{ faithful = false }}\nunlearn r = rni(o) {{ fine_lr = [0.001, 0.0001] }}\nunlearn q = rni(o) {{ fine_lr = 0.001 }}\n");
    let plan = compile_fixture("typed.munl", &ok).unwrap_or_else(|e| panic!("{e}"));
    let salun = plan.ids().find(|id| plan.node(*id).label.starts_with("unlearn s")).unwrap();
    assert_eq!(plan.params(salun)["faithful"].to_string(), "false");
    let bad = format!("{head}unlearn s = salun(o) {{ faithful = 1 }}\nunlearn r = rni(o) {{ fine_lr = [\"x\"] }}\n");
    let err = compile_fixture("typed.munl", &bad).unwrap_err();
    assert!(err.contains("`true` or `false`") && err.contains("a number or a list of numbers"), "{err}");
}

#[test]
fn where_data_lives_and_reports_go_is_in_no_key() {
    let text = include_str!("fixtures/language_example.munl");
    let source = Source::new("tests/fixtures/language_example.munl", text);
    let here = compile(&source, Path::new("/data")).unwrap();
    let there = compile(&source, Path::new("/elsewhere")).unwrap();
    let keys = |p: &Plan| p.ids().map(|id| p.node(id).key.hex()).collect::<Vec<_>>();
    assert_eq!(keys(&here), keys(&there));
    let moved = Source::new("/another/folder/language_example.munl", text);
    assert_eq!(keys(&compile(&moved, Path::new("/data")).unwrap()), keys(&here), "report paths follow the file");
    let dataset = here.target("mnist").unwrap()[0];
    assert_ne!(here.node(dataset).data_dir(), there.node(dataset).data_dir());
}

/// A report path must name a file inside the experiment's folder: "." would put the written
/// file (and its temporary) outside it.
#[test]
fn report_paths_name_files_inside_the_experiment() {
    let head = "dataset d { source = synthetic(classes: 4, size: 64, shape: [3, 8, 8], seed: 1); split = random() }\n\
                model m = cnn()\ntrain o { model = m; data = d.train; epochs = 1 }\n\
                evaluate e { models = [o]; metrics = [accuracy] }\n";
    for (path, why) in [
        (".", "names a folder"),
        ("out/", "names a folder"),
        ("../x.md", "leaves the experiment"),
        ("/x.md", "is absolute"),
    ] {
        let text = format!("{head}report e {{ markdown = \"{path}\" }}\n");
        let err = compile_fixture("paths.munl", &text).expect_err(path);
        assert!(err.contains("munl::lower::bad_path") && err.contains(why), "{path}: {err}");
    }
    let ok = format!("{head}report e {{ markdown = \"results/e.md\" }}\n");
    compile_fixture("paths.munl", &ok).unwrap_or_else(|e| panic!("{e}"));
}

/// Regression (issue 11, item 4): values far beyond anything a benchmark uses passed `check`
/// and failed at run time with internal messages (`epochs = 9223372036854775807` as "libtorch
/// failed: capacity overflow") or were simply accepted (`cnn(width: 100000000)`). Every number
/// of the catalogue has an upper bound, and its diagnostic says where the bound comes from.
#[test]
fn numbers_beyond_munls_limits_say_where_the_limit_comes_from() {
    let err = compile_fixture("limits.munl", include_str!("fixtures/limits.munl")).unwrap_err();
    for (value, limit) in [
        ("9223372036854775807", "at most 10000"),
        ("100000000", "at most 1024"),
        ("-0.5", "must be at least 0"),
        ("[2, 8, 8]", "1 (grey) or 3 (RGB) channels, not 2"),
        ("[3, 8]", "must have 3 entries"),
    ] {
        assert!(err.contains(value) && err.contains(limit), "{value}: {limit}\n{err}");
    }
    insta::assert_snapshot!(err);
}

/// The largest value of each bound is accepted.
#[test]
fn the_limits_themselves_are_accepted() {
    let text = "seeds = [0, 4294967295]\n\
                dataset d { source = synthetic(classes: 100000, size: 6, test: 1, shape: [1, 4096, 4096], seed: 4294967295) }\n\
                model m = cnn(width: 1024)\n\
                train o { model = m; data = d.train; epochs = 10000; batch = 65536; optim = sgd(lr: 1e30, weight_decay: 10) }\n\
                unlearn k = cf_k(o) { num_blocks = 10; epochs = 10000 }\n";
    compile_fixture("limits_ok.munl", text).unwrap_or_else(|e| panic!("{e}"));
}

/// Regression (issue 11, item 4): `synthetic(shape: [3, 1, 1])` under a `cnn` passed `check`
/// and crashed its training with libtorch's "Output size is too small" and ~50 lines of C++
/// stack frames. A model that cannot take its dataset's images is a check-time error; so is a
/// TinyViT built for another image size (the reference asserts the size).
#[test]
fn a_model_that_cannot_take_its_datasets_images_is_a_check_error() {
    let text = "dataset d { source = synthetic(classes: 4, size: 64, test: 16, shape: [3, 1, 1], seed: 1) }\n\
                dataset c { source = cifar10(\"cifar10\") }\n\
                model m = cnn(width: 4)\n\
                model v = vit11m(img_size: 224)\n\
                train o { model = m; data = d.train; epochs = 1 }\n\
                train w = o { model = v; data = c.train }\n\
                train ok = o { data = c.train }\n";
    let err = compile_fixture("input_size.munl", text).unwrap_err();
    assert_eq!(err.matches("munl::lower::input_size").count(), 2, "{err}");
    insta::assert_snapshot!(err);
}

/// Regression (issue 11, item 4): `seeds = 0..100000000` was expanded before anything was
/// checked and exhausted memory (`0..100000` took 28 s and 3.3 GB). Seeds are counted first.
#[test]
fn seeds_are_counted_before_they_are_expanded() {
    let text = include_str!("fixtures/language_example.munl").replace("seeds  = 0..3", "seeds = 0..100000000");
    let err = compile_fixture("seeds.munl", &text).unwrap_err();
    assert!(err.contains("100000000 seeds, at most 10000") && err.contains("the reference uses 10"), "{err}");
    let text = text.replace("seeds = 0..100000000", "seeds = [0, 1, 0]");
    assert!(compile_fixture("seeds.munl", &text).unwrap_err().contains("a seed appears twice"));
}

/// Within the seed limit, seeds times declarations can still make a plan too large to build
/// quickly: its size is checked before planning, pointing at the seeds. The language example
/// plans 9 nodes per seed (an init, two trainings, two methods, four measurements) and 4 more;
/// a third method makes 10 000 seeds 100 004 nodes.
#[test]
fn a_plan_beyond_the_node_limit_is_refused_before_planning() {
    let text = include_str!("fixtures/language_example.munl")
        .replace("seeds  = 0..3", "seeds = 0..10000")
        .replace("unlearn ngp", "unlearn ga = gradient_ascent(original)\nunlearn ngp");
    let err = compile_fixture("nodes.munl", &text).unwrap_err();
    assert!(err.contains("munl::lower::plan_too_large") && err.contains("100004 nodes, more than 100000"), "{err}");
    insta::assert_snapshot!(err);
}

/// Compiles a fixture of `tests/fixtures/imports/`, whose imports are read from that folder.
fn compile_import_fixture(name: &str) -> Result<Plan, String> {
    let path = format!("tests/fixtures/imports/{name}");
    let source = Source::new(&path, std::fs::read_to_string(&path).unwrap());
    compile(&source, Path::new("/data")).map_err(|d| munl::testing::render(&d))
}

/// Two files imported: their nodes are named `alias.NAME`, a report across them reads every
/// setting's table (a grouped evaluation gives one per group), and a report of one imported
/// evaluation reads its table alone.
#[test]
fn imports_plan() {
    let plan = compile_import_fixture("paper.munl").unwrap();
    insta::assert_snapshot!(render(&plan));
}

/// An imported file's nodes are the nodes it has on its own: same keys, so a setting run on its
/// own is cached for the report across settings (and the other way round).
#[test]
fn an_imported_file_keeps_its_keys() {
    let paper = compile_import_fixture("paper.munl").unwrap();
    let keys = |p: &Plan| {
        p.ids()
            .map(|id| p.node(id))
            .filter(|n| n.kind() != munl::testing::NodeKind::Report)
            .map(|n| n.key.hex())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let small = compile_import_fixture("small.munl").unwrap();
    let wide = compile_import_fixture("wide.munl").unwrap();
    let both: std::collections::BTreeSet<_> = keys(&small).union(&keys(&wide)).cloned().collect();
    assert_eq!(keys(&paper), both);
    let label = |p: &Plan, key: &str| p.ids().map(|id| p.node(id)).find(|n| n.key.hex() == key).unwrap().label.clone();
    let ft = keys(&small).into_iter().find(|k| label(&small, k) == "unlearn ft [seed=1]").unwrap();
    assert_eq!(label(&paper, &ft), "unlearn small.ft [seed=1]");
}

#[test]
fn import_errors_at_once() {
    insta::assert_snapshot!(compile_import_fixture("errors.munl").unwrap_err());
}

/// An imported file's errors point into that file; the import line says it failed.
#[test]
fn an_import_with_errors_shows_them_in_its_file() {
    insta::assert_snapshot!(compile_import_fixture("broken_import.munl").unwrap_err());
}

/// Python methods: every problem with their files, functions and fields at once, read without
/// running the files (the interpreter's parser only; no torch needed).
#[test]
fn python_method_errors_at_once() {
    let err = compile_fixture("python/errors.munl", include_str!("fixtures/python/errors.munl")).unwrap_err();
    insta::assert_snapshot!(err);
}

/// A Python method's fields come from its function's keyword-only parameters, defaults filled;
/// the code's fingerprint is a field, so the plan holds it; searched fields need no reference
/// space.
#[test]
fn python_methods_plan() {
    let plan = compile_fixture("python/ok.munl", include_str!("fixtures/python/ok.munl")).unwrap();
    let mine = plan.node(plan.target("mine").unwrap()[0]);
    let fields = munl::testing::fields(mine);
    assert_eq!(
        fields.keys().map(String::as_str).collect::<Vec<_>>(),
        ["@code", "@function", "alpha", "epochs", "lr", "mode", "reset", "rounds"]
    );
    assert_eq!(fields["lr"], "0.05");
    assert_eq!(fields["alpha"], "0.5");
    assert_eq!(fields["mode"], "\"soft\"");
    let init = plan.node(plan.target("mine_net").unwrap()[0]);
    let fields = munl::testing::fields(init);
    assert_eq!(fields.keys().map(String::as_str).collect::<Vec<_>>(), ["@class", "@code", "dropout", "width"]);
    assert_eq!((fields["@class"].as_str(), fields["width"].as_str()), ("\"Net\"", "8"));
    let other = plan.node(plan.target("other").unwrap()[0]);
    assert_eq!(munl::testing::fields(other)["@function"], "\"other\"");
    assert!(plan.target("tuned").is_some());
}

/// Editing the method's file, or a local module it imports, changes the keys of its nodes and
/// their dependants only; the built-in method and the trainings keep theirs.
#[test]
fn editing_a_python_file_changes_only_its_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let methods = dir.path().join("methods");
    std::fs::create_dir(&methods).unwrap();
    for f in ["mine.py", "helpers.py"] {
        std::fs::copy(Path::new("tests/fixtures/python/methods").join(f), methods.join(f)).unwrap();
    }
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::copy("tests/fixtures/python/models/net.py", dir.path().join("models/net.py")).unwrap();
    let text = include_str!("fixtures/python/ok.munl");
    let plan = || {
        let source = Source::new(dir.path().join("ok.munl"), text);
        let plan = compile(&source, Path::new("/data")).map_err(|d| munl::testing::render(&d)).unwrap();
        plan.ids().map(|id| (plan.node(id).label.clone(), plan.node(id).key)).collect::<Vec<_>>()
    };
    let changed = |a: &[(String, munl::testing::Key)], b: &[(String, munl::testing::Key)]| -> Vec<String> {
        a.iter().zip(b).filter(|(x, y)| x.1 != y.1).map(|(x, _)| x.0.clone()).collect()
    };
    let before = plan();
    assert_eq!(changed(&before, &plan()), Vec::<String>::new(), "planning twice changes nothing");
    std::fs::write(methods.join("helpers.py"), "SCALE = 3\n").unwrap();
    let edited = plan();
    let moved = changed(&before, &edited);
    assert!(moved.iter().any(|l| l.starts_with("unlearn mine")), "{moved:?}");
    assert!(
        moved.iter().all(|l| !l.starts_with("train") && !l.contains(" ft") && !l.starts_with("dataset")),
        "{moved:?}"
    );
    assert!(moved.iter().any(|l| l.starts_with("evaluate")), "dependants follow: {moved:?}");
}

/// Regression (issue 17, item 1): a data path that does not exist was found only by a run, and
/// nothing pointed at the folder meant (`fashion_mnist` beside `fashion-mnist`). `munl check`
/// finds it: a source munl downloads may be missing from the data root (the run fetches it),
/// unless an entry there differs from its name only in case or separators; other data must be
/// there; either way the closest entry is suggested.
#[test]
fn missing_data_is_found_at_check_with_the_entry_meant() {
    let path = "tests/fixtures/data_paths/paths.munl";
    let source = Source::new(path, std::fs::read_to_string(path).unwrap());
    let err = compile(&source, Path::new("tests/fixtures/data_paths/root"))
        .map_err(|d| munl::testing::render(&d))
        .unwrap_err();
    let missing = |err: &str| -> Vec<String> {
        err.lines()
            .filter_map(|l| l.trim().strip_prefix("× data path `")?.split('`').next().map(String::from))
            .collect()
    };
    assert_eq!(
        missing(&err),
        ["fashion_mnist", "./pet", "utkface", "fashion_mnist/train", "digits.npz", "./mnist"],
        "{err}"
    );
    assert!(err.contains("did you mean `fashion-mnist`?") && err.contains("did you mean `./pets`?"), "{err}");
    insta::assert_snapshot!(err);
    // Without a data root on this machine, paths under it cannot be checked.
    let err = compile(&source, Path::new("/nonexistent-data")).map_err(|d| munl::testing::render(&d)).unwrap_err();
    assert_eq!(missing(&err), ["./pet", "./mnist"], "{err}");
}

/// Regression (issue 17, item 2): `seeds = 2` silently meant the one seed 2. A bare integer is
/// refused with both readings spelt out; `[2]` is the one seed 2.
#[test]
fn a_bare_integer_is_not_a_seed_count() {
    let text = include_str!("fixtures/language_example.munl").replace("seeds  = 0..3", "seeds = 2");
    let err = compile_fixture("seeds.munl", &text).unwrap_err();
    let help = err.split("help: ").nth(1).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(help, "`seeds = 2` is one seed, 2; write `seeds = 0..2` for 2 seeds, or `seeds = [2]` for seed 2 alone");
    insta::assert_snapshot!(err);
    let one = compile_fixture("seeds.munl", &text.replace("seeds = 2", "seeds = 1")).unwrap_err();
    let one = one.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(one.contains("`seeds = 0..1` for one seed (0), or `seeds = [1]` for seed 1 alone"), "{one}");
    let plan = compile_fixture("seeds.munl", &text.replace("seeds = 2", "seeds = [2]")).unwrap();
    let labels: Vec<&str> = plan.target("ft").unwrap().iter().map(|id| plan.node(*id).label.as_str()).collect();
    assert_eq!(labels.len(), 1, "{labels:?}");
    assert!(labels[0].ends_with("[seed=2]"), "{labels:?}");
}

/// Regression (issue 17, item 3): a `train` without `model` was reported again for every
/// declaration inheriting from it, and `model = resnet` suggested neither the declared `net` nor
/// that `resnet18` is an architecture to declare a model with. Each problem is reported once, by
/// the declaration that writes the field (or should), with help that knows both.
#[test]
fn a_missing_or_unknown_model_is_reported_once_with_what_was_meant() {
    let text = include_str!("fixtures/diagnostics/models.munl");
    let err = compile_fixture("diagnostics/models.munl", text).unwrap_err();
    let flat = err.split_whitespace().collect::<Vec<_>>().join(" ");
    let headers: Vec<&str> = err.lines().filter_map(|l| l.trim().strip_prefix("× ")).collect();
    assert_eq!(
        headers,
        ["train `original` needs `model`", "unknown name `resnet`", "unknown name `vit11m`", "unknown name `nte`"],
        "no knock-on errors for `retrained` and `a2`: {err}"
    );
    assert!(flat.contains("help: add `model = net`"), "{err}");
    assert!(flat.contains("help: did you mean `net`? `resnet18` is an architecture"), "{err}");
    assert!(
        flat.contains("`vit11m` is an architecture: declare a model with it, `model vit11m_net = vit11m()`, and write `model = vit11m_net`"),
        "{err}"
    );
    assert!(flat.ends_with("help: did you mean `net`?"), "the typo: {err}");
    insta::assert_snapshot!(err);
}

/// Regression (issue 17, item 4): only the first syntax error of a file was shown. The file is
/// cut into its top-level items and each is parsed on its own: the first error of every item.
#[test]
fn every_items_syntax_error_at_once() {
    let text = include_str!("fixtures/diagnostics/syntax_errors.munl");
    let err = compile_fixture("diagnostics/syntax_errors.munl", text).unwrap_err();
    for code in ["unexpected", "unclosed", "bad_escape", "unknown_kind"] {
        assert!(err.contains(&format!("munl::syntax::{code}")), "{code}: {err}");
    }
    assert_eq!(err.matches("munl::syntax::").count(), 6, "{err}");
    insta::assert_snapshot!(err);
}
