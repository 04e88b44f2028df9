//! Claims: which process is computing a node, visible to every process that shares the cache
//! (on one machine or, over a shared filesystem, on many).
//!
//! A claim is the file `claims/<key hex>`, created atomically with its content (written
//! beside it in `tmp/`, then hard-linked into place: a link fails if the name exists, on local
//! filesystems and NFS alike). It names its owner (host, pid, a nonce of the run) and its
//! modification time is a heartbeat, renewed by a thread of the owner every quarter of the
//! timeout. A claim is *stale* when its owner is on this host and its process is gone (taken
//! over at once after a `kill -9`), or when its heartbeat is older than the timeout
//! (`MUNL_CLAIM_TIMEOUT` seconds, default 60: an owner on another host that died, or lost its
//! filesystem; the hosts' clocks must agree to within the timeout, as Slurm's and munge's
//! already must).
//!
//! Claims only spare work; correctness never rests on them: entries are committed atomically
//! and equal keys mean equal results, so in the rare race where two processes both take over
//! one stale claim, both compute and the first commit wins, as without claims.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::error::{io_at, CacheError};
use super::{disk, tmp, Cache};
use crate::digest::Key;

/// The claims' folder under the cache root.
pub(super) const CLAIMS: &str = "claims";

/// How long a claim's heartbeat may be silent before the claim is taken over, by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Who holds a claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Owner {
    pub(crate) host: String,
    pub(crate) pid: u32,
    /// Tells two claims of one process apart, and a claim from its taker's.
    nonce: String,
    /// When the claim was made (seconds since the epoch).
    since_unix: u64,
}

impl Owner {
    /// This process, now.
    fn me() -> Owner {
        let since_unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Owner { host: host(), pid: std::process::id(), nonce: tmp::unique_name("claim"), since_unix }
    }

    /// `host:pid`, for messages.
    pub(crate) fn name(&self) -> String {
        format!("{}:{}", self.host, self.pid)
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name())
    }
}

/// The outcome of trying to claim a node.
#[derive(Debug)]
pub(crate) enum Claimed {
    /// This process computes it; the claim lasts as long as the value.
    Mine(Claim),
    /// Another live process does.
    Held(Owner),
}

/// A claim this process holds: its heartbeat runs until it is dropped, which removes it.
#[derive(Debug)]
pub(crate) struct Claim {
    path: PathBuf,
    owner: Owner,
    stop: Option<Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.heartbeat.take() {
            let _ = h.join();
        }
        // Only if it is still ours: a process that judged it stale may have taken it over.
        if read(&self.path).is_some_and(|o| o == self.owner) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// This machine's name: what tells a claim's owner is on this host.
fn host() -> String {
    let name = fs::read_to_string("/proc/sys/kernel/hostname").ok().or_else(|| std::env::var("HOSTNAME").ok());
    name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).unwrap_or_else(|| "localhost".into())
}

/// The claim timeout: `MUNL_CLAIM_TIMEOUT` seconds (at least 1), else 60 s.
pub(crate) fn timeout() -> Duration {
    std::env::var("MUNL_CLAIM_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 1.0)
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
}

/// The owner a claim file names; `None` if it is gone or unreadable.
fn read(path: &Path) -> Option<Owner> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// Whether a claim by `owner` whose heartbeat was last renewed at `beat` is stale.
fn stale(owner: &Owner, beat: SystemTime, timeout: Duration) -> bool {
    let dead_here = owner.host == host() && owner.pid != std::process::id() && !alive(owner.pid);
    let silent = SystemTime::now().duration_since(beat).is_ok_and(|age| age > timeout);
    dead_here || silent
}

/// Whether process `pid` of this host runs (assumed so where that cannot be told).
fn alive(pid: u32) -> bool {
    !Path::new("/proc/self").exists() || Path::new(&format!("/proc/{pid}")).exists()
}

impl Cache {
    fn claims_dir(&self) -> PathBuf {
        self.root.join(CLAIMS)
    }

    fn claim_path(&self, key: &Key) -> PathBuf {
        self.claims_dir().join(key.hex())
    }

    /// Claims `key` for this process, unless a live claim of another holds it; a stale claim is
    /// taken over (and the temporary folders its owner left for the key are removed).
    pub(crate) fn claim(&self, key: &Key) -> Result<Claimed, CacheError> {
        self.claim_within(key, timeout())
    }

    /// [`Cache::claim`] with a given timeout (the heartbeat beats four times within it).
    fn claim_within(&self, key: &Key, timeout: Duration) -> Result<Claimed, CacheError> {
        let path = self.claim_path(key);
        let owner = Owner::me();
        // A few rounds: each either claims, finds a live owner, or removes a stale claim.
        for _ in 0..4 {
            if self.create(&path, &owner)? {
                let (stop, rx) = channel::<()>();
                let beat = path.clone();
                let heartbeat = std::thread::spawn(move || loop {
                    match rx.recv_timeout(timeout / 4) {
                        Err(RecvTimeoutError::Timeout) => {
                            let _ =
                                File::options().write(true).open(&beat).and_then(|f| f.set_modified(SystemTime::now()));
                        }
                        _ => return,
                    }
                });
                return Ok(Claimed::Mine(Claim { path, owner, stop: Some(stop), heartbeat: Some(heartbeat) }));
            }
            let (Some(theirs), Ok(beat)) = (read(&path), fs::metadata(&path).and_then(|m| m.modified())) else {
                // Gone meanwhile (its owner finished), or half-visible: try again.
                continue;
            };
            if !stale(&theirs, beat, timeout) {
                return Ok(Claimed::Held(theirs));
            }
            self.take_over(&path, &theirs, key)?;
        }
        // Claims keep changing hands: compute without one (commits stay atomic).
        Ok(Claimed::Mine(Claim { path, owner, stop: None, heartbeat: None }))
    }

    /// Who holds a live claim on `key`, if anyone does.
    pub(crate) fn holder(&self, key: &Key) -> Option<Owner> {
        let path = self.claim_path(key);
        let owner = read(&path)?;
        let beat = fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        (!stale(&owner, beat, timeout())).then_some(owner)
    }

    /// Claims no live process holds: left by owners that died (for `gc`). An unreadable claim
    /// counts once it is older than the timeout.
    pub(super) fn stale_claims(&self) -> Vec<PathBuf> {
        let Ok(items) = fs::read_dir(self.claims_dir()) else { return vec![] };
        let mut out: Vec<PathBuf> = items
            .flatten()
            .map(|item| item.path())
            .filter(|path| {
                let beat = fs::metadata(path).and_then(|m| m.modified()).unwrap_or(UNIX_EPOCH);
                match read(path) {
                    Some(owner) => stale(&owner, beat, timeout()),
                    None => SystemTime::now().duration_since(beat).is_ok_and(|age| age > timeout()),
                }
            })
            .collect();
        out.sort();
        out
    }

    /// Creates the claim file with its content in one step; `false` if it exists.
    fn create(&self, path: &Path, owner: &Owner) -> Result<bool, CacheError> {
        let dir = self.claims_dir();
        fs::create_dir_all(&dir).map_err(io_at("create folder", &dir))?;
        let scratch = self.tmp_dir().join(tmp::unique_name("claim"));
        let bytes = serde_json::to_vec(owner).map_err(|source| CacheError::Encode { path: scratch.clone(), source })?;
        fs::write(&scratch, bytes).map_err(io_at("write", &scratch))?;
        let linked = fs::hard_link(&scratch, path);
        let _ = fs::remove_file(&scratch);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_at("create", path)(e)),
        }
    }

    /// Removes the stale claim of `theirs` on `key` and the temporary folders its owner left.
    fn take_over(&self, path: &Path, theirs: &Owner, key: &Key) -> Result<(), CacheError> {
        let aside = self.tmp_dir().join(tmp::unique_name("claim"));
        match fs::rename(path, &aside) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CacheError::Rename { from: path.to_path_buf(), to: aside, source: e }),
        }
        // Between judging and moving it, another process may have taken it over and made a
        // fresh claim: put that one back (if the place is free again).
        if read(&aside).is_some_and(|o| o != *theirs) {
            let _ = fs::hard_link(&aside, path);
        }
        let _ = fs::remove_file(&aside);
        let stem = format!("{}.", key.hex());
        if let Ok(items) = fs::read_dir(self.tmp_dir()) {
            for item in items.flatten() {
                let p = item.path();
                let mine =
                    item.file_name().to_str().is_some_and(|n| n.starts_with(&stem) && !n.ends_with(tmp::LOCK_SUFFIX));
                if mine && tmp::is_stale(&p) {
                    let _ = disk::remove_tree(&p);
                    let _ = fs::remove_file(tmp::lock_path(&p));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Key {
        Key::of(&[n])
    }

    #[test]
    fn one_claim_per_key_until_it_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let Claimed::Mine(first) = cache.claim(&key(1)).unwrap() else { panic!("the first claim is mine") };
        // Another claim of this process is a different owner (another nonce): it is held.
        match cache.claim(&key(1)).unwrap() {
            Claimed::Held(owner) => assert_eq!(owner.pid, std::process::id()),
            Claimed::Mine(_) => panic!("claimed twice"),
        }
        assert!(cache.holder(&key(1)).is_some());
        assert!(matches!(cache.claim(&key(2)).unwrap(), Claimed::Mine(_)), "another key is free");
        drop(first);
        assert!(cache.holder(&key(1)).is_none());
        assert!(matches!(cache.claim(&key(1)).unwrap(), Claimed::Mine(_)));
    }

    #[test]
    fn a_dead_owners_claim_is_taken_over_with_its_temporary_folder() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        // A process of this host that has exited.
        let pid = std::process::Command::new("true").spawn().and_then(|mut c| c.wait().map(|_| c.id())).unwrap();
        let dead = Owner { pid, ..Owner::me() };
        assert!(cache.create(&cache.claim_path(&key(3)), &dead).unwrap());
        let left = cache.tmp_dir().join(format!("{}.{pid}.0", key(3).hex()));
        fs::create_dir(&left).unwrap();
        assert!(cache.holder(&key(3)).is_none(), "a dead owner holds nothing");
        assert!(matches!(cache.claim(&key(3)).unwrap(), Claimed::Mine(_)));
        assert!(!left.exists(), "its temporary folder is gone");
    }

    #[test]
    fn a_silent_claim_is_stale_after_the_timeout_and_a_heartbeat_keeps_it_alive() {
        let other = Owner { host: "elsewhere".into(), ..Owner::me() };
        let now = SystemTime::now();
        assert!(!stale(&other, now, Duration::from_secs(60)));
        assert!(stale(&other, now - Duration::from_secs(61), Duration::from_secs(60)));

        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let path = cache.claim_path(&key(4));
        let Claimed::Mine(claim) = cache.claim(&key(4)).unwrap() else { panic!("mine") };
        let old = now - Duration::from_secs(3600);
        File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
        assert!(stale(&read(&path).unwrap(), fs::metadata(&path).unwrap().modified().unwrap(), timeout()));
        drop(claim);
        assert!(!path.exists());

        // With a 1 s timeout the heartbeat renews the claim every 0.25 s.
        let Claimed::Mine(claim) = cache.claim_within(&key(4), Duration::from_secs(1)).unwrap() else { panic!() };
        File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        let beat = fs::metadata(&path).unwrap().modified().unwrap();
        assert!(SystemTime::now().duration_since(beat).unwrap() < Duration::from_millis(500), "renewed");
        drop(claim);
    }
}
