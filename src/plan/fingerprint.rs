//! Identity of user-supplied data: sources without official checksums are keyed by what their
//! files contain, so replacing a file re-decodes the dataset and everything after it.

use std::path::Path;

/// A digest of the data at `path`: the blake3 of a file's content; for a folder, of every
/// file's relative path, size and modification time (re-reading tens of thousands of images at
/// every plan would cost seconds). `None` if nothing is there: the dataset node then fails with
/// a message saying where the data is expected.
pub(crate) fn fingerprint(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let mut hasher = blake3::Hasher::new();
    if meta.is_file() {
        hasher.update_reader(std::fs::File::open(path).ok()?).ok()?;
    } else {
        let mut entries = vec![];
        walk(path, Path::new(""), &mut entries);
        entries.sort();
        for (rel, size, mtime) in entries {
            hasher.update(rel.as_bytes());
            hasher.update(&[0]);
            hasher.update(&size.to_le_bytes());
            hasher.update(&mtime.to_le_bytes());
        }
    }
    Some(hasher.finalize().to_hex().to_string())
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<(String, u64, u128)>) {
    let Ok(dir) = std::fs::read_dir(root.join(rel)) else { return };
    for e in dir.flatten() {
        let rel = rel.join(e.file_name());
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            walk(root, &rel, out);
        } else {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            out.push((rel.to_string_lossy().into_owned(), meta.len(), mtime));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn content_and_folder_changes_change_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.bin");
        assert_eq!(fingerprint(&file), None);
        std::fs::write(&file, b"one").unwrap();
        let one = fingerprint(&file).unwrap();
        std::fs::write(&file, b"two").unwrap();
        assert_ne!(fingerprint(&file).unwrap(), one);
        let folder = fingerprint(dir.path()).unwrap();
        std::fs::write(dir.path().join("b.bin"), b"new file").unwrap();
        assert_ne!(fingerprint(dir.path()).unwrap(), folder);
    }
}
