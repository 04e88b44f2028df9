//! The worker protocol: JSON lines on a worker process's stdin (requests) and stdout (replies),
//! and the worker's side of it. The engine's side is `exec::WorkerBackend`.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::{Backend, Input, Job};
use crate::artifact::NodeFailure;
use crate::plan::Node;

/// Compute `node` from `inputs` into `out`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) id: u64,
    pub(crate) node: Node,
    pub(crate) inputs: Vec<WireInput>,
    pub(crate) out: PathBuf,
}

impl Request {
    /// The request for `job`, numbered `id`. Paths are made absolute, so that a worker reads
    /// them wherever it runs from (a batch job's folder is not the front end's).
    pub(crate) fn of(id: u64, job: &Job<'_>) -> Request {
        let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        Request {
            id,
            node: job.node.clone(),
            inputs: job
                .inputs
                .iter()
                .map(|i| WireInput { role: i.role.to_string(), node: i.node.clone(), dir: absolute(i.dir) })
                .collect(),
            out: absolute(job.out),
        }
    }

    /// The job's inputs, as the backend takes them.
    fn inputs(&self) -> Vec<Input<'_>> {
        self.inputs.iter().map(|i| Input { role: &i.role, node: &i.node, key: i.node.key, dir: &i.dir }).collect()
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct WireInput {
    pub(crate) role: String,
    pub(crate) node: Node,
    pub(crate) dir: PathBuf,
}

/// One line from the worker about request `id`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Reply {
    Progress { id: u64, done: u64, total: u64, message: String },
    Done { id: u64 },
    Failed { id: u64, failure: NodeFailure },
}

/// The worker's side: reads requests from `requests`, computes each on its own thread with
/// `backend`, writes replies to `replies`. Returns as soon as `requests` ends, without waiting
/// for the jobs in flight: the end of the request pipe means the front end is done or gone, so
/// the caller exits the process, abandoning whatever still runs (their folders are the front
/// end's to remove).
pub(crate) fn serve(
    backend: &'static (dyn Backend + Sync),
    requests: impl BufRead,
    replies: impl Write + Send + 'static,
) {
    let out = Arc::new(Mutex::new(replies));
    let send = move |reply: &Reply| {
        if let Ok(mut line) = serde_json::to_string(reply) {
            line.push('\n');
            let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = o.write_all(line.as_bytes());
            let _ = o.flush();
        }
    };
    for line in requests.lines() {
        let Ok(line) = line else { break };
        let request: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("munl-torch: bad request: {e}");
                continue;
            }
        };
        let send = send.clone();
        std::thread::spawn(move || {
            let inputs = request.inputs();
            let id = request.id;
            let progress = |done: u64, total: u64, message: &str| {
                send(&Reply::Progress { id, done, total, message: message.to_string() })
            };
            let job = Job { node: &request.node, inputs, out: &request.out, progress: &progress };
            match backend.run(&job) {
                Ok(()) => send(&Reply::Done { id }),
                Err(failure) => send(&Reply::Failed { id, failure }),
            }
        });
    }
}

/// The worker's side of a batch job (a cluster executor's): computes the request in the file
/// `request` with `backend` and writes its reply to the file `reply`, atomically (written
/// beside it, then renamed), so that whoever waits for it never reads half a reply. Progress
/// goes to the error output, which the job's log keeps. `false` if the reply could not be
/// written.
pub(crate) fn run_one(backend: &dyn Backend, request: &std::path::Path, reply: &std::path::Path) -> bool {
    let answer = match std::fs::read(request).map_err(|e| e.to_string()).and_then(|bytes| {
        serde_json::from_slice::<Request>(&bytes).map_err(|e| format!("bad request {}: {e}", request.display()))
    }) {
        Err(e) => Reply::Failed { id: 0, failure: NodeFailure::io(e) },
        Ok(request) => {
            let id = request.id;
            let inputs = request.inputs();
            let label = &request.node.label;
            eprintln!("munl-torch: computing `{label}`");
            let progress = |done: u64, total: u64, message: &str| eprintln!("  {done}/{total} {message}");
            let job = Job { node: &request.node, inputs, out: &request.out, progress: &progress };
            match backend.run(&job) {
                Ok(()) => Reply::Done { id },
                Err(failure) => {
                    eprintln!("munl-torch: `{label}` failed: {}", failure.message);
                    Reply::Failed { id, failure }
                }
            }
        }
    };
    let partial = reply.with_extension("partial");
    let written = serde_json::to_vec(&answer)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(&partial, bytes))
        .and_then(|()| std::fs::rename(&partial, reply));
    if let Err(e) = &written {
        eprintln!("munl-torch: cannot write the reply {}: {e}", reply.display());
    }
    written.is_ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::time::Duration;

    use super::*;
    use crate::digest::Key;
    use crate::lower::Dist;
    use crate::ops::Value;
    use crate::plan::{Paths, Payload, SearchSpec};
    use crate::search::SamplerKind;

    fn search_node() -> Node {
        let spec = SearchSpec {
            fixed: BTreeMap::from([("batch".to_string(), Value::Int(64))]),
            space: vec![
                ("lr".into(), Dist::LogUniform(1e-5, 0.1)),
                ("momentum".into(), Dist::Fixed(Value::Float(0.9))),
            ],
            sampler: SamplerKind::Nsga3Optuna5,
            trials: 7,
            prune_batch_above: Some(128),
        };
        Node {
            key: Key::of(b"search"),
            op: "finetune".into(),
            version: 3,
            payload: Payload::Search(spec),
            inputs: vec![],
            coords: BTreeMap::from([("seed".to_string(), 2)]),
            paths: Paths { data: Some("/data/mnist".into()), fetch: true, ..Paths::default() },
            label: "search ft [seed=2]".into(),
            decl: "ft".into(),
            span: crate::span::Span::new(3, 9),
            source: 0,
        }
    }

    /// A node crosses to a worker process and back with its payload intact: a different
    /// executor needs nothing but the request.
    #[test]
    fn a_request_round_trips_with_its_typed_payload() {
        let node = search_node();
        let request = Request { id: 4, node: node.clone(), inputs: vec![], out: "/tmp/out".into() };
        let back: Request = serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
        assert_eq!(back.node.payload, node.payload);
        assert_eq!((back.node.key, back.node.seed(), back.node.paths), (node.key, Some(2), node.paths));
    }

    /// A backend whose jobs run until the test lets them go.
    struct Blocking {
        started: Mutex<Sender<u64>>,
        release: Mutex<Receiver<()>>,
    }

    impl Backend for Blocking {
        fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
            let _ = self.started.lock().unwrap().send(job.node.key.hex().len() as u64);
            let _ = self.release.lock().unwrap().recv();
            Ok(())
        }
    }

    /// The end of the requests (the front end finished, or died) ends serving at once, even
    /// with a node still computing: a worker never outlives its `munl`.
    #[test]
    fn serving_ends_with_the_requests_even_mid_node() {
        let (started_tx, started_rx) = channel();
        let (release_tx, release_rx) = channel();
        let backend: &'static Blocking =
            Box::leak(Box::new(Blocking { started: Mutex::new(started_tx), release: Mutex::new(release_rx) }));
        let request = Request { id: 1, node: search_node(), inputs: vec![], out: "/nonexistent".into() };
        let requests = serde_json::to_string(&request).unwrap() + "\n";
        let (served_tx, served_rx) = channel();
        std::thread::spawn(move || {
            serve(backend, requests.as_bytes(), std::io::sink());
            let _ = served_tx.send(());
        });
        started_rx.recv_timeout(Duration::from_secs(10)).expect("the job starts");
        served_rx.recv_timeout(Duration::from_secs(5)).expect("serving ends while the job still runs");
        drop(release_tx);
    }
}

/// What `munl bench` asks the worker to measure (`munl-torch bench SPEC`, SPEC this as JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct BenchSpec {
    pub(crate) device: String,
    /// `cnn`, `resnet18` or `vit11m`, 10 classes, 3×32×32 images.
    pub(crate) arch: String,
    pub(crate) batch: usize,
    /// Timed steps per training (ignored with `epoch`).
    pub(crate) steps: usize,
    /// Trainings at once.
    pub(crate) concurrent: usize,
    /// Time one epoch over this many images instead of `steps` steps.
    pub(crate) epoch: Option<usize>,
    pub(crate) breakdown: bool,
}
