//! Computing nodes as Slurm jobs: the cluster executor.
//!
//! Each node becomes a task of a job array (`sbatch`), or, inside an allocation (`salloc`, or an
//! `sbatch` of munl itself), a job step (`srun`). The task runs `munl-torch run-one` on one
//! node: its request (the node, its inputs' cache folders, its output folder) and its reply are
//! files in a spool folder under the cache, which must therefore be on a filesystem every
//! compute node shares, at the same path. The front end keeps its role: it claims the node,
//! waits for the reply and commits the output folder, so a job commits through the same claims
//! and atomic renames as a local run.
//!
//! Ready nodes gathered within `batch_window` go out as one array (one `sbatch`, however many
//! seeds or trials), and at most `--jobs` nodes are in flight. A failed task is reported with
//! its job id and log; Ctrl-C cancels every job of the run (`scancel`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::artifact::NodeFailure;
use crate::backend::{Abort, Backend, Job, Reply, Request};

/// How often the queue is asked about the jobs in flight.
const POLL: Duration = Duration::from_millis(500);

/// Polls a task may be missing from the queue without a reply before it counts as failed (its
/// reply may reach a shared filesystem's cache a moment after the task ends).
const GRACE_POLLS: u32 = 6;

/// Small nodes (a dataset, a split, an initialisation, a measurement) share an array task, up
/// to this many, computed one after the other by one worker: each task pays for starting
/// libtorch and loading its data, which is most of a small node's time.
const SMALL_PER_TASK: usize = 16;

/// The most tasks of one array: Slurm's default `MaxArraySize` (1001) allows indices 0–1000.
const MAX_ARRAY: usize = 1000;

/// How long squeue may keep failing (the controller unreachable) before the nodes in flight
/// fail.
const SQUEUE_PATIENCE: Duration = Duration::from_secs(5 * 60);

/// How many lines of a failed task's log a failure quotes.
const LOG_TAIL: usize = 15;

/// Where jobs run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Job arrays submitted with `sbatch`.
    Batch,
    /// Job steps (`srun`) inside the allocation munl itself runs in.
    Steps,
}

/// What every job asks Slurm for, from the command line or a profile.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Resources {
    pub(crate) partition: Option<String>,
    pub(crate) account: Option<String>,
    /// `--time`, as Slurm writes it (`30`, `2:00:00`, `1-00:00:00`).
    pub(crate) time: Option<String>,
    /// GPUs per job (`--gres=gpu:N`).
    pub(crate) gpus: u32,
    pub(crate) cpus: Option<u32>,
    /// `--mem`, as Slurm writes it (`16G`).
    pub(crate) mem: Option<String>,
    /// More options, passed as they are (`--qos=high`, `--constraint=a100`).
    pub(crate) options: Vec<String>,
}

impl Resources {
    /// The options shared by `sbatch` and `srun`.
    pub(crate) fn args(&self) -> Vec<String> {
        let mut out = vec![];
        let mut push = |flag: &str, value: &Option<String>| {
            if let Some(v) = value {
                out.push(format!("--{flag}={v}"));
            }
        };
        push("partition", &self.partition);
        push("account", &self.account);
        push("time", &self.time);
        push("mem", &self.mem);
        if let Some(c) = self.cpus {
            out.push(format!("--cpus-per-task={c}"));
        }
        if self.gpus > 0 {
            out.push(format!("--gres=gpu:{}", self.gpus));
        }
        out.extend(self.options.iter().cloned());
        out
    }
}

/// The `sbatch` arguments of one array of `tasks` tasks whose logs go to `spool`.
pub(crate) fn sbatch_args(resources: &Resources, tasks: usize, spool: &Path, script: &Path) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_string(),
        format!("--array=0-{}", tasks.saturating_sub(1)),
        "--job-name=munl".to_string(),
        format!("--output={}", spool.join("%A_%a.log").display()),
    ];
    args.extend(resources.args());
    args.push(script.display().to_string());
    args
}

/// A request's state, as the poller knows it.
enum Flight {
    /// Written, waiting for the next array; whether the node is small (see `SMALL_PER_TASK`).
    Queued { small: bool },
    /// A task of a submitted array: its job id (`123_4`) and log.
    Submitted { job: String, log: PathBuf, state: String, missing: u32 },
    /// Its outcome, for the thread waiting in `run`.
    Over(Result<(), NodeFailure>),
}

struct State {
    flights: HashMap<u64, Flight>,
    /// Set when the backend is dropped: the helper threads end.
    closing: bool,
    threads: bool,
    /// `srun` steps running, by request (Steps mode).
    steps: HashMap<u64, u32>,
}

/// The cluster executor: a `Backend` whose jobs are Slurm tasks.
pub(crate) struct Slurm {
    inner: Arc<Inner>,
    next: AtomicU64,
    aborted: AtomicBool,
}

/// What the executor and its submitting and polling threads share.
struct Inner {
    mode: Mode,
    resources: Resources,
    /// `cpu`, `cuda`, `cuda:N`: what the worker computes on inside a job.
    device: String,
    worker: PathBuf,
    spool: PathBuf,
    batch_window: Duration,
    state: Mutex<State>,
    changed: Condvar,
}

impl Slurm {
    /// An executor whose requests, replies and logs go to a fresh folder under `spool_root`.
    pub(crate) fn new(
        mode: Mode,
        resources: Resources,
        device: &str,
        spool_root: &Path,
        batch_window: Duration,
    ) -> std::io::Result<Slurm> {
        let spool = spool_root.join(crate::cache::unique_name("run"));
        std::fs::create_dir_all(&spool)?;
        Ok(Slurm {
            inner: Arc::new(Inner {
                mode,
                resources,
                device: device.to_string(),
                worker: super::worker_exe(),
                spool: std::path::absolute(&spool)?,
                batch_window,
                state: Mutex::new(State {
                    flights: HashMap::new(),
                    closing: false,
                    threads: false,
                    steps: HashMap::new(),
                }),
                changed: Condvar::new(),
            }),
            next: AtomicU64::new(0),
            aborted: AtomicBool::new(false),
        })
    }

    /// Where this run's requests, replies and job logs are.
    pub(crate) fn spool(&self) -> &Path {
        &self.inner.spool
    }

    /// Writes the job's request file; its id.
    fn write_request(&self, job: &Job<'_>) -> Result<u64, NodeFailure> {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let request = Request::of(id, job);
        let path = self.inner.request_path(id);
        let bytes = serde_json::to_vec(&request).map_err(|e| NodeFailure::new(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(|e| NodeFailure::io(format!("cannot write {}: {e}", path.display())))?;
        Ok(id)
    }

    /// Starts the submitting and polling threads once.
    fn start_threads(&self, s: &mut State) {
        if s.threads {
            return;
        }
        s.threads = true;
        let inner = self.inner.clone();
        std::thread::spawn(move || inner.submit_loop());
        let inner = self.inner.clone();
        std::thread::spawn(move || inner.poll_loop());
    }
}

impl Abort for Slurm {
    /// Cancels every job of the run (`scancel`) and fails the nodes waiting for one: the run is
    /// stopping.
    fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        let mut s = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut arrays: Vec<String> = vec![];
        for flight in s.flights.values_mut() {
            if let Flight::Submitted { job, .. } = flight {
                let array = job.split('_').next().unwrap_or(job).to_string();
                if !arrays.contains(&array) {
                    arrays.push(array);
                }
            }
            if !matches!(flight, Flight::Over(_)) {
                *flight = Flight::Over(Err(NodeFailure::new("the run is stopping: its Slurm job was cancelled")));
            }
        }
        for pid in s.steps.values() {
            // srun forwards the signal to its step and ends it.
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        }
        s.steps.clear();
        drop(s);
        if !arrays.is_empty() {
            let _ = Command::new("scancel").args(&arrays).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        self.inner.changed.notify_all();
    }
}

impl Inner {
    fn request_path(&self, id: u64) -> PathBuf {
        self.spool.join(format!("{id}.json"))
    }

    fn reply_path(&self, id: u64) -> PathBuf {
        self.spool.join(format!("{id}.reply.json"))
    }

    /// The reply of a finished task, with where it ran; `None` when there is none (yet).
    fn reply(&self, id: u64, job: &str, log: &Path) -> Option<Result<(), NodeFailure>> {
        let bytes = std::fs::read(self.reply_path(id)).ok()?;
        Some(match serde_json::from_slice::<Reply>(&bytes) {
            Ok(Reply::Done { .. }) => Ok(()),
            Ok(Reply::Failed { failure, .. }) => {
                let help = format!("Slurm job {job}, log {}", log.display());
                let help = failure.help.as_ref().map_or(help.clone(), |h| format!("{h}\n{help}"));
                Err(NodeFailure { help: Some(help), ..failure })
            }
            Ok(Reply::Progress { .. }) | Err(_) => Err(NodeFailure::new(format!("Slurm job {job} wrote a bad reply"))),
        })
    }

    /// Gathers queued requests for `batch_window` and submits them as one array, until closing.
    fn submit_loop(&self) {
        loop {
            {
                let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                while !s.closing && !s.flights.values().any(|f| matches!(f, Flight::Queued { .. })) {
                    s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                if s.closing {
                    return;
                }
            }
            std::thread::sleep(self.batch_window);
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let mut queued: Vec<(u64, bool)> = s
                .flights
                .iter()
                .filter_map(|(id, f)| match f {
                    Flight::Queued { small } => Some((*id, *small)),
                    _ => None,
                })
                .collect();
            queued.sort_unstable();
            // Arrays of at most `MAX_ARRAY` tasks: Slurm refuses larger ones by default.
            for array_tasks in tasks(&queued).chunks(MAX_ARRAY) {
                let outcome = self.submit(array_tasks);
                for (i, task) in array_tasks.iter().enumerate() {
                    for id in task {
                        let flight = match &outcome {
                            Ok(array) => Flight::Submitted {
                                job: format!("{array}_{i}"),
                                log: self.spool.join(format!("{array}_{i}.log")),
                                state: "PENDING".into(),
                                missing: 0,
                            },
                            Err(failure) => Flight::Over(Err(failure.clone())),
                        };
                        s.flights.insert(*id, flight);
                    }
                }
            }
            drop(s);
            self.changed.notify_all();
        }
    }

    /// Submits one array whose task i computes the requests `tasks[i]`; its job id.
    fn submit(&self, tasks: &[Vec<u64>]) -> Result<String, NodeFailure> {
        let batch = tasks.first().and_then(|t| t.first()).copied().unwrap_or(0);
        let list = self.spool.join(format!("batch-{batch}.list"));
        let script = self.spool.join(format!("batch-{batch}.sh"));
        let lines: String =
            tasks.iter().map(|t| t.iter().map(u64::to_string).collect::<Vec<_>>().join(" ") + "\n").collect();
        let body = format!(
            "#!/bin/sh\n# munl: the nodes of each array task, one line of {list} a task (see `munl run --executor slurm`).\n\
             set --\n\
             for id in $(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" '{list}'); do\n\
             \x20 set -- \"$@\" \"{spool}/$id.json\" \"{spool}/$id.reply.json\"\n\
             done\n\
             exec '{worker}' run-one '{device}' \"$@\"\n",
            list = list.display(),
            worker = self.worker.display(),
            device = self.device,
            spool = self.spool.display(),
        );
        let io = |e: std::io::Error| NodeFailure::io(format!("cannot write the job script {}: {e}", script.display()));
        std::fs::write(&list, lines).map_err(io)?;
        std::fs::write(&script, body).map_err(io)?;
        let args = sbatch_args(&self.resources, tasks.len(), &self.spool, &script);
        let out = Command::new("sbatch").args(&args).output().map_err(|e| {
            NodeFailure::new(format!("cannot run sbatch: {e}")).with_help("run munl where Slurm's commands are on PATH")
        })?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(NodeFailure::new(format!("sbatch refused the job: {why}"))
                .with_help(format!("sbatch {}", args.join(" "))));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        // `--parsable` prints `JOBID` or `JOBID;CLUSTER`.
        let array = text.trim().split(';').next().unwrap_or("").to_string();
        if array.is_empty() {
            return Err(NodeFailure::new(format!("sbatch printed no job id: {text}")));
        }
        Ok(array)
    }

    /// Asks the queue about the submitted tasks every `POLL`, settling each whose reply came or
    /// that left the queue without one, until closing.
    fn poll_loop(&self) {
        let mut failing_since: Option<Instant> = None;
        loop {
            std::thread::sleep(POLL);
            let arrays: Vec<String> = {
                let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if s.closing {
                    return;
                }
                let mut a: Vec<String> = s
                    .flights
                    .values()
                    .filter_map(|f| match f {
                        Flight::Submitted { job, .. } => job.split('_').next().map(str::to_string),
                        _ => None,
                    })
                    .collect();
                a.sort();
                a.dedup();
                a
            };
            if arrays.is_empty() {
                continue;
            }
            let queue = squeue(&arrays);
            // A controller that stays unreachable fails the nodes in flight rather than leaving
            // the run waiting for ever; a short outage (a controller restart) is waited out.
            let unreachable = match &queue {
                Ok(_) => {
                    failing_since = None;
                    None
                }
                Err(why) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    (since.elapsed() >= SQUEUE_PATIENCE).then(|| why.clone())
                }
            };
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            for (id, flight) in s.flights.iter_mut() {
                let Flight::Submitted { job, log, state, missing } = flight else { continue };
                if let Some(outcome) = self.reply(*id, job, log) {
                    *flight = Flight::Over(outcome);
                    continue;
                }
                match queue.as_ref().map(|q| q.get(job.as_str())) {
                    Ok(Some(now)) => {
                        *state = now.clone();
                        *missing = 0;
                    }
                    // Not in the queue, and no reply yet.
                    Ok(None) => {
                        *missing += 1;
                        if *missing >= GRACE_POLLS {
                            *flight = Flight::Over(Err(lost(job, log)));
                        }
                    }
                    // squeue failed: ask again later, unless it has failed for too long.
                    Err(_) => {
                        if let Some(why) = &unreachable {
                            let message = format!(
                                "Slurm could not be asked about job {job} for {} minutes",
                                SQUEUE_PATIENCE.as_secs() / 60
                            );
                            *flight = Flight::Over(Err(NodeFailure::new(message)
                                .with_help(format!("squeue: {why}; the job may still run: `scancel {job}` if so"))));
                        }
                    }
                }
            }
            drop(s);
            self.changed.notify_all();
        }
    }

    /// Runs one node as a job step inside the allocation (Steps mode).
    fn run_step(&self, id: u64, job: &Job<'_>) -> Result<(), NodeFailure> {
        let log = self.spool.join(format!("{id}.log"));
        let mut args =
            vec!["--exclusive".to_string(), "-N1".into(), "-n1".into(), format!("--job-name=munl:{}", job.node.label)];
        args.push(format!("--output={}", log.display()));
        args.extend(self.resources.args());
        let child: Child = Command::new("srun")
            .args(&args)
            .arg(&self.worker)
            .args(["run-one", &self.device])
            .arg(self.request_path(id))
            .arg(self.reply_path(id))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                NodeFailure::new(format!("cannot run srun: {e}"))
                    .with_help("`--executor srun` runs inside a Slurm allocation")
            })?;
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.steps.insert(id, child.id());
        }
        let out = child.wait_with_output();
        self.state.lock().unwrap_or_else(|e| e.into_inner()).steps.remove(&id);
        let step = std::env::var("SLURM_JOB_ID").map_or("a step".to_string(), |j| format!("a step of job {j}"));
        if let Some(outcome) = self.reply(id, &step, &log) {
            return outcome;
        }
        let why = out.map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string()).unwrap_or_default();
        Err(lost(&step, &log).with_help(format!("{}\nsrun: {why}", lost(&step, &log).help.unwrap_or_default())))
    }
}

/// Whether a node is small enough to share an array task: everything but training, unlearning
/// and searches (and a search's trials).
fn is_small(node: &crate::plan::Node) -> bool {
    use crate::plan::NodeKind;
    !matches!(node.kind(), NodeKind::Train | NodeKind::Unlearn | NodeKind::Search | NodeKind::Trial)
}

/// The array tasks of some queued requests (id, small), in id order: each large node alone,
/// small ones `SMALL_PER_TASK` to a task.
fn tasks(queued: &[(u64, bool)]) -> Vec<Vec<u64>> {
    let mut out: Vec<Vec<u64>> = queued.iter().filter(|(_, small)| !small).map(|(id, _)| vec![*id]).collect();
    let small: Vec<u64> = queued.iter().filter(|(_, small)| *small).map(|(id, _)| *id).collect();
    out.extend(small.chunks(SMALL_PER_TASK).map(<[u64]>::to_vec));
    out
}

/// The failure of a task that ended without a reply: its job id, and its log's last lines.
fn lost(job: &str, log: &Path) -> NodeFailure {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].iter().map(|l| format!("  {l}")).collect::<Vec<_>>();
    let help = if tail.is_empty() {
        format!("log {} (empty or missing): the job may have been cancelled, timed out or lost its node", log.display())
    } else {
        format!("log {}, which ends:\n{}", log.display(), tail.join("\n"))
    };
    NodeFailure::new(format!("Slurm job {job} ended without a result")).with_help(help)
}

/// The state of every task of `arrays` in the queue (`123_4` → `RUNNING`), or why squeue
/// failed.
fn squeue(arrays: &[String]) -> Result<HashMap<String, String>, String> {
    let out = Command::new("squeue")
        .args(["--noheader", "--array", "--format=%i %T", &format!("--jobs={}", arrays.join(","))])
        .output()
        .map_err(|e| format!("cannot run squeue: {e}"))?;
    // squeue fails for ids it no longer knows; then every task has left the queue.
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return if err.contains("Invalid job id") { Ok(HashMap::new()) } else { Err(err) };
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(job, state)| (job.to_string(), state.trim().to_string())))
        .collect())
}

impl Backend for Slurm {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        if self.aborted.load(Ordering::SeqCst) {
            return Err(NodeFailure::new("the run is stopping"));
        }
        let id = self.write_request(job)?;
        if self.inner.mode == Mode::Steps {
            return self.inner.run_step(id, job);
        }
        let mut s = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        s.flights.insert(id, Flight::Queued { small: is_small(job.node) });
        self.start_threads(&mut s);
        self.inner.changed.notify_all();
        let mut shown = String::new();
        loop {
            match s.flights.get(&id) {
                Some(Flight::Over(_)) => break,
                Some(Flight::Submitted { job: name, state, .. }) => {
                    let now = format!("Slurm job {name} {}", state.to_lowercase());
                    if now != shown {
                        (job.progress)(0, 1, &now);
                        shown = now;
                    }
                }
                Some(Flight::Queued { .. }) => {}
                None => return Err(NodeFailure::new("internal error: a Slurm request was lost")),
            }
            s = self.inner.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        match s.flights.remove(&id) {
            Some(Flight::Over(outcome)) => outcome,
            _ => unreachable!("matched above"),
        }
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        let mut s = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        s.closing = true;
        drop(s);
        self.inner.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbatch_arguments_carry_every_resource() {
        let r = Resources {
            partition: Some("gpu".into()),
            account: Some("lab".into()),
            time: Some("2:00:00".into()),
            gpus: 2,
            cpus: Some(8),
            mem: Some("32G".into()),
            options: vec!["--qos=high".into()],
        };
        let args = sbatch_args(&r, 10, Path::new("/shared/cache/slurm/run.1"), Path::new("/s/batch-0.sh"));
        assert_eq!(
            args,
            [
                "--parsable",
                "--array=0-9",
                "--job-name=munl",
                "--output=/shared/cache/slurm/run.1/%A_%a.log",
                "--partition=gpu",
                "--account=lab",
                "--time=2:00:00",
                "--mem=32G",
                "--cpus-per-task=8",
                "--gres=gpu:2",
                "--qos=high",
                "/s/batch-0.sh"
            ]
        );
        assert_eq!(Resources::default().args(), Vec::<String>::new());
    }

    #[test]
    fn small_nodes_share_tasks_and_large_ones_have_their_own() {
        let queued: Vec<(u64, bool)> = (0..40).map(|id| (id, id % 10 != 0)).collect();
        let t = tasks(&queued);
        assert_eq!(t[..4], [vec![0], vec![10], vec![20], vec![30]]);
        assert_eq!(t[4].len(), SMALL_PER_TASK);
        assert_eq!(t.iter().map(Vec::len).sum::<usize>(), 40);
        assert_eq!(t.len(), 4 + 36usize.div_ceil(SMALL_PER_TASK));
        assert!(tasks(&[]).is_empty());
    }

    #[test]
    fn a_lost_task_quotes_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("12_3.log");
        std::fs::write(
            &log,
            "munl-torch: computing `train original [seed=0]`\nslurmstepd: error: *** JOB 12 CANCELLED ***\n",
        )
        .unwrap();
        let f = lost("12_3", &log);
        assert_eq!(f.message, "Slurm job 12_3 ended without a result");
        let help = f.help.unwrap();
        assert!(help.contains("12_3.log") && help.contains("CANCELLED"), "{help}");
        assert!(lost("12_4", &dir.path().join("none.log")).help.unwrap().contains("cancelled, timed out"));
    }
}
