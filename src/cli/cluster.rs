//! Where `munl run` computes nodes: here (`local`), as Slurm job arrays (`slurm`), or as job
//! steps inside the allocation munl runs in (`srun`). Chosen on the command line or in a
//! profile file, never in the `.munl` file: the experiment is the same on any machine.
//!
//! A profile is lines of `key = value` (`#` starts a comment; values may be quoted), the keys
//! being the long options of `munl run` without their dashes:
//!
//! ```text
//! executor        = slurm
//! jobs            = 200          # nodes in flight
//! slurm-partition = gpu
//! slurm-gpus      = 1
//! slurm-time      = 4:00:00
//! slurm-option    = --qos=high   # repeatable
//! ```
//!
//! An option given on the command line wins over the profile's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::exec::{Resources, SlurmMode};

/// Where nodes are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Executor {
    /// Worker processes on this machine, one per device.
    Local,
    /// Slurm job arrays (`sbatch`), one task per node; the cache must be on a filesystem
    /// every node shares.
    Slurm,
    /// Job steps (`srun`) inside the allocation munl runs in (`salloc`, or `sbatch` of munl).
    Srun,
}

/// The cluster options of `munl run`.
#[derive(Args, Debug, Default)]
pub(crate) struct ClusterArgs {
    /// Where nodes are computed: `local`, `slurm` (job arrays) or `srun` (steps of the
    /// allocation munl runs in).
    #[arg(long, value_enum, env = "MUNL_EXECUTOR")]
    pub(crate) executor: Option<Executor>,
    /// A file of `key = value` lines with any of these options (see `src/cli/cluster.rs`).
    #[arg(long, env = "MUNL_PROFILE")]
    pub(crate) profile: Option<PathBuf>,
    /// Slurm partition.
    #[arg(long)]
    pub(crate) slurm_partition: Option<String>,
    /// Slurm account.
    #[arg(long)]
    pub(crate) slurm_account: Option<String>,
    /// Time limit of each job, as Slurm writes it (`30`, `4:00:00`).
    #[arg(long)]
    pub(crate) slurm_time: Option<String>,
    /// GPUs per job (`--gres=gpu:N`); with GPUs, nodes compute on `cuda` unless `--device`
    /// says otherwise.
    #[arg(long)]
    pub(crate) slurm_gpus: Option<u32>,
    /// CPUs per job.
    #[arg(long)]
    pub(crate) slurm_cpus: Option<u32>,
    /// Memory per job, as Slurm writes it (`16G`).
    #[arg(long)]
    pub(crate) slurm_mem: Option<String>,
    /// Another option for every `sbatch`/`srun`, as it is (`--qos=high`); repeatable.
    #[arg(long = "slurm-option", allow_hyphen_values = true)]
    pub(crate) slurm_options: Vec<String>,
    /// Seconds ready nodes are gathered for before they go out as one job array.
    #[arg(long)]
    pub(crate) slurm_batch_window: Option<f64>,
}

/// Everything `munl run` needs to know about where to compute, resolved.
#[derive(Debug, PartialEq)]
pub(crate) struct Placement {
    pub(crate) executor: Executor,
    pub(crate) resources: Resources,
    pub(crate) batch_window: Duration,
    /// `jobs` and `device` from the profile, for when the command line does not give them.
    pub(crate) jobs: Option<usize>,
    pub(crate) device: Option<String>,
}

impl Placement {
    /// The Slurm mode, unless nodes compute here.
    pub(crate) fn slurm(&self) -> Option<SlurmMode> {
        match self.executor {
            Executor::Local => None,
            Executor::Slurm => Some(SlurmMode::Batch),
            Executor::Srun => Some(SlurmMode::Steps),
        }
    }

    /// The device nodes compute on inside a job: `device` if given, else `cuda` for jobs with
    /// GPUs, `cpu` without.
    pub(crate) fn job_device(&self, device: Option<&str>) -> String {
        match device {
            Some(d) if d != "auto" => d.to_string(),
            _ if self.resources.gpus > 0 => "cuda".into(),
            _ => "cpu".into(),
        }
    }
}

/// The command line's options over the profile's (if one is named); an error names the
/// profile's line.
pub(crate) fn placement(args: &ClusterArgs) -> Result<Placement, String> {
    let profile = match &args.profile {
        Some(path) => read_profile(path)?,
        None => Profile::default(),
    };
    let executor = match (args.executor, profile.get("executor")) {
        (Some(e), _) => e,
        (None, Some((line, v))) => {
            Executor::from_str(v, true).map_err(|_| at(&profile, line, "executor is `local`, `slurm` or `srun`"))?
        }
        (None, None) => Executor::Local,
    };
    let text = |flag: &Option<String>, key: &str| flag.clone().or_else(|| profile.get(key).map(|(_, v)| v.to_string()));
    let number = |flag: Option<u32>, key: &str| -> Result<Option<u32>, String> {
        match (flag, profile.get(key)) {
            (Some(n), _) => Ok(Some(n)),
            (None, Some((line, v))) => {
                v.parse().map(Some).map_err(|_| at(&profile, line, &format!("{key} is a whole number")))
            }
            (None, None) => Ok(None),
        }
    };
    let mut options = profile.all("slurm-option");
    options.extend(args.slurm_options.iter().cloned());
    let window = match (args.slurm_batch_window, profile.get("slurm-batch-window")) {
        (Some(s), _) => s,
        (None, Some((line, v))) => {
            v.parse().map_err(|_| at(&profile, line, "slurm-batch-window is a number of seconds"))?
        }
        (None, None) => 1.0,
    };
    if !(0.0..=600.0).contains(&window) {
        return Err(format!("--slurm-batch-window is between 0 and 600 seconds, not {window}"));
    }
    let jobs = match profile.get("jobs") {
        Some((line, v)) => Some(v.parse::<usize>().map_err(|_| at(&profile, line, "jobs is a whole number"))?),
        None => None,
    };
    Ok(Placement {
        executor,
        resources: Resources {
            partition: text(&args.slurm_partition, "slurm-partition"),
            account: text(&args.slurm_account, "slurm-account"),
            time: text(&args.slurm_time, "slurm-time"),
            gpus: number(args.slurm_gpus, "slurm-gpus")?.unwrap_or(0),
            cpus: number(args.slurm_cpus, "slurm-cpus")?,
            mem: text(&args.slurm_mem, "slurm-mem"),
            options,
        },
        batch_window: Duration::from_secs_f64(window),
        jobs,
        device: profile.get("device").map(|(_, v)| v.to_string()),
    })
}

/// A profile's lines: (line number, key, value), and its path.
#[derive(Default)]
struct Profile {
    path: PathBuf,
    entries: Vec<(usize, String, String)>,
}

/// The keys a profile may set.
const KEYS: &[&str] = &[
    "executor",
    "jobs",
    "device",
    "slurm-partition",
    "slurm-account",
    "slurm-time",
    "slurm-gpus",
    "slurm-cpus",
    "slurm-mem",
    "slurm-option",
    "slurm-batch-window",
];

impl Profile {
    /// The last value of `key`, with its line.
    fn get(&self, key: &str) -> Option<(usize, &str)> {
        self.entries.iter().rev().find(|(_, k, _)| k == key).map(|(line, _, v)| (*line, v.as_str()))
    }

    /// Every value of `key`, in order.
    fn all(&self, key: &str) -> Vec<String> {
        self.entries.iter().filter(|(_, k, _)| k == key).map(|(_, _, v)| v.clone()).collect()
    }
}

/// An error at a profile's line.
fn at(profile: &Profile, line: usize, message: &str) -> String {
    format!("{}:{line}: {message}", profile.path.display())
}

fn read_profile(path: &Path) -> Result<Profile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the profile {}: {e}", path.display()))?;
    parse_profile(path, &text)
}

fn parse_profile(path: &Path, text: &str) -> Result<Profile, String> {
    let mut profile = Profile { path: path.to_path_buf(), entries: vec![] };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        // A `#` starts a comment, except inside quotes.
        let mut quoted = false;
        let end = raw
            .char_indices()
            .find(|&(_, c)| {
                quoted ^= c == '"';
                c == '#' && !quoted
            })
            .map_or(raw.len(), |(at, _)| at);
        let content = raw[..end].trim();
        if content.is_empty() {
            continue;
        }
        let Some((key, value)) = content.split_once('=') else {
            return Err(at(&profile, line, "expected `key = value`"));
        };
        let key = key.trim();
        if !KEYS.contains(&key) {
            let hint = crate::diag::did_you_mean(key, KEYS.iter().copied())
                .map_or(String::new(), |k| format!(" (did you mean `{k}`?)"));
            return Err(at(&profile, line, &format!("unknown key `{key}`{hint}")));
        }
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        profile.entries.push((line, key.to_string(), value.to_string()));
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_profile(text: &str, args: ClusterArgs) -> Result<Placement, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.profile");
        std::fs::write(&path, text).unwrap();
        placement(&ClusterArgs { profile: Some(path), ..args })
    }

    #[test]
    fn a_profile_sets_what_the_command_line_does_not() {
        let text = "# our lab's cluster\nexecutor = slurm\njobs = 200\nslurm-partition = \"gpu\"  # the A100s\n\
                    slurm-gpus = 1\nslurm-option = --qos=high\nslurm-option = \"--constraint=a100#80g\"\n";
        let args = ClusterArgs {
            slurm_partition: Some("debug".into()),
            slurm_options: vec!["--exclusive".into()],
            ..Default::default()
        };
        let p = with_profile(text, args).unwrap();
        assert_eq!(p.executor, Executor::Slurm);
        assert_eq!(p.jobs, Some(200));
        assert_eq!(p.resources.partition.as_deref(), Some("debug"), "the command line wins");
        assert_eq!(p.resources.gpus, 1);
        assert_eq!(p.resources.options, ["--qos=high", "--constraint=a100#80g", "--exclusive"]);
        assert_eq!(p.job_device(None), "cuda");
        assert_eq!(p.job_device(Some("cpu")), "cpu");
        assert_eq!(p.batch_window, Duration::from_secs(1));
    }

    #[test]
    fn a_bad_profile_line_is_named() {
        let err = with_profile("executor = slurm\nslurm-partiton = gpu\n", ClusterArgs::default()).unwrap_err();
        assert!(
            err.ends_with("cluster.profile:2: unknown key `slurm-partiton` (did you mean `slurm-partition`?)"),
            "{err}"
        );
        let err = with_profile("slurm-gpus = two\n", ClusterArgs::default()).unwrap_err();
        assert!(err.ends_with(":1: slurm-gpus is a whole number"), "{err}");
        let err = with_profile("executor = pbs\n", ClusterArgs::default()).unwrap_err();
        assert!(err.ends_with(":1: executor is `local`, `slurm` or `srun`"), "{err}");
        let err = with_profile("just words\n", ClusterArgs::default()).unwrap_err();
        assert!(err.ends_with(":1: expected `key = value`"), "{err}");
    }

    #[test]
    fn without_a_profile_nodes_compute_here() {
        let p = placement(&ClusterArgs::default()).unwrap();
        assert_eq!(p.executor, Executor::Local);
        assert_eq!(p.slurm(), None);
        assert_eq!(p.job_device(None), "cpu");
    }
}
