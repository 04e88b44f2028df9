//! A dataset resident on the device, and batch building there (architecture.md §4).
//!
//! Images stay `u8` on the device; a batch is one `index_select`, then crop/flip (vectorised
//! over the batch, on `u8`), then one conversion to float with normalisation folded into a
//! multiply-add, and grey → RGB as a broadcast. The host sends one index tensor per epoch and
//! never copies a batch.

use crate::artifact::file;
use crate::stats::shuffle::Shuffle;
use crate::torch::profile::{self, Phase};
use std::path::Path;

use tch::{Device, Kind, Tensor};

use super::{facts, store, Augment};
use crate::artifact::{DatasetInfo, NodeFailure};
use crate::stats::mt19937::Mt19937;

/// Zero padding of the CIFAR crop (datasets.md §2.2).
const CROP_PAD: i64 = 4;

/// A dataset's images and labels on one device.
///
/// Invariant: `images` is `u8 [N, C, H, W]` with C ∈ {1, 3}, `labels` is `i64 [N]`, both on
/// `device`; `scale`/`shift` are `[1, 3, 1, 1]` floats with `x = pixel · scale − shift` equal to
/// `(pixel / 255 − mean) / std`.
pub(crate) struct Resident {
    pub(crate) info: DatasetInfo,
    pub(crate) device: Device,
    images: Tensor,
    labels: Tensor,
    scale: Tensor,
    shift: Tensor,
    augment: Augment,
}

/// The order (and augmentation draws) of one pass over a subset, on the device.
///
/// Invariant: every tensor has the subset's length; `index` holds global dataset indices.
pub(crate) struct Pass {
    index: Tensor,
    flip: Option<Tensor>,
    /// Crop offsets `[n, 2]` (dy, dx) in `0..=2·CROP_PAD`.
    crop: Option<Tensor>,
    /// Per position, a label that replaces the sample's own, or −1 to keep it (SRL's random
    /// relabelling).
    labels: Option<Tensor>,
    len: i64,
}

impl Pass {
    /// Number of batches of size `batch`, the last one partial (loaders never drop it).
    pub(crate) fn batches(&self, batch: i64) -> i64 {
        (self.len + batch - 1) / batch
    }

    /// Number of samples.
    pub(crate) fn len(&self) -> i64 {
        self.len
    }
}

impl Resident {
    /// Loads a dataset folder (`data.safetensors`, `dataset.json`) onto `device`.
    pub(crate) fn load(dir: &Path, device: Device) -> Result<Resident, NodeFailure> {
        let info: DatasetInfo = store::read_json(&dir.join(file::DATASET))?;
        let path = dir.join(file::DATA);
        let mut tensors = store::read_tensors(&path)?;
        let find = |tensors: &mut Vec<(String, Tensor)>, name: &str| {
            let i = tensors
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| NodeFailure::invalid_data(format!("`{}` has no tensor `{name}`", path.display())))?;
            Ok::<Tensor, NodeFailure>(tensors.swap_remove(i).1)
        };
        let images = find(&mut tensors, "images")?;
        let labels = find(&mut tensors, "labels")?;
        let n = (info.n_train + info.n_test) as i64;
        let [c, h, w] = info.shape.map(|s| s as i64);
        if images.kind() != Kind::Uint8 || images.size() != [n, c, h, w] || !(c == 1 || c == 3) {
            return Err(NodeFailure::invalid_data(format!(
                "`{}`: `images` is {:?} {:?}, `dataset.json` says u8 [{n}, {c}, {h}, {w}] with 1 or 3 channels",
                path.display(),
                images.kind(),
                images.size()
            )));
        }
        if labels.size() != [n] {
            return Err(NodeFailure::invalid_data(format!(
                "`{}`: `labels` has shape {:?}",
                path.display(),
                labels.size()
            )));
        }
        let f = facts(&info.source)?;
        let scale: Vec<f32> = f.std.iter().map(|s| (1.0 / (255.0 * s)) as f32).collect();
        let shift: Vec<f32> = f.mean.iter().zip(f.std).map(|(m, s)| (m / s) as f32).collect();
        Ok(Resident {
            device,
            images: images.to_device(device),
            labels: labels.to_kind(Kind::Int64).to_device(device),
            scale: Tensor::from_slice(&scale).view([1, 3, 1, 1]).to_device(device),
            shift: Tensor::from_slice(&shift).view([1, 3, 1, 1]).to_device(device),
            augment: f.augment,
            info,
        })
    }

    /// A second handle on the same device memory (tensors are `Send` but not `Sync`, so each job
    /// gets its own handles rather than sharing one).
    pub(crate) fn handle(&self) -> Resident {
        Resident {
            info: self.info.clone(),
            device: self.device,
            images: self.images.shallow_clone(),
            labels: self.labels.shallow_clone(),
            scale: self.scale.shallow_clone(),
            shift: self.shift.shallow_clone(),
            augment: self.augment,
        }
    }

    /// Random data for benchmarks: `n` images of `shape` with `classes` labels, CIFAR-style.
    pub(crate) fn random(n: i64, shape: [i64; 3], classes: i64, device: Device) -> Resident {
        let [c, h, w] = shape;
        let images = Tensor::randint(256, [n, c, h, w], (Kind::Uint8, device));
        let labels = Tensor::randint(classes, [n], (Kind::Int64, device));
        let f = facts("cifar10").map(|f| f.std).unwrap_or([0.25; 3]);
        let scale: Vec<f32> = f.iter().map(|s| (1.0 / (255.0 * s)) as f32).collect();
        Resident {
            info: DatasetInfo {
                source: "cifar10".into(),
                classes: classes as usize,
                n_train: n as usize,
                n_test: 0,
                shape: shape.map(|s| s as usize),
            },
            device,
            images,
            labels,
            scale: Tensor::from_slice(&scale).view([1, 3, 1, 1]).to_device(device),
            shift: Tensor::zeros([1, 3, 1, 1], (Kind::Float, device)),
            augment: Augment::CropFlip,
        }
    }

    /// The subset in its stored order, plain (evaluation; profile EVAL, datasets.md §2.3).
    pub(crate) fn ordered(&self, indices: &[i64]) -> Pass {
        Pass {
            index: Tensor::from_slice(indices).to_device(self.device),
            flip: None,
            crop: None,
            labels: None,
            len: indices.len() as i64,
        }
    }

    /// A plain pass over `indices` in the given order; `labels` holds, per position, a label
    /// that replaces the sample's own, or −1 to keep it.
    pub(crate) fn ordered_with_labels(&self, indices: &[i64], labels: &[i64]) -> Pass {
        assert_eq!(indices.len(), labels.len(), "one label per position");
        let mut pass = self.ordered(indices);
        pass.labels = Some(Tensor::from_slice(labels).to_device(self.device));
        pass
    }

    /// Every label of the dataset, `i64 [N]` on the device.
    /// The stored `u8 [N, C, H, W]` images, on the device.
    #[cfg(test)]
    pub(crate) fn images(&self) -> &Tensor {
        &self.images
    }

    pub(crate) fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The global dataset indices of batch `b` of a pass.
    pub(crate) fn batch_indices(&self, pass: &Pass, b: i64, batch: i64) -> Tensor {
        let start = b * batch;
        pass.index.narrow(0, start, batch.min(pass.len - start))
    }

    /// A shuffled pass over the subset, drawing the order (and, if `augment`, this source's flip
    /// and crop decisions) from `rng` on the host, then uploading them in one tensor.
    pub(crate) fn shuffled(&self, indices: &[i64], rng: &mut Mt19937, augment: bool) -> Pass {
        let n = indices.len();
        let aug = if augment { self.augment } else { Augment::None };
        let columns = match aug {
            Augment::None => 1,
            Augment::Flip => 2,
            Augment::CropFlip => 4,
        };
        let mut host = Vec::with_capacity(n * columns);
        host.extend(rng.permutation(n).into_iter().map(|p| indices[p]));
        if aug == Augment::CropFlip {
            // torchvision's RandomCrop draws the top offset, then the left one, per image.
            for _ in 0..n {
                host.push(rng.interval(2 * CROP_PAD as u64) as i64);
                host.push(rng.interval(2 * CROP_PAD as u64) as i64);
            }
        }
        if aug != Augment::None {
            host.extend((0..n).map(|_| i64::from(rng.random_sample() < 0.5)));
        }
        let all = Tensor::from_slice(&host).to_device(self.device);
        let n = n as i64;
        let index = all.narrow(0, 0, n);
        let (crop, flip) = match aug {
            Augment::None => (None, None),
            Augment::Flip => (None, Some(all.narrow(0, n, n).to_kind(Kind::Bool))),
            Augment::CropFlip => {
                (Some(all.narrow(0, n, 2 * n).view([n, 2])), Some(all.narrow(0, 3 * n, n).to_kind(Kind::Bool)))
            }
        };
        Pass { index, flip, crop, labels: None, len: n }
    }

    /// Batch `b` of size `batch` of a pass: normalised `f32 [B, 3, H, W]` images and labels.
    pub(crate) fn batch(&self, pass: &Pass, b: i64, batch: i64) -> (Tensor, Tensor) {
        profile::time(Phase::Data, self.device, || self.build_batch(pass, b, batch))
    }

    fn build_batch(&self, pass: &Pass, b: i64, batch: i64) -> (Tensor, Tensor) {
        let start = b * batch;
        let len = batch.min(pass.len - start);
        let index = pass.index.narrow(0, start, len);
        let mut x = self.images.index_select(0, &index);
        if let Some(crop) = &pass.crop {
            x = crop_batch(&x, &crop.narrow(0, start, len));
        }
        if let Some(flip) = &pass.flip {
            let flip = flip.narrow(0, start, len).view([len, 1, 1, 1]);
            x = x.flip([3]).where_self(&flip, &x);
        }
        let size = x.size();
        let x = x.expand([size[0], 3, size[2], size[3]], false).to_kind(Kind::Float);
        let x = x * &self.scale - &self.shift;
        let y = match &pass.labels {
            Some(labels) => {
                let replaced = labels.narrow(0, start, len);
                replaced.where_self(&replaced.ge(0), &self.labels.index_select(0, &index))
            }
            None => self.labels.index_select(0, &index),
        };
        (x, y)
    }
}

/// Pads a `u8 [B, C, H, W]` batch by `CROP_PAD` zeros and cuts an `H × W` window per image at
/// the offsets `[B, 2]` (top, left): two gathers instead of a loop over images.
fn crop_batch(x: &Tensor, offsets: &Tensor) -> Tensor {
    let size = x.size();
    let (b, c, h, w) = (size[0], size[1], size[2], size[3]);
    let padded = x.constant_pad_nd([CROP_PAD; 4]);
    let device = x.device();
    let rows = offsets.narrow(1, 0, 1) + Tensor::arange(h, (Kind::Int64, device)).view([1, h]);
    let cols = offsets.narrow(1, 1, 1) + Tensor::arange(w, (Kind::Int64, device)).view([1, w]);
    let wp = w + 2 * CROP_PAD;
    let rows = rows.view([b, 1, h, 1]).expand([b, c, h, wp], false);
    let x = padded.gather(2, &rows, false);
    let cols = cols.view([b, 1, 1, w]).expand([b, c, h, w], false);
    x.gather(3, &cols, false)
}
