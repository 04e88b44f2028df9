//! The command line: the only module that knows clap, the terminal, progress bars and colours.

mod cache_cmd;
mod cluster;
mod colour;
mod devices;
mod diff;
mod edit;
mod fmt_cmd;
mod freeze;
mod generate;
mod help;
mod interrupt;
mod load;
mod methods;
mod overrides;
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

/// Exit codes, one per outcome (listed in `munl --help` by `help`): success, a user error
/// (diagnostics printed), a node failed, work pending (`munl plan --exit-code`), a usage error
/// (as sysexits' `EX_USAGE`). A run stopped by a signal exits with 128 + its number (130 for
/// Ctrl-C, 143 for SIGTERM; see `interrupt`).
pub(crate) const EXIT_OK: u8 = 0;
pub(crate) const EXIT_USER: u8 = 1;
pub(crate) const EXIT_FAILED: u8 = 2;
pub(crate) const EXIT_PENDING: u8 = 3;
pub(crate) const EXIT_USAGE: u8 = 64;

#[derive(Parser, Debug)]
#[command(
    name = "munl",
    version,
    about = "Declarative, cached machine-unlearning benchmarks",
    after_help = help::AFTER_HELP,
    after_long_help = help::AFTER_LONG_HELP
)]
struct Cli {
    /// The cache folder: every node's stored results.
    #[arg(long, global = true, env = "MUNL_CACHE", hide_env_values = true, default_value = "cache")]
    cache: PathBuf,
    /// Set a declaration's field (`ft.lr=0.02`) or a file setting (`seeds=0..3`) as if the
    /// file said so (the same keys and checks), without editing it; repeatable, applied in order.
    #[arg(long = "set", global = true, value_name = "DECL.FIELD=VALUE", value_parser = overrides::Override::parse)]
    set: Vec<overrides::Override>,
    /// When to colour diagnostics and help: `auto` on a terminal unless `NO_COLOR` is set.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = colour::Choice::Auto)]
    color: colour::Choice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and check a .munl file; print every problem at once.
    Check {
        /// The `.munl` file.
        file: PathBuf,
        /// The problems as one JSON array on stdout (`[]` when there is none): file, severity,
        /// code, message, help, and labels with byte offsets, lines and columns.
        #[arg(long)]
        json: bool,
    },
    /// Show which nodes are cached and which will run, and why.
    Plan {
        /// The `.munl` file.
        file: PathBuf,
        /// Declarations or node labels to plan for (default: every report).
        targets: Vec<String>,
        /// One JSON object per node and line.
        #[arg(long)]
        json: bool,
        /// Exit 3 if any node would run, 0 if everything is cached (as `git diff --exit-code`).
        #[arg(long)]
        exit_code: bool,
        /// Print nothing on stdout (problems in the file still go to stderr); implies `--exit-code`.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Run what the targets need and the cache lacks.
    Run {
        /// The `.munl` file.
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
    Graph {
        /// The `.munl` file.
        file: PathBuf,
    },
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
    /// Serve the Language Server Protocol on stdin/stdout, for editors: diagnostics as you
    /// type, completion and hover.
    Lsp,
    /// Show one node: parameters, inputs, status and stored results.
    Show {
        /// The `.munl` file.
        file: PathBuf,
        /// A node label (`unlearn ft [seed=0]`), a declaration name, or a key prefix.
        node: String,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Compare two experiment files or two `report.json` files.
    ///
    /// Experiment files: nodes, parameters, and the cached metrics of their evaluations;
    /// reports: metrics, ranks, values. Exits 0 whether or not they differ.
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
    /// Write a tuned method's best values into its block in place of its search.
    ///
    /// Comments are kept; the method's runs then no longer need the searches.
    Freeze {
        /// The `.munl` file, rewritten in place.
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
    /// Time training steps of an architecture on resident random data.
    ///
    /// `--concurrent` for trainings at once, `--epoch` for a whole epoch, `--breakdown` for
    /// where the time goes.
    Bench {
        /// `cnn`, `resnet18` or `vit11m` (10 classes, 3×32×32 images).
        #[arg(long, default_value = "cnn")]
        arch: String,
        /// Images per training step.
        #[arg(long, default_value_t = 256)]
        batch: usize,
        /// Timed steps per training (after 3 warm-up steps).
        #[arg(long, default_value_t = 20)]
        steps: usize,
        /// `auto`, `cpu`, `cuda` or `cuda:N`.
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
    /// Print a shell's completion script.
    ///
    /// For example `munl completions bash > ~/.local/share/bash-completion/completions/munl`,
    /// or `munl completions zsh > ~/.zfunc/_munl` with `~/.zfunc` in `fpath`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, in roff.
    ///
    /// `munl man | man -l -` shows it; `munl man > ~/.local/share/man/man1/munl.1` installs it.
    Man,
}

#[derive(Subcommand, Debug)]
enum CacheCommand {
    /// List entries.
    Ls,
    /// Disk usage by node kind.
    Du,
    /// Remove entries: keep what the FILEs need, `--recent` (the latest result of every node
    /// label) and/or what `--older-than DAYS` spares; one of them must be given.
    Gc {
        /// `.munl` files: the entries their plans use are kept.
        files: Vec<PathBuf>,
        /// Keep the latest result of every node label (what the last runs of every file wrote).
        #[arg(long)]
        recent: bool,
        /// Keep every entry created less than DAYS ago.
        #[arg(long, value_name = "DAYS")]
        older_than: Option<f64>,
        /// List what would be removed; remove nothing.
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
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    colour::set(cli.color);
    overrides::set(cli.set.clone());
    let code = match cli.command {
        Command::Check { file, json: false } => load::check(&file),
        Command::Check { file, json: true } => load::check_json(&file),
        Command::Plan { file, targets, json, exit_code, quiet } => {
            plan_cmd::plan(&file, &cli.cache, &targets, json, plan_cmd::Status { exit_code, quiet })
        }
        Command::Run { file, targets, jobs, device, keep_going, timings, cluster } => {
            let how = run::How { jobs, device: device.as_deref(), keep_going, timings };
            run::run(&file, &cli.cache, &targets, &how, &cluster)
        }
        Command::Graph { file } => plan_cmd::graph(&file, &cli.cache),
        Command::Fmt { .. } if !overrides::current().is_empty() => {
            fail("`munl fmt` formats files as written: `--set` does not apply")
        }
        Command::Fmt { files, check } => fmt_cmd::fmt(&files, check),
        Command::Freeze { file, name, dry_run } => freeze::freeze(&file, &cli.cache, &name, dry_run),
        Command::Methods { name, all } => methods::methods(name.as_deref(), all),
        Command::Lsp => crate::lsp::serve(),
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
        Command::Completions { shell } => generate::completions(command(colour::Choice::Never), shell),
        Command::Man => generate::man(command(colour::Choice::Never)),
    };
    ExitCode::from(code)
}

/// The command line's definition, its help coloured as `colour` says.
fn command(colour: colour::Choice) -> clap::Command {
    use clap::CommandFactory;
    Cli::command().color(colour.for_clap())
}

/// Parses the command line. Help and version go to stdout (exit 0); a usage error is printed
/// by clap and exits `EXIT_USAGE`, not clap's 2, which is a failed node's.
fn parse() -> Result<Cli, u8> {
    use clap::FromArgMatches;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = command(colour::prescan(&args)).try_get_matches_from(&args).and_then(|m| Cli::from_arg_matches(&m));
    parsed.map_err(|e| {
        let _ = e.print();
        if e.use_stderr() {
            EXIT_USAGE
        } else {
            EXIT_OK
        }
    })
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
