//! Test access to the shared data folder (`$MUNL_DATA`, set by `scripts/with-torch`).

use std::path::{Path, PathBuf};

/// `$MUNL_DATA/<relative>` if it exists; otherwise `None`, after saying why the calling test is
/// skipped (tests on the shared real datasets run wherever that folder is present).
pub(crate) fn shared_data(relative: &str) -> Option<PathBuf> {
    let Some(root) = std::env::var_os("MUNL_DATA") else {
        println!("skipped: MUNL_DATA is not set (run under scripts/with-torch)");
        return None;
    };
    let path = Path::new(&root).join(relative);
    if !path.exists() {
        println!("skipped: {} does not exist", path.display());
        return None;
    }
    Some(path)
}
