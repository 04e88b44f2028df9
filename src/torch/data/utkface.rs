//! UTKFace, "Aligned & Cropped Faces" (datasets.md §1.2): every `.jpg` file of a folder, named
//! `AGE_GENDER_RACE_DATE.jpg.chip.jpg`, labelled with its age bin, resized 200 → 224 with
//! Pillow's bilinear filter (§2.2: deterministic, so done once here) and split 80/20 by the
//! reference's `default_rng(123).permutation(n)`.
//!
//! Deviation (recorded in the op's doc): the reference permutes files in directory-listing
//! order, which no other machine can reproduce; munl sorts the file names first.

use crate::stats::shuffle::Shuffle;
use std::path::Path;

use super::image::{self, Encoded};
use super::{limited, Raw};
use crate::artifact::NodeFailure;
use crate::stats::pcg64::Pcg64;

/// Number of age bins.
pub(crate) const CLASSES: usize = 5;
/// The model input size (datasets.md §1).
const SIZE: usize = 224;
/// Seed of the reference's split permutation.
const SEED: u64 = 123;

/// Label = clamp(floor(age / 20), 0, 4) (datasets.md §1.2).
fn label(age: u64) -> i64 {
    (age / 20).min(4) as i64
}

/// The age of a release file name: the integer before the first underscore.
fn age(name: &str) -> Option<u64> {
    name.split('_').next()?.parse().ok()
}

/// The reference's split of `n` images as one order: the train part (permuted positions
/// `int(0.2·n)..`) first, then the test part (the first `int(0.2·n)`), and the two sizes.
pub(crate) fn split_order(n: usize) -> (Vec<usize>, usize, usize) {
    let perm = Pcg64::from_seed(SEED).permutation(n);
    // Python's `int(0.2 * n)`: float product, truncated.
    let n_test = (0.2 * n as f64) as usize;
    let order = perm[n_test..].iter().chain(&perm[..n_test]).copied().collect();
    (order, n - n_test, n_test)
}

/// Reads the folder `dir` (see the module doc); `limit` as in `Raw::limit`, applied before
/// decoding so a limited dataset decodes only what it keeps.
pub(crate) fn read(dir: &Path, limit: Option<usize>) -> Result<Raw, NodeFailure> {
    let listing = std::fs::read_dir(dir).map_err(|e| {
        NodeFailure::io(format!("cannot read the UTKFace folder `{}`: {e}", dir.display())).with_help(
            "download the \"Aligned & Cropped Faces\" release (UTKFace.tar.gz) and extract it there: \
             it holds files named like `26_0_1_20170116174525125.jpg.chip.jpg`",
        )
    })?;
    let mut names = Vec::new();
    for entry in listing {
        let entry = entry.map_err(|e| NodeFailure::io(format!("cannot list `{}`: {e}", dir.display())))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(NodeFailure::invalid_data(format!("`{}` holds a file whose name is not UTF-8", dir.display())));
        };
        // The reference takes every file whose suffix is `.jpg`.
        if name.ends_with(".jpg") && entry.path().is_file() {
            names.push(name.to_string());
        }
    }
    if names.is_empty() {
        return Err(NodeFailure::invalid_data(format!("`{}` holds no `.jpg` files", dir.display())));
    }
    names.sort();
    let mut labels = Vec::with_capacity(names.len());
    for name in &names {
        let age = age(name).ok_or_else(|| {
            NodeFailure::invalid_data(format!(
                "`{}`: the file name does not start with an age (`AGE_GENDER_RACE_DATE.jpg.chip.jpg`)",
                dir.join(name).display()
            ))
        })?;
        labels.push(label(age));
    }
    // The reference asserts that every age bin occurs.
    let missing: Vec<String> = (0..CLASSES as i64)
        .filter(|c| !labels.contains(c))
        .map(|c| format!("{c} (ages {}–{})", 20 * c, 20 * c + 19))
        .collect();
    if !missing.is_empty() {
        return Err(NodeFailure::invalid_data(format!(
            "`{}`: no image has label {}; UTKFace needs all {CLASSES} age bins",
            dir.display(),
            missing.join(", ")
        )));
    }
    let (order, n_train, n_test) = split_order(names.len());
    let (keep_train, keep_test) = limited(n_train, n_test, limit);
    let keep: Vec<usize> = order[..keep_train].iter().chain(&order[n_train..n_train + keep_test]).copied().collect();
    let files = keep
        .iter()
        .map(|&i| {
            let path = dir.join(&names[i]);
            std::fs::read(&path).map_err(|e| NodeFailure::io(format!("cannot read `{}`: {e}", path.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let encoded: Vec<Encoded<'_>> = keep
        .iter()
        .zip(&files)
        .map(|(&i, bytes)| Encoded { name: format!("`{}`", dir.join(&names[i]).display()), bytes })
        .collect();
    let decoded = image::decode_all(&encoded, Some(SIZE))?;
    Ok(Raw {
        pixels: decoded.pixels,
        labels: keep.iter().map(|&i| labels[i]).collect(),
        shape: decoded.shape,
        n_train: keep_train,
        n_test: keep_test,
    })
}
