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

/// `munl cache ls`: one line per entry — kind (a measurement's op), label, age, size, key —
/// grouped by label, newest first within a label; the results of one label computed with
/// different values say what differs (`lr=0.01` against `lr=0.02`).
pub(crate) fn ls(root: &Path) -> u8 {
    let cache = match cache(root) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let entries = match cache.list() {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let listed: Vec<Listed> = entries
        .iter()
        .map(|e| Listed {
            kind: shown_kind(&e.manifest.kind, &e.manifest.op),
            label: &e.manifest.label,
            created: e.manifest.created_unix,
            size: e.manifest.files.values().map(|f| f.size).sum(),
            key: e.key.short(),
            description: &e.manifest.description,
        })
        .collect();
    print!("{}", listing(listed, now));
    EXIT_OK
}

/// One entry as `munl cache ls` shows it.
struct Listed<'a> {
    kind: &'a str,
    label: &'a str,
    created: u64,
    size: u64,
    key: String,
    description: &'a serde_json::Value,
}

/// The kind to list an entry under: a measurement's op (`distance`, `predict`, `membership`,
/// `measure`), every other entry's kind.
fn shown_kind<'a>(kind: &'a str, op: &'a str) -> &'a str {
    if kind == "measure" {
        op
    } else {
        kind
    }
}

/// The lines of `munl cache ls` at time `now` (Unix seconds), and the count.
fn listing(mut entries: Vec<Listed<'_>>, now: u64) -> String {
    entries.sort_by(|a, b| a.label.cmp(b.label).then(b.created.cmp(&a.created)).then(a.key.cmp(&b.key)));
    let width = entries.iter().map(|e| e.label.chars().count()).max().unwrap_or(0).min(60);
    let mut out = String::new();
    let mut i = 0;
    while i < entries.len() {
        let same = entries[i..].iter().take_while(|e| e.label == entries[i].label).count();
        let group = &entries[i..i + same];
        for e in group {
            let differs = if same > 1 { distinguishing(e, group) } else { String::new() };
            let line = format!(
                "{:<10} {:<width$}  {:>10}  {:>10}  {}  {differs}",
                e.kind,
                e.label,
                age(now.saturating_sub(e.created)),
                bytes(e.size),
                e.key
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        i += same;
    }
    out.push_str(&format!("{} entries\n", entries.len()));
    out
}

/// What sets `e` apart from the other entries of its label: the parameters whose values differ
/// among them (`lr=0.02`), else the inputs that differ (`input original=3f2a…`).
fn distinguishing(e: &Listed<'_>, group: &[Listed<'_>]) -> String {
    let params = |d: &serde_json::Value| d.get("params").and_then(|p| p.as_object()).cloned().unwrap_or_default();
    let mine = params(e.description);
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for other in group {
        let theirs = params(other.description);
        names.extend(mine.keys().chain(theirs.keys()).filter(|k| mine.get(*k) != theirs.get(*k)).cloned());
    }
    let shown: Vec<String> = names
        .iter()
        .map(|k| {
            let v = mine.get(k).map_or("(unset)".to_string(), |v| {
                crate::ops::Value::from_canonical(v).map_or_else(|| v.to_string(), |v| v.to_string())
            });
            format!("{k}={v}")
        })
        .collect();
    if !shown.is_empty() {
        return shown.join(" ");
    }
    let inputs = |d: &serde_json::Value| -> Vec<(String, String)> {
        d.get("inputs")
            .and_then(|i| i.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|pair| Some((pair.get(0)?.as_str()?.to_string(), pair.get(1)?.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mine = inputs(e.description);
    let differing: Vec<String> = mine
        .iter()
        .filter(|(role, key)| group.iter().any(|o| inputs(o.description).iter().any(|(r, k)| r == role && k != key)))
        .map(|(role, key)| format!("input {role}={}", &key[..key.len().min(12)]))
        .collect();
    if differing.is_empty() {
        match e.description.get("version") {
            Some(v) if group.iter().any(|o| o.description.get("version") != Some(v)) => format!("version {v}"),
            _ => "same description (an older schema)".into(),
        }
    } else {
        differing.join(" ")
    }
}

/// The last line of `munl cache verify`: how many entries were checked, and the problems.
fn verified(entries: usize, problems: usize) -> String {
    let entries = if entries == 1 { "1 entry".to_string() } else { format!("{entries} entries") };
    match problems {
        0 => format!("{entries} verified, every one intact"),
        1 => format!("{entries} verified, 1 problem"),
        n => format!("{entries} verified, {n} problems"),
    }
}

/// How long ago, in the largest unit that fits: `12 s ago`, `3 min ago`, `5 h ago`, `2 d ago`.
fn age(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
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
    let progress = super::progress::Count::new("verifying entries");
    let mut checked = 0;
    let result = cache.verify_with(&mut |done, total| {
        progress.set(done, total);
        checked = total;
    });
    progress.finish();
    match result {
        Ok(problems) if problems.is_empty() => {
            println!("{}", verified(checked, 0));
            EXIT_OK
        }
        Ok(problems) => {
            for p in &problems {
                println!("{p}");
            }
            println!("{}", verified(checked, problems.len()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(label: &'a str, kind: &'a str, created: u64, key: &str, d: &'a serde_json::Value) -> Listed<'a> {
        Listed { kind, label, created, size: 2048, key: key.into(), description: d }
    }

    #[test]
    fn a_label_listed_twice_says_what_differs_newest_first() {
        let a = serde_json::json!({"params": {"lr": 0.01, "epochs": 5}, "inputs": [["original", "aa"]]});
        let b = serde_json::json!({"params": {"lr": 0.02, "epochs": 5}, "inputs": [["original", "aa"]]});
        let c = serde_json::json!({"params": {}, "inputs": [["model", "11"], ["reference", "22"]]});
        let d = serde_json::json!({"params": {}, "inputs": [["model", "33"], ["reference", "22"]]});
        let now = 10 * 86_400;
        let text = listing(
            vec![
                entry("unlearn ft [seed=0]", "unlearn", now - 3 * 86_400, "aaaaaaaaaaaa", &a),
                entry("unlearn ft [seed=0]", "unlearn", now - 200, "bbbbbbbbbbbb", &b),
                entry("distance ft [seed=0]", shown_kind("measure", "distance"), now - 5, "cccccccccccc", &c),
                entry("distance ft [seed=0]", shown_kind("measure", "distance"), now - 7200, "dddddddddddd", &d),
            ],
            now,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(
            lines[0].starts_with("distance ") && lines[0].contains("5 s ago") && lines[0].ends_with("input model=11"),
            "{text}"
        );
        assert!(lines[1].contains("2 h ago") && lines[1].ends_with("input model=33"), "{text}");
        assert!(lines[2].starts_with("unlearn ") && lines[2].contains("3 min ago"), "{text}");
        assert!(lines[2].contains("2.0 KiB  bbbbbbbbbbbb  lr=0.02"), "{text}");
        assert!(lines[3].contains("3 d ago") && lines[3].ends_with("lr=0.01"), "{text}");
        assert!(!text.contains("epochs="), "equal values are not shown: {text}");
        assert_eq!(lines[4], "4 entries");
    }

    #[test]
    fn ages_use_the_largest_unit_that_fits() {
        assert_eq!(age(59), "59 s ago");
        assert_eq!(age(60), "1 min ago");
        assert_eq!(age(3 * 3600 + 5), "3 h ago");
        assert_eq!(age(2 * 86_400 + 1), "2 d ago");
    }
}
