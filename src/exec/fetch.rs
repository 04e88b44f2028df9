//! Fetching a missing dataset from its official address before it is decoded.
//!
//! The files are checked by the decoder (official MD5 of the uncompressed content), so a bad
//! download fails there and is never cached. Without network the error says where the files are
//! expected and where to get them.

use std::path::Path;
use std::process::Command;

use crate::artifact::NodeFailure;
use crate::ops::{download, Download};

/// Makes sure `dir` holds the source's files, downloading missing ones.
pub(crate) fn ensure(source: &str, dir: &Path) -> Result<(), NodeFailure> {
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
    std::fs::create_dir_all(dir)
        .map_err(|e| NodeFailure::new(format!("cannot create {}: {e}", dir.display())).with_help(help.clone()))?;
    for name in missing {
        let target = dir.join(name);
        let partial = dir.join(format!(".{name}.partial"));
        let fetched = mirrors.iter().any(|m| {
            Command::new("curl")
                .args(["-fsSL", "--max-time", "1800", "-o"])
                .arg(&partial)
                .arg(format!("{m}{name}"))
                .status()
                .is_ok_and(|s| s.success())
        });
        if !fetched || std::fs::rename(&partial, &target).is_err() {
            let _ = std::fs::remove_file(&partial);
            return Err(NodeFailure::new(format!(
                "`{name}` is missing from {} and could not be downloaded",
                dir.display()
            ))
            .with_help(help));
        }
    }
    Ok(())
}
