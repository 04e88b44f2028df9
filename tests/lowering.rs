//! Snapshots of what the front end makes of fixture files: diagnostics and rendered plans.

use std::path::Path;

use munl::{compile, Plan, Source};

fn compile_fixture(name: &str, text: &str) -> Result<Plan, String> {
    compile(&Source::new(format!("tests/fixtures/{name}"), text), Path::new("/data"))
}

/// One line per node: kind, label, short key, and its inputs by role.
fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for node in &plan.nodes {
        let inputs: Vec<String> =
            node.inputs.iter().map(|(role, id)| format!("{role}={}", plan.node(*id).key.short())).collect();
        out.push_str(&format!(
            "{} {:<9} {:<28} {}\n",
            node.key.short(),
            node.kind.as_str(),
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

#[test]
fn the_language_example_plans() {
    // language.md §1 without its searched method (search arrives with the search engine).
    let text = include_str!("fixtures/language_example.munl");
    let plan = compile_fixture("language_example.munl", text).unwrap();
    assert_eq!(plan.decls["ft"].len(), 3, "one node per seed");
    let dataset = plan.node(plan.decls["mnist"][0]);
    assert_eq!(dataset.env["dir"], "/data/mnist", "dataset folders resolve against the data root");
    assert!(!dataset.params.contains_key("dir"), "where data lives is not what it means");
}

#[test]
fn inheritance_copies_fields_then_overrides() {
    let plan = compile_fixture("toy.munl", include_str!("fixtures/toy.munl")).unwrap();
    let original = plan.node(plan.decls["original"][0]);
    let retrained = plan.node(plan.decls["retrained"][0]);
    assert_eq!(original.params["epochs"], retrained.params["epochs"]);
    assert_eq!(retrained.params["subset"], munl::Value::Str("retain".into()));
    assert_ne!(original.key, retrained.key);
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
    for dir in ["experiments", "experiments/deepunlearn"] {
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
        if let Err(e) = compile(&Source::new(&f, text), Path::new("/data")) {
            panic!("{}:\n{e}", f.display());
        }
    }
}

#[test]
fn method_flags_and_per_phase_lists_are_typed() {
    let head = "dataset d { source = synthetic(classes: 4, size: 64, shape: [3, 8, 8], seed: 1); split = random() }\n\
                model m = cnn()\ntrain o { model = m; data = d.train; epochs = 1 }\n";
    let ok = format!("{head}unlearn s = salun(o) {{ faithful = false }}\nunlearn r = rni(o) {{ fine_lr = [0.001, 0.0001] }}\nunlearn q = rni(o) {{ fine_lr = 0.001 }}\n");
    let plan = compile_fixture("typed.munl", &ok).unwrap_or_else(|e| panic!("{e}"));
    let salun = plan.nodes.iter().find(|n| n.label.starts_with("unlearn s")).unwrap();
    assert_eq!(salun.params["faithful"].to_string(), "false");
    let bad = format!("{head}unlearn s = salun(o) {{ faithful = 1 }}\nunlearn r = rni(o) {{ fine_lr = [\"x\"] }}\n");
    let err = compile_fixture("typed.munl", &bad).unwrap_err();
    assert!(err.contains("`true` or `false`") && err.contains("a number or a list of numbers"), "{err}");
}
