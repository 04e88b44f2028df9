//! `munl run --device LIST`: one worker per device gives the results of one worker, the run
//! summary names every device, `all` asks the worker for the CUDA devices, and a bad value is a
//! user error before anything runs.

use crate::cli::{munl_with as munl, text};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The toy experiment without RTE, the one metric that depends on the time a run took.
fn toy() -> String {
    include_str!("fixtures/toy.munl").replace(", rte]", "]")
}

/// A temporary folder holding `toy.munl`, with its own cache.
fn lab() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("toy.munl"), toy()).unwrap();
    dir
}

/// The summary's line for device `label`, and its count of computed nodes.
fn device_line<'a>(stderr: &'a str, label: &str) -> Option<(&'a str, u64)> {
    let line = stderr.lines().find(|l| l.starts_with(&format!("{label}: ")))?;
    let count = line[label.len() + 2..].split(' ').next()?.parse().ok()?;
    Some((line, count))
}

/// Two CPU workers compute the same numbers as one, and both of them work. CPU results depend
/// on libtorch's thread count, and two `cpu` workers get half the cores each: the one worker
/// is given as many (unless the environment fixes the count for both already).
#[test]
#[cfg(feature = "torch")]
fn two_cpu_workers_give_the_report_of_one() {
    let one = lab();
    let share = (std::thread::available_parallelism().map_or(1, usize::from) / 2).max(1).to_string();
    let threads = std::env::var("OMP_NUM_THREADS").unwrap_or(share);
    let out = munl(one.path(), &["run", "toy.munl", "--device", "cpu"], &[("OMP_NUM_THREADS", &threads)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(device_line(&text(&out.stderr), "cpu").is_none(), "one device, no per-device lines");

    let two = lab();
    let out = munl(two.path(), &["run", "toy.munl", "--device", "cpu,cpu", "--jobs", "4"], &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let read = |dir: &Path| std::fs::read_to_string(dir.join("results/bench.csv")).expect("csv report written");
    assert_eq!(read(one.path()), read(two.path()), "the same report from one worker and from two");
    for label in ["cpu #1", "cpu #2"] {
        let (line, nodes) = device_line(&err, label).unwrap_or_else(|| panic!("no line for {label}:\n{err}"));
        assert!(nodes >= 1 && line.contains("% of"), "{line}");
    }
}

/// A value that names no device is a user error (exit 1) that says what is wrong, before any
/// worker is started.
#[test]
fn bad_device_values_are_refused() {
    let dir = lab();
    let cases = [
        ("nonsense", "unknown device `nonsense`"),
        ("cuda:x", "`cuda:x` is not a CUDA device number"),
        ("cpu,,cpu", "item 2 is empty"),
        ("all,cpu", "`all` stands alone"),
    ];
    for (value, says) in cases {
        let out =
            munl(dir.path(), &["run", "toy.munl", "--device", value], &[("MUNL_WORKER", "/nonexistent/munl-torch")]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--device {value}: {err}");
        assert!(err.contains(says) && err.contains("help: use `auto`, `cpu`"), "--device {value}: {err}");
        assert!(!err.contains("torch worker"), "nothing was started: {err}");
    }
}

/// A stand-in worker: `devices` prints `count`; `serve DEVICE` records its arguments in
/// `serves.log` and dies at its first request, failing that node.
fn fake_worker(dir: &Path, count: usize) -> PathBuf {
    let path = dir.join("fake-worker");
    let log = dir.join("serves.log");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = devices ]; then echo {count}; exit 0; fi\necho \"$@\" >> '{}'\nread line\nexit 3\n",
        log.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// On a machine without CUDA, `all` is one CPU worker, and munl says so.
#[test]
fn all_without_cuda_is_one_cpu_worker() {
    let dir = lab();
    let worker = fake_worker(dir.path(), 0);
    let out = munl(dir.path(), &["run", "toy.munl", "--device", "all"], &[("MUNL_WORKER", worker.to_str().unwrap())]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "the stand-in worker fails the node: {err}");
    assert!(err.contains("--device all: libtorch sees no CUDA device; computing on one cpu worker"), "{err}");
    let serves = std::fs::read_to_string(dir.path().join("serves.log")).unwrap();
    assert_eq!(serves, "serve cpu\n");
}

/// With CUDA devices, `all` is one worker per device, each named in the summary (with the
/// nodes it failed). One job at a time: the first goes to the first device and fails, and the
/// run stops there.
#[test]
fn all_is_a_worker_per_cuda_device() {
    let dir = lab();
    let worker = fake_worker(dir.path(), 2);
    let out = munl(
        dir.path(),
        &["run", "toy.munl", "--device", "all", "--jobs", "1"],
        &[("MUNL_WORKER", worker.to_str().unwrap())],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let (first, _) = device_line(&err, "cuda:0").unwrap_or_else(|| panic!("no line for cuda:0:\n{err}"));
    assert!(first.contains(": 0 nodes, 1 failed, busy "), "{first}");
    let (second, _) = device_line(&err, "cuda:1").unwrap_or_else(|| panic!("no line for cuda:1:\n{err}"));
    assert!(second.starts_with("cuda:1: 0 nodes, busy 0 % of "), "{second}");
    let serves = std::fs::read_to_string(dir.path().join("serves.log")).unwrap();
    assert_eq!(serves, "serve cuda:0\n");
}

/// A worker that cannot say how many devices there are makes `all` a user error.
#[test]
fn all_without_a_worker_says_why() {
    let dir = lab();
    let out = munl(dir.path(), &["run", "toy.munl", "--device", "all"], &[("MUNL_WORKER", "/nonexistent/munl-torch")]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot count the CUDA devices: cannot start the torch worker"), "{err}");
}
