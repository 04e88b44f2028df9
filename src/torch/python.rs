//! Running munl's Python package in a child process (`python -m munl.<module> REQUEST`), for
//! Python methods (`methods/python.rs`) and custom architectures (`custom.rs`): the package
//! first on the path, the code's folder as the working folder, everything Python prints into a
//! log, and the reply (JSON) it writes turned into a result or a failure that names the place in
//! the user's code.

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::artifact::NodeFailure;
use crate::torch::data::store;

/// The log of a Python op's run, kept in its cache entry.
pub(crate) const LOG: &str = "python.log";

/// What `munl._run` / `munl._script` reply.
#[derive(Debug, Deserialize)]
pub(crate) struct Reply {
    pub(crate) ok: bool,
    kind: Option<String>,
    /// The method's own time.
    pub(crate) seconds: Option<f64>,
    /// Per-epoch losses; `null` for a non-finite one.
    #[serde(default)]
    pub(crate) losses: Vec<Option<f64>>,
    pub(crate) diverged: Option<String>,
    #[serde(rename = "type")]
    error_type: Option<String>,
    message: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    traceback: Option<String>,
}

/// Runs `python -m munl.{module} REQUEST` for the code in `code` (its folder is the working
/// folder), logging into `log`, and reads the reply from `reply`; a reply that says the code
/// failed is returned as the failure.
pub(crate) fn run(module: &str, code: &Path, request: &Path, reply: &Path, log: &Path) -> Result<Reply, NodeFailure> {
    let package = crate::python::package_dir()
        .map_err(|e| NodeFailure::io(format!("cannot write munl's Python package: {e}")))?;
    let out = File::create(log).map_err(|e| NodeFailure::io(format!("cannot write {}: {e}", log.display())))?;
    let err = out.try_clone().map_err(|e| NodeFailure::io(e.to_string()))?;
    let mut path = std::ffi::OsString::from(package.as_os_str());
    if let Some(old) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        path.push(":");
        path.push(old);
    }
    let python = crate::python::interpreter();
    let mut command = Command::new(&python);
    // SAFETY: between fork and exec the closure only calls `prctl`, which is async-signal-safe.
    // The child is killed with the thread that started it: when the worker dies (its front end
    // killed, the pipe closed), the Python run does not go on computing for nobody.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = command
        .args(["-m", &format!("munl.{module}")])
        .arg(request)
        .current_dir(code.parent().unwrap_or(Path::new(".")))
        .env("PYTHONPATH", path)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| {
            NodeFailure::new(format!("cannot run `{}`: {e}", python.display()))
                .with_help("munl runs Python ops with `$MUNL_PYTHON`, else `python3` on the PATH; it needs torch, numpy and safetensors")
        })?;
    if !reply.is_file() {
        return Err(NodeFailure::new(format!(
            "Python exited ({status}) before replying; the end of its output:\n{}",
            tail(log, 20)
        )));
    }
    let answer: Reply = store::read_json(reply)?;
    if answer.ok {
        Ok(answer)
    } else {
        Err(failure(&answer, log))
    }
}

/// The failure an error reply stands for: a Python exception with its place in the user's
/// code and the end of its traceback, or munl's own complaint about what the code returned.
fn failure(reply: &Reply, log: &Path) -> NodeFailure {
    let message = reply.message.clone().unwrap_or_default();
    match reply.kind.as_deref() {
        Some("exception") => {
            let place = match (&reply.file, reply.line) {
                (Some(file), Some(line)) => format!("{file}:{line}: "),
                _ => String::new(),
            };
            let kind = reply.error_type.as_deref().unwrap_or("Exception");
            let trace = reply.traceback.as_deref().map(|t| last_lines(t, 12)).unwrap_or_default();
            NodeFailure::new(format!("{place}{kind}: {message}"))
                .with_help(format!("Python's traceback (all its output is in {}):\n{trace}", log.display()))
        }
        _ => NodeFailure::new(message),
    }
}

/// The last `n` lines of a file, for a message.
fn tail(path: &Path, n: usize) -> String {
    std::fs::read_to_string(path).map(|t| last_lines(&t, n)).unwrap_or_default()
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
