//! munl's Python package (`python/munl/` in the repository), embedded in the binary so that a
//! copied `munl-torch` (a cluster node, a GPU machine) needs nothing but an interpreter with
//! torch. The worker writes it once per version into the temporary folder and puts that on
//! the `PYTHONPATH` of the code it runs.

use std::io;
use std::path::PathBuf;

/// The package's files, by name.
const FILES: &[(&str, &str)] = &[
    ("__init__.py", include_str!("../../python/munl/__init__.py")),
    ("data.py", include_str!("../../python/munl/data.py")),
    ("models.py", include_str!("../../python/munl/models.py")),
    ("_run.py", include_str!("../../python/munl/_run.py")),
    ("_script.py", include_str!("../../python/munl/_script.py")),
    ("_inspect.py", include_str!("../../python/munl/_inspect.py")),
];

/// A folder whose `munl/` is the package: `$TMPDIR/munl-python-<digest of the files>`, written
/// on first use (into a sibling folder, then renamed, so a reader never sees half of it).
pub(crate) fn package_dir() -> io::Result<PathBuf> {
    let mut h = blake3::Hasher::new();
    for (name, text) in FILES {
        h.update(name.as_bytes());
        h.update(&(text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    let root = std::env::temp_dir().join(format!("munl-python-{}", &h.finalize().to_hex()[..16]));
    if root.join("munl").join("__init__.py").is_file() {
        return Ok(root);
    }
    let partial = std::env::temp_dir().join(format!("munl-python.partial.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(partial.join("munl"))?;
    for (name, text) in FILES {
        std::fs::write(partial.join("munl").join(name), text)?;
    }
    match std::fs::rename(&partial, &root) {
        Ok(()) => Ok(root),
        // Another process got there first: theirs is the same.
        Err(_) if root.join("munl").join("__init__.py").is_file() => {
            let _ = std::fs::remove_dir_all(&partial);
            Ok(root)
        }
        Err(e) => Err(e),
    }
}
