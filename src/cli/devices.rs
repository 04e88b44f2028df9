//! `--device`: one device, a comma-separated list of them (one worker each), or `all`.
//!
//! Only `all` needs to know the machine: the front end never loads libtorch, so it asks the
//! worker (`munl-torch devices`) how many CUDA devices there are.

use std::process::Command;

use thiserror::Error;

use crate::exec::worker_exe;

/// The device words the worker understands, for help texts.
const WORDS: &str = "`auto`, `cpu`, `cuda`, `cuda:N`, a comma-separated list of those, or `all`";

/// What `--device` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// These devices, one worker each, in this order.
    Listed(Vec<String>),
    /// Every CUDA device of the machine.
    All,
}

/// Why a `--device` value is refused, or `all` cannot be resolved.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub(crate) enum DeviceError {
    #[error("`--device {value}`: item {position} is empty")]
    Empty { value: String, position: usize },
    #[error("`--device`: unknown device `{0}`")]
    Unknown(String),
    #[error("`--device`: `{0}` is not a CUDA device number (`cuda:0`, `cuda:1`, …)")]
    BadIndex(String),
    #[error("`--device {0}`: `all` stands alone (it is every CUDA device already)")]
    AllInList(String),
    #[error("`--device all`: cannot count the CUDA devices: {0}")]
    Count(String),
}

impl DeviceError {
    /// What to do about it.
    pub(crate) fn help(&self) -> String {
        match self {
            DeviceError::Count(_) => {
                "build the worker with `cargo build --release` (the `munl-torch` binary), set MUNL_WORKER, or name the devices (`--device cuda:0,cuda:1`)".into()
            }
            _ => format!("use {WORDS}"),
        }
    }
}

/// Parses a `--device` value (spaces around items are allowed; CUDA numbers are normalised).
pub(crate) fn parse(value: &str) -> Result<Request, DeviceError> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items == ["all"] {
        return Ok(Request::All);
    }
    let device = |(i, item): (usize, &&str)| match *item {
        "" => Err(DeviceError::Empty { value: value.to_string(), position: i + 1 }),
        "all" => Err(DeviceError::AllInList(value.to_string())),
        word => parse_word(word),
    };
    items.iter().enumerate().map(device).collect::<Result<_, _>>().map(Request::Listed)
}

/// One device word: `auto`, `cpu`, `cuda` or `cuda:N`.
fn parse_word(word: &str) -> Result<String, DeviceError> {
    match word {
        "auto" | "cpu" | "cuda" => Ok(word.to_string()),
        _ => match word.strip_prefix("cuda:") {
            Some(n) => n.parse::<u32>().map(|n| format!("cuda:{n}")).map_err(|_| DeviceError::BadIndex(word.into())),
            None => Err(DeviceError::Unknown(word.into())),
        },
    }
}

/// The devices of `all` on a machine with `count` CUDA devices: each of them, or one `cpu`
/// when there is none.
pub(crate) fn every_cuda(count: usize) -> Vec<String> {
    if count == 0 {
        return vec!["cpu".into()];
    }
    (0..count).map(|i| format!("cuda:{i}")).collect()
}

/// How many CUDA devices libtorch sees, from `munl-torch devices` (which loads libtorch).
pub(crate) fn cuda_count() -> Result<usize, DeviceError> {
    let exe = worker_exe();
    let out = Command::new(&exe)
        .arg("devices")
        .output()
        .map_err(|e| DeviceError::Count(format!("cannot start the torch worker {}: {e}", exe.display())))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.trim().parse::<usize>() {
        Ok(n) if out.status.success() => Ok(n),
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said = stderr.lines().last().unwrap_or("").trim();
            Err(DeviceError::Count(format!("`{} devices` answered {}: {said}", exe.display(), out.status)))
        }
    }
}

/// The devices to run on: the `--device` value's, else the file's `device` setting (one).
/// `all` asks the worker, and says on stderr when it means the CPU.
pub(crate) fn resolve(flag: Option<&str>, file_device: &str) -> Result<Vec<String>, DeviceError> {
    let Some(value) = flag else { return Ok(vec![file_device.to_string()]) };
    match parse(value)? {
        Request::Listed(devices) => Ok(devices),
        Request::All => {
            let count = cuda_count()?;
            if count == 0 {
                eprintln!("munl: --device all: libtorch sees no CUDA device; computing on one cpu worker");
            }
            Ok(every_cuda(count))
        }
    }
}

/// The CPU threads each `cpu` worker gets when several share the machine's `cores`: an even
/// share, at least one. `None` with fewer than two (a lone worker uses every core); without
/// it, each worker's libtorch would use every core and they would fight over them.
pub(crate) fn cpu_threads(devices: &[String], cores: usize) -> Option<usize> {
    let workers = devices.iter().filter(|d| *d == "cpu").count();
    (workers > 1).then(|| (cores / workers).max(1))
}

/// A distinct name per device for the run summary: the device's own, with `#1`, `#2`, … on
/// devices named more than once (`--device cpu,cpu`).
pub(crate) fn labels(devices: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    devices
        .iter()
        .map(|d| {
            if devices.iter().filter(|e| *e == d).count() == 1 {
                return d.clone();
            }
            let n = seen.entry(d.as_str()).or_default();
            *n += 1;
            format!("{d} #{n}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(items: &[&str]) -> Result<Request, DeviceError> {
        Ok(Request::Listed(items.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn single_devices_and_lists() {
        assert_eq!(parse("cpu"), listed(&["cpu"]));
        assert_eq!(parse("auto"), listed(&["auto"]));
        assert_eq!(parse("cuda"), listed(&["cuda"]));
        assert_eq!(parse("cuda:1"), listed(&["cuda:1"]));
        assert_eq!(parse("cuda:0,cuda:1"), listed(&["cuda:0", "cuda:1"]));
        assert_eq!(parse("cuda:0, cuda:01"), listed(&["cuda:0", "cuda:1"]), "spaces and leading zeros");
        assert_eq!(parse("cpu,cpu"), listed(&["cpu", "cpu"]));
        assert_eq!(parse("all"), Ok(Request::All));
        assert_eq!(parse(" all "), Ok(Request::All));
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        assert_eq!(parse("nonsense"), Err(DeviceError::Unknown("nonsense".into())));
        assert_eq!(parse("gpu,cpu"), Err(DeviceError::Unknown("gpu".into())));
        assert_eq!(parse("cuda:x"), Err(DeviceError::BadIndex("cuda:x".into())));
        assert_eq!(parse("cuda:"), Err(DeviceError::BadIndex("cuda:".into())));
        assert_eq!(parse("cuda:-1"), Err(DeviceError::BadIndex("cuda:-1".into())));
        assert_eq!(parse("cpu,,cpu"), Err(DeviceError::Empty { value: "cpu,,cpu".into(), position: 2 }));
        assert_eq!(parse("cuda:0,"), Err(DeviceError::Empty { value: "cuda:0,".into(), position: 2 }));
        assert_eq!(parse(""), Err(DeviceError::Empty { value: "".into(), position: 1 }));
        assert_eq!(parse("all,cpu"), Err(DeviceError::AllInList("all,cpu".into())));
        let message = parse("cuda:x").unwrap_err().to_string();
        assert!(message.contains("`cuda:x` is not a CUDA device number"), "{message}");
        assert!(parse("x").unwrap_err().help().contains("`cuda:N`"));
    }

    #[test]
    fn all_is_every_cuda_device_or_the_cpu() {
        assert_eq!(every_cuda(0), ["cpu"]);
        assert_eq!(every_cuda(2), ["cuda:0", "cuda:1"]);
    }

    #[test]
    fn without_the_flag_the_file_decides() {
        assert_eq!(resolve(None, "cuda:1"), Ok(vec!["cuda:1".to_string()]));
        assert_eq!(resolve(Some("cpu,cpu"), "cuda:1"), Ok(vec!["cpu".to_string(), "cpu".to_string()]));
    }

    #[test]
    fn several_cpu_workers_share_the_cores() {
        let devices = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(cpu_threads(&devices(&["cpu"]), 16), None);
        assert_eq!(cpu_threads(&devices(&["cuda:0", "cuda:1"]), 16), None);
        assert_eq!(cpu_threads(&devices(&["cpu", "cpu"]), 16), Some(8));
        assert_eq!(cpu_threads(&devices(&["cpu", "cpu", "cpu"]), 16), Some(5));
        assert_eq!(cpu_threads(&devices(&["cpu", "cpu", "cpu"]), 2), Some(1));
        assert_eq!(cpu_threads(&devices(&["cpu", "cuda:0", "cpu"]), 2), Some(1));
    }

    #[test]
    fn repeated_devices_are_numbered_in_the_summary() {
        let devices: Vec<String> = ["cpu", "cuda:0", "cpu"].iter().map(|s| s.to_string()).collect();
        assert_eq!(labels(&devices), ["cpu #1", "cuda:0", "cpu #2"]);
    }
}
