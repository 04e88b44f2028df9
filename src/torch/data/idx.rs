//! The official IDX format of MNIST and Fashion-MNIST (gzip-compressed), read with every check a
//! corrupted or foreign file can fail: gzip integrity, magic number, dimensions, size, label
//! range and, for the official files, the MD5 of the uncompressed content (data/README.md).

use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};

use crate::artifact::NodeFailure;

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Decoded images of one IDX file: `count` row-major `rows × cols` grey images.
#[derive(Debug)]
pub(crate) struct IdxImages {
    pub(crate) count: usize,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) pixels: Vec<u8>,
}

/// Decompresses a `.gz` file completely; a truncated or corrupted stream is an error naming it.
fn gunzip(path: &Path) -> Result<Vec<u8>, NodeFailure> {
    let file =
        std::fs::File::open(path).map_err(|e| NodeFailure::io(format!("cannot open `{}`: {e}", path.display())))?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::io::BufReader::new(file)).read_to_end(&mut out).map_err(|e| {
        NodeFailure::invalid_data(format!("`{}` is not a complete gzip file: {e}", path.display()))
            .with_help("the file is truncated or corrupted: delete it and download it again")
    })?;
    Ok(out)
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn corrupt(path: &Path, what: String) -> NodeFailure {
    NodeFailure::invalid_data(format!("`{}` {what}", path.display()))
        .with_help("the file is not the official one: delete it and download it again")
}

/// Checks the MD5 of the uncompressed content against the official value, if one is given.
fn check_md5(path: &Path, content: &[u8], expected: Option<&str>) -> Result<(), NodeFailure> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let digest = Md5::digest(content);
    let actual: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if actual != expected {
        return Err(corrupt(path, format!("has MD5 {actual} after decompression, the official file has {expected}")));
    }
    Ok(())
}

/// Reads an images file (`…-images-idx3-ubyte.gz`).
pub(crate) fn read_images(path: &Path, md5: Option<&str>) -> Result<IdxImages, NodeFailure> {
    let bytes = gunzip(path)?;
    let magic = be_u32(&bytes, 0).ok_or_else(|| corrupt(path, "is too short to hold an IDX header".into()))?;
    if magic != IMAGES_MAGIC {
        return Err(corrupt(
            path,
            format!("has magic number {magic:#010x}, expected {IMAGES_MAGIC:#010x} (IDX images)"),
        ));
    }
    let (Some(count), Some(rows), Some(cols)) = (be_u32(&bytes, 4), be_u32(&bytes, 8), be_u32(&bytes, 12)) else {
        return Err(corrupt(path, "is too short to hold an IDX images header".into()));
    };
    let (count, rows, cols) = (count as usize, rows as usize, cols as usize);
    let expected = 16 + count * rows * cols;
    if bytes.len() != expected {
        return Err(corrupt(
            path,
            format!("holds {} bytes, its header ({count} images of {rows}×{cols}) needs {expected}", bytes.len()),
        ));
    }
    check_md5(path, &bytes, md5)?;
    Ok(IdxImages { count, rows, cols, pixels: bytes[16..].to_vec() })
}

/// Reads a labels file (`…-labels-idx1-ubyte.gz`); every label must be below `classes`.
pub(crate) fn read_labels(path: &Path, classes: usize, md5: Option<&str>) -> Result<Vec<u8>, NodeFailure> {
    let bytes = gunzip(path)?;
    let magic = be_u32(&bytes, 0).ok_or_else(|| corrupt(path, "is too short to hold an IDX header".into()))?;
    if magic != LABELS_MAGIC {
        return Err(corrupt(
            path,
            format!("has magic number {magic:#010x}, expected {LABELS_MAGIC:#010x} (IDX labels)"),
        ));
    }
    let count =
        be_u32(&bytes, 4).ok_or_else(|| corrupt(path, "is too short to hold an IDX labels header".into()))? as usize;
    if bytes.len() != 8 + count {
        return Err(corrupt(
            path,
            format!("holds {} bytes, its header ({count} labels) needs {}", bytes.len(), 8 + count),
        ));
    }
    if let Some(bad) = bytes[8..].iter().find(|&&l| l as usize >= classes) {
        return Err(corrupt(path, format!("has label {bad}, expected 0..{classes}")));
    }
    check_md5(path, &bytes, md5)?;
    Ok(bytes[8..].to_vec())
}
