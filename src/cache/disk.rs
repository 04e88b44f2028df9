//! Small file-system helpers with the durability guarantees the store relies on.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::error::{io_at, CacheError};

/// Flushes a folder's entries (names created or renamed inside it) to disk.
///
/// On Unix a rename is durable only once the folders on both sides are synced; other
/// platforms cannot open a folder as a file, and there this is a no-op.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), CacheError> {
    #[cfg(unix)]
    {
        File::open(dir).and_then(|f| f.sync_all()).map_err(io_at("sync folder", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to `dest` so that readers see the old content or the new, never a mix:
/// the bytes go to `staging` (same file system), are synced, then renamed over `dest`.
pub(crate) fn atomic_write(staging: &Path, dest: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let written = File::create(staging)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(io_at("write", staging));
    if let Err(e) = written {
        let _ = fs::remove_file(staging);
        return Err(e);
    }
    if let Err(source) = fs::rename(staging, dest) {
        let _ = fs::remove_file(staging);
        return Err(CacheError::Rename { from: staging.to_path_buf(), to: dest.to_path_buf(), source });
    }
    if let Some(parent) = dest.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Total apparent size of the regular files under `path` (or of `path` itself if it is a
/// file). Symlinks are counted by their own size and never followed; unreadable parts count 0.
pub(crate) fn tree_size(path: &Path) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    let Ok(children) = fs::read_dir(path) else {
        return 0;
    };
    children.flatten().map(|child| tree_size(&child.path())).sum()
}

/// Removes a file or a folder with everything in it; a path that is already gone is fine.
pub(crate) fn remove_tree(path: &Path) -> Result<(), CacheError> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_at("remove", path)(e)),
        _ => Ok(()),
    }
}

/// How long ago `path` was last modified; `None` if unknown (or modified in the future).
pub(crate) fn age(path: &Path) -> Option<Duration> {
    let modified = fs::symlink_metadata(path).ok()?.modified().ok()?;
    SystemTime::now().duration_since(modified).ok()
}
