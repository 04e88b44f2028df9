//! Running a backend in a worker process, over JSON lines on its stdin and stdout.
//!
//! The `munl` front end never loads libtorch (whose start-up alone costs about half a second):
//! `check`, `plan`, `show`, `cache` and a run with nothing to do stay instant. When a node must
//! be computed, the front end starts one worker (`munl-torch`, next to the `munl` executable)
//! per device (several with `--device cuda:0,cuda:1`, shared out by `backend::Pool`) that keeps
//! its datasets resident on its device across nodes and computes concurrent requests on
//! threads. A crash inside libtorch fails the nodes in flight instead of the whole run.
//!
//! The worker's life is tied to the front end's: it runs in its own process group (a Ctrl-C at
//! the terminal reaches `munl` alone, which decides what to stop), `abort` kills it, and it
//! exits by itself as soon as its request pipe closes, which is also what happens when `munl`
//! dies, however it dies.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};

use crate::artifact::NodeFailure;
use crate::backend::{Abort, Backend, Job, Reply, Request};

enum Update {
    Progress(u64, u64, String),
    Finished(Result<(), NodeFailure>),
}

type Waiting = Arc<Mutex<HashMap<u64, Sender<Update>>>>;

struct Running {
    child: Child,
    stdin: ChildStdin,
    waiting: Waiting,
}

/// How many of the worker's last error-output lines a failure quotes.
const STDERR_TAIL: usize = 12;

/// A backend that forwards every job to a worker process.
pub(crate) struct WorkerBackend {
    exe: PathBuf,
    args: Vec<String>,
    /// Environment variables set for the worker beyond munl's own.
    env: Vec<(String, String)>,
    next: Mutex<u64>,
    running: Mutex<Option<Running>>,
    /// Set by `abort`: no worker is started again.
    aborted: AtomicBool,
}

/// The worker executable: `$MUNL_WORKER`, else `munl-torch` next to the running executable.
pub(crate) fn worker_exe() -> PathBuf {
    if let Some(p) = std::env::var_os("MUNL_WORKER") {
        return PathBuf::from(p);
    }
    let me = std::env::current_exe().unwrap_or_default();
    let dir = me.parent().unwrap_or(Path::new("."));
    // Test binaries live in target/*/deps; the worker one folder up.
    [dir.join("munl-torch"), dir.join("../munl-torch")]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join("munl-torch"))
}

impl WorkerBackend {
    /// A worker that will be started with `munl-torch serve DEVICE` on first use.
    pub(crate) fn new(device: &str) -> WorkerBackend {
        WorkerBackend {
            exe: worker_exe(),
            args: vec!["serve".into(), device.into()],
            env: vec![],
            next: Mutex::new(0),
            running: Mutex::new(None),
            aborted: AtomicBool::new(false),
        }
    }

    /// The same worker, started with `name=value` in its environment.
    pub(crate) fn with_env(mut self, name: &str, value: &str) -> WorkerBackend {
        self.env.push((name.into(), value.into()));
        self
    }

    fn start(&self) -> Result<Running, NodeFailure> {
        let mut child = Command::new(&self.exe)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                NodeFailure::new(format!("cannot start the torch worker {}: {e}", self.exe.display())).with_help(
                    "build it with `cargo build --release` (it is the `munl-torch` binary), or set MUNL_WORKER",
                )
            })?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        // The worker's error output goes on to ours as it comes; its last lines are kept for
        // the failure of the nodes in flight if it dies.
        let tail = std::thread::spawn(move || {
            let mut last: std::collections::VecDeque<String> = std::collections::VecDeque::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("{line}");
                if last.len() == STDERR_TAIL {
                    last.pop_front();
                }
                last.push_back(line);
            }
            last
        });
        let waiting: Waiting = Arc::default();
        let inbox = waiting.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(reply) = serde_json::from_str::<Reply>(&line) else { continue };
                let mut w = inbox.lock().unwrap_or_else(|e| e.into_inner());
                let (id, update) = match reply {
                    Reply::Progress { id, done, total, message } => (id, Update::Progress(done, total, message)),
                    Reply::Done { id } => (id, Update::Finished(Ok(()))),
                    Reply::Failed { id, failure } => (id, Update::Finished(Err(failure))),
                };
                let finished = matches!(update, Update::Finished(_));
                if let Some(tx) = w.get(&id) {
                    let _ = tx.send(update);
                }
                if finished {
                    w.remove(&id);
                }
            }
            // The worker is gone: everything in flight fails, with what it said last.
            let last = tail.join().unwrap_or_default();
            let help = if last.is_empty() {
                "it wrote nothing to its error output; a crash inside libtorch (or running out of memory) ends the worker"
                    .to_string()
            } else {
                let lines: Vec<String> = last.iter().map(|l| format!("  {l}")).collect();
                format!("its last error output:\n{}", lines.join("\n"))
            };
            let mut w = inbox.lock().unwrap_or_else(|e| e.into_inner());
            for (_, tx) in w.drain() {
                let failure =
                    NodeFailure::new("the torch worker exited while computing this node").with_help(help.clone());
                let _ = tx.send(Update::Finished(Err(failure)));
            }
        });
        Ok(Running { child, stdin, waiting })
    }
}

impl Backend for WorkerBackend {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        let id = {
            let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            *n
        };
        let request = Request::of(id, job);
        let mut line = serde_json::to_string(&request).map_err(|e| NodeFailure::new(e.to_string()))?;
        line.push('\n');
        let (tx, rx) = channel();
        {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            if self.aborted.load(Ordering::SeqCst) {
                return Err(NodeFailure::new("the run is stopping"));
            }
            let alive = running.as_mut().is_some_and(|r| matches!(r.child.try_wait(), Ok(None)));
            if !alive {
                *running = Some(self.start()?);
            }
            let r = running.as_mut().expect("started above");
            r.waiting.lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
            if let Err(e) = r.stdin.write_all(line.as_bytes()).and_then(|_| r.stdin.flush()) {
                r.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                return Err(NodeFailure::new(format!("cannot reach the torch worker: {e}")));
            }
        }
        loop {
            match rx.recv() {
                Ok(Update::Progress(done, total, message)) => (job.progress)(done, total, &message),
                Ok(Update::Finished(result)) => return result,
                Err(_) => return Err(NodeFailure::new("the torch worker stopped answering")),
            }
        }
    }
}

impl Abort for WorkerBackend {
    /// Kills the worker now, failing the nodes in flight, and refuses every later job: the run
    /// is stopping. Their temporary folders are the front end's, removed as each job fails.
    fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        // The lock is only ever held to start the worker or to send it a line, never while a
        // node computes, so this takes effect at once.
        if let Some(r) = self.running.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = r.child.kill();
        }
    }
}

impl Drop for WorkerBackend {
    fn drop(&mut self) {
        if let Some(mut r) = self.running.lock().unwrap_or_else(|e| e.into_inner()).take() {
            drop(r.stdin); // EOF: the worker exits (nothing is in flight any more)
            let _ = r.child.wait();
        }
    }
}
