//! A recording fake backend: writes plausible artifacts, remembers every call, fails on demand.

use std::collections::HashSet;
use std::sync::Mutex;

use munl::testing::{Backend, Job, Metrics, NodeFailure, NodeKind, RunInfo, Stop};

/// Computes every report of the file `name` in `dir` into the cache `dir/cache`, with `compute`
/// (the table backend for the tables) and the datasets under `data`; panics if a node fails.
pub fn compute_reports(dir: &std::path::Path, name: &str, data: &std::path::Path, compute: &dyn Backend) {
    use munl::testing::{execute, Cache, Routed, RunOptions, Tables};
    let cache = Cache::open(&dir.join("cache")).unwrap();
    let path = dir.join(name);
    let source = munl::Source::new(path.clone(), std::fs::read_to_string(&path).unwrap());
    let plan = munl::compile(&source, data).unwrap();
    let backend = Routed { tables: &Tables, compute };
    let options = RunOptions { jobs: 2, ..RunOptions::default() };
    let summary = execute(&plan, &plan.default_targets(), &cache, &backend, &options, &|_| {});
    assert!(summary.failed.is_empty(), "{name}: {:?}", summary.failed);
}

/// Records the label of every node it computes.
#[derive(Default)]
pub struct Fake {
    pub calls: Mutex<Vec<String>>,
    /// Ops that fail.
    pub failing: HashSet<String>,
    /// Labels that fail (e.g. one trial of a search, as if the run was killed there).
    pub failing_labels: HashSet<String>,
    /// Labels of `unlearn` nodes whose run diverges but completes, as a final run does: their
    /// measurements then have no MIA.
    pub diverging: HashSet<String>,
    /// A label at which the run is asked to stop (as by Ctrl-C), and the node then fails as
    /// the killed worker's nodes do.
    pub stopping_at: Option<(String, Stop)>,
    /// How long each node takes (so that concurrent runs overlap).
    pub delay: std::time::Duration,
}

impl Fake {
    pub fn failing(op: &str) -> Fake {
        Fake { failing: [op.to_string()].into(), ..Fake::default() }
    }

    /// The calls so far, sorted, and forgets them.
    pub fn take(&self) -> Vec<String> {
        let mut calls = std::mem::take(&mut *self.calls.lock().unwrap());
        calls.sort();
        calls
    }
}

/// A number in [0, 1) derived from the node's key, so results differ between nodes.
fn unit(job: &Job<'_>, salt: u8) -> f64 {
    let hex = job.node.key.hex();
    let v = u32::from_str_radix(&hex[2 * salt as usize..2 * salt as usize + 8], 16).unwrap();
    f64::from(v) / f64::from(u32::MAX)
}

impl Backend for Fake {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        self.calls.lock().unwrap().push(job.node.label.clone());
        std::thread::sleep(self.delay);
        if let Some((label, stop)) = &self.stopping_at {
            if *label == job.node.label {
                stop.request(2);
                return Err(NodeFailure::new("the torch worker exited while computing this node"));
            }
        }
        if self.failing.contains(&job.node.op) || self.failing_labels.contains(&job.node.label) {
            return Err(NodeFailure::new("loss became NaN at epoch 1, batch 1"));
        }
        let write = |name: &str, text: String| std::fs::write(job.out.join(name), text).unwrap();
        match job.node.kind() {
            NodeKind::Train | NodeKind::Unlearn => {
                let diverged = self.diverging.contains(&job.node.label);
                let run = RunInfo {
                    seconds: 1.0 + unit(job, 0),
                    epoch_losses: vec![if diverged { None } else { Some(0.5) }],
                    device: "fake".into(),
                    diverged: diverged.then(|| "loss became NaN at epoch 1, batch 2".to_string()),
                    phases: None,
                };
                write("run.json", serde_json::to_string(&run).unwrap());
                write("model.safetensors", job.node.key.hex());
            }
            NodeKind::Measure if job.node.op == "predict" => write("scores.safetensors", job.node.key.hex()),
            NodeKind::Measure if job.node.op == "membership" => {
                let runs = job.inputs.iter().filter(|i| i.role.ends_with("/scores")).count();
                let attack = |salt: u8| {
                    let estimate = |k: u8| serde_json::json!({ "value": unit(job, salt + k), "ci95": 0.01 });
                    serde_json::json!({
                        "samples": 100, "forgotten_cases": 10 * runs, "never_seen_cases": 50 * runs,
                        "nan_fraction": unit(job, salt), "never_seen_nan_fraction": null,
                        "mean_p": estimate(1), "balanced_accuracy": estimate(2), "auc": estimate(3),
                    })
                };
                let m = serde_json::json!({ "runs": runs, "correctness": attack(0), "logit": attack(4) });
                write("membership.json", m.to_string());
            }
            NodeKind::Measure if job.node.op == "distance" => {
                let d = serde_json::json!({ "l2": unit(job, 0), "l2_normalised": unit(job, 1), "l2_norm": 1.0, "normalised_distance": unit(job, 2) });
                write("distance.json", d.to_string());
            }
            NodeKind::Measure => {
                let of_diverged = job
                    .node
                    .label
                    .strip_prefix("measure ")
                    .is_some_and(|rest| self.diverging.contains(&format!("unlearn {rest}")));
                let why = "the losses are not finite".to_string();
                let m = Metrics {
                    retain_acc: unit(job, 0),
                    forget_acc: unit(job, 1),
                    val_acc: unit(job, 2),
                    test_acc: unit(job, 3),
                    mia_val: (!of_diverged).then(|| unit(job, 4)),
                    mia_test: (!of_diverged).then(|| unit(job, 5)),
                    seconds: 1.0 + unit(job, 6),
                    distances: None,
                    unavailable: if of_diverged {
                        [("mia_val".to_string(), why.clone()), ("mia_test".to_string(), why)].into()
                    } else {
                        Default::default()
                    },
                    diverged: of_diverged.then(|| "loss became NaN at epoch 1, batch 2".to_string()),
                };
                write("metrics.json", serde_json::to_string(&m).unwrap());
            }
            NodeKind::Trial => {
                let o: Vec<f64> = (0..4).map(|i| unit(job, i) / 3.0).collect();
                write("trial.json", serde_json::json!({ "objectives": o, "note": null, "seconds": 1.0 }).to_string());
            }
            _ => write("artifact.txt", job.node.key.hex()),
        }
        Ok(())
    }
}
