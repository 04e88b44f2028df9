//! Items under `tmp/`: unique names that record their owner, owner locks, and staleness.
//!
//! Every item is named `<stem>.<pid>.<nonce>[.<ext>]`. A folder being produced by a
//! [`Pending`](super::Pending) also has a sibling `<name>.lock` that its process holds an
//! exclusive lock on for the folder's whole life; the operating system drops that lock when
//! the process dies, however it dies. Invariant: the lock is taken before the folder is
//! created and released only after the folder is gone (committed or removed).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::disk;

/// Items without a lock whose owner cannot be shown dead are collected after this long.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Suffix of a producing folder's lock file.
pub(crate) const LOCK_SUFFIX: &str = ".lock";

/// A name for a new item that no other process or call will pick: `<stem>.<pid>.<nonce>`.
pub(crate) fn unique_name(stem: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{stem}.{}.{nanos:08x}{count:x}", std::process::id())
}

/// The pid recorded in an item's name, if it has one.
pub(crate) fn owner_pid(name: &str) -> Option<u32> {
    name.split('.').nth(1)?.parse().ok()
}

/// Whether process `pid` is running; `None` where that cannot be told.
fn process_alive(pid: u32) -> Option<bool> {
    if pid == std::process::id() {
        return Some(true);
    }
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        return Some(Path::new(&format!("/proc/{pid}")).exists());
    }
    None
}

/// Whether nobody holds the lock file at `lock`; `None` if it cannot be opened or tested.
fn lock_is_free(lock: &Path) -> Option<bool> {
    let file = File::open(lock).ok()?;
    match file.try_lock() {
        Ok(()) => Some(true),
        Err(TryLockError::WouldBlock) => Some(false),
        Err(TryLockError::Error(_)) => None,
    }
}

/// The judgement for items without a usable lock: the owner is dead, or it is a day old.
fn abandoned(path: &Path, name: &str) -> bool {
    let dead = owner_pid(name).and_then(process_alive) == Some(false);
    dead || disk::age(path).is_some_and(|age| age > STALE_AFTER)
}

/// Whether the item at `path` in `tmp/` is left over by a process that is gone.
///
/// A held lock always means alive; a free lock next to a producing folder means its owner
/// died. Lone lock files, scratch files and folders being deleted have no lock of their own
/// and fall back to the owner's pid and the item's age.
pub(crate) fn is_stale(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if let Some(producing) = name.strip_suffix(LOCK_SUFFIX) {
        let folder = path.with_file_name(producing);
        // A lock beside its folder goes when the folder goes, so both get one judgement.
        if fs::symlink_metadata(&folder).is_ok() {
            return is_stale(&folder);
        }
        return lock_is_free(path) != Some(false) && abandoned(path, name);
    }
    match lock_is_free(&lock_path(path)) {
        Some(free) => free,
        None => abandoned(path, name),
    }
}

/// The lock file that guards the producing folder `folder`.
pub(crate) fn lock_path(folder: &Path) -> PathBuf {
    let mut name = folder.file_name().unwrap_or_default().to_os_string();
    name.push(LOCK_SUFFIX);
    folder.with_file_name(name)
}

/// An exclusive lock held on a producing folder's lock file for as long as this value lives.
#[derive(Debug)]
pub(crate) struct OwnerLock {
    file: File,
    path: PathBuf,
}

impl OwnerLock {
    /// Creates and locks the lock file of `folder`, which must not exist yet.
    pub(crate) fn acquire(folder: &Path) -> std::io::Result<OwnerLock> {
        let path = lock_path(folder);
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        if let Err(e) = file.lock() {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        Ok(OwnerLock { file, path })
    }
}

impl Drop for OwnerLock {
    fn drop(&mut self) {
        // Removed while still held, so no other process ever sees it free beside a live folder.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}
