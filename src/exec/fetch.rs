//! Fetching a missing dataset from its official address before it is decoded.
//!
//! The files are checked by the decoder (official MD5 of the uncompressed content), so a bad
//! download fails there and is never cached. Without network the error says where the files are
//! expected and where to get them.

use std::path::Path;
use std::process::Command;

use super::NodeFailure;

/// Other forms of a source that its decoder reads as well: when `dir` holds any of them, nothing
/// is fetched (CIFAR: the extracted folders, the binary version, or `dir` being the extracted
/// folder itself).
fn alternatives(source: &str) -> &'static [&'static str] {
    match source {
        "cifar10" => &[
            "cifar-10-batches-py",
            "cifar-10-batches-bin",
            "cifar-10-binary.tar.gz",
            "data_batch_1",
            "data_batch_1.bin",
        ],
        "cifar100" => &["cifar-100-python", "cifar-100-binary", "cifar-100-binary.tar.gz", "train", "train.bin"],
        _ => &[],
    }
}

/// Official files and the addresses they are served from (torchvision's mirrors).
fn files(source: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    const IDX: &[&str] = &[
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    match source {
        "mnist" => {
            Some((IDX, &["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]))
        }
        "fashion_mnist" => Some((IDX, &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"])),
        // The python version, as torchvision downloads it; the decoder checks its MD5.
        "cifar10" => Some((&["cifar-10-python.tar.gz"], &["https://www.cs.toronto.edu/~kriz/"])),
        "cifar100" => Some((&["cifar-100-python.tar.gz"], &["https://www.cs.toronto.edu/~kriz/"])),
        _ => None,
    }
}

/// Makes sure `dir` holds the source's files, downloading missing ones.
pub(crate) fn ensure(source: &str, dir: &Path) -> Result<(), NodeFailure> {
    let Some((names, mirrors)) = files(source) else { return Ok(()) };
    if alternatives(source).iter().any(|a| dir.join(a).exists()) {
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
