//! The worker protocol: JSON lines on a worker process's stdin (requests) and stdout (replies),
//! and the worker's side of it. The engine's side is `exec::WorkerBackend`.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Mutex;

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

/// The worker's side: read requests from stdin, compute each on its own thread with `backend`,
/// write replies to stdout. Returns when stdin closes and every request has been answered.
pub(crate) fn serve(backend: &(dyn Backend + Sync)) {
    let out = Mutex::new(std::io::stdout());
    let send = |reply: &Reply| {
        if let Ok(mut line) = serde_json::to_string(reply) {
            line.push('\n');
            let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
            let _ = o.write_all(line.as_bytes());
            let _ = o.flush();
        }
    };
    std::thread::scope(|scope| {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let request: Request = match serde_json::from_str(&line) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("munl-torch: bad request: {e}");
                    continue;
                }
            };
            let send = &send;
            scope.spawn(move || {
                let inputs = request
                    .inputs
                    .iter()
                    .map(|i| Input { role: &i.role, node: &i.node, key: i.node.key, dir: &i.dir })
                    .collect();
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
    });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::digest::Key;
    use crate::lower::Dist;
    use crate::ops::Value;
    use crate::plan::{Paths, Payload, SearchSpec};
    use crate::search::SamplerKind;

    /// A node crosses to a worker process and back with its payload intact: a different
    /// executor needs nothing but the request.
    #[test]
    fn a_request_round_trips_with_its_typed_payload() {
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
        let node = Node {
            key: Key::of(b"search"),
            op: "finetune".into(),
            version: 3,
            payload: Payload::Search(spec),
            inputs: vec![],
            coords: BTreeMap::from([("seed".to_string(), 2)]),
            paths: Paths { data: Some("/data/mnist".into()), fetch: true, outputs: vec![] },
            label: "search ft [seed=2]".into(),
            decl: "ft".into(),
            span: crate::span::Span::new(3, 9),
        };
        let request = Request { id: 4, node: node.clone(), inputs: vec![], out: "/tmp/out".into() };
        let back: Request = serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
        assert_eq!(back.node.payload, node.payload);
        assert_eq!((back.node.key, back.node.seed(), back.node.paths), (node.key, Some(2), node.paths));
    }
}
