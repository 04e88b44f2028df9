//! `munl run --executor slurm|srun` against a real Slurm cluster: the one `scripts/slurm-test`
//! (and CI) starts with `scripts/slurm-local/start-slurm.sh`, found through `SLURM_CONF`.
//! Without one each test prints a `skipped:` line and passes, unless `MUNL_REQUIRE_SLURM=1`
//! (set by CI), which makes that a failure.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether a cluster is there to test against.
fn cluster(test: &str) -> bool {
    if std::env::var_os("SLURM_CONF").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("MUNL_REQUIRE_SLURM").is_none(),
        "{test}: MUNL_REQUIRE_SLURM is set but SLURM_CONF is not"
    );
    eprintln!("skipped: {test}: no Slurm cluster (SLURM_CONF is not set; see scripts/slurm-test)");
    false
}

/// The toy experiment without the run-time metric, whose values are wall-clock times.
fn lab() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("toy.munl"), include_str!("fixtures/toy.munl").replace(", rte]", "]")).unwrap();
    dir
}

fn munl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_munl"));
    c.args(args)
        .current_dir(dir)
        .env("MUNL_CACHE", dir.join("cache"))
        .env("TORCH_CPP_LOG_LEVEL", "ERROR")
        .envs(env.iter().copied());
    c
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The ids of the queued jobs of the run whose cache is in `dir` (their script is there; other
/// tests submit jobs at the same time).
fn queue(dir: &Path) -> Vec<String> {
    let out = Command::new("squeue").args(["--noheader", "--format=%i %o"]).output().unwrap();
    let dir = dir.to_string_lossy().into_owned();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&dir))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The toy through job arrays gives the numbers of a local run, bit for bit; so does the toy
/// through job steps of an allocation (munl itself running as a batch job).
#[test]
fn the_toy_through_slurm_gives_the_local_numbers() {
    if !cluster("the_toy_through_slurm_gives_the_local_numbers") {
        return;
    }
    let local = lab();
    let out = munl(local.path(), &["run", "toy.munl", "--device", "cpu"], &[]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let expected = std::fs::read_to_string(local.path().join("results/bench.csv")).unwrap();

    let arrays = lab();
    let args = ["run", "toy.munl", "--executor", "slurm", "--slurm-batch-window", "0.2"];
    let out = munl(arrays.path(), &args, &[]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(arrays.path().join("results/bench.csv")).unwrap(), expected);
    assert!(!arrays.path().join("cache/slurm").read_dir().unwrap().any(|_| true), "the job folder is removed");

    let steps = lab();
    let exe = env!("CARGO_BIN_EXE_munl");
    let wrap = format!("{exe} run toy.munl --executor srun --device cpu");
    let out = Command::new("sbatch")
        .args(["--wait", "-n2", "-c1", "--output=munl.log", "--wrap", &wrap])
        .current_dir(steps.path())
        .env("MUNL_CACHE", steps.path().join("cache"))
        .output()
        .unwrap();
    let log = std::fs::read_to_string(steps.path().join("munl.log")).unwrap_or_default();
    assert!(out.status.success(), "{}\n{log}", text(&out));
    assert_eq!(std::fs::read_to_string(steps.path().join("results/bench.csv")).unwrap(), expected, "{log}");
}

/// A node that fails inside its job is reported against its declaration with the job's id and
/// log; a job that dies without a reply likewise, quoting the log.
#[test]
fn a_failed_job_is_reported_with_its_id_and_log() {
    use std::os::unix::fs::PermissionsExt;
    if !cluster("a_failed_job_is_reported_with_its_id_and_log") {
        return;
    }
    let dir = lab();
    let missing = include_str!("fixtures/toy.munl").replace(
        "synthetic(classes: 4, size: 120, test: 40, shape: [3, 8, 8], seed: 1)",
        "image_folder(\"/nonexistent/images\")",
    );
    std::fs::write(dir.path().join("missing.munl"), missing).unwrap();
    let out = munl(dir.path(), &["run", "missing.munl", "--executor", "slurm", "--slurm-batch-window", "0.2"], &[])
        .output()
        .unwrap();
    let err = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("dataset toy") && err.contains("Slurm job ") && err.contains(".log"), "{err}");

    let crash = dir.path().join("crash");
    std::fs::write(&crash, "#!/bin/sh\necho 'worker: out of memory' >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&crash, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = munl(
        dir.path(),
        &["run", "toy.munl", "--executor", "slurm", "--slurm-batch-window", "0.2"],
        &[("MUNL_WORKER", crash.to_str().unwrap())],
    )
    .output()
    .unwrap();
    let err = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("ended without a result") && err.contains("worker: out of memory"), "{err}");
    assert!(err.contains("the jobs' logs are in"), "{err}");
}

/// A child process killed when the test ends, passed or not: a failed assertion must not leave
/// a run (and its jobs) behind.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Ctrl-C cancels the run's jobs: none is left in the queue. The jobs ask for a (fake) GPU
/// each, and Slurm sees the request as written.
#[test]
fn a_stopped_run_leaves_no_job_behind_and_gpu_jobs_ask_for_gpus() {
    use std::os::unix::fs::PermissionsExt;
    if !cluster("a_stopped_run_leaves_no_job_behind_and_gpu_jobs_ask_for_gpus") {
        return;
    }
    let dir = lab();
    let slow = dir.path().join("slow");
    std::fs::write(&slow, "#!/bin/sh\nexec sleep 120\n").unwrap();
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    let args =
        ["run", "toy.munl", "--executor", "slurm", "--slurm-gpus", "1", "--device", "cpu", "--slurm-batch-window", "0"];
    let mut child = Killed(
        munl(dir.path(), &args, &[("MUNL_WORKER", slow.to_str().unwrap())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t0 = Instant::now();
    let job = loop {
        if let Some(job) = queue(dir.path()).into_iter().next() {
            break job;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "no job was submitted");
        std::thread::sleep(Duration::from_millis(100));
    };
    // A pending array shows as `23_[0-3]`: ask about the array.
    let array = job.split('_').next().unwrap_or(&job).to_string();
    let show = Command::new("scontrol").args(["show", "job", &array]).output().unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains("gres/gpu=1") || shown.contains("gres:gpu:1"), "{shown}");
    assert!(Command::new("kill").args(["-INT", &child.0.id().to_string()]).status().unwrap().success());
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let t0 = Instant::now();
    while !queue(dir.path()).is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(20), "job {job} is still queued: {:?}", queue(dir.path()));
        std::thread::sleep(Duration::from_millis(200));
    }
}
