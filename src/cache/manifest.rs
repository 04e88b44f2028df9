//! The manifest: the record, written last, that turns a folder of files into a cache entry.
//!
//! Invariant: a folder under `objects/` is an entry only if its `manifest.json` parses, has
//! the current schema, names the folder's key, and every file it lists exists with the
//! recorded size. The blake3 of each file is checked only by `verify`, which re-reads
//! everything; a lookup trusts sizes so that a hit costs one small read and a few stats.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use super::error::{io_at, CacheError};
use crate::digest::Key;

/// Version of the manifest format; a manifest of any other version is not an entry.
pub(crate) const SCHEMA: u32 = 1;

/// File name of the manifest inside an entry folder.
pub(crate) const MANIFEST: &str = "manifest.json";

/// Name of the subfolder holding the node's own files, so a node may name a file anything.
pub(crate) const FILES: &str = "files";

/// What the node's producer knows about a result; the rest of the manifest is computed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ManifestInfo {
    /// Node kind, e.g. `train`, `unlearn`, `eval`: groups entries in `munl cache du`.
    pub kind: String,
    /// Operation name, e.g. `ft`.
    pub op: String,
    /// Logical node name for people, e.g. `unlearn ft [seed=0]`.
    pub label: String,
    /// The canonical description the key was hashed from.
    pub description: serde_json::Value,
    /// How long producing the result took.
    pub wall_time_s: f64,
}

/// The record stored as `manifest.json` in every entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub schema: u32,
    pub key: Key,
    pub kind: String,
    pub op: String,
    pub label: String,
    pub description: serde_json::Value,
    /// Every file of the result, by path relative to the files folder with `/` separators.
    pub files: BTreeMap<String, FileRecord>,
    pub created_unix: u64,
    pub wall_time_s: f64,
}

/// Size and content hash of one file of an entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    pub size: u64,
    /// Lower-case hex blake3 of the file's bytes.
    pub blake3: String,
}

impl Manifest {
    /// Reads and parses the manifest of the entry folder `entry`; on failure, why (without
    /// the path, which the caller knows).
    pub(crate) fn read(entry: &Path) -> Result<Manifest, String> {
        let bytes = fs::read(entry.join(MANIFEST)).map_err(|e| format!("cannot read it: {e}"))?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| format!("cannot parse it: {e}"))?;
        if manifest.schema != SCHEMA {
            return Err(format!("its schema is {}, expected {SCHEMA}", manifest.schema));
        }
        if let Some(bad) = manifest.files.keys().find(|p| !is_safe_relative(p)) {
            return Err(format!("it lists `{bad}`, which is not a plain relative path"));
        }
        Ok(manifest)
    }

    /// The keys of the entries this one was computed from, as its description lists them
    /// (`"inputs": [[role, key], …]`, the layout of `plan::Description`). Anything else there
    /// is skipped: an entry without inputs (a dataset) has none.
    pub(crate) fn input_keys(&self) -> Vec<Key> {
        let inputs = self.description.get("inputs").and_then(serde_json::Value::as_array);
        inputs.into_iter().flatten().filter_map(|pair| pair.get(1)?.as_str().and_then(Key::from_hex)).collect()
    }
}

/// The cheap check behind a lookup: the manifest of entry folder `entry` if it is an entry
/// for `key` whose listed files all exist with their recorded sizes.
pub(crate) fn check(entry: &Path, key: &Key) -> Option<Manifest> {
    let manifest = Manifest::read(entry).ok()?;
    if manifest.key != *key {
        return None;
    }
    let files = entry.join(FILES);
    let intact = manifest.files.iter().all(|(rel, record)| {
        fs::symlink_metadata(files.join(rel)).is_ok_and(|meta| meta.is_file() && meta.len() == record.size)
    });
    intact.then_some(manifest)
}

/// Whether `path` is relative, uses `/`, and never leaves its base (no `..`, root or prefix),
/// so a tampered manifest cannot make the cache look outside the entry.
pub(crate) fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)))
}

/// Blake3 (lower-case hex) and size of the file at `path`, streamed from disk.
pub(crate) fn hash_file(path: &Path) -> std::io::Result<FileRecord> {
    hash_open(&File::open(path)?)
}

/// Blake3 and size of an open file, read from its current position.
fn hash_open(file: &File) -> std::io::Result<FileRecord> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(file)?;
    let size = file.metadata()?.len();
    Ok(FileRecord { size, blake3: hasher.finalize().to_hex().to_string() })
}

/// Hashes every file under `dir`, syncing each to disk and each folder's entries too, so
/// that the caller may rename `dir` into place knowing its content is durable.
///
/// Only regular files and folders are accepted: a symlink could point outside the cache, and
/// the result must not change after it is recorded.
pub(crate) fn record_tree(dir: &Path) -> Result<BTreeMap<String, FileRecord>, CacheError> {
    let mut files = BTreeMap::new();
    record_into(dir, "", &mut files)?;
    Ok(files)
}

fn record_into(dir: &Path, prefix: &str, files: &mut BTreeMap<String, FileRecord>) -> Result<(), CacheError> {
    for child in fs::read_dir(dir).map_err(io_at("read folder", dir))? {
        let child = child.map_err(io_at("read folder", dir))?;
        let path = child.path();
        let name = child.file_name().into_string().map_err(|_| CacheError::NonUtf8Name { path: path.clone() })?;
        let rel = format!("{prefix}{name}");
        let kind = child.file_type().map_err(io_at("inspect", &path))?;
        if kind.is_dir() {
            record_into(&path, &format!("{rel}/"), files)?;
        } else if kind.is_file() {
            let record = File::open(&path)
                .and_then(|file| {
                    let record = hash_open(&file)?;
                    file.sync_all()?;
                    Ok(record)
                })
                .map_err(io_at("hash", &path))?;
            files.insert(rel, record);
        } else {
            return Err(CacheError::NotAFile { path });
        }
    }
    super::disk::sync_dir(dir)
}
