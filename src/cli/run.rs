//! `munl run` and `munl bench`.

use crate::backend::Routed;
use crate::exec::{execute, worker_exe, ExecError, RunOptions, Stop, WorkerBackend};
use crate::plan::NodeKind;
use crate::report::Tables;
use std::path::Path;

use super::load::{load_with_cache, report, targets};
use super::progress::Progress;
use super::{EXIT_FAILED, EXIT_OK};

/// `munl run FILE [TARGET…]`
pub(crate) fn run(
    file: &Path,
    cache_root: &Path,
    names: &[String],
    jobs: usize,
    device: Option<&str>,
    keep_going: bool,
) -> u8 {
    let (loaded, cache) = match load_with_cache(file, cache_root) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let plan = &loaded.plan;
    let targets = match targets(plan, names) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // Started on first use: a run with nothing to compute never loads libtorch.
    let worker = WorkerBackend::new(device.unwrap_or(&loaded.experiment.device));
    let backend = Routed { tables: &Tables, compute: &worker };
    let progress = Progress::new(plan);
    let options = RunOptions { jobs, keep_going, stop: Stop::default() };
    let on_signal = |signal| {
        progress.say(&format!(
            "munl: {}: stopping; what has finished stays cached (again to exit at once)",
            super::interrupt::name(signal)
        ));
        options.stop.request(signal);
        worker.abort();
    };
    let summary = super::interrupt::while_handling(on_signal, || {
        execute(plan, &targets, &cache, &backend, &options, &|e| progress.event(e))
    });
    progress.finish();

    for (id, failure) in &summary.failed {
        let node = plan.node(*id);
        let error = ExecError {
            label: node.label.clone(),
            message: failure.message.clone(),
            span: node.span,
            help: failure.help.clone(),
        };
        report(&error, &loaded.sources[node.source]);
    }
    let mut stdout = String::new();
    let mut unwritten = 0;
    for id in &targets {
        let node = plan.node(*id);
        if node.kind() != NodeKind::Report {
            continue;
        }
        let Some(entry) = cache.lookup(&node.key) else { continue };
        let done = crate::report::materialise(node, &entry.dir);
        for path in &done.written {
            eprintln!("wrote   {}", path.display());
        }
        for (path, e) in &done.failed {
            eprintln!("error: `{}` cannot write `{}`: {e}", node.label, path.display());
        }
        // The report's own result is committed; only copying it out failed, which fails the run.
        unwritten += usize::from(!done.failed.is_empty());
        if let Some(md) = crate::report::summary_markdown(&entry.dir) {
            stdout.push_str(&md);
            stdout.push('\n');
        }
    }
    print!("{stdout}");
    let counts = format!(
        "{} ran, {} cached, {} failed",
        summary.ran.len(),
        summary.hits.len(),
        summary.failed.len() + unwritten
    );
    if let Some(signal) = summary.stopped_by {
        for id in &summary.abandoned {
            eprintln!("abandoned {}", plan.node(*id).label);
        }
        eprintln!(
            "munl: stopped by {}: {counts}, {} abandoned, {} not started in {:.2}s",
            super::interrupt::name(signal),
            summary.abandoned.len(),
            summary.skipped.len(),
            summary.seconds
        );
        return super::interrupt::exit_code(signal);
    }
    eprintln!("munl: {counts}, {} skipped in {:.2}s", summary.skipped.len(), summary.seconds);
    if summary.failed.is_empty() && unwritten == 0 {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// `munl bench`: runs in the worker, which owns libtorch.
pub(crate) fn bench(device: &str, arch: &str, batch: usize, steps: usize) -> u8 {
    let exe = worker_exe();
    let args = ["bench".to_string(), device.into(), arch.into(), batch.to_string(), steps.to_string()];
    match std::process::Command::new(&exe).args(args).status() {
        Ok(status) if status.success() => EXIT_OK,
        Ok(_) => EXIT_FAILED,
        Err(e) => super::fail(format!("cannot start the torch worker {}: {e}", exe.display())),
    }
}
