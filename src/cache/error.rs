//! The cache's error type: every failure names the path it happened at.

use std::io;
use std::path::{Path, PathBuf};

/// A failure of the cache store. Lookups never fail (a broken entry is a miss); these come
/// from opening, committing, remembering and maintenance.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file-system operation on one path failed.
    #[error("cannot {op} `{}`: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Moving a folder or file into place failed.
    #[error("cannot move `{}` to `{}`: {source}", from.display(), to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A node wrote something other than regular files and folders (a symlink, a socket…).
    #[error("`{}` is neither a regular file nor a folder; a node may only write files and folders", path.display())]
    NotAFile { path: PathBuf },
    /// A node wrote a file whose name is not UTF-8, so the manifest cannot record it.
    #[error("file name `{}` is not utf-8", path.display())]
    NonUtf8Name { path: PathBuf },
    /// Items of `names/` are not readable records, so which entries are in use is unknown and
    /// `gc` keeps everything.
    #[error("cannot tell which entries are in use: {}", unreadable_names(dir, names))]
    UnreadableNames {
        dir: PathBuf,
        /// Each item's path and why it is not a record.
        names: Vec<(PathBuf, String)>,
    },
    /// A manifest or name record could not be encoded as JSON.
    #[error("cannot encode `{}` as json", path.display())]
    Encode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// "2 items in `…/names` are not readable name records", singular for one.
fn unreadable_names(dir: &Path, names: &[(PathBuf, String)]) -> String {
    let (items, are) = if names.len() == 1 {
        ("item", "is not a readable name record")
    } else {
        ("items", "are not readable name records")
    };
    format!("{} {items} in `{}` {are}", names.len(), dir.display())
}

/// Adapts an `io::Error` into [`CacheError::Io`] for `op` on `path`, for use with `map_err`.
pub(crate) fn io_at(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CacheError {
    let path = path.to_path_buf();
    move |source| CacheError::Io { op, path, source }
}
