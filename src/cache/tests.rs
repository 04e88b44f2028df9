//! Tests of the store against real folders in a temporary directory.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use serde_json::json;

use super::maintenance::Evicted;
use super::manifest::{is_safe_relative, FILES, MANIFEST};
use super::{tmp, Cache, CacheError, Entry, ManifestInfo, Problem};
use crate::digest::Key;
use crate::plan::{Coords, Description, Payload};

fn key(name: &str) -> Key {
    Key::of(name.as_bytes())
}

fn info(kind: &str) -> ManifestInfo {
    ManifestInfo {
        kind: kind.to_string(),
        op: "ft".to_string(),
        label: format!("{kind} ft [seed=0]"),
        description: json!({ "op": "ft", "epochs": 5 }),
        wall_time_s: 1.5,
    }
}

fn fresh() -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache")).unwrap();
    (dir, cache)
}

/// Commits `files` (relative path, content) as `key`'s result.
fn commit(cache: &Cache, key: &Key, kind: &str, files: &[(&str, &[u8])]) -> Entry {
    let pending = cache.begin(key).unwrap();
    for (rel, bytes) in files {
        let path = pending.dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }
    pending.commit(info(kind)).unwrap()
}

/// Every file (not folder) under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for child in fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = child.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn tmp_children(cache: &Cache) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = fs::read_dir(cache.tmp_dir()).unwrap().map(|c| c.unwrap().path()).collect();
    all.sort();
    all
}

/// A pid no process can have: above Linux's largest `pid_max`.
const DEAD_PID: u32 = 4_194_305;

#[test]
fn commit_then_lookup_hits_with_the_files() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let committed = commit(&cache, &k, "train", &[("model.safetensors", b"weights"), ("eval/metrics.json", b"{}")]);

    let entry = cache.lookup(&k).expect("a committed entry is a hit");
    assert_eq!(entry, committed);
    assert_eq!(entry.dir, cache.object_dir(&k).join(FILES));
    assert_eq!(fs::read(entry.dir.join("model.safetensors")).unwrap(), b"weights");
    assert_eq!(fs::read(entry.dir.join("eval/metrics.json")).unwrap(), b"{}");
    let listed: Vec<&str> = entry.manifest.files.keys().map(String::as_str).collect();
    assert_eq!(listed, ["eval/metrics.json", "model.safetensors"]);
    let record = &entry.manifest.files["model.safetensors"];
    assert_eq!(record.size, 7);
    assert_eq!(record.blake3, blake3::hash(b"weights").to_hex().as_str());
    assert_eq!(entry.manifest.key, k);
    assert_eq!(entry.manifest.label, "train ft [seed=0]");
    assert!(tmp_children(&cache).is_empty(), "commit leaves nothing in tmp/");
    assert!(cache.lookup(&key("b")).is_none());
}

#[test]
fn dropped_pending_leaves_nothing() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let pending = cache.begin(&k).unwrap();
    fs::write(pending.dir().join("half.bin"), b"partial").unwrap();
    assert!(!tmp_children(&cache).is_empty());
    drop(pending);

    assert!(tmp_children(&cache).is_empty());
    assert!(files_under(&cache.root().join("objects")).is_empty());
    assert!(cache.lookup(&k).is_none());
}

#[test]
fn deleted_file_is_a_miss() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let entry = commit(&cache, &k, "train", &[("a.bin", b"aaaa"), ("b.bin", b"bbbb")]);
    fs::remove_file(entry.dir.join("b.bin")).unwrap();
    assert!(cache.lookup(&k).is_none());
}

#[test]
fn truncated_file_is_a_miss() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let entry = commit(&cache, &k, "train", &[("a.bin", b"aaaa")]);
    fs::write(entry.dir.join("a.bin"), b"aa").unwrap();
    assert!(cache.lookup(&k).is_none());
}

#[test]
fn manifest_with_another_key_is_a_miss() {
    let (_dir, cache) = fresh();
    let k = key("a");
    commit(&cache, &k, "train", &[("a.bin", b"aaaa")]);
    let path = cache.object_dir(&k).join(MANIFEST);
    let mut manifest: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    manifest["key"] = json!(key("other").hex());
    fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    assert!(cache.lookup(&k).is_none());
    assert!(matches!(cache.verify().unwrap()[..], [Problem::WrongKey { .. }]));
}

#[test]
fn unparsable_manifest_is_a_miss_and_reported() {
    let (_dir, cache) = fresh();
    let k = key("a");
    commit(&cache, &k, "train", &[("a.bin", b"aaaa")]);
    fs::write(cache.object_dir(&k).join(MANIFEST), b"{ not json").unwrap();

    assert!(cache.lookup(&k).is_none());
    let problems = cache.verify().unwrap();
    assert!(matches!(&problems[..], [Problem::BadManifest { key, .. }] if *key == k));
}

#[test]
fn verify_finds_a_flipped_byte() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let entry = commit(&cache, &k, "train", &[("w.bin", b"0123456789")]);
    commit(&cache, &key("b"), "eval", &[("m.json", b"{}")]);
    assert_eq!(cache.verify().unwrap(), []);

    let path = entry.dir.join("w.bin");
    let mut bytes = fs::read(&path).unwrap();
    bytes[4] ^= 0x01;
    fs::write(&path, bytes).unwrap();

    assert!(cache.lookup(&k).is_some(), "a lookup checks sizes only");
    let problems = cache.verify().unwrap();
    assert_eq!(problems.len(), 1);
    match &problems[0] {
        Problem::WrongHash { key, path: at, .. } => {
            assert_eq!(*key, k);
            assert_eq!(*at, path);
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    assert!(problems[0].to_string().contains("w.bin"));
}

#[test]
fn verify_reports_a_missing_file() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let entry = commit(&cache, &k, "train", &[("w.bin", b"01")]);
    fs::remove_file(entry.dir.join("w.bin")).unwrap();
    assert!(matches!(&cache.verify().unwrap()[..], [Problem::MissingFile { key, .. }] if *key == k));
}

#[test]
fn gc_removes_unkept_entries_and_dry_run_only_reports() {
    let (_dir, cache) = fresh();
    let (a, b) = (key("a"), key("b"));
    commit(&cache, &a, "train", &[("a.bin", b"aaaa")]);
    commit(&cache, &b, "eval", &[("b.bin", b"bbbbbbbb")]);
    let stale = cache.tmp_dir().join(format!("{}.{DEAD_PID}.0", key("c").hex()));
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("x"), b"xyz").unwrap();
    let keep = HashSet::from([a]);

    let planned = cache.gc(&keep, true).unwrap();
    assert_eq!(planned.entries.len(), 1);
    assert_eq!(planned.entries[0].key, b);
    assert_eq!(planned.entries[0].label.as_deref(), Some("eval ft [seed=0]"));
    assert_eq!(planned.tmp.len(), 1);
    assert!(planned.freed_bytes > 8 + 3);
    assert!(cache.lookup(&b).is_some(), "a dry run removes nothing");
    assert!(stale.exists(), "a dry run removes nothing");

    let done = cache.gc(&keep, false).unwrap();
    assert_eq!(done, planned);
    assert!(cache.lookup(&a).is_some());
    assert!(cache.lookup(&b).is_none());
    assert!(!cache.object_dir(&b).exists());
    assert!(tmp_children(&cache).is_empty());
    assert_eq!(cache.gc(&keep, false).unwrap().freed_bytes, 0);
}

#[test]
#[cfg(target_os = "linux")]
fn gc_collects_a_folder_of_a_dead_pid() {
    let (_dir, cache) = fresh();
    let stale = cache.tmp_dir().join(format!("{}.{DEAD_PID}.1f", key("a").hex()));
    fs::create_dir_all(stale.join(FILES)).unwrap();
    fs::write(stale.join(FILES).join("w.bin"), b"12345").unwrap();

    let report = cache.gc(&HashSet::new(), false).unwrap();
    assert_eq!(report.tmp.len(), 1);
    assert_eq!(report.tmp[0].path, stale);
    assert_eq!(report.tmp[0].bytes, 5);
    assert!(!stale.exists());
}

#[test]
fn gc_collects_a_folder_whose_lock_is_free() {
    let (_dir, cache) = fresh();
    // Our own pid is alive, so only the free lock shows that the owner is gone.
    let folder = cache.tmp_dir().join(tmp::unique_name(&key("a").hex()));
    fs::create_dir(&folder).unwrap();
    fs::write(tmp::lock_path(&folder), b"").unwrap();

    let report = cache.gc(&HashSet::new(), false).unwrap();
    let paths: Vec<&PathBuf> = report.tmp.iter().map(|t| &t.path).collect();
    assert_eq!(paths, [&folder, &tmp::lock_path(&folder)]);
    assert!(tmp_children(&cache).is_empty());
}

#[test]
fn gc_spares_a_live_pending() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let pending = cache.begin(&k).unwrap();
    fs::write(pending.dir().join("w.bin"), b"123").unwrap();

    let report = cache.gc(&HashSet::new(), false).unwrap();
    assert_eq!(report.tmp, []);
    assert!(pending.dir().join("w.bin").exists());
    assert_eq!(cache.usage().unwrap().stale_tmp_bytes, 0);
    pending.commit(info("train")).unwrap();
    assert!(cache.lookup(&k).is_some());
}

#[test]
fn remember_recall_round_trip_and_overwrite() {
    let (_dir, cache) = fresh();
    let name = "unlearn ft [seed=0] / ../ü\n*";
    assert_eq!(cache.recall(name), None);

    cache.remember(name, &key("1"), &json!({ "epochs": 50 })).unwrap();
    assert_eq!(cache.recall(name), Some((key("1"), json!({ "epochs": 50 }))));

    cache.remember(name, &key("2"), &json!({ "epochs": 20 })).unwrap();
    cache.remember("train base", &key("3"), &json!({})).unwrap();
    assert_eq!(cache.recall(name), Some((key("2"), json!({ "epochs": 20 }))));
    let names = cache.names().unwrap();
    assert_eq!(names.records, [("train base".to_string(), key("3")), (name.to_string(), key("2"))]);
    assert_eq!(names.bad, []);
    assert_eq!(cache.remembered_keys().unwrap(), HashSet::from([key("2"), key("3")]));
    assert!(tmp_children(&cache).is_empty());
    assert_eq!(cache.recall("unknown"), None);
}

#[test]
fn second_commit_of_a_key_keeps_the_first() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let first = cache.begin(&k).unwrap();
    let second = cache.begin(&k).unwrap();
    fs::write(first.dir().join("w.bin"), b"first").unwrap();
    fs::write(second.dir().join("w.bin"), b"second").unwrap();

    let theirs = first.commit(info("train")).unwrap();
    let ours = second.commit(info("train")).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(fs::read(ours.dir.join("w.bin")).unwrap(), b"first");
    assert_eq!(cache.list().unwrap().len(), 1);
    assert_eq!(cache.verify().unwrap(), []);
    assert!(tmp_children(&cache).is_empty());
}

#[test]
fn concurrent_commits_of_a_key_leave_one_valid_entry() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [b"one".as_slice(), b"two".as_slice()]
        .into_iter()
        .map(|content| {
            let (cache, barrier) = (cache.clone(), barrier.clone());
            std::thread::spawn(move || {
                let pending = cache.begin(&k).unwrap();
                fs::write(pending.dir().join("w.bin"), content).unwrap();
                barrier.wait();
                pending.commit(info("train")).unwrap()
            })
        })
        .collect();
    let entries: Vec<Entry> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    assert_eq!(entries[0], entries[1]);
    assert_eq!(cache.lookup(&k), Some(entries[0].clone()));
    assert_eq!(cache.list().unwrap().len(), 1);
    assert_eq!(cache.verify().unwrap(), []);
    assert!(tmp_children(&cache).is_empty());
}

#[test]
fn commit_replaces_a_broken_entry() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let folder = cache.object_dir(&k);
    fs::create_dir_all(folder.join(FILES)).unwrap();
    fs::write(folder.join(FILES).join("junk"), b"junk").unwrap();
    assert!(cache.lookup(&k).is_none());

    let entry = commit(&cache, &k, "train", &[("w.bin", b"good")]);
    assert_eq!(cache.lookup(&k), Some(entry));
    assert!(!folder.join(FILES).join("junk").exists());
}

#[test]
fn evict_removes_one_entry() {
    let (_dir, cache) = fresh();
    let (a, b) = (key("a"), key("b"));
    commit(&cache, &a, "train", &[("w.bin", b"a")]);
    commit(&cache, &b, "train", &[("w.bin", b"b")]);

    assert!(cache.evict(&a).unwrap());
    assert!(!cache.evict(&a).unwrap());
    assert!(cache.lookup(&a).is_none());
    assert!(cache.lookup(&b).is_some());
    assert!(tmp_children(&cache).is_empty());
}

#[test]
fn usage_sums_sizes_by_kind() {
    let (_dir, cache) = fresh();
    let a = commit(&cache, &key("a"), "train", &[("w.bin", &[0; 100]), ("x/y.bin", &[1; 20])]);
    let b = commit(&cache, &key("b"), "train", &[("w.bin", &[0; 50])]);
    let c = commit(&cache, &key("c"), "eval", &[("m.json", b"{}")]);
    let stale = cache.tmp_dir().join(format!("{}.{DEAD_PID}.0", key("d").hex()));
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("x"), [0; 7]).unwrap();

    let bytes = |e: &Entry| {
        let manifest = fs::metadata(cache.object_dir(&e.key).join(MANIFEST)).unwrap().len();
        manifest + e.manifest.files.values().map(|f| f.size).sum::<u64>()
    };
    let usage = cache.usage().unwrap();
    assert_eq!(usage.entries, 3);
    assert_eq!(usage.entry_bytes, bytes(&a) + bytes(&b) + bytes(&c));
    assert_eq!(usage.by_kind["train"].entries, 2);
    assert_eq!(usage.by_kind["train"].bytes, bytes(&a) + bytes(&b));
    assert_eq!(usage.by_kind["eval"].bytes, bytes(&c));
    assert_eq!(usage.broken, 0);
    assert_eq!(usage.tmp_bytes, 7);
    if cfg!(target_os = "linux") {
        assert_eq!(usage.stale_tmp_bytes, 7);
    }
    assert_eq!(usage.total_bytes(), usage.entry_bytes + 7);
}

#[test]
#[cfg(unix)]
fn a_symlink_in_a_result_fails_the_commit() {
    let (_dir, cache) = fresh();
    let k = key("a");
    let pending = cache.begin(&k).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", pending.dir().join("link")).unwrap();
    let err = pending.commit(info("train")).unwrap_err();
    assert!(matches!(&err, CacheError::NotAFile { path } if path.ends_with("link")));
    assert!(err.to_string().contains("link"));
    assert!(cache.lookup(&k).is_none());
    assert!(tmp_children(&cache).is_empty());
}

#[test]
fn list_shows_valid_entries_only() {
    let (_dir, cache) = fresh();
    commit(&cache, &key("a"), "train", &[("w.bin", b"a")]);
    let broken = commit(&cache, &key("b"), "train", &[("w.bin", b"b")]);
    fs::remove_file(broken.dir.join("w.bin")).unwrap();
    let keys: Vec<Key> = cache.list().unwrap().into_iter().map(|e| e.key).collect();
    assert_eq!(keys, [key("a")]);
    assert_eq!(cache.usage().unwrap().broken, 1);
}

#[test]
fn manifest_paths_must_stay_inside() {
    assert!(is_safe_relative("a/b.bin"));
    assert!(!is_safe_relative("../a"));
    assert!(!is_safe_relative("/etc/passwd"));
    assert!(!is_safe_relative("a//b"));
    assert!(!is_safe_relative(""));
    assert!(!is_safe_relative("a\\..\\b"));
}

#[test]
fn open_reports_the_path_it_cannot_create() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, b"").unwrap();
    let err = Cache::open(&file.join("cache")).unwrap_err();
    assert!(err.to_string().contains(&file.display().to_string()), "{err}");
}

/// Fills `names/` with one item of each kind that is not a record `remember` wrote, and
/// returns their paths, sorted: garbage text, truncated JSON, binary bytes, an empty file, a
/// folder, and a valid record under another name's file name.
fn litter_names(cache: &Cache, records: &[PathBuf]) -> Vec<PathBuf> {
    let names = cache.names_dir();
    fs::write(&records[0], b"garbage").unwrap();
    let truncated = fs::read(&records[1]).unwrap();
    fs::write(&records[1], &truncated[..truncated.len() / 2]).unwrap();
    fs::write(&records[2], [0xff, 0x00, 0xfe, 0x13, 0x80]).unwrap();
    fs::write(&records[3], b"").unwrap();
    let folder = names.join("folder.json");
    fs::create_dir(&folder).unwrap();
    let misplaced = names.join("misplaced.json");
    fs::copy(&records[4], &misplaced).unwrap();
    let mut bad =
        vec![records[0].clone(), records[1].clone(), records[2].clone(), records[3].clone(), folder, misplaced];
    bad.sort();
    bad
}

/// Five entries, each remembered under its own name; the paths of the five name records.
fn five_named_entries(cache: &Cache) -> (Vec<Key>, Vec<PathBuf>) {
    let keys: Vec<Key> = (0..5).map(|i| key(&format!("entry {i}"))).collect();
    let mut records = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        commit(cache, k, "train", &[("w.bin", format!("weights {i}").as_bytes())]);
        let before: HashSet<PathBuf> = fs::read_dir(cache.names_dir()).unwrap().map(|c| c.unwrap().path()).collect();
        cache.remember(&format!("train t{i} [seed=0]"), k, &json!({ "i": i })).unwrap();
        let after = fs::read_dir(cache.names_dir()).unwrap().map(|c| c.unwrap().path());
        records.extend(after.filter(|p| !before.contains(p)));
    }
    assert_eq!(records.len(), 5);
    (keys, records)
}

/// Regression (issue 11, item 5): `gc` with garbage in `names/` deleted the live entries the
/// unreadable records remembered. The keep set of a `gc` without files now cannot be had while
/// any item of `names/` is not a readable record, so `gc` never sees a partial one.
#[test]
fn unreadable_names_leave_gc_nothing_to_collect_by() {
    let (_dir, cache) = fresh();
    let (keys, records) = five_named_entries(&cache);
    let bad = litter_names(&cache, &records);

    let err = cache.remembered_keys().expect_err("a partial keep set would delete live entries");
    let CacheError::UnreadableNames { dir, names } = &err else { panic!("expected unreadable names, got {err:?}") };
    assert_eq!(*dir, cache.names_dir());
    let paths: Vec<PathBuf> = names.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(paths, bad);
    let reason = |path: &Path| names.iter().find(|(p, _)| p == path).unwrap().1.clone();
    assert!(records[..4].iter().all(|r| reason(r).starts_with("cannot parse it: ")), "{names:?}");
    assert!(reason(&records[3]).contains("EOF while parsing a value at line 1 column 0"), "{names:?}");
    assert!(reason(&cache.names_dir().join("folder.json")).contains("folder"), "{names:?}");
    assert!(reason(&cache.names_dir().join("misplaced.json")).contains("train t4 [seed=0]"), "{names:?}");
    assert!(err.to_string().starts_with("cannot tell which entries are in use: 6 items in `"), "{err}");

    // The records that do read are still listed, and every entry is still there.
    assert_eq!(cache.names().unwrap().records, [("train t4 [seed=0]".to_string(), keys[4])]);
    assert!(keys.iter().all(|k| cache.lookup(k).is_some()));
}

/// `verify` reports every item of `names/` that is not a readable record; `--evict` removes
/// them and nothing else, after which `gc` can tell again what is in use.
#[test]
fn verify_reports_unreadable_names_and_evict_removes_them() {
    let (_dir, cache) = fresh();
    let (keys, records) = five_named_entries(&cache);
    let bad = litter_names(&cache, &records);

    let problems = cache.verify().unwrap();
    let reported: Vec<&PathBuf> = problems
        .iter()
        .map(|p| match p {
            Problem::BadName { path, .. } => path,
            other => panic!("only the names are bad, got {other:?}"),
        })
        .collect();
    assert_eq!(reported, bad.iter().collect::<Vec<_>>());
    assert!(problems[0].key().is_none());
    assert!(
        problems[0].to_string().starts_with(&format!("bad name record `{}`: ", bad[0].display())),
        "{}",
        problems[0]
    );

    let removed = cache.evict_problems(&problems).unwrap();
    assert_eq!(removed, bad.iter().map(|path| Evicted::Name { path: path.clone() }).collect::<Vec<_>>());
    assert_eq!(removed[0].to_string(), format!("removed name record `{}`", bad[0].display()));
    assert!(bad.iter().all(|p| !p.exists()));
    assert!(keys.iter().all(|k| cache.lookup(k).is_some()), "evicting names evicts no entry");
    assert_eq!(cache.verify().unwrap(), []);
    assert!(tmp_children(&cache).is_empty());

    // Only the one intact record is left, so only its entry is in use.
    assert_eq!(cache.remembered_keys().unwrap(), HashSet::from([keys[4]]));
}

/// Commits an entry whose description lists `inputs` the way a plan's does.
fn commit_computed(cache: &Cache, name: &str, inputs: &[(&str, Key)]) -> Key {
    let inputs: Vec<(String, Key)> = inputs.iter().map(|(role, k)| (role.to_string(), *k)).collect();
    let description = Description::new("measure", 1, &Payload::Measure, inputs, Coords::default()).to_json();
    let k = key(name);
    let pending = cache.begin(&k).unwrap();
    fs::write(pending.dir().join("w.bin"), name).unwrap();
    let info = ManifestInfo { label: name.to_string(), description, ..info("measure") };
    pending.commit(info).unwrap();
    k
}

/// Regression (issue 11, item 6): `verify --evict` evicts with a corrupt entry every entry
/// computed from it, transitively, by the input keys of their descriptions; others stay.
#[test]
fn evict_follows_dependants() {
    let (_dir, cache) = fresh();
    let data = commit_computed(&cache, "data", &[]);
    let init = commit_computed(&cache, "init", &[]);
    let original = commit_computed(&cache, "original", &[("data", data), ("init", init)]);
    let unlearned = commit_computed(&cache, "unlearned", &[("original", original), ("data", data)]);
    let measured = commit_computed(&cache, "measured", &[("model", unlearned), ("data", data)]);
    let other = commit_computed(&cache, "other", &[("data", data), ("init", init)]);
    let manifest = cache.lookup(&measured).unwrap().manifest;
    assert_eq!(manifest.input_keys(), [unlearned, data], "the plan's description layout is what the cache reads");

    let weights = cache.lookup(&original).unwrap().dir.join("w.bin");
    let mut bytes = fs::read(&weights).unwrap();
    bytes[0] ^= 0x20;
    fs::write(&weights, bytes).unwrap();
    let problems = cache.verify().unwrap();
    assert!(matches!(&problems[..], [Problem::WrongHash { key, .. }] if *key == original), "{problems:?}");

    let removed = cache.evict_problems(&problems).unwrap();
    assert_eq!(
        removed,
        [
            Evicted::Entry { key: original, label: Some("original".into()) },
            Evicted::Dependant { key: unlearned, label: Some("unlearned".into()), input: original },
            Evicted::Dependant { key: measured, label: Some("measured".into()), input: unlearned },
        ]
    );
    assert_eq!(
        removed[1].to_string(),
        format!("evicted {}  unlearned  because its input {} was evicted", unlearned.short(), original.short())
    );
    assert_eq!(removed[0].to_string(), format!("evicted {}  original", original.short()));
    for k in [original, unlearned, measured] {
        assert!(cache.lookup(&k).is_none() && !cache.object_dir(&k).exists());
    }
    for k in [data, init, other] {
        assert!(cache.lookup(&k).is_some(), "an input or an unrelated entry stays");
    }
    assert_eq!(cache.verify().unwrap(), []);
}
