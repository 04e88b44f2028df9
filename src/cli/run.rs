//! `munl run` and `munl bench`.

use std::path::Path;
use std::sync::OnceLock;

use crate::exec::{execute, Backend, ExecError, Job, NodeFailure, RunOptions};
use crate::plan::NodeKind;
use crate::torch::TorchBackend;

use super::load::{cache, load, report, targets};
use super::progress::Progress;
use super::{EXIT_FAILED, EXIT_OK};

/// Creates the torch backend on first use, so a run with nothing to do never loads a device.
struct Lazy<'a> {
    device: &'a str,
    backend: OnceLock<Result<TorchBackend, NodeFailure>>,
}

impl Backend for Lazy<'_> {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        match self.backend.get_or_init(|| TorchBackend::new(self.device)) {
            Ok(backend) => backend.run(job),
            Err(e) => Err(e.clone()),
        }
    }
}

/// `munl run FILE [TARGET…]`
pub(crate) fn run(
    file: &Path,
    cache_root: &Path,
    names: &[String],
    jobs: usize,
    device: Option<&str>,
    keep_going: bool,
) -> u8 {
    let loaded = match load(file) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let cache = match cache(cache_root) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let plan = &loaded.plan;
    let targets = match targets(plan, names) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let backend = Lazy { device: device.unwrap_or(&loaded.experiment.device), backend: OnceLock::new() };
    let progress = Progress::new(plan);
    let options = RunOptions { jobs, keep_going };
    let summary = execute(plan, &targets, &cache, &backend, &options, &|e| progress.event(e));
    progress.finish();

    for (id, failure) in &summary.failed {
        let node = plan.node(*id);
        let error = ExecError {
            label: node.label.clone(),
            message: failure.message.clone(),
            span: node.span,
            help: failure.help.clone(),
        };
        report(&error, &loaded.source);
    }
    let mut stdout = String::new();
    for id in &targets {
        let node = plan.node(*id);
        if node.kind != NodeKind::Report {
            continue;
        }
        let Some(entry) = cache.lookup(&node.key) else { continue };
        match crate::report::materialise(node, &entry.dir) {
            Ok(written) => {
                for path in written {
                    eprintln!("wrote   {}", path.display());
                }
            }
            Err(e) => eprintln!("error: cannot write the files of `{}`: {e}", node.label),
        }
        if let Some(md) = crate::report::summary_markdown(&entry.dir) {
            stdout.push_str(&md);
            stdout.push('\n');
        }
    }
    print!("{stdout}");
    eprintln!(
        "munl: {} ran, {} cached, {} failed, {} skipped in {:.2}s",
        summary.ran.len(),
        summary.hits.len(),
        summary.failed.len(),
        summary.skipped.len(),
        summary.seconds
    );
    if summary.failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// `munl bench`
pub(crate) fn bench(device: &str, arch: &str, batch: usize, steps: usize) -> u8 {
    match crate::torch::bench(device, arch, batch, steps) {
        Ok(line) => {
            println!("{line}");
            EXIT_OK
        }
        Err(e) => super::fail(e.message),
    }
}
