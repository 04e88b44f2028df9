//! Identity of user-supplied data: sources without official checksums are keyed by what their
//! files contain, so replacing a file re-decodes the dataset and everything after it.

use std::collections::BTreeSet;
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

/// A digest of a `csv` source's data: the CSV file's content, and the size and modification
/// time of every file its fields name, relative to the CSV's folder (as for folders, re-reading
/// every image at every plan would cost seconds). Every field of every line is tried as a path,
/// so this needs to know nothing of the columns: labels and splits name no file, and an image
/// that is missing now changes the digest when it appears. `None` if the CSV is not there.
pub(crate) fn csv_fingerprint(path: &Path) -> Option<String> {
    let text = std::fs::read(path).ok()?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(text.len() as u64).to_le_bytes());
    hasher.update(&text);
    let dir = path.parent().unwrap_or(Path::new(""));
    let named: BTreeSet<String> =
        String::from_utf8_lossy(&text).lines().flat_map(|l| csv_fields(l).unwrap_or_default()).collect();
    for name in named {
        let Ok(meta) = std::fs::metadata(dir.join(&name)) else { continue };
        if meta.is_file() {
            hasher.update(name.as_bytes());
            hasher.update(&[0]);
            hasher.update(&meta.len().to_le_bytes());
            hasher.update(&mtime(&meta).to_le_bytes());
        }
    }
    Some(hasher.finalize().to_hex().to_string())
}

/// The fields of one line of a `csv` source: comma-separated, each unquoted one trimmed of
/// spaces and tabs, a quoted one (`"a, b"`, `""` for a quote inside) as written. Shared by its
/// reader (`torch/data/csv.rs`) and its fingerprint, so both read the same paths.
pub(crate) fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = vec![];
    let mut chars = line.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(' ' | '\t')) {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err(format!(
                            "field {} opens a quote that the line does not close (a quoted field cannot span lines)",
                            out.len() + 1
                        ))
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            while matches!(chars.peek(), Some(' ' | '\t')) {
                chars.next();
            }
            out.push(field);
            match chars.next() {
                None => return Ok(out),
                Some(',') => {}
                Some(_) => return Err(format!("field {} has text after its closing quote", out.len())),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(field.trim_end_matches([' ', '\t']).to_string());
                        return Ok(out);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            out.push(field.trim_end_matches([' ', '\t']).to_string());
        }
    }
}

fn mtime(meta: &std::fs::Metadata) -> u128 {
    meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos())
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<(String, u64, u128)>) {
    let Ok(dir) = std::fs::read_dir(root.join(rel)) else { return };
    for e in dir.flatten() {
        let rel = rel.join(e.file_name());
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            walk(root, &rel, out);
        } else {
            out.push((rel.to_string_lossy().into_owned(), meta.len(), mtime(&meta)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_fields, csv_fingerprint, fingerprint};

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

    #[test]
    fn csv_fields_follow_the_readers_rules() {
        assert_eq!(csv_fields("a, b ,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(csv_fields(r#""x, y.png", 3 ,"say ""hi""""#).unwrap(), ["x, y.png", "3", r#"say "hi""#]);
        assert_eq!(csv_fields(",").unwrap(), ["", ""]);
        assert!(csv_fields(r#""open, 1"#).is_err(), "the reader refuses it, the fingerprint skips it");
    }

    /// A CSV's digest covers the files it names: editing, adding or removing one changes it,
    /// as does the CSV itself; files it does not name do not.
    #[test]
    fn csv_fingerprint_covers_the_named_files() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("labels.csv");
        assert_eq!(csv_fingerprint(&csv), None);
        std::fs::create_dir(dir.path().join("img")).unwrap();
        std::fs::write(dir.path().join("img/a.png"), b"one").unwrap();
        std::fs::write(&csv, "path,label\nimg/a.png,0\n\"img/b, c.png\",1\n").unwrap();
        let before = csv_fingerprint(&csv).unwrap();
        std::fs::write(dir.path().join("other.png"), b"not named").unwrap();
        assert_eq!(csv_fingerprint(&csv).unwrap(), before, "an unnamed file is not part of it");
        std::fs::write(dir.path().join("img/b, c.png"), b"appears").unwrap();
        let appeared = csv_fingerprint(&csv).unwrap();
        assert_ne!(appeared, before, "a named file that appears");
        // Same size, later modification time: an edit.
        let a = dir.path().join("img/a.png");
        std::fs::write(&a, b"two").unwrap();
        let later = std::fs::metadata(&a).unwrap().modified().unwrap() + std::time::Duration::from_secs(5);
        std::fs::File::options().write(true).open(&a).unwrap().set_modified(later).unwrap();
        let edited = csv_fingerprint(&csv).unwrap();
        assert_ne!(edited, appeared, "a named file edited");
        std::fs::write(&a, b"longer").unwrap();
        assert_ne!(csv_fingerprint(&csv).unwrap(), edited, "a named file resized");
        let now = csv_fingerprint(&csv).unwrap();
        std::fs::write(&csv, "path,label\nimg/a.png,1\n\"img/b, c.png\",1\n").unwrap();
        assert_ne!(csv_fingerprint(&csv).unwrap(), now, "the CSV itself");
    }
}
