//! Planning speed: parse, lower, plan and explain, against an empty cache, a generated experiment
//! of about 10 000 nodes and the reference's full U-LiRA (11 084 nodes over 64 × 10
//! coordinates), and the paper's report across the ten reference settings (ten imported files).
//! Run with `cargo bench --bench plan`.

use std::fmt::Write as _;
use std::time::Instant;

use munl::testing::{explain, Cache};
use munl::{compile, Source};

/// 10 seeds × (2 trains + 480 unlearns + 482 measures) + shared nodes ≈ 9 660 nodes.
fn experiment(methods: usize) -> String {
    let mut s = String::from(
        "seeds = 0..10\n\
         dataset d { source = synthetic(classes: 10); split = random() }\n\
         model net = cnn()\n\
         train original { model = net; data = d.train; epochs = 5 }\n\
         train retrained = original { data = d.retain }\n",
    );
    let mut names = vec!["original".to_string(), "retrained".to_string()];
    for i in 0..methods {
        let method = ["finetune", "gradient_ascent", "neggrad_plus"][i % 3];
        let _ = writeln!(s, "unlearn u{i} = {method}(original) {{ lr = {} }}", 1e-4 * (i + 1) as f64);
        names.push(format!("u{i}"));
    }
    let _ = writeln!(s, "evaluate all {{ models = [{}]; reference = retrained }}", names.join(", "));
    s.push_str("report all { csv = \"all.csv\" }\n");
    s
}

/// The best of five plans of `text`: its node count and seconds.
fn time(name: &str, text: &str) -> (usize, f64) {
    let dir = std::env::temp_dir().join(format!("munl-bench-plan-{}-{name}", std::process::id()));
    time_source(&Source::new(dir.join(format!("{name}.munl")), text), &dir)
}

/// The best of five plans of a source (whose imports are read from its folder), with an empty
/// cache in `dir`.
fn time_source(source: &Source, dir: &std::path::Path) -> (usize, f64) {
    let cache = Cache::open(&dir.join("cache")).expect("cache opens");
    let mut best = f64::INFINITY;
    let mut nodes = 0;
    for _ in 0..5 {
        let t0 = Instant::now();
        // No data on this machine (a data root that does not exist): paths are not checked.
        let plan = compile(source, &dir.join("no-data")).expect("the experiment is valid");
        let statuses = explain(&plan, &cache);
        best = best.min(t0.elapsed().as_secs_f64());
        nodes = statuses.len();
    }
    let _ = std::fs::remove_dir_all(dir);
    (nodes, best)
}

fn main() {
    let (nodes, seconds) = time("bench", &experiment(480));
    println!("plan: {nodes} nodes parsed, lowered, planned and explained in {:.1} ms (best of 5)", seconds * 1e3);
    let ulira = include_str!("../experiments/deepunlearn/ulira_cifar10_resnet18.munl");
    let (nodes, seconds) = time("ulira", ulira);
    println!(
        "plan: U-LiRA's {nodes} nodes parsed, lowered, planned and explained in {:.1} ms (best of 5)",
        seconds * 1e3
    );
    let paper = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/deepunlearn/paper.munl");
    let source = Source::read(std::path::Path::new(paper)).expect("paper.munl reads");
    let dir = std::env::temp_dir().join(format!("munl-bench-plan-{}-paper", std::process::id()));
    let (nodes, seconds) = time_source(&source, &dir);
    println!(
        "plan: the paper's ten imported settings, {nodes} nodes, parsed, lowered, planned and explained in {:.1} ms (best of 5)",
        seconds * 1e3
    );
}
