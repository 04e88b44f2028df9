//! The scheduler: find what must run, then run ready nodes on `jobs` worker threads.

use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::cache::{Cache, Claim, Claimed, Owner};
use crate::plan::{demand, NodeId, NodeKind, Plan};

use super::commit::compute_and_commit;
use super::fetch;
use super::Stop;
use crate::artifact::NodeFailure;
use crate::backend::{Backend, Input, Job};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Nodes run at once (at least 1).
    pub jobs: usize,
    /// Go on with independent nodes after a failure.
    pub keep_going: bool,
    /// Checked before each node starts; a node that fails after it is requested is abandoned
    /// rather than failed (stopping is what ended it).
    pub stop: Stop,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions { jobs: 1, keep_going: false, stop: Stop::default() }
    }
}

/// What happens during a run, for progress displays. Delivered from worker threads.
#[derive(Debug)]
pub enum Event<'a> {
    /// Sent once, before anything runs: how many nodes will run.
    Planned {
        to_run: usize,
    },
    /// A needed node whose result is in the cache.
    Hit(NodeId),
    Start(NodeId),
    Progress {
        id: NodeId,
        done: u64,
        total: u64,
        message: &'a str,
    },
    Done {
        id: NodeId,
        seconds: f64,
    },
    Failed {
        id: NodeId,
        failure: &'a NodeFailure,
    },
    /// Was running when the run was asked to stop; nothing of it is kept.
    Abandoned(NodeId),
    /// Not run: an input failed, or the run stopped (at an earlier failure, or when asked).
    Skipped(NodeId),
    /// Ready, but another process sharing the cache is computing it (`owner`: `host:pid`):
    /// this run waits for its result.
    Elsewhere {
        id: NodeId,
        owner: &'a str,
    },
    /// Its result appeared in the cache, computed by another process.
    DoneElsewhere(NodeId),
}

/// How often a run looks for the results of nodes other processes compute.
const POLL: Duration = Duration::from_millis(250);

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct Summary {
    pub hits: Vec<NodeId>,
    pub ran: Vec<NodeId>,
    /// Computed meanwhile by other processes sharing the cache (this run waited for them).
    pub elsewhere: Vec<NodeId>,
    pub failed: Vec<(NodeId, NodeFailure)>,
    /// Running when the run was asked to stop.
    pub abandoned: Vec<NodeId>,
    pub skipped: Vec<NodeId>,
    /// The signal that stopped the run (see [`Stop`]), if one did.
    pub stopped_by: Option<i32>,
    pub seconds: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Not needed, or a cache hit.
    Idle,
    Waiting,
    Running,
    /// Claimed by another process; polled until its result appears or its claim goes.
    Elsewhere,
    Done,
    Failed,
    Abandoned,
    Skipped,
}

struct Shared {
    state: Vec<State>,
    /// The committed folder of every node that is available (hit or done).
    entry: Vec<Option<PathBuf>>,
    running: usize,
    /// Nodes in `State::Elsewhere`, and when they were last looked for.
    elsewhere: usize,
    polled: Instant,
    stop: bool,
    summary: Summary,
}

/// Runs what `targets` need and the cache lacks.
pub fn execute(
    plan: &Plan,
    targets: &[NodeId],
    cache: &Cache,
    backend: &dyn Backend,
    options: &RunOptions,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Summary {
    let started = Instant::now();
    let n = plan.nodes.len();
    let mut shared = Shared {
        state: vec![State::Idle; n],
        entry: vec![None; n],
        running: 0,
        elsewhere: 0,
        polled: Instant::now(),
        stop: false,
        summary: Summary::default(),
    };
    // Demand: walk down from the targets, stopping at cache hits (as `munl plan` counts).
    for (id, hit) in demand(plan, targets, |id| cache.lookup(&plan.node(id).key)) {
        match hit {
            Some(entry) => {
                shared.entry[id.0] = Some(entry.dir);
                shared.summary.hits.push(id);
                remember(cache, plan, id);
                on_event(Event::Hit(id));
            }
            None => shared.state[id.0] = State::Waiting,
        }
    }
    shared.summary.hits.sort();
    on_event(Event::Planned { to_run: shared.state.iter().filter(|s| **s == State::Waiting).count() });

    let shared = Mutex::new(shared);
    let wake = Condvar::new();
    let workers = options.jobs.max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| worker(plan, cache, backend, options, on_event, &shared, &wake));
        }
    });
    let mut summary = shared.into_inner().unwrap_or_else(|e| e.into_inner()).summary;
    summary.ran.sort();
    summary.elsewhere.sort();
    summary.skipped.sort();
    summary.abandoned.sort();
    summary.stopped_by = options.stop.requested();
    summary.seconds = started.elapsed().as_secs_f64();
    summary
}

fn worker(
    plan: &Plan,
    cache: &Cache,
    backend: &dyn Backend,
    options: &RunOptions,
    on_event: &(dyn Fn(Event<'_>) + Sync),
    shared: &Mutex<Shared>,
    wake: &Condvar,
) {
    loop {
        let (id, inputs) = {
            let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if options.stop.requested().is_some() {
                    s.stop = true;
                }
                if s.elsewhere > 0 && s.polled.elapsed() >= POLL {
                    poll_elsewhere(plan, cache, &mut s, on_event);
                }
                match next_ready(plan, &mut s, on_event) {
                    Next::Run(id, inputs) => {
                        s.state[id.0] = State::Running;
                        s.running += 1;
                        break (id, inputs);
                    }
                    Next::Finished => {
                        wake.notify_all();
                        return;
                    }
                    // Results of other processes arrive without a wake-up: look every POLL.
                    Next::Wait if s.elsewhere > 0 => {
                        s = wake.wait_timeout(s, POLL).unwrap_or_else(|e| e.into_inner()).0
                    }
                    Next::Wait => s = wake.wait(s).unwrap_or_else(|e| e.into_inner()),
                }
            }
        };
        let claim = match turn(cache, plan, id) {
            Turn::Compute(claim) => claim,
            other => {
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                s.running -= 1;
                settle(&mut s, id, other, options, on_event);
                wake.notify_all();
                continue;
            }
        };
        on_event(Event::Start(id));
        let t0 = Instant::now();
        let result = run_node(plan, cache, backend, options.jobs.max(1), id, &inputs, on_event);
        // Released once the result is committed (or nothing is): a waiting process then finds
        // the entry, or takes the node over.
        drop(claim);
        let seconds = t0.elapsed().as_secs_f64();
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        s.running -= 1;
        match result {
            Ok(dir) => {
                s.state[id.0] = State::Done;
                s.entry[id.0] = Some(dir);
                s.summary.ran.push(id);
                on_event(Event::Done { id, seconds });
            }
            Err(_) if options.stop.requested().is_some() => {
                s.state[id.0] = State::Abandoned;
                s.stop = true;
                s.summary.abandoned.push(id);
                on_event(Event::Abandoned(id));
            }
            Err(failure) => {
                s.state[id.0] = State::Failed;
                on_event(Event::Failed { id, failure: &failure });
                s.summary.failed.push((id, failure));
                if !options.keep_going {
                    s.stop = true;
                }
            }
        }
        wake.notify_all();
    }
}

/// What this run does with a ready node, decided against the other processes.
enum Turn {
    /// Compute it, holding its claim.
    Compute(Claim),
    /// Its result is in the cache now (another process committed it).
    Cached(PathBuf),
    /// Another live process computes it.
    Elsewhere(Owner),
    /// The cache could not be read or written.
    Failed(NodeFailure),
}

/// Claims node `id`, unless its result has appeared or another process holds it.
fn turn(cache: &Cache, plan: &Plan, id: NodeId) -> Turn {
    let key = &plan.node(id).key;
    if let Some(entry) = cache.lookup(key) {
        return Turn::Cached(entry.dir);
    }
    match cache.claim(key) {
        // Committed between the lookup and the claim by a process that has released it since.
        Ok(Claimed::Mine(claim)) => match cache.lookup(key) {
            Some(entry) => Turn::Cached(entry.dir),
            None => Turn::Compute(claim),
        },
        Ok(Claimed::Held(owner)) => Turn::Elsewhere(owner),
        Err(e) => Turn::Failed(NodeFailure::io(format!("cannot claim the node in the cache: {e}"))),
    }
}

/// Records a turn that computes nothing here.
fn settle(s: &mut Shared, id: NodeId, turn: Turn, options: &RunOptions, on_event: &(dyn Fn(Event<'_>) + Sync)) {
    match turn {
        Turn::Cached(dir) => {
            s.state[id.0] = State::Done;
            s.entry[id.0] = Some(dir);
            s.summary.elsewhere.push(id);
            on_event(Event::DoneElsewhere(id));
        }
        Turn::Elsewhere(owner) => {
            s.state[id.0] = State::Elsewhere;
            s.elsewhere += 1;
            on_event(Event::Elsewhere { id, owner: &owner.name() });
        }
        Turn::Failed(failure) => {
            s.state[id.0] = State::Failed;
            on_event(Event::Failed { id, failure: &failure });
            s.summary.failed.push((id, failure));
            if !options.keep_going {
                s.stop = true;
            }
        }
        Turn::Compute(_) => unreachable!("a computed node is not settled here"),
    }
}

/// Looks for the results of nodes other processes compute: a committed one is done; one whose
/// claim is gone (its owner failed, stopped or died) is ready again, for this run to claim.
fn poll_elsewhere(plan: &Plan, cache: &Cache, s: &mut Shared, on_event: &(dyn Fn(Event<'_>) + Sync)) {
    s.polled = Instant::now();
    for i in 0..s.state.len() {
        if s.state[i] != State::Elsewhere {
            continue;
        }
        let key = &plan.nodes[i].key;
        if let Some(entry) = cache.lookup(key) {
            s.state[i] = State::Done;
            s.entry[i] = Some(entry.dir);
            s.elsewhere -= 1;
            s.summary.elsewhere.push(NodeId(i));
            on_event(Event::DoneElsewhere(NodeId(i)));
        } else if cache.holder(key).is_none() {
            s.state[i] = State::Waiting;
            s.elsewhere -= 1;
        }
    }
}

enum Next {
    Run(NodeId, Vec<PathBuf>),
    Wait,
    Finished,
}

/// The lowest-id waiting node whose inputs are all available; propagates skips.
fn next_ready(plan: &Plan, s: &mut Shared, on_event: &(dyn Fn(Event<'_>) + Sync)) -> Next {
    let mut waiting = false;
    for i in 0..s.state.len() {
        // A node waited for elsewhere is not waited for once the run stops.
        if s.state[i] == State::Elsewhere && s.stop {
            s.state[i] = State::Skipped;
            s.elsewhere -= 1;
            s.summary.skipped.push(NodeId(i));
            on_event(Event::Skipped(NodeId(i)));
            continue;
        }
        if s.state[i] != State::Waiting {
            continue;
        }
        let node = &plan.nodes[i];
        let blocked = node
            .inputs
            .iter()
            .any(|(_, inp)| matches!(s.state[inp.0], State::Failed | State::Abandoned | State::Skipped));
        if blocked || s.stop {
            s.state[i] = State::Skipped;
            s.summary.skipped.push(NodeId(i));
            on_event(Event::Skipped(NodeId(i)));
            continue;
        }
        let inputs: Option<Vec<PathBuf>> = node.inputs.iter().map(|(_, inp)| s.entry[inp.0].clone()).collect();
        match inputs {
            Some(dirs) => return Next::Run(NodeId(i), dirs),
            None => waiting = true,
        }
    }
    if waiting || s.running > 0 || s.elsewhere > 0 {
        Next::Wait
    } else {
        Next::Finished
    }
}

/// Computes one node into a fresh cache folder and commits it.
fn run_node(
    plan: &Plan,
    cache: &Cache,
    backend: &dyn Backend,
    jobs: usize,
    id: NodeId,
    dirs: &[PathBuf],
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Result<PathBuf, NodeFailure> {
    let node = plan.node(id);
    let inputs: Vec<Input<'_>> = node
        .inputs
        .iter()
        .zip(dirs)
        .map(|((role, input), dir)| Input { role, node: plan.node(*input), key: plan.node(*input).key, dir })
        .collect();
    let progress = |done: u64, total: u64, message: &str| on_event(Event::Progress { id, done, total, message });
    let (dir, ()) = compute_and_commit(cache, node, &plan.descriptions[id.0], |out| {
        // A tuned method reaches its backend with its searches' best values filled in.
        let resolved = super::search::resolve(node, &inputs)?;
        let job = Job { node: resolved.as_ref().unwrap_or(node), inputs, out, progress: &progress };
        match node.kind() {
            NodeKind::Search => super::search::run(&job, cache, backend, jobs),
            NodeKind::Dataset => {
                if let (Some(dir), true) = (node.data_dir(), node.paths.fetch) {
                    fetch::ensure(&node.op, dir, &progress)?;
                }
                backend.run(&job)
            }
            NodeKind::Unlearn => {
                backend.run(&job)?;
                used_values(&job, out)
            }
            _ => backend.run(&job),
        }
    })?;
    remember(cache, plan, id);
    Ok(dir)
}

/// Records, beside a method's model, the values its run received (a tuned method's searched
/// fields hold the best trial's): `values.json`, which `munl show` prints.
fn used_values(job: &Job<'_>, out: &std::path::Path) -> Result<(), NodeFailure> {
    let crate::plan::Payload::Unlearn { hyper, .. } = &job.node.payload else { return Ok(()) };
    let values: serde_json::Map<String, serde_json::Value> = hyper
        .iter()
        .filter(|(k, _)| !k.starts_with('@'))
        .map(|(k, v)| (k.clone(), serde_json::Value::from(v.to_string())))
        .collect();
    crate::artifact::write_json(&out.join(crate::artifact::file::VALUES), &values)
}

/// Records the node's current key under its label, for the next plan's explanations.
fn remember(cache: &Cache, plan: &Plan, id: NodeId) {
    let node = plan.node(id);
    if cache.recall(&node.label).is_some_and(|(k, _)| k == node.key) {
        return;
    }
    // Losing an explanation is harmless; the result itself is committed.
    let _ = cache.remember(&node.label, &node.key, &plan.descriptions[id.0].to_json());
}
