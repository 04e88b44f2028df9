//! Producing an entry: a private temporary folder, then an atomic commit into `objects/`.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::{io_at, CacheError};
use super::manifest::{self, Manifest, ManifestInfo, FILES, MANIFEST, SCHEMA};
use super::tmp::{self, OwnerLock};
use super::{disk, Cache, Entry};
use crate::digest::Key;

/// How often a commit retries when the place of its entry is taken by a broken entry.
const COMMIT_ATTEMPTS: usize = 3;

/// A result being produced for one key, in a temporary folder only this value owns.
///
/// Dropping it without [`Pending::commit`] removes the folder: a failed node commits nothing.
#[derive(Debug)]
pub(crate) struct Pending {
    cache: Cache,
    key: Key,
    /// `tmp/<hex>.<pid>.<nonce>`, which becomes the entry folder on commit.
    folder: PathBuf,
    /// Its `files/` subfolder, handed to the node.
    files: PathBuf,
    committed: bool,
    /// Declared last so that it is released only after `Drop` has removed the folder.
    _lock: OwnerLock,
}

/// Reserves a fresh folder in `tmp/` for producing `key`'s result.
pub(super) fn begin(cache: &Cache, key: &Key) -> Result<Pending, CacheError> {
    let tmp_dir = cache.tmp_dir();
    fs::create_dir_all(&tmp_dir).map_err(io_at("create folder", &tmp_dir))?;
    loop {
        let folder = tmp_dir.join(tmp::unique_name(&key.hex()));
        let lock = match OwnerLock::acquire(&folder) {
            Ok(lock) => lock,
            // A dead process with this pid left the name behind; the nonce moves on.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_at("lock", &tmp::lock_path(&folder))(e)),
        };
        let files = folder.join(FILES);
        let pending = Pending { cache: cache.clone(), key: *key, folder, files, committed: false, _lock: lock };
        fs::create_dir(&pending.folder).map_err(io_at("create folder", &pending.folder))?;
        fs::create_dir(&pending.files).map_err(io_at("create folder", &pending.files))?;
        return Ok(pending);
    }
}

impl Pending {
    /// The folder the node writes its files into, flat or nested.
    pub(crate) fn dir(&self) -> &Path {
        &self.files
    }

    /// Hashes every file the node wrote, writes the manifest, syncs everything, and renames
    /// the folder into place in one step.
    ///
    /// If another process committed the same key meanwhile, its entry is kept and returned
    /// and this one discarded: equal keys mean equal meaning, so either result will do.
    pub(crate) fn commit(mut self, info: ManifestInfo) -> Result<Entry, CacheError> {
        let files = manifest::record_tree(&self.files)?;
        let manifest = Manifest {
            schema: SCHEMA,
            key: self.key,
            kind: info.kind,
            op: info.op,
            label: info.label,
            description: info.description,
            files,
            created_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            wall_time_s: info.wall_time_s,
        };
        let manifest_path = self.folder.join(MANIFEST);
        let bytes = serde_json::to_vec_pretty(&manifest)
            .map_err(|source| CacheError::Encode { path: manifest_path.clone(), source })?;
        File::create(&manifest_path)
            .and_then(|mut f| {
                f.write_all(&bytes)?;
                f.sync_all()
            })
            .map_err(io_at("write", &manifest_path))?;
        disk::sync_dir(&self.folder)?;

        let dest = self.cache.object_dir(&self.key);
        let shard = dest.parent().expect("an object folder sits in a shard folder");
        if !shard.exists() {
            fs::create_dir_all(shard).map_err(io_at("create folder", shard))?;
            disk::sync_dir(shard.parent().unwrap_or(shard))?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let source = match fs::rename(&self.folder, &dest) {
                Ok(()) => {
                    self.committed = true;
                    disk::sync_dir(shard)?;
                    return Ok(Entry { key: self.key, dir: dest.join(FILES), manifest });
                }
                Err(source) => source,
            };
            if let Some(theirs) = self.cache.lookup(&self.key) {
                return Ok(theirs);
            }
            if attempt == COMMIT_ATTEMPTS {
                return Err(CacheError::Rename { from: self.folder.clone(), to: dest, source });
            }
            // A broken entry holds the place (a lookup of it misses): replace it.
            self.cache.discard(&dest, &self.key.hex())?;
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            let _ = disk::remove_tree(&self.folder);
        }
    }
}
