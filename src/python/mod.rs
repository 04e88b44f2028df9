//! Python ops: methods (and models) written in PyTorch, declared with `python("file.py")`.
//!
//! This module knows Python files, not torch: it finds the interpreter, reads what a file
//! declares without running it (`inspect`, stdlib `ast` only, so `munl check` never imports
//! torch), fingerprints the file with the local modules it imports, and carries munl's Python
//! package (`python/munl/` in the repository), which the worker puts on the path of the code it
//! runs. The torch side (`torch/methods/python.rs`) runs the code.

mod inspect;
#[cfg(feature = "torch")]
mod package;

pub(crate) use inspect::{inspect, Field, FieldType, Function, Inspected, PyFile};
#[cfg(feature = "torch")]
pub(crate) use package::package_dir;

use std::path::{Path, PathBuf};

/// The interpreter munl runs Python with: `$MUNL_PYTHON`, else `python3` on the `PATH`
/// (`scripts/with-torch` puts the one with munl's torch first).
pub(crate) fn interpreter() -> PathBuf {
    std::env::var_os("MUNL_PYTHON").filter(|p| !p.is_empty()).map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

/// The fingerprint of a Python op's code: the file, the local modules it imports (each by its
/// path relative to the file's folder, so moving the folder changes nothing), and the
/// interpreter's and torch's versions. Part of the key of every node that runs the code.
pub(crate) fn fingerprint(
    file: &Path,
    modules: &[PathBuf],
    python: &str,
    torch: Option<&str>,
) -> std::io::Result<String> {
    let mut h = blake3::Hasher::new();
    h.update(b"munl python op v1\0");
    h.update(python.as_bytes());
    h.update(b"\0");
    h.update(torch.unwrap_or("no torch").as_bytes());
    h.update(b"\0");
    let folder = file.parent().unwrap_or(Path::new(""));
    for path in std::iter::once(file).chain(modules.iter().map(PathBuf::as_path)) {
        let name = path.strip_prefix(folder).unwrap_or(path);
        let text = std::fs::read(path)?;
        h.update(name.to_string_lossy().as_bytes());
        h.update(b"\0");
        h.update(&(text.len() as u64).to_le_bytes());
        h.update(&text);
    }
    Ok(h.finalize().to_hex()[..32].to_string())
}
