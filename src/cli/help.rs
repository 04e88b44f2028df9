//! The sections `munl --help` ends with: exit status and environment variables.

/// After the options of `munl -h`: where the rest is.
pub(super) const AFTER_HELP: &str =
    "`munl --help` also lists the exit status and the environment variables munl reads.";

/// After the options of `munl --help`. The codes are `EXIT_*` in `cli`; a test checks each is
/// listed.
pub(super) const AFTER_LONG_HELP: &str = "\
Exit status:
  0    success (`munl plan --exit-code`: nothing to run)
  1    a problem in a file (diagnostics on stderr) or in an argument's value; `munl fmt
       --check`: a file is not formatted
  2    a node failed (the other nodes' results are kept)
  3    `munl plan --exit-code`: something would run
  64   usage error: an unknown option or subcommand, a missing argument
  130  `munl run` stopped by Ctrl-C (SIGINT); 143 by SIGTERM, 129 by SIGHUP (128 + the signal)
  141  stdout was closed early (`munl plan … | head`)

Environment:
  MUNL_CACHE          the cache folder, as `--cache` (default `cache`)
  MUNL_DATA           the data root: dataset folders are found under it (default `data`)
  MUNL_WORKER         the torch worker executable (default `munl-torch` beside `munl`)
  MUNL_PYTHON         the Python interpreter of Python methods (default `python3` on the PATH)
  MUNL_EXECUTOR       `munl run --executor`: `local`, `slurm` or `srun`
  MUNL_PROFILE        `munl run --profile`: a file of cluster options
  MUNL_TIMINGS        set to 1 by `munl run --timings` for its workers: time each phase
  MUNL_CLAIM_TIMEOUT  seconds without a heartbeat after which a node claimed by a run on
                      another host is taken over (default 60)
  MUNL_BACKTRACE      set (not `0`) to keep libtorch's whole error text, C++ backtrace included
  OMP_NUM_THREADS     threads of each `cpu` worker (default: the cores shared among them)
  SLURM_NTASKS        set by Slurm: with `--executor srun`, the default of `--jobs`
  NO_COLOR            set (not empty) for no colour under `--color auto`
  CLICOLOR_FORCE      set (not empty or `0`) for colour under `--color auto`, even when stderr
                      is not a terminal";

#[cfg(test)]
mod tests {
    use super::AFTER_LONG_HELP;
    use crate::cli::{EXIT_CLOSED_PIPE, EXIT_FAILED, EXIT_OK, EXIT_PENDING, EXIT_USAGE, EXIT_USER};

    /// Every subcommand has a summary and every argument a help text, however deep.
    #[test]
    fn every_subcommand_and_argument_is_described() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(path.clone());
                }
                walk(sub, &path, missing);
            }
        }
        let mut missing = vec![];
        let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
        command.build();
        walk(&command, "munl", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:?}");
    }

    #[test]
    fn every_exit_code_is_listed() {
        let status = AFTER_LONG_HELP.split("Environment:").next().unwrap();
        for code in [EXIT_OK, EXIT_USER, EXIT_FAILED, EXIT_PENDING, EXIT_USAGE] {
            assert!(status.contains(&format!("\n  {code:<4} ")), "exit code {code} is not listed");
        }
        assert!(status.contains(&format!("\n  {EXIT_CLOSED_PIPE:<4} ")));
        assert!(status.contains("\n  130 ") && status.contains("143 by SIGTERM"));
    }
}
