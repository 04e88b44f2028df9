//! The memory of logical nodes: for each name such as `unlearn ft [seed=0]`, the last key it
//! had and that key's canonical description, so a plan can explain why a node re-runs.
//!
//! A name may hold any characters, so its file is named by the blake3 of the name and the
//! name itself is stored inside. Records are replaced atomically; a missing or unreadable
//! record is simply not remembered.

use std::fs;

use serde::{Deserialize, Serialize};

use super::disk;
use super::error::{io_at, CacheError};
use super::tmp;
use super::Cache;
use crate::digest::Key;

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

    /// Every remembered name with its last key, sorted by name.
    pub(crate) fn remembered(&self) -> Vec<(String, Key)> {
        let Ok(children) = fs::read_dir(self.names_dir()) else {
            return Vec::new();
        };
        let mut all: Vec<(String, Key)> = children
            .flatten()
            .filter_map(|child| {
                let bytes = fs::read(child.path()).ok()?;
                let record: NameRecord = serde_json::from_slice(&bytes).ok()?;
                // A record under the wrong file name was not written by `remember`.
                (child.file_name().to_str()? == format!("{}.json", stem(&record.name)))
                    .then_some((record.name, record.key))
            })
            .collect();
        all.sort();
        all
    }
}
