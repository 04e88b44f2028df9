//! The memory of logical nodes: for each name such as `unlearn ft [seed=0]`, the last key it
//! had and that key's canonical description, so a plan can explain why a node re-runs.
//!
//! A name may hold any characters, so its file is named by the blake3 of the name and the
//! name itself is stored inside. Records are replaced atomically. A missing or unreadable
//! record is simply not remembered by a plan's explanations; but `gc`, which keeps what the
//! names remember, refuses to guess while any file of `names/` is not a readable record.

use std::collections::HashSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::disk;
use super::error::{io_at, CacheError};
use super::tmp;
use super::Cache;
use crate::digest::Key;

/// Everything `names/` holds: the records [`Cache::remember`] wrote, and whatever else is there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Names {
    /// Each remembered name with its last key, sorted by name.
    pub records: Vec<(String, Key)>,
    /// Files and folders that are not readable records, sorted by path.
    pub bad: Vec<BadName>,
}

/// An item of `names/` that is not a record `remember` wrote: unreadable, unparsable, a folder,
/// or a record under another name's file name. The key it remembered, if any, is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadName {
    pub path: PathBuf,
    /// Why it is not a record, e.g. `cannot parse it: EOF while parsing a value at line 1 column 0`.
    pub reason: String,
}

/// One `names/<blake3 of name>.json` file.
#[derive(Serialize, Deserialize)]
struct NameRecord {
    name: String,
    key: Key,
    description: serde_json::Value,
}

/// File stem for `name`: safe on every file system whatever the name contains.
fn stem(name: &str) -> String {
    blake3::hash(name.as_bytes()).to_hex().to_string()
}

impl Cache {
    /// Remembers `key` and its canonical `description` as the latest of logical node `name`,
    /// replacing what was remembered before.
    pub(crate) fn remember(&self, name: &str, key: &Key, description: &serde_json::Value) -> Result<(), CacheError> {
        let stem = stem(name);
        let dest = self.names_dir().join(format!("{stem}.json"));
        let record = NameRecord { name: name.to_string(), key: *key, description: description.clone() };
        let bytes =
            serde_json::to_vec_pretty(&record).map_err(|source| CacheError::Encode { path: dest.clone(), source })?;
        for dir in [self.names_dir(), self.tmp_dir()] {
            fs::create_dir_all(&dir).map_err(io_at("create folder", &dir))?;
        }
        let staging = self.tmp_dir().join(format!("{}.json", tmp::unique_name(&stem)));
        disk::atomic_write(&staging, &dest, &bytes)
    }

    /// The last key and description remembered for logical node `name`.
    pub(crate) fn recall(&self, name: &str) -> Option<(Key, serde_json::Value)> {
        let path = self.names_dir().join(format!("{}.json", stem(name)));
        let record: NameRecord = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
        (record.name == name).then_some((record.key, record.description))
    }

    /// Every remembered name with its last key, and every item of `names/` that is not a
    /// readable record. Only a `names/` folder that cannot be listed is an error.
    pub(crate) fn names(&self) -> Result<Names, CacheError> {
        let dir = self.names_dir();
        let children = match fs::read_dir(&dir) {
            Ok(children) => children,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Names::default()),
            Err(e) => return Err(io_at("read folder", &dir)(e)),
        };
        let mut names = Names::default();
        for child in children {
            let path = child.map_err(io_at("read folder", &dir))?.path();
            match read_record(&path) {
                Ok(record) => names.records.push((record.name, record.key)),
                Err(reason) => names.bad.push(BadName { path, reason }),
            }
        }
        names.records.sort();
        names.bad.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(names)
    }

    /// The last key of every remembered name: what `gc` keeps when no experiment is named.
    ///
    /// Fails if any item of `names/` is not a readable record: it may have remembered any
    /// entry, so no entry could be called unused.
    pub(crate) fn remembered_keys(&self) -> Result<HashSet<Key>, CacheError> {
        let names = self.names()?;
        if !names.bad.is_empty() {
            let names = names.bad.into_iter().map(|b| (b.path, b.reason)).collect();
            return Err(CacheError::UnreadableNames { dir: self.names_dir(), names });
        }
        Ok(names.records.into_iter().map(|(_, key)| key).collect())
    }

    /// Removes an item of `names/` (a [`BadName`], for `verify --evict`); `false` if it was
    /// already gone. Like an entry, it leaves by one rename into `tmp/`.
    pub(crate) fn remove_name(&self, path: &Path) -> Result<bool, CacheError> {
        // A fixed stem: the item's own name may hold anything, and `tmp/` names record a pid.
        self.discard(path, "name")
    }
}

/// The record at `path`, or why it is not one.
fn read_record(path: &Path) -> Result<NameRecord, String> {
    if fs::symlink_metadata(path).is_ok_and(|meta| meta.is_dir()) {
        return Err("it is a folder, not a name record".to_string());
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let record: NameRecord = serde_json::from_slice(&bytes).map_err(|e| format!("cannot parse it: {e}"))?;
    let expected = format!("{}.json", stem(&record.name));
    if path.file_name().and_then(|n| n.to_str()) != Some(expected.as_str()) {
        return Err(format!("it records `{}`, whose record is `{expected}`", record.name));
    }
    Ok(record)
}
