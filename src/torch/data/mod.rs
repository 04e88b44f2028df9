//! Datasets: decoding sources into the stored form (`data.safetensors` + `dataset.json`), and
//! the per-source facts the batch builder needs (normalisation, augmentation; datasets.md §2).

mod cifar;
mod folder;
mod idx;
mod image;
mod pickle;
pub(crate) mod resident;
mod resize;
pub(crate) mod store;
mod synthetic;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod utkface;

use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use crate::artifact::file;
use crate::artifact::{DatasetInfo, NodeFailure};
use crate::ops::Value;
use crate::plan::Node;

/// The reference's train-time augmentation of a source (datasets.md §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Augment {
    /// No augmentation (UTKFace).
    None,
    /// Random horizontal flip, p = 0.5 (MNIST family; synthetic by choice).
    Flip,
    /// Zero-pad 4, random 32×32 crop, then random horizontal flip (CIFAR).
    CropFlip,
}

/// Per-source facts: normalisation constants (datasets.md §2.1) and augmentation (§2.2).
pub(crate) struct SourceFacts {
    pub(crate) mean: [f64; 3],
    pub(crate) std: [f64; 3],
    pub(crate) augment: Augment,
}

/// The facts of a source by its op name.
pub(crate) fn facts(source: &str) -> Result<SourceFacts, NodeFailure> {
    let grey = |m: f64, s: f64| SourceFacts { mean: [m; 3], std: [s; 3], augment: Augment::Flip };
    Ok(match source {
        "mnist" => grey(0.1307, 0.3081),
        "fashion_mnist" => grey(0.2860, 0.3530),
        // munl's own source: centred on mid-grey; flips only, as no crop is defined for it.
        "synthetic" => grey(0.5, 0.25),
        "cifar10" => {
            SourceFacts { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010], augment: Augment::CropFlip }
        }
        "cifar100" => {
            SourceFacts { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762], augment: Augment::CropFlip }
        }
        "utkface" => SourceFacts { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], augment: Augment::None },
        other => return Err(NodeFailure::new(format!("unknown dataset source `{other}`"))),
    })
}

/// One of the four official files of an MNIST-family dataset, with its official MD5.
struct IdxFile {
    name: &'static str,
    md5: &'static str,
}

/// An MNIST-family source: its four files (train images, train labels, test images, test
/// labels) and where to get them.
struct IdxSource {
    title: &'static str,
    /// The source op, whose official addresses `ops::download` knows.
    op: &'static str,
    files: [IdxFile; 4],
}

const MNIST: IdxSource = IdxSource {
    title: "MNIST",
    op: "mnist",
    files: [
        IdxFile { name: "train-images-idx3-ubyte.gz", md5: "6bbc9ace898e44ae57da46a324031adb" },
        IdxFile { name: "train-labels-idx1-ubyte.gz", md5: "a25bea736e30d166cdddb491f175f624" },
        IdxFile { name: "t10k-images-idx3-ubyte.gz", md5: "2646ac647ad5339dbf082846283269ea" },
        IdxFile { name: "t10k-labels-idx1-ubyte.gz", md5: "27ae3e4e09519cfbb04c329615203637" },
    ],
};

const FASHION_MNIST: IdxSource = IdxSource {
    title: "Fashion-MNIST",
    op: "fashion_mnist",
    files: [
        IdxFile { name: "train-images-idx3-ubyte.gz", md5: "f4a8712d7a061bf5bd6d2ca38dc4d50a" },
        IdxFile { name: "train-labels-idx1-ubyte.gz", md5: "9018921c3c673c538a1fc5bad174d6f9" },
        IdxFile { name: "t10k-images-idx3-ubyte.gz", md5: "8181f5470baa50b63fa0f6fddb340f0a" },
        IdxFile { name: "t10k-labels-idx1-ubyte.gz", md5: "15d484375f8d13e6eb1aabb0c3f46965" },
    ],
};

/// Decoded images before storage: `n_train` official-train images first, then `n_test`.
pub(crate) struct Raw {
    /// `[n, C, H, W]` row-major.
    pub(crate) pixels: Vec<u8>,
    pub(crate) labels: Vec<i64>,
    pub(crate) shape: [usize; 3],
    pub(crate) n_train: usize,
    pub(crate) n_test: usize,
}

/// The train and test counts `limit` keeps of `n_train` + `n_test` images: the first N
/// official-train images and the first N/6 official-test images (the official 6:1 ratio), each
/// capped at what exists.
pub(crate) fn limited(n_train: usize, n_test: usize, limit: Option<usize>) -> (usize, usize) {
    match limit {
        None => (n_train, n_test),
        Some(n) => (n.min(n_train), (n / 6).min(n_test)),
    }
}

impl Raw {
    /// Keeps what `limited` says.
    pub(crate) fn limit(self, limit: Option<usize>) -> Raw {
        if limit.is_none() {
            return self;
        }
        let per = self.shape.iter().product::<usize>();
        let (n_train, n_test) = limited(self.n_train, self.n_test, limit);
        let mut pixels = self.pixels;
        let mut labels = self.labels;
        pixels.drain(n_train * per..self.n_train * per);
        labels.drain(n_train..self.n_train);
        pixels.truncate((n_train + n_test) * per);
        labels.truncate(n_train + n_test);
        Raw { pixels, labels, shape: self.shape, n_train, n_test }
    }

    /// Resizes grey images to `size × size` with PIL's bilinear filter (datasets.md §2.2: the
    /// reference resizes MNIST-family images 28 → 32; the result is stored, so it runs once).
    pub(crate) fn resize(self, size: usize) -> Raw {
        let [c, h, w] = self.shape;
        if (h, w) == (size, size) {
            return self;
        }
        let pixels =
            self.pixels.chunks_exact(h * w).flat_map(|img| resize::resize_bilinear(img, h, w, size, size)).collect();
        Raw { pixels, labels: self.labels, shape: [c, size, size], n_train: self.n_train, n_test: self.n_test }
    }
}

/// Reads the four official files of an MNIST-family dataset from `dir`, verifying each.
fn read_idx(dir: &Path, source: &IdxSource, verify_md5: bool) -> Result<Raw, NodeFailure> {
    let missing: Vec<&str> = source.files.iter().filter(|f| !dir.join(f.name).is_file()).map(|f| f.name).collect();
    if !missing.is_empty() {
        return Err(NodeFailure::invalid_data(format!(
            "{} files not found: `{}` lacks {}",
            source.title,
            dir.display(),
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        ))
        .with_help(format!(
            "put the four official .gz files into `{}` (download them from {})",
            dir.display(),
            crate::ops::download(source.op).map_or("the dataset's official page", |d| d.mirrors[0])
        )));
    }
    let md5 = |f: &IdxFile| verify_md5.then_some(f.md5);
    let [ti, tl, si, sl] = &source.files;
    let train = idx::read_images(&dir.join(ti.name), md5(ti))?;
    let train_labels = idx::read_labels(&dir.join(tl.name), 10, md5(tl))?;
    let test = idx::read_images(&dir.join(si.name), md5(si))?;
    let test_labels = idx::read_labels(&dir.join(sl.name), 10, md5(sl))?;
    if train.count != train_labels.len() || test.count != test_labels.len() {
        return Err(NodeFailure::invalid_data(format!(
            "`{}`: {} train images but {} labels, {} test images but {} labels",
            dir.display(),
            train.count,
            train_labels.len(),
            test.count,
            test_labels.len()
        )));
    }
    if (train.rows, train.cols) != (test.rows, test.cols) {
        return Err(NodeFailure::invalid_data(format!(
            "`{}`: train images are {}×{}, test images {}×{}",
            dir.display(),
            train.rows,
            train.cols,
            test.rows,
            test.cols
        )));
    }
    let mut pixels = train.pixels;
    pixels.extend_from_slice(&test.pixels);
    let labels = train_labels.iter().chain(&test_labels).map(|&l| i64::from(l)).collect();
    Ok(Raw { pixels, labels, shape: [1, train.rows, train.cols], n_train: train.count, n_test: test.count })
}

/// Reads an MNIST-family source (`mnist` or `fashion_mnist`) with the official MD5 checks.
pub(crate) fn read_official(op: &str, dir: &Path) -> Result<Raw, NodeFailure> {
    match op {
        "mnist" => read_idx(dir, &MNIST, true),
        "fashion_mnist" => read_idx(dir, &FASHION_MNIST, true),
        other => Err(NodeFailure::new(format!("`{other}` is not an IDX source"))),
    }
}

/// Reads an IDX dataset in the MNIST layout without the official MD5 checks (tests, and files
/// in the official format that are not the official content).
#[cfg(test)]
pub(crate) fn read_idx_unverified(dir: &Path) -> Result<Raw, NodeFailure> {
    read_idx(dir, &MNIST, false)
}

fn int_param(node: &Node, name: &str, default: i64) -> Result<i64, NodeFailure> {
    match node.param(name) {
        None => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be an integer, got {v}"))),
    }
}

/// Decodes a `dataset` node's source, applies `limit`, and writes `data.safetensors` and
/// `dataset.json` into `out`.
pub(crate) fn build(node: &Node, out: &Path) -> Result<(), NodeFailure> {
    let limit = match node.param("limit") {
        None => None,
        Some(v) => Some(
            v.as_i64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| NodeFailure::new(format!("`limit` must be a positive integer, got {v}")))?,
        ),
    };
    let (raw, classes) = match node.op.as_str() {
        "mnist" | "fashion_mnist" => {
            let dir = node
                .env
                .get("dir")
                .ok_or_else(|| NodeFailure::new(format!("no data folder was resolved for `{}`", node.op)))?;
            // Resize after `limit`, so a limited dataset decodes quickly.
            (read_official(&node.op, Path::new(dir))?.limit(limit).resize(32), 10)
        }
        "cifar10" | "cifar100" => {
            let c = cifar::source(&node.op).ok_or_else(|| NodeFailure::new("not a CIFAR source"))?;
            (cifar::read(c, &source_dir(node)?, true)?.limit(limit), c.classes())
        }
        "utkface" => (utkface::read(&source_dir(node)?, limit)?, utkface::CLASSES),
        "image_folder" => {
            let like = match node.param("like") {
                None => "cifar10".to_string(),
                Some(v) => v
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| NodeFailure::new(format!("`like` must be a word, got {v}")))?,
            };
            let classes = usize::try_from(int_param(node, "classes", 10)?)
                .map_err(|_| NodeFailure::new("`classes` must be positive"))?;
            // The planner resolves `path` against the data root into `dir`, like `dir` itself.
            let path = source_dir(node)?;
            let raw = folder::read(&path, classes, input_size(&like)?, limit)?;
            // `dataset.json` names `like` as the source: it selects normalisation and augmentation.
            return write(&raw, &like, classes, out);
        }
        "synthetic" => {
            let classes = int_param(node, "classes", 10)?;
            let size = int_param(node, "size", 1200)?;
            let test = int_param(node, "test", 200)?;
            let seed = int_param(node, "seed", 0)?;
            let shape = match node.param("shape") {
                None => vec![3, 32, 32],
                Some(Value::List(items)) => items.iter().filter_map(Value::as_i64).collect(),
                Some(v) => return Err(NodeFailure::new(format!("`shape` must be a list, got {v}"))),
            };
            let bad = |what: &str| NodeFailure::new(format!("synthetic: {what}"));
            let [c, h, w] = shape[..] else {
                return Err(bad("`shape` must be [channels, height, width]"));
            };
            if !(c == 1 || c == 3) || h < 1 || w < 1 {
                return Err(bad("`shape` needs 1 or 3 channels and positive sides"));
            }
            let seed = u32::try_from(seed).map_err(|_| bad("`seed` must fit in 32 bits"))?;
            let (classes, size, test) = match (usize::try_from(classes), usize::try_from(size), usize::try_from(test)) {
                (Ok(c), Ok(s), Ok(t)) if c >= 2 => (c, s, t),
                _ => return Err(bad("`classes`, `size` and `test` must be positive")),
            };
            let shape = [c as usize, h as usize, w as usize];
            let (pixels, labels) = synthetic::generate(size + test, classes, shape, seed);
            (Raw { pixels, labels, shape, n_train: size, n_test: test }.limit(limit), classes)
        }
        other => return Err(NodeFailure::new(format!("the torch backend cannot read source `{other}`"))),
    };
    write(&raw, &node.op, classes, out)
}

/// The folder (or file) the planner resolved for a source's `dir` (`path` of `image_folder`).
fn source_dir(node: &Node) -> Result<PathBuf, NodeFailure> {
    node.env
        .get("dir")
        .map(PathBuf::from)
        .ok_or_else(|| NodeFailure::new(format!("no data folder was resolved for `{}`", node.op)))
}

/// The model input size of a benchmark dataset (datasets.md §1): images of an `image_folder`
/// that differ are resized to it, as the reference's test pipeline does.
fn input_size(like: &str) -> Result<usize, NodeFailure> {
    match like {
        "mnist" | "fashion_mnist" | "cifar10" | "cifar100" => Ok(32),
        "utkface" => Ok(224),
        other => Err(NodeFailure::new(format!("`like` must name a benchmark dataset, got `{other}`"))),
    }
}

/// Writes a decoded dataset in the stored form.
pub(crate) fn write(raw: &Raw, source: &str, classes: usize, out: &Path) -> Result<(), NodeFailure> {
    let n = (raw.n_train + raw.n_test) as i64;
    let [c, h, w] = raw.shape.map(|s| s as i64);
    let images = Tensor::from_slice(&raw.pixels).view([n, c, h, w]);
    let labels = Tensor::from_slice(&raw.labels).to_kind(Kind::Int64);
    store::write_tensors(&out.join(file::DATA), &[("images".to_string(), images), ("labels".to_string(), labels)])?;
    let info =
        DatasetInfo { source: source.to_string(), classes, n_train: raw.n_train, n_test: raw.n_test, shape: raw.shape };
    store::write_json(&out.join(file::DATASET), &info)
}
