//! `arrays(…)`: a dataset a researcher already holds as arrays, in a NumPy `.npz`
//! (`np.savez("mine.npz", x_train=…, y_train=…, x_test=…, y_test=…)`, Keras's names) or a
//! `.safetensors` file with the same names.
//!
//! Images are uint8 (0–255) or floating point (0–1, rounded to 0–255 as `ToTensor` inverts),
//! laid out `[N, H, W]` (grey), `[N, H, W, C]` (NumPy's and PIL's order) or `[N, C, H, W]`
//! (PyTorch's), with 1 or 3 channels; labels are integers in `0..classes`. Without `x_test` and
//! `y_test`, the last `test` share of the rows is the test part. Every problem names the array
//! and what was expected.

use std::path::Path;

use tch::{Kind, Tensor};

use super::Raw;
use crate::artifact::NodeFailure;

/// Reads `path` into the stored form (before `limit` and resizing).
pub(crate) fn read(path: &Path, classes: usize, test: f64) -> Result<Raw, NodeFailure> {
    let shown = path.display().to_string();
    let bad = |message: String| NodeFailure::invalid_data(format!("`{shown}`: {message}"));
    if !path.is_file() {
        return Err(NodeFailure::invalid_data(format!("`{shown}` does not exist"))
            .with_help("`path` is a `.npz` or `.safetensors` file under the data root ($MUNL_DATA, else data/)"));
    }
    let name = path.to_string_lossy().to_ascii_lowercase();
    let loaded = if name.ends_with(".npz") {
        Tensor::read_npz(path)
    } else if name.ends_with(".safetensors") {
        Tensor::read_safetensors(path)
    } else {
        return Err(bad("is neither a `.npz` nor a `.safetensors` file".into()));
    };
    let arrays = loaded.map_err(|e| bad(format!("cannot be read: {}", first_line(&e.to_string()))))?;
    let get = |key: &str| arrays.iter().find(|(k, _)| k == key || k.strip_suffix(".npy") == Some(key)).map(|(_, t)| t);
    let names = || arrays.iter().map(|(k, _)| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    let (Some(x_train), Some(y_train)) = (get("x_train"), get("y_train")) else {
        return Err(bad(format!("needs arrays `x_train` and `y_train`; it has {}", names())));
    };
    let train = Part::read("train", x_train, y_train, classes).map_err(bad)?;
    let (train, test_part) = match (get("x_test"), get("y_test")) {
        (Some(x), Some(y)) => (train, Part::read("test", x, y, classes).map_err(bad)?),
        (None, None) => train.hold_out(test),
        _ => return Err(bad("has only one of `x_test` and `y_test`: give both, or neither".into())),
    };
    if train.shape != test_part.shape {
        return Err(bad(format!(
            "train images are {:?} (channels, height, width) but test images are {:?}",
            train.shape, test_part.shape
        )));
    }
    let (n_train, n_test) = (train.labels.len(), test_part.labels.len());
    if n_train == 0 {
        return Err(bad("has no training images".into()));
    }
    let mut pixels = train.pixels;
    pixels.extend(test_part.pixels);
    let mut labels = train.labels;
    labels.extend(test_part.labels);
    Ok(Raw { pixels, labels, shape: train.shape, n_train, n_test })
}

/// Images and labels of one part, checked.
struct Part {
    /// `[n, C, H, W]` row-major.
    pixels: Vec<u8>,
    labels: Vec<i64>,
    shape: [usize; 3],
}

impl Part {
    fn read(part: &str, x: &Tensor, y: &Tensor, classes: usize) -> Result<Part, String> {
        let dims = x.size();
        let n = *dims.first().unwrap_or(&0);
        let images = match dims.len() {
            3 => x.unsqueeze(1),
            // `[N, C, H, W]` when the second axis holds the channels; else `[N, H, W, C]`.
            4 if matches!(dims[1], 1 | 3) => x.shallow_clone(),
            4 if matches!(dims[3], 1 | 3) => x.permute([0, 3, 1, 2]),
            _ => {
                return Err(format!(
                    "`x_{part}` is {dims:?}: images are [N, H, W], [N, H, W, C] or [N, C, H, W] with 1 or 3 channels"
                ))
            }
        };
        let bytes = match x.kind() {
            Kind::Uint8 => images,
            Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16 => {
                let f = images.to_kind(Kind::Float);
                let (lo, hi) = (f.min().double_value(&[]), f.max().double_value(&[]));
                if !(lo >= 0.0 && hi <= 1.0) {
                    return Err(format!(
                        "`x_{part}` holds floats from {lo} to {hi}: float images are 0–1 (uint8 ones 0–255)"
                    ));
                }
                (f * 255.0).round().to_kind(Kind::Uint8)
            }
            other => return Err(format!("`x_{part}` is {other:?}: images are uint8 (0–255) or float (0–1)")),
        };
        let size = bytes.size();
        let shape = [size[1] as usize, size[2] as usize, size[3] as usize];
        let labels_dims = y.size();
        if labels_dims != [n] {
            return Err(format!("`y_{part}` is {labels_dims:?}: one label per image of `x_{part}`, [{n}]"));
        }
        if !matches!(y.kind(), Kind::Uint8 | Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Int64) {
            return Err(format!("`y_{part}` is {:?}: labels are integers", y.kind()));
        }
        let labels = Vec::<i64>::try_from(y.to_kind(Kind::Int64).flatten(0, -1)).map_err(|e| e.to_string())?;
        if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| !(0..classes as i64).contains(l)) {
            return Err(format!("`y_{part}[{i}]` is {l}: labels are 0..{classes} (`classes` = {classes})"));
        }
        let pixels = Vec::<u8>::try_from(bytes.contiguous().flatten(0, -1)).map_err(|e| e.to_string())?;
        Ok(Part { pixels, labels, shape })
    }

    /// Splits off the last `share` of the rows as the test part.
    fn hold_out(self, share: f64) -> (Part, Part) {
        let n = self.labels.len();
        let n_test = ((n as f64) * share).round() as usize;
        let cut = n - n_test.min(n);
        let per: usize = self.shape.iter().product();
        let mut pixels = self.pixels;
        let mut labels = self.labels;
        let test = Part { pixels: pixels.split_off(cut * per), labels: labels.split_off(cut), shape: self.shape };
        (Part { pixels, labels, shape: self.shape }, test)
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &Path, name: &str, arrays: &[(&str, Tensor)]) -> std::path::PathBuf {
        let path = dir.join(name);
        let named: Vec<(&str, &Tensor)> = arrays.iter().map(|(k, t)| (*k, t)).collect();
        if name.ends_with(".npz") {
            Tensor::write_npz(&named, &path).unwrap();
        } else {
            Tensor::write_safetensors(&named, &path).unwrap();
        }
        path
    }

    fn images(shape: &[i64]) -> Tensor {
        Tensor::arange(shape.iter().product::<i64>(), (Kind::Int64, tch::Device::Cpu))
            .remainder(256)
            .to_kind(Kind::Uint8)
            .view(shape)
    }

    #[test]
    fn every_layout_reads_to_channels_first() {
        let dir = tempfile::tempdir().unwrap();
        let nchw = images(&[4, 3, 2, 2]);
        let y = Tensor::from_slice(&[0i64, 1, 2, 1]);
        let a = read(
            &file(dir.path(), "a.npz", &[("x_train", nchw.shallow_clone()), ("y_train", y.shallow_clone())]),
            3,
            0.25,
        )
        .unwrap();
        let nhwc = nchw.permute([0, 2, 3, 1]).contiguous();
        let b = read(&file(dir.path(), "b.safetensors", &[("x_train", nhwc), ("y_train", y.shallow_clone())]), 3, 0.25)
            .unwrap();
        assert_eq!(a.pixels, b.pixels, "[N, H, W, C] is transposed to [N, C, H, W]");
        assert_eq!((a.n_train, a.n_test, a.shape), (3, 1, [3, 2, 2]));
        assert_eq!(a.labels, [0, 1, 2, 1]);
        let grey = read(
            &file(dir.path(), "g.npz", &[("x_train", images(&[2, 5, 5])), ("y_train", Tensor::from_slice(&[1u8, 0]))]),
            2,
            0.0,
        )
        .unwrap();
        assert_eq!((grey.shape, grey.n_test), ([1, 5, 5], 0));
    }

    #[test]
    fn float_images_in_zero_one_become_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let x = Tensor::from_slice(&[0.0f32, 0.5, 1.0, 0.2]).view([1, 2, 2]);
        let x_test = Tensor::from_slice(&[1.0f64, 0.0, 0.0, 1.0]).view([1, 2, 2]);
        let y = Tensor::from_slice(&[1i32]);
        let arrays = [("x_train", x), ("y_train", y.shallow_clone()), ("x_test", x_test), ("y_test", y)];
        let raw = read(&file(dir.path(), "f.npz", &arrays), 2, 0.5).unwrap();
        assert_eq!(raw.pixels, [0, 128, 255, 51, 255, 0, 0, 255]);
        assert_eq!((raw.n_train, raw.n_test), (1, 1), "an explicit test part wins over `test`");
    }

    /// A dataset node of `arrays` decodes the file, resizes to `like`'s input size and stores
    /// `like` as the source (its normalisation and augmentation).
    #[test]
    fn a_dataset_node_stores_what_like_says() {
        use crate::ops::{self, Category, Value};
        use crate::plan::{Node, Paths, Payload};
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<i64> = (0..12).map(|i| i % 4).collect();
        let path =
            file(dir.path(), "m.npz", &[("x_train", images(&[12, 28, 28])), ("y_train", Tensor::from_slice(&labels))]);
        let mut args = ops::defaults(Category::Source, "arrays");
        args.retain(|k, _| k != "path");
        args.insert("classes".into(), Value::Int(4));
        args.insert("test".into(), Value::Float(0.25));
        let node = Node {
            key: crate::digest::Key::of(b"arrays"),
            op: "arrays".into(),
            version: 1,
            payload: Payload::Dataset { args, limit: None, content: None },
            inputs: vec![],
            coords: Default::default(),
            paths: Paths { data: Some(path), ..Paths::default() },
            label: "dataset mine".into(),
            decl: "mine".into(),
            span: crate::span::Span::new(0, 0),
            source: 0,
        };
        let out = tempfile::tempdir().unwrap();
        super::super::build(&node, out.path(), &|_, _, _| {}).unwrap();
        let info: crate::artifact::DatasetInfo =
            super::super::store::read_json(&out.path().join("dataset.json")).unwrap();
        assert_eq!((info.source.as_str(), info.classes, info.n_train, info.n_test), ("mnist", 4, 9, 3));
        assert_eq!(info.shape, [1, 32, 32], "resized to MNIST's input size");
    }

    #[test]
    fn wrong_arrays_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = |arrays: &[(&str, Tensor)], classes: usize| {
            read(&file(dir.path(), "e.npz", arrays), classes, 0.2).err().expect("an error").message
        };
        let y = || Tensor::from_slice(&[0i64, 1]);
        assert!(err(&[("images", images(&[2, 4, 4])), ("y_train", y())], 2)
            .contains("needs arrays `x_train` and `y_train`; it has"));
        assert!(err(&[("x_train", images(&[2, 4, 4, 5])), ("y_train", y())], 2).contains("`x_train` is [2, 4, 4, 5]"));
        let ints = Tensor::zeros([2, 4, 4], (Kind::Int, tch::Device::Cpu));
        assert!(err(&[("x_train", ints), ("y_train", y())], 2).contains("`x_train` is Int: images are uint8"));
        let big = Tensor::full([2, 4, 4], 3.0, (Kind::Float, tch::Device::Cpu));
        assert!(err(&[("x_train", big), ("y_train", y())], 2).contains("float images are 0–1"));
        assert!(err(&[("x_train", images(&[2, 4, 4])), ("y_train", Tensor::from_slice(&[0i64, 2]))], 2)
            .contains("`y_train[1]` is 2"));
        assert!(err(&[("x_train", images(&[2, 4, 4])), ("y_train", Tensor::from_slice(&[0i64]))], 2)
            .contains("one label per image"));
        assert!(err(&[("x_train", images(&[2, 4, 4])), ("y_train", y()), ("x_test", images(&[1, 4, 4]))], 2)
            .contains("only one of"));
        let missing = read(&dir.path().join("none.npz"), 2, 0.2).err().expect("an error");
        assert!(missing.message.contains("does not exist"));
    }
}
