//! `munl fmt [--check] FILE...`: rewrites `.munl` files in the canonical layout
//! (`syntax::format`), or says which ones are not in it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::source::Source;

use super::{EXIT_OK, EXIT_USER};

/// How many lines of each side of the first difference `--check` shows.
const DIFF_LINES: usize = 6;

/// `munl fmt`: formats every file (a folder stands for the `.munl` files under it). Changed
/// files are rewritten (or, with `check`, shown) and listed on stdout; a file that does not
/// parse is reported and left alone. Exits 1 on any error, and with `check` if a file would
/// change.
pub(crate) fn fmt(paths: &[PathBuf], check: bool) -> u8 {
    let mut failed = false;
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            if let Err(e) = munl_files(path, &mut files) {
                failed = true;
                super::fail(format!("cannot read `{}`: {e}", path.display()));
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut changed = 0;
    for path in &files {
        let source = match Source::read(path) {
            Ok(source) => source,
            Err(e) => {
                failed = true;
                super::fail(format!("cannot read `{}`: {e}", path.display()));
                continue;
            }
        };
        let formatted = match crate::syntax::format(&source.text) {
            Ok(formatted) => formatted,
            Err(errors) => {
                failed = true;
                for error in &errors {
                    super::load::report(error, &source);
                }
                eprintln!("{} not formatted: it does not parse", path.display());
                continue;
            }
        };
        if formatted == source.text {
            continue;
        }
        changed += 1;
        if check {
            println!("{}", path.display());
            print!("{}", first_difference(&source.text, &formatted));
        } else if let Err(e) = replace(path, &formatted) {
            failed = true;
            super::fail(format!("cannot write `{}`: {e}", path.display()));
        } else {
            println!("{}", path.display());
        }
    }
    if check && changed > 0 {
        eprintln!("{changed} file(s) not formatted; `munl fmt` rewrites them");
    }
    if failed || (check && changed > 0) {
        EXIT_USER
    } else {
        EXIT_OK
    }
}

/// Appends the `.munl` files under `dir`, sorted, to `files`. Symbolic links to folders are
/// not followed (no cycles); links to files are formatted.
fn munl_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            munl_files(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "munl") && path.is_file() {
            files.push(path);
        }
    }
    Ok(())
}

/// Writes `text` to a temporary file beside `path`, with `path`'s permissions, and renames it
/// over `path`: a reader sees the old file or the new one, never half of one.
pub(super) fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(path)?.permissions();
    let mut temp = tempfile::Builder::new().prefix(".munl-fmt").tempfile_in(dir)?;
    temp.write_all(text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.as_file().set_permissions(permissions)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The first block of lines that differ, as `@@ line N @@` and `-`/`+` lines (a few of each):
/// from the first differing line to where both sides have two equal lines again.
fn first_difference(old: &str, new: &str) -> String {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let same = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let (old, new) = (&old[same..], &new[same..]);
    let (i, j) = resync(old, new);
    let mut out = format!("@@ line {} @@\n", same + 1);
    if i == 0 && j == 0 {
        out.push_str("  (line breaks only: `\\r\\n`, or the end of the file)\n");
    }
    for (sign, lines) in [('-', &old[..i]), ('+', &new[..j])] {
        for line in lines.iter().take(DIFF_LINES) {
            out.push_str(&format!("{sign}{line}\n"));
        }
        if lines.len() > DIFF_LINES {
            out.push_str(&format!("{sign}… {} more line(s)\n", lines.len() - DIFF_LINES));
        }
    }
    out
}

/// The fewest lines to skip on each side (fewest in all) after which both sides go on with two
/// equal lines, or end together; both ends if that takes more than a few hundred lines.
fn resync(old: &[&str], new: &[&str]) -> (usize, usize) {
    let agree = |i: usize, j: usize| {
        (i == old.len() && j == new.len())
            || (old.get(i).is_some() && old.get(i) == new.get(j) && old.get(i + 1) == new.get(j + 1))
    };
    (0..=(old.len() + new.len()).min(400))
        .flat_map(|d| (0..=d).map(move |i| (i, d - i)))
        .filter(|&(i, j)| i <= old.len() && j <= new.len())
        .find(|&(i, j)| agree(i, j))
        .unwrap_or((old.len(), new.len()))
}
