//! Stopping `munl run` from outside: Ctrl-C and SIGTERM stop it cleanly, and `kill -9` of munl
//! or of its worker at any moment loses nothing already computed and leaves no process behind.
//!
//! `random_kills_lose_nothing` kills `MUNL_KILLS` times (3 by default, as CI runs it) at
//! moments drawn from `MUNL_KILL_SEED` (printed, for replaying a failure);
//! `scripts/kill-test N` runs it with N kills.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOY: &str = include_str!("fixtures/toy.munl");

fn lab(munl_file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("toy.munl"), munl_file).unwrap();
    dir
}

/// `munl run toy.munl` in `dir`, started and left running.
fn start(dir: &Path, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(["run", "toy.munl", "--device", "cpu"])
        .current_dir(dir)
        .env("MUNL_CACHE", dir.join("cache"))
        .env("TORCH_CPP_LOG_LEVEL", "ERROR")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the munl binary starts")
}

/// Waits for `child` to exit (at most `limit`) and returns its exit code and error output.
fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("munl did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code(), reader.join().unwrap())
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap().success();
    assert!(ok || name == "KILL", "kill -{name} {pid}");
}

/// Whether `pid` is a live process (a zombie, dead but not yet reaped, counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// The processes whose parent is `pid`.
#[cfg(feature = "torch")]
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return vec![] };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat")).ok().is_some_and(|stat| {
                let parent = stat.rsplit_once(") ").and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok());
                parent == Some(pid)
            })
        })
        .collect()
}

/// Waits (at most `limit`) until `pid` is gone.
fn gone_within(pid: u32, limit: Duration) -> bool {
    let t0 = Instant::now();
    while alive(pid) {
        if t0.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The names under the cache's `tmp/`.
fn tmp_items(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("cache/tmp"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

/// SIGINT and SIGTERM mid-node: the worker dies at once (it would otherwise compute for a
/// minute), its temporary folder goes, munl says what it abandoned and exits with 128 + the
/// signal. The worker is a script that takes a request and never answers.
#[test]
fn a_signal_stops_the_run_and_its_worker() {
    use std::os::unix::fs::PermissionsExt;
    for (name, code) in [("INT", 130), ("TERM", 143)] {
        let dir = lab(TOY);
        let worker = dir.path().join("stuck-worker");
        std::fs::write(&worker, "#!/bin/sh\necho $$ > worker.pid\nread request\nexec sleep 60\n").unwrap();
        std::fs::set_permissions(&worker, std::fs::Permissions::from_mode(0o755)).unwrap();
        let child = start(dir.path(), &[("MUNL_WORKER", worker.to_str().unwrap())]);
        let munl_pid = child.id();
        let t0 = Instant::now();
        let worker_pid = loop {
            let pid = std::fs::read_to_string(dir.path().join("worker.pid")).ok().and_then(|p| p.trim().parse().ok());
            if let (Some(pid), false) = (pid, tmp_items(dir.path()).is_empty()) {
                break pid;
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "the worker never got a node");
            std::thread::sleep(Duration::from_millis(20));
        };
        signal(munl_pid, name);
        let (status, err) = finish(child, Duration::from_secs(20));
        assert_eq!(status, Some(code), "SIG{name}: {err}");
        assert!(err.contains(&format!("stopped by SIG{name}")) && err.contains("abandoned dataset toy"), "{err}");
        assert!(gone_within(worker_pid, Duration::from_secs(5)), "SIG{name}: the worker {worker_pid} still runs");
        assert_eq!(tmp_items(dir.path()), Vec::<String>::new(), "SIG{name}: temporary folders left");
    }
}

/// A small deterministic generator for the kill moments (xorshift64*).
#[cfg(feature = "torch")]
struct Moments(u64);

#[cfg(feature = "torch")]
impl Moments {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Kills munl (SIGKILL or SIGINT) or its worker (SIGKILL) at random moments of the toy run,
/// beside a second run on the same cache, then resumes: no worker outlives its munl, the second
/// run takes over what the killed one had claimed and ends with the numbers of an uninterrupted
/// run, so does the resumed run, and the cache verifies clean. Needs the real worker (`torch` feature).
#[test]
#[cfg(feature = "torch")]
fn random_kills_lose_nothing() {
    let kills: usize = std::env::var("MUNL_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(3);
    let seed: u64 = std::env::var("MUNL_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    eprintln!("random_kills_lose_nothing: {kills} kills, MUNL_KILL_SEED={seed}");
    let mut moments = Moments(seed | 1);
    // Without the run-time metric, whose values are wall-clock times: the rest must match.
    let toy = TOY.replace(", rte]", "]");

    let reference = lab(&toy);
    let t0 = Instant::now();
    let (status, err) = finish(start(reference.path(), &[]), Duration::from_secs(600));
    let whole = t0.elapsed();
    assert_eq!(status, Some(0), "{err}");
    let expected = std::fs::read_to_string(reference.path().join("results/bench.csv")).unwrap();

    // Each round: a fresh experiment, one kill at a random moment of its run, then a resumed
    // run to the end, checked against the uninterrupted one.
    let mut tally = [0usize; 3];
    let mut mid_run = 0;
    for round in 0..kills {
        let how = ((moments.next() * 3.0) as usize).min(2);
        let after = whole.mul_f64(moments.next());
        let what = ["kill -9 munl", "kill -INT munl", "kill -9 worker"][how];
        let dir = lab(&toy);
        let child = start(dir.path(), &[]);
        let munl_pid = child.id();
        // A second run on the same cache, never killed: it waits for the nodes the first one
        // claims and takes them over when it dies.
        let companion = start(dir.path(), &[]);
        std::thread::sleep(after);
        let workers = children(munl_pid);
        match how {
            0 => signal(munl_pid, "KILL"),
            1 => signal(munl_pid, "INT"),
            _ => workers.iter().for_each(|w| signal(*w, "KILL")),
        }
        let (status, err) = finish(child, Duration::from_secs(600));
        eprintln!("round {round}: {what} after {after:.2?}: exit {status:?}");
        let expected_status = match how {
            0 => matches!(status, None | Some(0)),
            // Before munl handles signals (it does from its first node on), SIGINT ends it as it
            // ends any process: nothing had started.
            1 => matches!(status, None | Some(0 | 130)),
            _ => matches!(status, Some(0 | 2)),
        };
        assert!(expected_status, "MUNL_KILL_SEED={seed} round {round} ({what}): exit {status:?}: {err}");
        for w in workers {
            assert!(gone_within(w, Duration::from_secs(3)), "round {round} ({what}): worker {w} outlived munl");
        }
        tally[how] += 1;
        mid_run += usize::from(status != Some(0));
        let (status, err) = finish(companion, Duration::from_secs(600));
        assert_eq!(status, Some(0), "MUNL_KILL_SEED={seed} round {round}: the companion run completes: {err}");
        let theirs = std::fs::read_to_string(dir.path().join("results/bench.csv")).unwrap();
        assert_eq!(theirs, expected, "MUNL_KILL_SEED={seed} round {round}: the companion run's numbers differ");

        let (status, err) = finish(start(dir.path(), &[]), Duration::from_secs(600));
        assert_eq!(status, Some(0), "MUNL_KILL_SEED={seed} round {round}: the resumed run completes: {err}");
        let resumed = std::fs::read_to_string(dir.path().join("results/bench.csv")).unwrap();
        assert_eq!(resumed, expected, "MUNL_KILL_SEED={seed} round {round}: the resumed run's numbers differ");
        let verify = Command::new(env!("CARGO_BIN_EXE_munl"))
            .args(["cache", "verify"])
            .current_dir(dir.path())
            .env("MUNL_CACHE", dir.path().join("cache"))
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&verify.stdout);
        assert_eq!(verify.status.code(), Some(0), "MUNL_KILL_SEED={seed} round {round}: {report}");
    }
    eprintln!(
        "random_kills_lose_nothing: kill -9 munl {}, kill -INT munl {}, kill -9 worker {}; {mid_run} landed mid-run",
        tally[0], tally[1], tally[2]
    );
}
