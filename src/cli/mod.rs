//! The command line: the only module that knows clap, the terminal, progress bars and colours.

mod cache_cmd;
mod cluster;
mod devices;
mod diff;
mod fmt_cmd;
mod freeze;
mod interrupt;
mod load;
mod methods;
mod plan_cmd;
mod profile;
mod progress;
mod run;
use crate::backend::BenchSpec;
mod show;
mod weights;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes: success, a user error (diagnostics printed), a node failed. A run stopped by a
/// signal exits with 128 + its number (130 for Ctrl-C, 143 for SIGTERM; see `interrupt`).
pub(crate) const EXIT_OK: u8 = 0;
pub(crate) const EXIT_USER: u8 = 1;
pub(crate) const EXIT_FAILED: u8 = 2;

#[derive(Parser, Debug)]
#[command(name = "munl", version, about = "Declarative, cached machine-unlearning benchmarks")]
struct Cli {
    /// Cache folder.
    #[arg(long, global = true, env = "MUNL_CACHE", default_value = "cache")]
    cache: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and check a .munl file; print every problem at once.
    Check { file: PathBuf },
    /// Show which nodes are cached and which will run, and why.
    Plan {
        file: PathBuf,
        /// Declarations or node labels to plan for (default: every report).
        targets: Vec<String>,
        /// One JSON object per node and line.
        #[arg(long)]
        json: bool,
    },
    /// Run what the targets need and the cache lacks.
    Run {
        file: PathBuf,
        /// Declarations or node labels to run (default: every report).
        targets: Vec<String>,
        /// Nodes to run at once (default: one per device).
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
        /// `auto`, `cpu`, `cuda`, `cuda:N`, a comma-separated list of those (one worker each,
        /// each node on the least loaded), or `all` (every CUDA device); default: the file's
        /// `device` setting.
        #[arg(long)]
        device: Option<String>,
        /// Keep running independent nodes after a failure.
        #[arg(long)]
        keep_going: bool,
        /// Time each phase of the trainings and methods computed (data, train- and eval-mode
        /// forward passes, backward, optimiser) into their `run.json`, and print where the time went. Each
        /// phase waits for the device, so profiled runs are slower (their RTE too).
        #[arg(long)]
        timings: bool,
        #[command(flatten)]
        cluster: Box<cluster::ClusterArgs>,
    },
    /// Print the plan as a Graphviz DOT graph.
    Graph { file: PathBuf },
    /// Rewrite .munl files in the canonical layout, comments kept.
    Fmt {
        /// Files to format; a folder stands for every `.munl` file under it.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing: list the files that are not formatted, with their first difference,
        /// and exit 1 if there is any.
        #[arg(long)]
        check: bool,
    },
    /// List unlearning methods (or every operation of the catalogue) with fields and defaults.
    Methods {
        /// One method or operation, or a Python file (`methods/mine.py`): the methods it defines.
        name: Option<String>,
        /// Every operation, not only unlearning methods.
        #[arg(long)]
        all: bool,
    },
    /// Show one node: parameters, inputs, status and stored results.
    Show {
        file: PathBuf,
        /// A node label (`unlearn ft [seed=0]`), a declaration name, or a key prefix.
        node: String,
        #[arg(long)]
        json: bool,
    },
    /// Compare two experiment files (nodes, parameters, and the cached metrics of their
    /// evaluations) or two `report.json` files (metrics, ranks, values); exits 0 whether or
    /// not they differ.
    Diff {
        /// The old side: a `.munl` file or a `report.json` that munl wrote.
        a: PathBuf,
        /// The new side, of the same kind as A.
        b: PathBuf,
        /// One JSON object (schema `munl.diff/1`) instead of text.
        #[arg(long, conflicts_with = "md")]
        json: bool,
        /// Markdown tables instead of text.
        #[arg(long)]
        md: bool,
        /// List every metric, rank and value of the methods in both, changed or not.
        #[arg(long)]
        all: bool,
    },
    /// Write a tuned method's best values into its block in place of its search, comments
    /// kept (its runs then no longer need the searches).
    Freeze {
        file: PathBuf,
        /// The `unlearn` declaration whose searches have run.
        name: String,
        /// Print the rewritten file instead of writing it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Inspect and maintain the cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Time training steps of an architecture on resident random data (`--concurrent`,
    /// `--epoch`, `--breakdown` for where the time goes).
    Bench {
        /// `cnn`, `resnet18` or `vit11m` (10 classes, 3×32×32 images).
        #[arg(long, default_value = "cnn")]
        arch: String,
        #[arg(long, default_value_t = 256)]
        batch: usize,
        /// Timed steps per training (after 3 warm-up steps).
        #[arg(long, default_value_t = 20)]
        steps: usize,
        #[arg(long, default_value = "auto")]
        device: String,
        /// Trainings at once, each on its own thread and, on a GPU, its own stream: their
        /// aggregate images/s.
        #[arg(long, default_value_t = 1)]
        concurrent: usize,
        /// Time one epoch over N images (the loss read once, as in a node) instead of `--steps`.
        #[arg(long, value_name = "N")]
        epoch: Option<usize>,
        /// Also time each phase of a step (data, forward+loss, backward, optimiser).
        #[arg(long)]
        breakdown: bool,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum CacheCommand {
    /// List entries.
    Ls,
    /// Disk usage by node kind.
    Du,
    /// Remove entries no experiment needs: with files, keep what their plans use; without,
    /// keep the latest result of every node ever run.
    /// Remove entries: keep what the FILEs need, `--recent` (the latest result of every node
    /// label) and/or what `--older-than DAYS` spares; one of them must be given.
    Gc {
        files: Vec<PathBuf>,
        /// Keep the latest result of every node label (what the last runs of every file wrote).
        #[arg(long)]
        recent: bool,
        /// Keep every entry created less than DAYS ago.
        #[arg(long, value_name = "DAYS")]
        older_than: Option<f64>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Re-hash every file of every entry.
    Verify {
        /// Remove the entries with problems, so that the next run recomputes them.
        #[arg(long)]
        evict: bool,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check { file } => load::check(&file),
        Command::Plan { file, targets, json } => plan_cmd::plan(&file, &cli.cache, &targets, json),
        Command::Run { file, targets, jobs, device, keep_going, timings, cluster } => {
            let how = run::How { jobs, device: device.as_deref(), keep_going, timings };
            run::run(&file, &cli.cache, &targets, &how, &cluster)
        }
        Command::Graph { file } => plan_cmd::graph(&file, &cli.cache),
        Command::Fmt { files, check } => fmt_cmd::fmt(&files, check),
        Command::Freeze { file, name, dry_run } => freeze::freeze(&file, &cli.cache, &name, dry_run),
        Command::Methods { name, all } => methods::methods(name.as_deref(), all),
        Command::Show { file, node, json } => show::show(&file, &cli.cache, &node, json),
        Command::Diff { a, b, json, md, all } => diff::diff(&a, &b, &cli.cache, diff::Style::of(json, md), all),
        Command::Cache { command } => match command {
            CacheCommand::Ls => cache_cmd::ls(&cli.cache),
            CacheCommand::Du => cache_cmd::du(&cli.cache),
            CacheCommand::Gc { files, recent, older_than, dry_run } => {
                cache_cmd::gc(&cli.cache, &cache_cmd::Keep { files, recent, older_than }, dry_run)
            }
            CacheCommand::Verify { evict } => cache_cmd::verify(&cli.cache, evict),
        },
        Command::Bench { arch, batch, steps, device, concurrent, epoch, breakdown, json } => {
            run::bench(&BenchSpec { device, arch, batch, steps, concurrent, epoch, breakdown }, json)
        }
    };
    ExitCode::from(code)
}

/// Exit status when the reader of stdout went away (`munl plan … | head`): 128 + SIGPIPE, as a
/// shell reports a process that the signal ended.
pub(crate) const EXIT_CLOSED_PIPE: i32 = 141;

/// Makes every command end quietly when its output pipe closes, as Unix tools do. Rust ignores
/// SIGPIPE, so `println!` panics on the closed pipe instead; this is the one place that turns
/// that panic into a silent exit, whichever command was printing.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = crate::artifact::panic_text(info.payload()).unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("os error 32") {
            std::process::exit(EXIT_CLOSED_PIPE);
        }
        default(info);
    }));
}

/// Prints an error message that has no source location.
pub(crate) fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    EXIT_USER
}
