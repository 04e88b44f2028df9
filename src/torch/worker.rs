//! The `munl-torch` worker process: the only executable that loads libtorch.
//!
//! `munl-torch serve DEVICE` computes nodes sent by the `munl` front end (see `backend::protocol`);
//! `munl-torch bench SPEC [--json]` times training steps for `munl bench` (SPEC: `BenchSpec` as JSON);
//! `munl-torch run-one DEVICE REQUEST REPLY [REQUEST REPLY…]` computes the nodes of a cluster job;
//! `munl-torch devices` prints how many CUDA devices libtorch sees (for `munl run --device all`).

use std::process::ExitCode;

use crate::artifact::NodeFailure;
use crate::backend::serve;
use crate::backend::{Backend, Job};

use super::TorchBackend;

/// Answers every job with the error that kept the backend from starting (e.g. no CUDA).
struct Unavailable(NodeFailure);

impl Backend for Unavailable {
    fn run(&self, _job: &Job<'_>) -> Result<(), NodeFailure> {
        Err(self.0.clone())
    }
}

/// Entry point of the worker executable.
pub fn worker_main() -> ExitCode {
    // Panics are caught per node and reported as that node's failure; the default hook would
    // print them a second time.
    std::panic::set_hook(Box::new(|_| {}));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["serve", device] => {
            // Lives as long as the process: the jobs' threads outlive `serve` when it returns.
            let backend: &'static (dyn Backend + Sync) = match TorchBackend::new(device) {
                Ok(backend) => Box::leak(Box::new(backend)),
                Err(e) => Box::leak(Box::new(Unavailable(e))),
            };
            serve(backend, std::io::stdin().lock(), std::io::stdout());
            // The request pipe closed: the front end is done, or gone (killed, crashed). Leave
            // now, even mid-node, and without running libtorch's static destructors under the
            // threads still inside it.
            // SAFETY: `_exit` ends the process at once; nothing after it runs.
            unsafe { libc::_exit(0) }
        }
        // Nodes of a batch job (`munl run --executor slurm|srun`), one after the other in this
        // process (datasets stay resident between them): request and reply files on the shared
        // filesystem, in pairs.
        ["run-one", device, files @ ..] if !files.is_empty() && files.len() % 2 == 0 => {
            let started = TorchBackend::new(device);
            let backend: &dyn Backend = match &started {
                Ok(backend) => backend,
                Err(e) => Box::leak(Box::new(Unavailable(e.clone()))),
            };
            let mut ok = true;
            for pair in files.chunks(2) {
                ok &= crate::backend::run_one(backend, pair[0].as_ref(), pair[1].as_ref());
            }
            // As after `serve`: no libtorch destructors under threads that may still run.
            // SAFETY: `_exit` ends the process at once; nothing after it runs.
            unsafe { libc::_exit(if ok { 0 } else { 1 }) }
        }
        ["devices"] => {
            println!("{}", tch::Cuda::device_count());
            ExitCode::SUCCESS
        }
        ["bench", spec, rest @ ..] => {
            let spec: super::BenchSpec = match serde_json::from_str(spec) {
                Ok(spec) => spec,
                Err(e) => {
                    eprintln!("munl-torch: the bench spec is not valid JSON: {e}");
                    return ExitCode::from(1);
                }
            };
            match super::bench(&spec) {
                Ok(result) if rest == ["--json"] => {
                    println!("{}", serde_json::to_string(&result).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Ok(result) => {
                    println!("{}", result.lines());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {}", e.message);
                    ExitCode::from(1)
                }
            }
        }
        _ => {
            eprintln!("munl-torch is munl's compute worker; run `munl` instead");
            ExitCode::from(1)
        }
    }
}
