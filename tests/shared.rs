//! Several `munl run` processes on one cache: each node is computed by one of them, the others
//! wait for its result, and a claim whose owner dies is taken over. The runs use the real
//! worker (`torch` feature), except where a worker that never answers keeps a claim held.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// The toy experiment without the run-time metric, whose values are wall-clock times.
fn toy() -> String {
    include_str!("fixtures/toy.munl").replace(", rte]", "]")
}

/// A running `munl run FILE` in `dir` on the cache `dir/cache`, its error output as lines.
struct Run {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Run {
    fn start(dir: &Path, file: &str, env: &[(&str, &str)]) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_munl"))
            .args(["run", file, "--device", "cpu"])
            .current_dir(dir)
            .env("MUNL_CACHE", dir.join("cache"))
            .env("TORCH_CPP_LOG_LEVEL", "ERROR")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the munl binary starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Run { child, lines, seen: vec![] }
    }

    /// Waits (at most `limit`) for a line of error output that contains `text`.
    fn wait_for(&mut self, text: &str, limit: Duration) -> String {
        let t0 = Instant::now();
        loop {
            let left = limit.saturating_sub(t0.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with `{text}` within {limit:?}:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Waits for the exit (at most `limit`): the exit code and every line of error output.
    fn finish(mut self, limit: Duration) -> (Option<i32>, Vec<String>) {
        let t0 = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if t0.elapsed() > limit {
                let _ = self.child.kill();
                panic!("munl did not exit within {limit:?}:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader ends with the pipe, which closed with the process.
        let rest: Vec<String> = self.lines.iter().collect();
        self.seen.extend(rest);
        (status.code(), self.seen)
    }
}

/// How many nodes a run's summary line says it computed.
fn ran(lines: &[String]) -> usize {
    let summary = lines.iter().rev().find(|l| l.starts_with("munl: ")).expect("a summary line");
    summary["munl: ".len()..].split(" ran").next().and_then(|n| n.parse().ok()).expect("`N ran`")
}

/// The labels a run computed itself (not those it waited for), from its progress lines.
fn computed(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("done    ") && !l.ends_with("(by another run)"))
        .map(|l| l["done    ".len()..].rsplit_once(" (").map_or(l.as_str(), |(label, _)| label).to_string())
        .collect()
}

/// Three runs of one file at once: every node computed exactly once among them, and the same
/// report in the end; a fourth run finds everything cached.
#[test]
#[cfg(feature = "torch")]
fn three_runs_of_one_file_compute_each_node_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("toy.munl"), toy()).unwrap();
    let plan = Command::new(env!("CARGO_BIN_EXE_munl")).args(["check", "toy.munl"]).current_dir(dir.path()).output();
    let check = String::from_utf8_lossy(&plan.unwrap().stdout).to_string();
    let nodes: usize = check.split(", ").find_map(|p| p.strip_suffix(" nodes\n")?.parse().ok()).expect("a node count");

    let runs: Vec<Run> = (0..3).map(|_| Run::start(dir.path(), "toy.munl", &[])).collect();
    let mut all = vec![];
    for run in runs {
        let (status, lines) = run.finish(Duration::from_secs(600));
        assert_eq!(status, Some(0), "{}", lines.join("\n"));
        all.push(lines);
    }
    let mut labels: Vec<String> = all.iter().flat_map(|l| computed(l)).collect();
    let total: usize = all.iter().map(|l| ran(l)).sum();
    labels.sort();
    let before = labels.len();
    labels.dedup();
    assert_eq!(before, labels.len(), "a node was computed twice: {all:#?}");
    assert_eq!(total, nodes, "every node computed once among the three runs: {all:#?}");
    eprintln!("three runs on one cache: {:?} nodes computed per run", all.iter().map(|l| ran(l)).collect::<Vec<_>>());

    let (status, lines) = Run::start(dir.path(), "toy.munl", &[]).finish(Duration::from_secs(60));
    assert_eq!(status, Some(0));
    assert_eq!(ran(&lines), 0, "{lines:?}");
    let verify = Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(["cache", "verify"])
        .current_dir(dir.path())
        .env("MUNL_CACHE", dir.path().join("cache"))
        .status()
        .unwrap();
    assert!(verify.success());
}

/// Two files that share their trainings (one unlearns with FT, the other with GA), run at once:
/// each training is computed once.
#[test]
#[cfg(feature = "torch")]
fn two_files_sharing_their_trainings_compute_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let toy = toy();
    let ft = toy.replace("unlearn ga = gradient_ascent(original)\n", "").replace("ft, ga]", "ft]");
    let ga = toy.replace("unlearn ft = finetune(original) { epochs = 1; lr = 0.01 }\n", "").replace("ft, ga]", "ga]");
    std::fs::write(dir.path().join("ft.munl"), ft.replace("results/bench", "results/ft")).unwrap();
    std::fs::write(dir.path().join("ga.munl"), ga.replace("results/bench", "results/ga")).unwrap();
    let a = Run::start(dir.path(), "ft.munl", &[]);
    let b = Run::start(dir.path(), "ga.munl", &[]);
    let mut trains = vec![];
    for run in [a, b] {
        let (status, lines) = run.finish(Duration::from_secs(600));
        assert_eq!(status, Some(0), "{}", lines.join("\n"));
        trains.extend(computed(&lines).into_iter().filter(|l| l.starts_with("train ")));
    }
    trains.sort();
    assert_eq!(
        trains,
        ["train original [seed=0]", "train original [seed=1]", "train retrained [seed=0]", "train retrained [seed=1]"]
    );
}

/// A run waits for a node another run has claimed; when that run is killed (`kill -9`), the
/// waiting run takes the node over and finishes. The first run's worker never answers, so its
/// claim stays held until it dies.
#[test]
#[cfg(feature = "torch")]
fn a_killed_owners_claim_is_taken_over() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("toy.munl"), toy()).unwrap();
    let stuck = dir.path().join("stuck-worker");
    // It exits when its request pipe closes, as the real worker does.
    std::fs::write(&stuck, "#!/bin/sh\nread request\nwhile read line; do :; done\n").unwrap();
    std::fs::set_permissions(&stuck, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut owner = Run::start(dir.path(), "toy.munl", &[("MUNL_WORKER", stuck.to_str().unwrap())]);
    let t0 = Instant::now();
    while std::fs::read_dir(dir.path().join("cache/claims")).map_or(true, |d| d.count() == 0) {
        assert!(t0.elapsed() < Duration::from_secs(30), "the first run never claimed a node");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut waiter = Run::start(dir.path(), "toy.munl", &[]);
    let line = waiter.wait_for("waiting dataset toy (computed by ", Duration::from_secs(60));
    assert!(line.contains(&format!(":{})", owner.child.id())), "{line}");
    owner.child.kill().unwrap();
    let _ = owner.child.wait();

    let (status, lines) = waiter.finish(Duration::from_secs(600));
    assert_eq!(status, Some(0), "{}", lines.join("\n"));
    assert!(computed(&lines).iter().any(|l| l == "dataset toy"), "the waiting run took the dataset over");
    let claims = std::fs::read_dir(dir.path().join("cache/claims")).unwrap().count();
    assert_eq!(claims, 0, "no claim is left behind");
}
