//! The content-addressed store: each node's result lives in a folder named by its key.
//!
//! Layout under the cache root (see `cache/README.md` for users):
//!
//! ```text
//! objects/<first 2 hex>/<64 hex>/manifest.json   the entry's record, written last
//! objects/<first 2 hex>/<64 hex>/files/…         the node's files, flat or nested
//! tmp/<hex>.<pid>.<nonce>/                       a result being produced, or being deleted
//! tmp/<hex>.<pid>.<nonce>.lock                   held by the producing process while it lives
//! names/<blake3 of name>.json                    last key and description of a logical node
//! ```
//!
//! Invariants: an entry appears under `objects/` only by one atomic rename of a complete,
//! synced folder, and leaves only by one atomic rename into `tmp/`; so a reader sees a whole
//! entry or none, and a crash at any point leaves no half-written entry. `tmp/` lives under
//! the root so both renames stay on one file system.

mod claim;
mod disk;
mod error;
mod maintenance;
mod manifest;
mod names;
mod store;
mod tmp;

#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};

use crate::digest::Key;

pub(crate) use claim::{Claim, Claimed, Owner};
pub use error::CacheError;
#[cfg(test)]
use maintenance::Problem;
pub(crate) use manifest::{Manifest, ManifestInfo};
pub(crate) use store::Pending;
pub(crate) use tmp::unique_name;

use error::io_at;

const OBJECTS: &str = "objects";
const TMP: &str = "tmp";
const NAMES: &str = "names";

/// Marks the root as a cache so backup and archiving tools skip it (bford.info/cachedir).
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by munl.\n";

/// A cache rooted at one folder. Cheap to clone; holds no open files.
#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

/// A committed entry: its key, the folder holding the node's files, and its manifest.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub key: Key,
    /// Folder holding the node's files; the manifest's paths are relative to it.
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Cache {
    /// Opens the cache at `root`, creating it and its `objects/`, `tmp/` and `names/` folders
    /// as needed.
    pub fn open(root: &Path) -> Result<Cache, CacheError> {
        for sub in [OBJECTS, TMP, NAMES] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(io_at("create folder", &dir))?;
        }
        let tag = root.join("CACHEDIR.TAG");
        if !tag.exists() {
            fs::write(&tag, CACHEDIR_TAG).map_err(io_at("write", &tag))?;
        }
        Ok(Cache { root: root.to_path_buf() })
    }

    /// The folder the cache lives in.
    #[cfg(test)]
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// A committed, cheaply verified entry: its manifest parses, its key equals `key`, and
    /// every listed file exists with its recorded size. Anything else is a miss: a broken
    /// entry is never trusted.
    pub(crate) fn lookup(&self, key: &Key) -> Option<Entry> {
        let folder = self.object_dir(key);
        let manifest = manifest::check(&folder, key)?;
        Some(Entry { key: *key, dir: folder.join(manifest::FILES), manifest })
    }

    /// The folder of the files `key`'s committed entry holds, if the cache has a valid one:
    /// what a notebook or a test reads a result from.
    pub fn files_of(&self, key: &Key) -> Option<std::path::PathBuf> {
        self.lookup(key).map(|entry| entry.dir)
    }

    /// Reserves a fresh private temporary folder for producing `key`'s result.
    pub(crate) fn begin(&self, key: &Key) -> Result<Pending, CacheError> {
        store::begin(self, key)
    }

    /// Removes the entry of `key`, valid or not; `false` if there was none. Used when a hit
    /// turns out corrupt, and by `gc`.
    pub(crate) fn evict(&self, key: &Key) -> Result<bool, CacheError> {
        self.discard(&self.object_dir(key), &key.hex())
    }

    /// Moves `path` out of sight into `tmp/` in one rename, then deletes it; `false` if it
    /// was already gone. A crash mid-delete leaves only a stale folder for `gc`.
    fn discard(&self, path: &Path, stem: &str) -> Result<bool, CacheError> {
        let trash = self.tmp_dir().join(tmp::unique_name(stem));
        match fs::rename(path, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => return Err(CacheError::Rename { from: path.to_path_buf(), to: trash, source }),
        }
        if let Some(parent) = path.parent() {
            disk::sync_dir(parent)?;
        }
        disk::remove_tree(&trash)?;
        Ok(true)
    }

    /// The folder of `key`'s entry, whether or not it exists.
    fn object_dir(&self, key: &Key) -> PathBuf {
        let hex = key.hex();
        self.root.join(OBJECTS).join(&hex[..2]).join(hex)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(TMP)
    }

    fn names_dir(&self) -> PathBuf {
        self.root.join(NAMES)
    }
}
