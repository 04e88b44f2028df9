//! Fetching a missing dataset from its official address before it is decoded.
//!
//! The files are checked by the decoder (official MD5 of the uncompressed content), so a bad
//! download fails there and is never cached. Without network the error says where the files are
//! expected and where to get them.

use std::path::Path;
use std::process::Command;

use crate::artifact::NodeFailure;
use crate::ops::{download, Download};

/// Makes sure `dir` holds the source's files, downloading missing ones; `progress` hears of
/// the bytes downloaded so far (`done`, an unknown total of 0, and what is downloading).
pub(crate) fn ensure(source: &str, dir: &Path, progress: &(dyn Fn(u64, u64, &str) + Sync)) -> Result<(), NodeFailure> {
    ensure_with(source, dir, |address, to| curl(address, to, progress))
}

/// Downloads `address` to `to` with curl, telling `progress` how many bytes have arrived a few
/// times a second; whether it worked.
fn curl(address: &str, to: &Path, progress: &(dyn Fn(u64, u64, &str) + Sync)) -> bool {
    let Ok(mut child) = Command::new("curl").args(["-fsSL", "--max-time", "1800", "-o"]).arg(to).arg(address).spawn()
    else {
        return false;
    };
    let name = address.rsplit('/').next().unwrap_or(address);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) => {
                let bytes = std::fs::metadata(to).map_or(0, |m| m.len());
                progress(bytes, 0, &format!("downloading {name}: {:.1} MB", bytes as f64 / 1e6));
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            Err(_) => return false,
        }
    }
}

/// `ensure` with the download itself given (tests use one that fails without a network).
fn ensure_with(source: &str, dir: &Path, fetch: impl Fn(&str, &Path) -> bool) -> Result<(), NodeFailure> {
    let Some(Download { files: names, mirrors, alternatives }) = download(source) else { return Ok(()) };
    if alternatives.iter().any(|a| dir.join(a).exists()) {
        return Ok(());
    }
    let missing: Vec<&str> = names.iter().copied().filter(|n| !dir.join(n).is_file()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let help = format!(
        "put {} into {} (from {}), or point MUNL_DATA at a folder that has them",
        names.join(", "),
        dir.display(),
        mirrors[0]
    );
    // Folders created here and left empty by a failed download are removed again.
    let created: Vec<&Path> = dir.ancestors().take_while(|p| !p.as_os_str().is_empty() && !p.exists()).collect();
    std::fs::create_dir_all(dir)
        .map_err(|e| NodeFailure::io(format!("cannot create {}: {e}", dir.display())).with_help(help.clone()))?;
    for name in missing {
        let target = dir.join(name);
        let partial = dir.join(format!(".{name}.partial"));
        let fetched = mirrors.iter().any(|m| fetch(&format!("{m}{name}"), &partial));
        if !fetched || std::fs::rename(&partial, &target).is_err() {
            let _ = std::fs::remove_file(&partial);
            // Innermost first; remove_dir refuses a folder that is not empty.
            for folder in &created {
                let _ = std::fs::remove_dir(folder);
            }
            return Err(NodeFailure::new(format!(
                "`{name}` is missing from {} and could not be downloaded",
                dir.display()
            ))
            .with_help(help));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fetch_creates_nothing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data/mnist");
        let failure = ensure_with("mnist", &dir, |_, _| false).expect_err("nothing to download from");
        assert!(failure.message.contains("could not be downloaded"), "{failure:?}");
        assert!(!root.path().join("data").exists(), "the folders it made are gone");
        // A folder that was there stays, empty or not.
        std::fs::create_dir_all(&dir).unwrap();
        ensure_with("mnist", &dir, |_, _| false).expect_err("still nothing");
        assert!(dir.is_dir());
    }

    /// curl copies a `file://` address as it downloads: the bytes arrive and progress is told.
    #[test]
    fn a_download_says_how_far_it_got() {
        let root = tempfile::tempdir().unwrap();
        let from = root.path().join("train-images-idx3-ubyte.gz");
        std::fs::write(&from, vec![7u8; 1 << 20]).unwrap();
        let to = root.path().join("copy");
        let heard = std::sync::Mutex::new(vec![]);
        let progress =
            |done: u64, total: u64, message: &str| heard.lock().unwrap().push((done, total, message.to_string()));
        assert!(curl(&format!("file://{}", from.display()), &to, &progress));
        assert_eq!(std::fs::metadata(&to).unwrap().len(), 1 << 20);
        let heard = heard.lock().unwrap().clone();
        assert!(!heard.is_empty(), "progress while curl ran");
        assert!(heard
            .iter()
            .all(|(_, total, m)| *total == 0 && m.starts_with("downloading train-images-idx3-ubyte.gz: ")));
        assert!(!curl("file:///nonexistent/munl-file", &root.path().join("none"), &progress));
    }

    #[test]
    fn a_fetch_fills_the_folder_with_the_official_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("mnist");
        ensure_with("mnist", &dir, |_, to| std::fs::write(to, b"x").is_ok()).unwrap();
        assert!(dir.join("train-images-idx3-ubyte.gz").is_file());
        assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.')));
    }
}
