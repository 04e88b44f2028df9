//! Planning speed: parse, lower, plan and explain a generated experiment of about 10 000 nodes
//! against an empty cache. Run with `cargo bench --bench plan`.

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

fn main() {
    let text = experiment(480);
    let dir = std::env::temp_dir().join(format!("munl-bench-plan-{}", std::process::id()));
    let cache = Cache::open(&dir.join("cache")).expect("cache opens");
    let source = Source::new(dir.join("bench.munl"), text);
    let mut best = f64::INFINITY;
    let mut nodes = 0;
    for _ in 0..5 {
        let t0 = Instant::now();
        let plan = compile(&source, &dir).expect("the generated experiment is valid");
        let statuses = explain(&plan, &cache);
        best = best.min(t0.elapsed().as_secs_f64());
        nodes = statuses.len();
    }
    println!("plan: {nodes} nodes parsed, lowered, planned and explained in {:.1} ms (best of 5)", best * 1e3);
    let _ = std::fs::remove_dir_all(&dir);
}
