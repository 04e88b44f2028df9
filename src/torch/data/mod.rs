//! Datasets: decoding sources into the stored form (`data.safetensors` + `dataset.json`), and
//! the per-source facts the batch builder needs (normalisation, augmentation; datasets.md §2).

mod arrays;
mod cifar;
mod csv;
mod folder;
mod idx;
mod image;
mod pickle;
#[cfg(test)]
mod python_tests;
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
use crate::ops::{self, Facts, OfficialFile};
use crate::plan::{Node, Payload};
use crate::torch::fields;

pub(crate) use crate::ops::Augment;

/// The normalisation and augmentation of a source (the dataset table of `ops`).
pub(crate) fn facts(source: &str) -> Result<&'static Facts, NodeFailure> {
    ops::facts(source).ok_or_else(|| NodeFailure::new(format!("unknown dataset source `{source}`")))
}

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
fn read_idx(dir: &Path, source: &Facts, verify_md5: bool) -> Result<Raw, NodeFailure> {
    let files =
        source.idx_files.ok_or_else(|| NodeFailure::new(format!("`{}` is not an IDX source", source.source)))?;
    let missing: Vec<&str> = files.iter().filter(|f| !dir.join(f.name).is_file()).map(|f| f.name).collect();
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
            source.download.as_ref().map_or("the dataset's official page", |d| d.mirrors[0])
        )));
    }
    let md5 = |f: &OfficialFile| verify_md5.then_some(f.md5);
    let [ti, tl, si, sl] = &files;
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
        "mnist" | "fashion_mnist" => read_idx(dir, facts(op)?, true),
        other => Err(NodeFailure::new(format!("`{other}` is not an IDX source"))),
    }
}

/// Reads an IDX dataset in the MNIST layout without the official MD5 checks (tests, and files
/// in the official format that are not the official content).
#[cfg(test)]
pub(crate) fn read_idx_unverified(dir: &Path) -> Result<Raw, NodeFailure> {
    read_idx(dir, facts("mnist")?, false)
}

/// Decodes a `dataset` node's source, applies `limit`, and writes `data.safetensors` and
/// `dataset.json` into `out`, saying through `progress` what it is doing (its length unknown:
/// the node shows a spinner with the stage and the time it has taken).
pub(crate) fn build(node: &Node, out: &Path, progress: &(dyn Fn(u64, u64, &str) + Sync)) -> Result<(), NodeFailure> {
    progress(0, 0, &format!("decoding {}", node.op));
    decode(node, out)?;
    progress(0, 0, "written");
    Ok(())
}

fn decode(node: &Node, out: &Path) -> Result<(), NodeFailure> {
    let Payload::Dataset { limit, .. } = &node.payload else {
        return Err(NodeFailure::new(format!("`{}` is not a dataset", node.label)));
    };
    let limit = match limit {
        None => None,
        Some(n) => Some(
            usize::try_from(*n)
                .map_err(|_| NodeFailure::new(format!("`limit` must be a positive integer, got {n}")))?,
        ),
    };
    let (raw, classes) = match node.op.as_str() {
        // Resize after `limit`, so a limited dataset decodes quickly.
        "mnist" | "fashion_mnist" => (read_official(&node.op, &source_dir(node)?)?.limit(limit).resize(32), 10),
        "cifar10" | "cifar100" => {
            let c = cifar::source(&node.op).ok_or_else(|| NodeFailure::new("not a CIFAR source"))?;
            (cifar::read(c, &source_dir(node)?, true)?.limit(limit), c.classes())
        }
        "utkface" => (utkface::read(&source_dir(node)?, limit)?, utkface::CLASSES),
        "image_folder" => {
            let like = fields::of(node).word("like")?;
            let classes = usize::try_from(fields::of(node).int("classes")?)
                .map_err(|_| NodeFailure::new("`classes` must be positive"))?;
            // The planner resolves `path` against the data root, like `dir` itself.
            let path = source_dir(node)?;
            let raw = folder::read(&path, classes, input_size(like)?, limit)?;
            // `dataset.json` names `like` as the source: it selects normalisation and augmentation.
            return write(&raw, like, classes, out);
        }
        "arrays" => {
            let like = fields::of(node).word("like")?;
            let classes = usize::try_from(fields::of(node).int("classes")?)
                .map_err(|_| NodeFailure::new("`classes` must be positive"))?;
            let test = fields::of(node).float("test")?;
            let raw = arrays::read(&source_dir(node)?, classes, test)?.limit(limit).resize(input_size(like)?);
            return write(&raw, like, classes, out);
        }
        "csv" => {
            let like = fields::of(node).word("like")?;
            let classes = usize::try_from(fields::of(node).int("classes")?)
                .map_err(|_| NodeFailure::new("`classes` must be positive"))?;
            let test = fields::of(node).float("test")?;
            let raw = csv::read(&source_dir(node)?, classes, test, input_size(like)?, limit)?;
            return write(&raw, like, classes, out);
        }
        "synthetic" => {
            let bad = |what: &str| NodeFailure::new(format!("synthetic: {what}"));
            let [c, h, w] = fields::of(node).ints("shape")?[..] else {
                return Err(bad("`shape` must be [channels, height, width]"));
            };
            if !(c == 1 || c == 3) || h < 1 || w < 1 {
                return Err(bad("`shape` needs 1 or 3 channels and positive sides"));
            }
            let seed = u32::try_from(fields::of(node).int("seed")?).map_err(|_| bad("`seed` must fit in 32 bits"))?;
            let counts =
                (fields::of(node).int("classes")?, fields::of(node).int("size")?, fields::of(node).int("test")?);
            let (classes, size, test) =
                match (usize::try_from(counts.0), usize::try_from(counts.1), usize::try_from(counts.2)) {
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

/// The folder (or file) the planner resolved for a source's `dir` (`path` of `image_folder`,
/// `arrays` and `csv`).
fn source_dir(node: &Node) -> Result<PathBuf, NodeFailure> {
    node.data_dir()
        .map(Path::to_path_buf)
        .ok_or_else(|| NodeFailure::new(format!("no data folder was resolved for `{}`", node.op)))
}

/// The model input size of a benchmark dataset (datasets.md §1): images of an `image_folder`
/// that differ are resized to it, as the reference's test pipeline does.
fn input_size(like: &str) -> Result<usize, NodeFailure> {
    ops::facts(like)
        .filter(|f| f.classes.is_some())
        .map(|f| f.input_size)
        .ok_or_else(|| NodeFailure::new(format!("`like` must name a benchmark dataset, got `{like}`")))
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
