//! `munl cache ls | du | gc | verify`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::cache::CacheError;
use crate::digest::Key;

use super::load::{cache, load};
use super::{fail, EXIT_FAILED, EXIT_OK};

/// Human-readable byte counts.
fn bytes(n: u64) -> String {
    const UNITS: &[&str] = &["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// `munl cache ls`
pub(crate) fn ls(root: &Path) -> u8 {
    let cache = match cache(root) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut entries = match cache.list() {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    entries.sort_by(|a, b| a.manifest.label.cmp(&b.manifest.label));
    for e in &entries {
        let size: u64 = e.manifest.files.values().map(|f| f.size).sum();
        println!(
            "{}  {:<8} {:>10}  {:>8.2}s  {}",
            e.key.short(),
            e.manifest.kind,
            bytes(size),
            e.manifest.wall_time_s,
            e.manifest.label
        );
    }
    println!("{} entries", entries.len());
    EXIT_OK
}

/// `munl cache du`
pub(crate) fn du(root: &Path) -> u8 {
    let cache = match cache(root) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let usage = match cache.usage() {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    for (kind, k) in &usage.by_kind {
        println!("{kind:<10} {:>6} entries  {:>10}", k.entries, bytes(k.bytes));
    }
    if usage.broken > 0 {
        println!("{:<10} {:>6} entries  {:>10}", "broken", usage.broken, bytes(usage.broken_bytes));
    }
    if usage.tmp_bytes > 0 {
        println!("{:<10} {:>14}  {:>10} (stale: {})", "tmp", "", bytes(usage.tmp_bytes), bytes(usage.stale_tmp_bytes));
    }
    println!("{:<10} {:>6} entries  {:>10}", "total", usage.entries, bytes(usage.total_bytes()));
    EXIT_OK
}

/// `munl cache gc [FILE…] [--dry-run]`
/// What `munl cache gc` keeps: what the files need, the latest result of every label, the
/// entries younger than some days; at least one must be said.
pub(crate) struct Keep {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) recent: bool,
    pub(crate) older_than: Option<f64>,
}

pub(crate) fn gc(root: &Path, what: &Keep, dry_run: bool) -> u8 {
    if what.files.is_empty() && !what.recent && what.older_than.is_none() {
        return fail(
            "say what to keep: FILE… (everything those experiments need), --recent (the latest result of every \
             node), and/or --older-than DAYS (everything younger); nothing was removed",
        );
    }
    if what.older_than.is_some_and(|d| d.is_nan() || d < 0.0) {
        return fail("--older-than takes a number of days, 0 or more");
    }
    let cache = match cache(root) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut keep: HashSet<Key> = HashSet::new();
    if what.recent {
        match cache.remembered_keys() {
            Ok(k) => keep.extend(k),
            Err(e) => return cannot_keep(&e, dry_run),
        }
    }
    if let Some(days) = what.older_than {
        match cache.created_within(days * 86_400.0) {
            Ok(k) => keep.extend(k),
            Err(e) => return fail(e),
        }
    }
    for f in &what.files {
        match load(f) {
            Ok(l) => keep.extend(l.plan.nodes.iter().map(|n| n.key)),
            Err(code) => return code,
        }
    }
    let keep = crate::exec::with_trials(&cache, keep);
    let report = match cache.gc(&keep, dry_run) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let verb = if dry_run { "would remove" } else { "removed" };
    for e in &report.entries {
        println!("{verb} {}  {}  {}", e.key.short(), bytes(e.bytes), e.label.as_deref().unwrap_or("(broken entry)"));
    }
    for t in &report.tmp {
        println!("{verb} {}  {}", t.path.display(), bytes(t.bytes));
    }
    // By declaration: `unlearn ft [seed=0]` and `unlearn ft [seed=1]` are `unlearn ft`'s.
    let mut by_decl: std::collections::BTreeMap<&str, (usize, u64)> = std::collections::BTreeMap::new();
    for e in &report.entries {
        let label = e.label.as_deref().unwrap_or("(broken entry)");
        let decl = label.split(" [").next().unwrap_or(label);
        let d = by_decl.entry(decl).or_default();
        d.0 += 1;
        d.1 += e.bytes;
    }
    for (decl, (n, size)) in &by_decl {
        println!("{verb} {n} entr{} of `{decl}`, {}", if *n == 1 { "y" } else { "ies" }, bytes(*size));
    }
    println!(
        "{verb} {} entries and {} temporary folders, {}",
        report.entries.len(),
        report.tmp.len(),
        bytes(report.freed_bytes)
    );
    EXIT_OK
}

/// Why `gc` cannot tell what is in use; for unreadable name records, which ones and what to do.
fn cannot_keep(e: &CacheError, dry_run: bool) -> u8 {
    let CacheError::UnreadableNames { names, .. } = e else {
        return fail(e);
    };
    let listed: String = names.iter().map(|(path, why)| format!("\n  `{}`: {why}", path.display())).collect();
    let removed = if dry_run { "would be removed" } else { "was removed" };
    fail(format!(
        "{e}{listed}\n  help: nothing {removed}, since any entry may be the one such a record remembers; \
         `munl cache verify --evict` deletes the unreadable records (entries only they remembered are \
         then collected, unless a `munl run` remembers them again), or name the experiments whose \
         entries to keep: `munl cache gc FILE…`"
    ))
}

/// `munl cache verify [--evict]`
pub(crate) fn verify(root: &Path, evict: bool) -> u8 {
    let cache = match cache(root) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cache.verify() {
        Ok(problems) if problems.is_empty() => {
            println!("every entry verified");
            EXIT_OK
        }
        Ok(problems) => {
            for p in &problems {
                println!("{p}");
            }
            println!("{} problem(s)", problems.len());
            if evict {
                return match cache.evict_problems(&problems) {
                    Ok(removed) => {
                        for r in &removed {
                            println!("{r}");
                        }
                        EXIT_OK
                    }
                    Err(e) => fail(e),
                };
            }
            println!("run `munl cache verify --evict` to remove them and the entries computed from them");
            EXIT_FAILED
        }
        Err(e) => fail(e),
    }
}
