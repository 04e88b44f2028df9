//! `munl run` and `munl bench`.

use crate::backend::{Abort, Backend, BenchSpec, Pool, Routed, Usage};
use crate::exec::{execute, worker_exe, ExecError, RunOptions, Slurm, SlurmMode, Stop, WorkerBackend};
use crate::plan::NodeKind;
use crate::report::Tables;
use std::path::Path;

use super::load::{load_with_cache, report, targets};
use super::progress::Progress;
use super::{EXIT_FAILED, EXIT_OK};

/// `munl run FILE [TARGET…]`; `jobs` defaults to one per device (here), or to the jobs a
/// cluster may have in flight.
/// How `munl run` computes: its flags besides the file, the targets and the cluster's.
pub(crate) struct How<'a> {
    pub(crate) jobs: Option<usize>,
    pub(crate) device: Option<&'a str>,
    pub(crate) keep_going: bool,
    /// Time the phases of what is computed (`MUNL_TIMINGS=1` for the workers) and say where the
    /// time went.
    pub(crate) timings: bool,
}

pub(crate) fn run(
    file: &Path,
    cache_root: &Path,
    names: &[String],
    how: &How<'_>,
    cluster: &super::cluster::ClusterArgs,
) -> u8 {
    let (jobs, device, keep_going) = (how.jobs, how.device, how.keep_going);
    if how.timings {
        // Read by the workers this run starts (here, or as Slurm jobs, which inherit it).
        std::env::set_var("MUNL_TIMINGS", "1");
    }
    let placement = match super::cluster::placement(cluster) {
        Ok(p) => p,
        Err(e) => return super::fail(e),
    };
    let device = device.or(placement.device.as_deref());
    let jobs = jobs.or(placement.jobs);
    // A bad `--device` is refused before anything is read.
    if let Err(e) = device.map(super::devices::parse).transpose() {
        return device_error(&e);
    }
    if placement.slurm().is_some() && device.is_some_and(|d| d.contains(',') || d == "all") {
        return super::fail("on a cluster each job computes on one device: give `--device cpu`, `cuda` or `cuda:N`");
    }
    let (loaded, cache) = match load_with_cache(file, cache_root) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let plan = &loaded.plan;
    let targets = match targets(plan, names) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // Nodes compute here, one worker per device, each started on first use (a run with
    // nothing to compute never loads libtorch; `--device all` does, once, to count the
    // devices); or as Slurm jobs.
    let (devices, cluster) = match placement.slurm() {
        None => match super::devices::resolve(device, &loaded.experiment.device) {
            Ok(d) => (d, None),
            Err(e) => return device_error(&e),
        },
        Some(mode) => {
            let job_device = placement.job_device(device.or(Some(loaded.experiment.device.as_str())));
            match Slurm::new(
                mode,
                placement.resources.clone(),
                &job_device,
                &cache_root.join("slurm"),
                placement.batch_window,
            ) {
                Ok(slurm) => (vec![], Some(slurm)),
                Err(e) => {
                    return super::fail(format!("cannot create the job folder under {}: {e}", cache_root.display()))
                }
            }
        }
    };
    let worker = Pool::new(workers(&devices));
    let compute: &dyn Backend = match &cluster {
        Some(slurm) => slurm,
        None => &worker,
    };
    let backend = Routed { tables: &Tables, compute };
    let jobs = jobs.unwrap_or_else(|| match placement.slurm() {
        None => devices.len(),
        Some(mode) => cluster_jobs(mode),
    });
    let progress = Progress::new(plan).with_eta(estimates(plan, &cache), &pending(plan, &cache, &targets), jobs);
    let options = RunOptions { jobs, keep_going, stop: Stop::default() };
    let on_signal = |signal| {
        progress.say(&format!(
            "munl: {}: stopping; what has finished stays cached (again to exit at once)",
            super::interrupt::name(signal)
        ));
        options.stop.request(signal);
        worker.abort();
        if let Some(slurm) = &cluster {
            slurm.abort();
        }
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
    if how.timings {
        eprint!("{}", super::profile::table(plan, &cache, &summary.ran));
    }
    if let Some(slurm) = &cluster {
        // The requests, replies and logs of the jobs: kept when something failed, for the logs.
        if summary.failed.is_empty() && summary.stopped_by.is_none() {
            let _ = std::fs::remove_dir_all(slurm.spool());
        } else {
            eprintln!("munl: the jobs' logs are in {}", slurm.spool().display());
        }
    }
    if devices.len() > 1 {
        let labels = super::devices::labels(&devices);
        for (label, usage) in labels.iter().zip(worker.usage()) {
            eprintln!("{}", device_line(label, &usage, summary.seconds));
        }
    }
    // Nodes another run sharing the cache computed while this one waited for them.
    let others = match summary.elsewhere.len() {
        0 => String::new(),
        n => format!(", {n} by other runs"),
    };
    let counts = format!(
        "{} ran{others}, {} cached, {} failed",
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

/// Nodes in flight on a cluster by default: a job array's worth with `sbatch`; inside an
/// allocation, one per task it has (`SLURM_NTASKS`).
fn cluster_jobs(mode: SlurmMode) -> usize {
    match mode {
        SlurmMode::Batch => 100,
        SlurmMode::Steps => std::env::var("SLURM_NTASKS").ok().and_then(|n| n.parse().ok()).unwrap_or(1),
    }
}

/// One worker per device. Several `cpu` workers share the cores (`OMP_NUM_THREADS`, which
/// libtorch reads at start-up), unless the user set it.
fn workers(devices: &[String]) -> Vec<WorkerBackend> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = match std::env::var_os("OMP_NUM_THREADS") {
        Some(_) => None,
        None => super::devices::cpu_threads(devices, cores),
    };
    let worker = |device: &String| match threads {
        Some(n) if device == "cpu" => WorkerBackend::new(device).with_env("OMP_NUM_THREADS", &n.to_string()),
        _ => WorkerBackend::new(device),
    };
    devices.iter().map(worker).collect()
}

/// Prints a refused `--device` value with its help and returns the exit code.
fn device_error(e: &super::devices::DeviceError) -> u8 {
    let code = super::fail(e);
    eprintln!("  help: {}", e.help());
    code
}

/// One device's line of the run summary: `cuda:0: 41 nodes, busy 93 % of 12.4 s`, with the
/// failed nodes when there are some.
fn device_line(label: &str, usage: &Usage, seconds: f64) -> String {
    let nodes = if usage.computed == 1 { "node" } else { "nodes" };
    let failed = if usage.failed > 0 { format!(", {} failed", usage.failed) } else { String::new() };
    let share = if seconds > 0.0 { (100.0 * usage.busy.as_secs_f64() / seconds).min(100.0) } else { 0.0 };
    format!("{label}: {} {nodes}{failed}, busy {share:.0} % of {seconds:.1} s", usage.computed)
}

/// `munl bench`: runs in the worker, which owns libtorch.
pub(crate) fn bench(args: &BenchSpec, json: bool) -> u8 {
    let exe = worker_exe();
    let spec = serde_json::to_string(args).unwrap_or_default();
    let mut command = std::process::Command::new(&exe);
    command.args(["bench", &spec]);
    if json {
        command.arg("--json");
    }
    match command.status() {
        Ok(status) if status.success() => EXIT_OK,
        Ok(_) => EXIT_FAILED,
        Err(e) => super::fail(format!("cannot start the torch worker {}: {e}", exe.display())),
    }
}

/// Each node's estimated seconds from the cache's records (`None` for tables and for nodes with
/// nothing alike recorded).
fn estimates(plan: &crate::plan::Plan, cache: &crate::cache::Cache) -> Vec<Option<f64>> {
    let estimates = crate::plan::Estimator::new(cache, plan).estimate(plan);
    plan.ids()
        .map(|id| estimates[id.0].map(|e| e.seconds).filter(|_| super::plan_cmd::timed(plan.node(id).kind())))
        .collect()
}

/// The nodes a run of `targets` computes, as `munl plan` lists them.
fn pending(
    plan: &crate::plan::Plan,
    cache: &crate::cache::Cache,
    targets: &[crate::plan::NodeId],
) -> Vec<crate::plan::NodeId> {
    use crate::plan::StatusKind;
    let statuses = crate::plan::explain(plan, cache);
    crate::plan::demand(plan, targets, |id| (statuses[id.0].kind == StatusKind::Cached).then_some(()))
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| statuses[id.0].kind == StatusKind::Run)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_device_line_gives_nodes_failures_and_the_busy_share() {
        let usage = Usage { computed: 41, failed: 0, busy: Duration::from_secs_f64(11.532) };
        assert_eq!(device_line("cuda:0", &usage, 12.4), "cuda:0: 41 nodes, busy 93 % of 12.4 s");
        let usage = Usage { computed: 1, failed: 2, busy: Duration::from_secs(3) };
        assert_eq!(device_line("cpu #2", &usage, 12.0), "cpu #2: 1 node, 2 failed, busy 25 % of 12.0 s");
        let idle = Usage::default();
        assert_eq!(device_line("cuda:1", &idle, 0.0), "cuda:1: 0 nodes, busy 0 % of 0.0 s");
    }
}
