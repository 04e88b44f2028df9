//! Looking after the store as a whole: `munl cache ls`, `du`, `gc` and `verify`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use super::error::{io_at, CacheError};
use super::manifest::{self, Manifest, FILES, MANIFEST};
use super::{disk, tmp, Cache, Entry, OBJECTS};
use crate::digest::Key;

/// Disk use of the cache, as `munl cache du` shows it. Sizes are apparent sizes in bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Number of valid entries.
    pub entries: u64,
    /// Bytes of valid entries, manifests included.
    pub entry_bytes: u64,
    /// Valid entries grouped by their manifest's `kind`.
    pub by_kind: BTreeMap<String, KindUsage>,
    /// Folders under `objects/` that are not valid entries (lookups miss them; gc removes them
    /// unless kept).
    pub broken: u64,
    pub broken_bytes: u64,
    /// Everything under `tmp/`: results being produced, and leftovers.
    pub tmp_bytes: u64,
    /// The part of `tmp_bytes` that `gc` would collect.
    pub stale_tmp_bytes: u64,
}

impl Usage {
    /// Bytes of everything the cache holds apart from the tiny name records.
    pub(crate) fn total_bytes(&self) -> u64 {
        self.entry_bytes + self.broken_bytes + self.tmp_bytes
    }
}

/// Count and bytes of the entries of one kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KindUsage {
    pub entries: u64,
    pub bytes: u64,
}

/// What `gc` removed, or with `dry_run` would remove.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GcReport {
    /// Entries (valid or broken) not in the keep set, sorted by key.
    pub entries: Vec<RemovedEntry>,
    /// Stale items of `tmp/`, then stale claims, each sorted by path.
    pub tmp: Vec<RemovedTmp>,
    /// Sum of all the bytes above.
    pub freed_bytes: u64,
}

/// One entry collected by `gc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RemovedEntry {
    pub key: Key,
    /// The manifest's label, if the manifest could be read.
    pub label: Option<String>,
    pub bytes: u64,
}

/// One stale file or folder of `tmp/` collected by `gc`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RemovedTmp {
    pub path: PathBuf,
    pub bytes: u64,
}

/// Something wrong with one entry, found by `verify`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The manifest at `path` is missing, unparsable, of another schema or unsafe.
    BadManifest { key: Key, path: PathBuf, reason: String },
    /// The manifest at `path` is valid but records another key than its folder's.
    WrongKey { key: Key, path: PathBuf, found: Key },
    /// A listed file is absent.
    MissingFile { key: Key, path: PathBuf },
    /// A listed file exists but cannot be read.
    UnreadableFile { key: Key, path: PathBuf, reason: String },
    /// A listed file has another size than recorded.
    WrongSize { key: Key, path: PathBuf, expected: u64, found: u64 },
    /// A listed file has the recorded size but other content.
    WrongHash { key: Key, path: PathBuf, expected: String, found: String },
    /// An item of `names/` is not a readable name record (see [`super::names::BadName`]).
    BadName { path: PathBuf, reason: String },
}

impl Problem {
    /// The key of the entry the problem is in, e.g. to evict it; `None` for a bad name record.
    pub(crate) fn key(&self) -> Option<Key> {
        match self {
            Problem::BadManifest { key, .. }
            | Problem::WrongKey { key, .. }
            | Problem::MissingFile { key, .. }
            | Problem::UnreadableFile { key, .. }
            | Problem::WrongSize { key, .. }
            | Problem::WrongHash { key, .. } => Some(*key),
            Problem::BadName { .. } => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadManifest { path, reason, .. } => {
                write!(f, "bad manifest `{}`: {reason}", path.display())
            }
            Problem::WrongKey { key, path, found } => write!(
                f,
                "manifest `{}` records key {}, not its folder's {}",
                path.display(),
                found.short(),
                key.short()
            ),
            Problem::MissingFile { path, .. } => write!(f, "file `{}` is missing", path.display()),
            Problem::UnreadableFile { path, reason, .. } => {
                write!(f, "cannot read file `{}`: {reason}", path.display())
            }
            Problem::WrongSize { path, expected, found, .. } => {
                write!(f, "file `{}` has {found} bytes, the manifest records {expected}", path.display())
            }
            Problem::WrongHash { path, expected, found, .. } => write!(
                f,
                "file `{}` has blake3 {}…, the manifest records {}…",
                path.display(),
                &found[..found.len().min(12)],
                &expected[..expected.len().min(12)]
            ),
            Problem::BadName { path, reason } => write!(f, "bad name record `{}`: {reason}", path.display()),
        }
    }
}

/// One removal by [`Cache::evict_problems`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Evicted {
    /// An entry `verify` found a problem in; its label if its manifest could be read.
    Entry { key: Key, label: Option<String> },
    /// An entry computed from an evicted entry `input`, so it cannot be trusted either.
    Dependant { key: Key, label: Option<String>, input: Key },
    /// An item of `names/` that was not a readable record.
    Name { path: PathBuf },
}

impl fmt::Display for Evicted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = |label: &Option<String>| label.clone().unwrap_or_else(|| "(broken entry)".to_string());
        match self {
            Evicted::Entry { key, label: l } => write!(f, "evicted {}  {}", key.short(), label(l)),
            Evicted::Dependant { key, label: l, input } => {
                write!(f, "evicted {}  {}  because its input {} was evicted", key.short(), label(l), input.short())
            }
            Evicted::Name { path } => write!(f, "removed name record `{}`", path.display()),
        }
    }
}

impl Cache {
    /// Every valid entry, oldest first (ties by key). Broken folders are left to `verify`.
    pub(crate) fn list(&self) -> Result<Vec<Entry>, CacheError> {
        let mut entries: Vec<Entry> = self
            .object_folders()?
            .into_iter()
            .filter_map(|(key, folder)| {
                let manifest = manifest::check(&folder, &key)?;
                Some(Entry { key, dir: folder.join(FILES), manifest })
            })
            .collect();
        entries.sort_by_key(|a| (a.manifest.created_unix, a.key));
        Ok(entries)
    }

    /// How much the cache holds, by entry kind, and how much of `tmp/` is stale.
    pub(crate) fn usage(&self) -> Result<Usage, CacheError> {
        let mut usage = Usage::default();
        for (key, folder) in self.object_folders()? {
            let bytes = disk::tree_size(&folder);
            match manifest::check(&folder, &key) {
                Some(manifest) => {
                    usage.entries += 1;
                    usage.entry_bytes += bytes;
                    let kind = usage.by_kind.entry(manifest.kind).or_default();
                    kind.entries += 1;
                    kind.bytes += bytes;
                }
                None => {
                    usage.broken += 1;
                    usage.broken_bytes += bytes;
                }
            }
        }
        for path in self.tmp_items()? {
            let bytes = disk::tree_size(&path);
            usage.tmp_bytes += bytes;
            if tmp::is_stale(&path) {
                usage.stale_tmp_bytes += bytes;
            }
        }
        Ok(usage)
    }

    /// Removes every entry whose key is not in `keep`, broken ones included, and every stale
    /// item of `tmp/` (see [`tmp::is_stale`]). With `dry_run` nothing is removed and the
    /// report says what would be.
    /// The entries created less than `seconds` ago (by their manifests): what `gc --older-than`
    /// keeps.
    pub(crate) fn created_within(&self, seconds: f64) -> Result<HashSet<Key>, CacheError> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Ok(self
            .object_folders()?
            .into_iter()
            .filter(|(_, folder)| {
                Manifest::read(folder).is_ok_and(|m| (now.saturating_sub(m.created_unix) as f64) < seconds)
            })
            .map(|(key, _)| key)
            .collect())
    }

    pub(crate) fn gc(&self, keep: &HashSet<Key>, dry_run: bool) -> Result<GcReport, CacheError> {
        let mut report = GcReport::default();
        for (key, folder) in self.object_folders()? {
            if keep.contains(&key) {
                continue;
            }
            report.entries.push(RemovedEntry {
                key,
                label: Manifest::read(&folder).ok().map(|m| m.label),
                bytes: disk::tree_size(&folder),
            });
            if !dry_run {
                self.discard(&folder, &key.hex())?;
            }
        }
        // Judge every item before removing any, so a folder and its lock file are judged
        // alike and a dry run reports exactly what a real run removes. Sorted paths put a
        // folder before its lock file, keeping the lock until its folder is gone.
        let mut stale: Vec<PathBuf> = self.tmp_items()?.into_iter().filter(|path| tmp::is_stale(path)).collect();
        // Claims whose owner is gone: nobody computes those nodes any more.
        stale.extend(self.stale_claims());
        for path in stale {
            let bytes = disk::tree_size(&path);
            if !dry_run {
                disk::remove_tree(&path)?;
            }
            report.tmp.push(RemovedTmp { path, bytes });
        }
        report.freed_bytes =
            report.entries.iter().map(|e| e.bytes).sum::<u64>() + report.tmp.iter().map(|t| t.bytes).sum::<u64>();
        Ok(report)
    }

    /// `verify_with` without progress.
    #[cfg(test)]
    pub(crate) fn verify(&self) -> Result<Vec<Problem>, CacheError> {
        self.verify_with(&mut |_, _| {})
    }

    /// Re-hashes every file of every entry and reports each mismatch, missing or unreadable
    /// file, and bad manifest; an empty list means every entry is intact. Calls
    /// `checked(done, total)` before each entry and once all are checked: the progress of
    /// `munl cache verify`.
    pub(crate) fn verify_with(&self, checked: &mut dyn FnMut(usize, usize)) -> Result<Vec<Problem>, CacheError> {
        let mut problems = Vec::new();
        let folders = self.object_folders()?;
        let total = folders.len();
        for (done, (key, folder)) in folders.into_iter().enumerate() {
            checked(done, total);
            let manifest = match Manifest::read(&folder) {
                Ok(manifest) => manifest,
                Err(reason) => {
                    problems.push(Problem::BadManifest { key, path: folder.join(MANIFEST), reason });
                    continue;
                }
            };
            if manifest.key != key {
                problems.push(Problem::WrongKey { key, path: folder.join(MANIFEST), found: manifest.key });
                continue;
            }
            let files = folder.join(FILES);
            for (rel, record) in &manifest.files {
                let path = files.join(rel);
                match manifest::hash_file(&path) {
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        problems.push(Problem::MissingFile { key, path });
                    }
                    Err(e) => problems.push(Problem::UnreadableFile { key, path, reason: e.to_string() }),
                    Ok(found) if found.size != record.size => {
                        problems.push(Problem::WrongSize { key, path, expected: record.size, found: found.size })
                    }
                    Ok(found) if found.blake3 != record.blake3 => {
                        problems.push(Problem::WrongHash {
                            key,
                            path,
                            expected: record.blake3.clone(),
                            found: found.blake3,
                        });
                    }
                    Ok(_) => {}
                }
            }
        }
        checked(total, total);
        let names = self.names()?;
        problems.extend(names.bad.into_iter().map(|b| Problem::BadName { path: b.path, reason: b.reason }));
        Ok(problems)
    }

    /// Removes what `problems` are about: each entry with a problem, every entry computed from
    /// an evicted one (transitively, by the input keys its manifest's description records),
    /// and each bad name record. Returns what it removed: the problem entries, then their
    /// dependants in the order found, then the name records.
    ///
    /// Dependants go before the entries they were computed from: if this stops midway, the
    /// problem entries are still there for the next `verify --evict`, and so are the
    /// dependants not yet removed.
    pub(crate) fn evict_problems(&self, problems: &[Problem]) -> Result<Vec<Evicted>, CacheError> {
        let broken: BTreeSet<Key> = problems.iter().filter_map(Problem::key).collect();
        let mut dependants: HashMap<Key, Vec<Key>> = HashMap::new();
        let mut labels: HashMap<Key, String> = HashMap::new();
        for (key, folder) in self.object_folders()? {
            if let Ok(manifest) = Manifest::read(&folder) {
                for input in manifest.input_keys() {
                    dependants.entry(input).or_default().push(key);
                }
                labels.insert(key, manifest.label);
            }
        }
        let label = |key: &Key| labels.get(key).cloned();
        let mut removed: Vec<Evicted> = broken.iter().map(|&key| Evicted::Entry { key, label: label(&key) }).collect();
        let mut seen: HashSet<Key> = broken.iter().copied().collect();
        let mut queue: VecDeque<Key> = broken.into_iter().collect();
        while let Some(input) = queue.pop_front() {
            for &key in dependants.get(&input).into_iter().flatten() {
                if seen.insert(key) {
                    removed.push(Evicted::Dependant { key, label: label(&key), input });
                    queue.push_back(key);
                }
            }
        }
        for evicted in removed.iter().rev() {
            if let Evicted::Entry { key, .. } | Evicted::Dependant { key, .. } = evicted {
                self.evict(key)?;
            }
        }
        for problem in problems {
            if let Problem::BadName { path, .. } = problem {
                self.remove_name(path)?;
                removed.push(Evicted::Name { path: path.clone() });
            }
        }
        Ok(removed)
    }

    /// Every folder under `objects/` named by a key in the shard its key belongs to, sorted
    /// by key. Anything else there is not the cache's and is left alone.
    fn object_folders(&self) -> Result<Vec<(Key, PathBuf)>, CacheError> {
        let objects = self.root.join(OBJECTS);
        let mut found = Vec::new();
        for shard in read_dir_sorted(&objects)? {
            let Some(prefix) = shard.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !shard.is_dir() {
                continue;
            }
            for folder in read_dir_sorted(&shard)? {
                let key = folder
                    .file_name()
                    .and_then(|n| n.to_str())
                    .filter(|hex| hex.starts_with(prefix) && prefix.len() == 2)
                    .and_then(Key::from_hex);
                if let Some(key) = key {
                    if folder.is_dir() {
                        found.push((key, folder));
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// Every item directly under `tmp/`, sorted by path.
    fn tmp_items(&self) -> Result<Vec<PathBuf>, CacheError> {
        read_dir_sorted(&self.tmp_dir())
    }
}

/// The children of `dir`, sorted; a missing `dir` has none.
fn read_dir_sorted(dir: &std::path::Path) -> Result<Vec<PathBuf>, CacheError> {
    let children = match fs::read_dir(dir) {
        Ok(children) => children,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_at("read folder", dir)(e)),
    };
    let mut paths = children
        .map(|child| child.map(|c| c.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_at("read folder", dir))?;
    paths.sort();
    Ok(paths)
}
