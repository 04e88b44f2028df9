//! CIFAR-10 and CIFAR-100 from the official files (datasets.md §1): the python-pickle batches
//! or the binary version, each as the extracted folder or the official `.tar.gz` (read as a
//! stream, never extracted to disk), concatenated in torchvision's order (train batches 1..5,
//! then the test batch; CIFAR-100: `train`, then `test`, fine labels).
//!
//! Checks: torchvision's MD5s of the python batches and of the archives (the binary archives'
//! MD5s are the ones published on the CIFAR page); extracted binary batches have no published
//! checksum, so their exact official sizes are checked instead. Every error names the file.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use md5::{Digest, Md5};

use super::pickle::{self, Value};
use super::Raw;
use crate::artifact::NodeFailure;

/// Bytes of one stored image (3 × 32 × 32, channel planes).
const IMAGE_BYTES: usize = 3 * 32 * 32;

/// One file of a CIFAR release: its name, the number of images it holds, and its MD5 where an
/// official one is known.
struct Batch {
    name: &'static str,
    count: usize,
    md5: Option<&'static str>,
}

/// One release format (python or binary) of a CIFAR dataset.
struct Format {
    /// Folder inside the archive, and what `dir` holds once extracted.
    folder: &'static str,
    archive: &'static str,
    archive_md5: &'static str,
    /// Train batches in order, then the test batch.
    batches: &'static [Batch],
    n_test_batches: usize,
}

/// A CIFAR dataset: its two formats and how its labels are stored.
pub(crate) struct Cifar {
    title: &'static str,
    python: Format,
    binary: Format,
    /// The python dict key of the labels used (torchvision: `labels`, CIFAR-100 `fine_labels`).
    label_key: &'static str,
    /// Label bytes per binary record; the last one is the label used (CIFAR-100: coarse, fine).
    label_bytes: usize,
    classes: usize,
    /// The source op, whose official addresses `ops::download` knows.
    op: &'static str,
}

const fn batch(name: &'static str, count: usize, md5: Option<&'static str>) -> Batch {
    Batch { name, count, md5 }
}

/// CIFAR-10, with torchvision's MD5s.
pub(crate) const CIFAR10: Cifar = Cifar {
    title: "CIFAR-10",
    python: Format {
        folder: "cifar-10-batches-py",
        archive: "cifar-10-python.tar.gz",
        archive_md5: "c58f30108f718f92721af3b95e74349a",
        batches: &[
            batch("data_batch_1", 10_000, Some("c99cafc152244af753f735de768cd75f")),
            batch("data_batch_2", 10_000, Some("d4bba439e000b95fd0a9bffe97cbabec")),
            batch("data_batch_3", 10_000, Some("54ebc095f3ab1f0389bbae665268c751")),
            batch("data_batch_4", 10_000, Some("634d18415352ddfa80567beed471001a")),
            batch("data_batch_5", 10_000, Some("482c414d41f54cd18b22e5b47cb7c3cb")),
            batch("test_batch", 10_000, Some("40351d587109b95175f43aff81a1287e")),
        ],
        n_test_batches: 1,
    },
    binary: Format {
        folder: "cifar-10-batches-bin",
        archive: "cifar-10-binary.tar.gz",
        archive_md5: "c32a1d4ab5d03f1284b67883e8d87530",
        batches: &[
            batch("data_batch_1.bin", 10_000, None),
            batch("data_batch_2.bin", 10_000, None),
            batch("data_batch_3.bin", 10_000, None),
            batch("data_batch_4.bin", 10_000, None),
            batch("data_batch_5.bin", 10_000, None),
            batch("test_batch.bin", 10_000, None),
        ],
        n_test_batches: 1,
    },
    label_key: "labels",
    label_bytes: 1,
    classes: 10,
    op: "cifar10",
};

/// CIFAR-100 (fine labels), with torchvision's MD5s.
pub(crate) const CIFAR100: Cifar = Cifar {
    title: "CIFAR-100",
    python: Format {
        folder: "cifar-100-python",
        archive: "cifar-100-python.tar.gz",
        archive_md5: "eb9058c3a382ffc7106e4002c42a8d85",
        batches: &[
            batch("train", 50_000, Some("16019d7e3df5f24257cddd939b257f8d")),
            batch("test", 10_000, Some("f0ef6b0ae62326f3e7ffdfab6717acfc")),
        ],
        n_test_batches: 1,
    },
    binary: Format {
        folder: "cifar-100-binary",
        archive: "cifar-100-binary.tar.gz",
        archive_md5: "03b5dce01913d631647c71ecec9e9cb8",
        batches: &[batch("train.bin", 50_000, None), batch("test.bin", 10_000, None)],
        n_test_batches: 1,
    },
    label_key: "fine_labels",
    label_bytes: 2,
    classes: 100,
    op: "cifar100",
};

/// The two CIFAR sources by op name.
pub(crate) fn source(op: &str) -> Option<&'static Cifar> {
    match op {
        "cifar10" => Some(&CIFAR10),
        "cifar100" => Some(&CIFAR100),
        _ => None,
    }
}

impl Cifar {
    /// Number of classes of the labels read.
    pub(crate) fn classes(&self) -> usize {
        self.classes
    }
}

/// What `dir` holds, in order of preference.
enum Found<'a> {
    Folder(&'a Format, std::path::PathBuf),
    Archive(&'a Format, std::path::PathBuf),
}

fn find<'a>(c: &'a Cifar, dir: &Path) -> Option<Found<'a>> {
    for f in [&c.python, &c.binary] {
        if dir.join(f.folder).is_dir() {
            return Some(Found::Folder(f, dir.join(f.folder)));
        }
        // `dir` may also be the extracted folder itself.
        if dir.join(f.batches[0].name).is_file() {
            return Some(Found::Folder(f, dir.to_path_buf()));
        }
        if dir.join(f.archive).is_file() {
            return Some(Found::Archive(f, dir.join(f.archive)));
        }
    }
    None
}

fn md5_hex(digest: Md5) -> String {
    digest.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn wrong(what: String) -> NodeFailure {
    NodeFailure::invalid_data(what).with_help("the file is not the official one: delete it and download it again")
}

/// Reads a CIFAR dataset from `dir`. `verify`: check official checksums and sizes (off only for
/// generated test files).
pub(crate) fn read(c: &Cifar, dir: &Path, verify: bool) -> Result<Raw, NodeFailure> {
    let found = find(c, dir).ok_or_else(|| {
        NodeFailure::invalid_data(format!(
            "{} files not found: `{}` holds none of `{}`, `{}`, `{}`, `{}`",
            c.title,
            dir.display(),
            c.python.folder,
            c.python.archive,
            c.binary.folder,
            c.binary.archive
        ))
        .with_help(match crate::ops::download(c.op) {
            Some(d) => format!("download {} into `{}`", d.address(d.files[0]), dir.display()),
            None => format!("put the official files into `{}`", dir.display()),
        })
    })?;
    let (format, files) = match found {
        Found::Folder(f, folder) => {
            let mut files = Vec::with_capacity(f.batches.len());
            for b in f.batches {
                let path = folder.join(b.name);
                let bytes = std::fs::read(&path)
                    .map_err(|e| NodeFailure::io(format!("cannot read `{}`: {e}", path.display())))?;
                if let (true, Some(expected)) = (verify, b.md5) {
                    let actual = md5_hex(Md5::new_with_prefix(&bytes));
                    if actual != expected {
                        return Err(wrong(format!(
                            "`{}` has MD5 {actual}, the official file has {expected}",
                            path.display()
                        )));
                    }
                }
                files.push((format!("`{}`", path.display()), bytes));
            }
            (f, files)
        }
        Found::Archive(f, path) => (f, read_archive(f, &path, verify)?),
    };
    let binary = std::ptr::eq(format, &c.binary);
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mut pixels = Vec::with_capacity(total);
    let mut labels = Vec::new();
    let mut counts = Vec::with_capacity(files.len());
    for ((name, bytes), b) in files.iter().zip(format.batches) {
        let before = labels.len();
        if binary {
            read_binary(c, name, bytes, &mut pixels, &mut labels)?;
        } else {
            read_pickle(c, name, bytes, &mut pixels, &mut labels)?;
        }
        let count = labels.len() - before;
        if verify && count != b.count {
            return Err(wrong(format!("{name} holds {count} images, the official file {}", b.count)));
        }
        counts.push(count);
    }
    let n_test: usize = counts[counts.len() - format.n_test_batches..].iter().sum();
    Ok(Raw { pixels, labels, shape: [3, 32, 32], n_train: counts.iter().sum::<usize>() - n_test, n_test })
}

/// A reader that hashes what passes through it, so an archive is checked in the same pass that
/// decompresses it.
struct Hashing<R> {
    inner: R,
    md5: Md5,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads the batches of `format` out of its official archive, in the order of `format.batches`.
fn read_archive(format: &Format, path: &Path, verify: bool) -> Result<Vec<(String, Vec<u8>)>, NodeFailure> {
    let shown = path.display();
    let broken = |e: std::io::Error| {
        NodeFailure::invalid_data(format!("`{shown}` is not a complete .tar.gz archive: {e}"))
            .with_help("the file is truncated or corrupted: delete it and download it again")
    };
    let file = File::open(path).map_err(|e| NodeFailure::io(format!("cannot open `{shown}`: {e}")))?;
    let hashing = Hashing { inner: BufReader::with_capacity(1 << 20, file), md5: Md5::new() };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(hashing));
    let mut found: Vec<Option<Vec<u8>>> = vec![None; format.batches.len()];
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let member = entry.path().map_err(broken)?.to_string_lossy().into_owned();
        let Some(i) = format.batches.iter().position(|b| member == format!("{}/{}", format.folder, b.name)) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(broken)?;
        found[i] = Some(bytes);
    }
    // The archive's MD5 covers every byte of the file, including what follows the tar end.
    let mut rest = archive.into_inner().into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(broken)?;
    let actual = md5_hex(rest.md5);
    if verify && actual != format.archive_md5 {
        return Err(wrong(format!("`{shown}` has MD5 {actual}, the official archive has {}", format.archive_md5)));
    }
    found
        .into_iter()
        .zip(format.batches)
        .map(|(bytes, b)| {
            let member = format!("{}/{}", format.folder, b.name);
            let bytes = bytes.ok_or_else(|| wrong(format!("`{shown}` has no member `{member}`")))?;
            Ok((format!("`{shown}` member `{member}`"), bytes))
        })
        .collect()
}

/// Appends the images and labels of one binary batch: records of label byte(s) + 3072 pixels.
fn read_binary(
    c: &Cifar,
    name: &str,
    bytes: &[u8],
    pixels: &mut Vec<u8>,
    labels: &mut Vec<i64>,
) -> Result<(), NodeFailure> {
    let record = c.label_bytes + IMAGE_BYTES;
    if bytes.is_empty() || !bytes.len().is_multiple_of(record) {
        return Err(wrong(format!(
            "{name} holds {} bytes, not a whole number of {record}-byte records (truncated?)",
            bytes.len()
        )));
    }
    for (i, r) in bytes.chunks_exact(record).enumerate() {
        // CIFAR-100 records hold the coarse label (20 classes), then the fine one.
        if c.label_bytes == 2 && r[0] >= 20 {
            return Err(wrong(format!("{name}: image {i} has coarse label {}, expected 0..20", r[0])));
        }
        let label = r[c.label_bytes - 1];
        if usize::from(label) >= c.classes {
            return Err(wrong(format!("{name}: image {i} has label {label}, expected 0..{}", c.classes)));
        }
        labels.push(i64::from(label));
        pixels.extend_from_slice(&r[c.label_bytes..]);
    }
    Ok(())
}

/// Appends the images and labels of one python batch (a pickled dict).
fn read_pickle(
    c: &Cifar,
    name: &str,
    bytes: &[u8],
    pixels: &mut Vec<u8>,
    labels: &mut Vec<i64>,
) -> Result<(), NodeFailure> {
    let bad = |what: String| wrong(format!("{name} {what}"));
    let top = pickle::parse(bytes).map_err(bad)?;
    if !matches!(top, Value::Dict(_)) {
        return Err(bad("does not hold a dict (not a CIFAR python batch)".into()));
    }
    let data = top.get(bytes, "data").ok_or_else(|| bad("has no `data` entry".into()))?;
    let (count, range) = numpy_u8_rows(bytes, &data, IMAGE_BYTES).map_err(|e| bad(format!("`data`: {e}")))?;
    let list = top.get(bytes, c.label_key).ok_or_else(|| bad(format!("has no `{}` entry", c.label_key)))?;
    let Value::List(list) = list else {
        return Err(bad(format!("`{}` is not a list", c.label_key)));
    };
    let list = list.borrow();
    if list.len() != count {
        return Err(bad(format!("has {count} images but {} labels", list.len())));
    }
    for (i, v) in list.iter().enumerate() {
        match v {
            Value::Int(l) if (0..c.classes as i64).contains(l) => labels.push(*l),
            Value::Int(l) => return Err(bad(format!("image {i} has label {l}, expected 0..{}", c.classes))),
            other => return Err(bad(format!("label {i} is not an integer: {other:?}"))),
        }
    }
    pixels.extend_from_slice(&bytes[range]);
    Ok(())
}

/// Interprets a pickled NumPy array as `n` rows of `row` `uint8` values (C order), returning `n`
/// and the range of its bytes. Only NumPy's own reduction (`_reconstruct` + `__setstate__`) is
/// understood: the form `pickle.dump` of an `ndarray` writes.
fn numpy_u8_rows(bytes: &[u8], v: &Value, row: usize) -> Result<(usize, std::ops::Range<usize>), String> {
    let not_array = || "is not a NumPy uint8 array".to_string();
    let Value::Build(obj, state) = v else { return Err(not_array()) };
    let Value::Call(f, _) = &**obj else { return Err(not_array()) };
    match &**f {
        Value::Global(m, n)
            if (m == "numpy.core.multiarray" || m == "numpy._core.multiarray") && n == "_reconstruct" => {}
        _ => return Err(not_array()),
    }
    // ndarray state: (version, shape, dtype, is_fortran, raw bytes).
    let Value::Tuple(s) = &**state else { return Err(not_array()) };
    let [Value::Int(_), Value::Tuple(shape), dtype, Value::Bool(fortran), Value::Bytes(raw)] = &s[..] else {
        return Err(not_array());
    };
    let is_u1 = match dtype {
        Value::Build(d, _) => match &**d {
            Value::Call(f, args) => {
                matches!(&**f, Value::Global(m, n) if m == "numpy" && n == "dtype")
                    && matches!(&**args, Value::Tuple(a) if matches!(a.first(), Some(Value::Bytes(r)) if &bytes[r.clone()] == b"u1"))
            }
            _ => false,
        },
        _ => false,
    };
    if !is_u1 {
        return Err("has a dtype other than uint8".into());
    }
    let dims: Vec<i64> = shape.iter().map(|d| if let Value::Int(d) = d { *d } else { -1 }).collect();
    let [n, r] = dims[..] else { return Err(format!("has shape {dims:?}, expected [n, {row}]")) };
    if r != row as i64 || n < 0 {
        return Err(format!("has shape {dims:?}, expected [n, {row}]"));
    }
    if *fortran && n > 1 {
        return Err("is stored in Fortran order".into());
    }
    let n = n as usize;
    if raw.len() != n * row {
        return Err(format!("holds {} bytes, its shape needs {}", raw.len(), n * row));
    }
    Ok((n, raw.clone()))
}
