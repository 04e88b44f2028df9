//! The dataset sources: their catalogue entries (the fields a file may give them) and what munl
//! knows about each without reading data (datasets.md §1–§2) — class count, model input size,
//! normalisation, train-time augmentation, official files with their checksums, and where to
//! download them. One table, read by lowering (class counts), the fetcher (addresses) and the
//! torch decoders (files, checksums, normalisation, augmentation). A new source is an entry and
//! a row here, plus its decoder in `torch/data/`.

use super::limits;
use super::spec::{count, field, Category, Default, Export, Limit, OpSpec, Ty, FRACTION, SEED};

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

/// One official file and its published MD5 (of the file as distributed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OfficialFile {
    pub(crate) name: &'static str,
    pub(crate) md5: &'static str,
}

/// The official distribution of a source.
#[derive(Debug)]
pub(crate) struct Download {
    /// The files fetched when none of `alternatives` is present (torchvision's choice of form).
    pub(crate) files: &'static [&'static str],
    /// Base addresses tried in order; a file's address is the base followed by its name.
    pub(crate) mirrors: &'static [&'static str],
    /// Other forms of the source that its decoder reads as well: when the data folder holds any
    /// of them, nothing is fetched (CIFAR: the extracted folders, the binary version, or the
    /// folder being the extracted folder itself).
    pub(crate) alternatives: &'static [&'static str],
}

impl Download {
    /// The address of `file` on the first mirror, for help texts.
    pub(crate) fn address(&self, file: &str) -> String {
        format!("{}{file}", self.mirrors[0])
    }
}

/// The facts of one source op.
#[derive(Debug)]
pub(crate) struct Facts {
    /// The source op.
    pub(crate) source: &'static str,
    /// The name in messages.
    pub(crate) title: &'static str,
    /// Classes; `None` where the source's `classes` field says (`synthetic`, `image_folder`).
    pub(crate) classes: Option<i64>,
    /// Side of the square images the models see.
    pub(crate) input_size: usize,
    /// Per-channel normalisation (datasets.md §2.1).
    pub(crate) mean: [f64; 3],
    pub(crate) std: [f64; 3],
    pub(crate) augment: Augment,
    /// The four IDX files of an MNIST-family source (train images, train labels, test images,
    /// test labels) with their official MD5s; CIFAR's batch layouts live with their decoder.
    pub(crate) idx_files: Option<[OfficialFile; 4]>,
    pub(crate) download: Option<Download>,
}

const IDX_NAMES: &[&str] = &[
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

const fn idx(md5: [&'static str; 4]) -> [OfficialFile; 4] {
    [
        OfficialFile { name: "train-images-idx3-ubyte.gz", md5: md5[0] },
        OfficialFile { name: "train-labels-idx1-ubyte.gz", md5: md5[1] },
        OfficialFile { name: "t10k-images-idx3-ubyte.gz", md5: md5[2] },
        OfficialFile { name: "t10k-labels-idx1-ubyte.gz", md5: md5[3] },
    ]
}

const TORONTO: &[&str] = &["https://www.cs.toronto.edu/~kriz/"];

/// Classes of a source that says how many it has: at least two to tell apart.
const CLASSES: Ty = Ty::Int { min: 2, max: limits::CLASSES };

/// `[channels, height, width]` of generated images (lowering checks the channels are 1 or 3).
const SHAPE: Ty =
    Ty::IntList { min: 1, max: limits::SIDE, min_len: limits::SHAPE_LEN, max_len: Limit::natural(limits::SHAPE_LEN) };

/// The catalogue entries of the sources, in the order `munl methods --all` lists them.
pub(super) static SOURCES: &[OpSpec] = &[
    OpSpec {
        name: "mnist",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "MNIST from the four official IDX .gz files (70 000 images, 10 classes); grey → RGB, 28 → 32 bilinear, normalised with (0.1307, 0.3081)",
        positional: &["dir"],
        fields: &[field("dir", Ty::Str, Default::Str("mnist"), "folder under the data root ($MUNL_DATA, else data/)")],
    },
    OpSpec {
        name: "fashion_mnist",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "Fashion-MNIST from the four official IDX .gz files (70 000 images, 10 classes); grey → RGB, 28 → 32 bilinear, normalised with (0.2860, 0.3530)",
        positional: &["dir"],
        fields: &[field("dir", Ty::Str, Default::Str("fashion-mnist"), "folder under the data root ($MUNL_DATA, else data/)")],
    },
    OpSpec {
        name: "synthetic",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "generated, learnable images (a seeded class prototype plus noise), for tests and demos",
        positional: &[],
        fields: &[
            field("classes", CLASSES, Default::Int(10), "number of classes"),
            field("size", count(limits::IMAGES), Default::Int(1200), "images in the train part"),
            field("test", count(limits::IMAGES), Default::Int(200), "images in the test part"),
            field("shape", SHAPE, Default::IntList(&[3, 32, 32]), "[channels (1 or 3), height, width]"),
            field("seed", SEED, Default::Int(0), "generator seed"),
        ],
    },
    OpSpec {
        name: "cifar10",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "CIFAR-10 from the official python-pickle batches or the binary version (60 000 images, 10 classes, torchvision's order); normalised with (0.4914, 0.4822, 0.4465) / (0.2023, 0.1994, 0.2010); pad-4 crop + flip",
        positional: &["dir"],
        fields: &[field("dir", Ty::Str, Default::Str("cifar10"), "folder under the data root ($MUNL_DATA, else data/)")],
    },
    OpSpec {
        name: "cifar100",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "CIFAR-100 (fine labels, 100 classes) from the official python-pickle or binary files; normalised with (0.5071, 0.4865, 0.4409) / (0.2673, 0.2564, 0.2762); pad-4 crop + flip",
        positional: &["dir"],
        fields: &[field("dir", Ty::Str, Default::Str("cifar100"), "folder under the data root ($MUNL_DATA, else data/)")],
    },
    OpSpec {
        name: "utkface",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "UTKFace aligned & cropped faces, label = 5 age bins (20-year steps); 200 → 224 bilinear, ImageNet normalisation, no augmentation; the 80/20 split of the reference over file names sorted first (deviation: the reference uses directory-listing order)",
        positional: &["dir"],
        fields: &[field("dir", Ty::Str, Default::Str("UTKFace"), "folder of `AGE_GENDER_RACE_DATE.jpg.chip.jpg` files under the data root")],
    },
    OpSpec {
        name: "image_folder",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "any `train/<class>/*.{png,jpg}` + `test/<class>/*` tree, from a folder or a .tar.gz; classes in sorted order; `like` picks the normalisation and augmentation of a benchmark dataset",
        positional: &["path"],
        fields: &[
            field("path", Ty::Str, Default::Required, "folder or .tar.gz under the data root"),
            field("like", LIKE, Default::Word("cifar10"), "whose normalisation and augmentation to use"),
            field("classes", CLASSES, Default::Int(10), "number of class folders (checked when the data is read)"),
        ],
    },
    OpSpec {
        name: "arrays",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "images and labels as arrays, from a NumPy `.npz` (`np.savez(f, x_train=…, y_train=…, x_test=…, y_test=…)`) or a `.safetensors` file with those names: images uint8 (0–255) or float (0–1), `[N, H, W]`, `[N, H, W, C]` or `[N, C, H, W]` with 1 or 3 channels, resized to `like`'s input size; labels integers in 0..classes; without `x_test`/`y_test` the last `test` share of the rows is the test part; `like` picks the normalisation and augmentation",
        positional: &["path"],
        fields: &[
            field("path", Ty::Str, Default::Required, "`.npz` or `.safetensors` file under the data root"),
            field("like", LIKE, Default::Word("mnist"), "whose normalisation, augmentation and input size to use"),
            field("classes", CLASSES, Default::Int(10), "number of classes (labels are checked when the data is read)"),
            field("test", FRACTION, Default::Float(0.2), "share of the rows held out as the test part when the file has no `x_test`"),
        ],
    },
    OpSpec {
        name: "csv",
        category: Category::Source,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "images listed in a CSV file: a header line names the columns `path` (a JPEG or PNG file, relative to the CSV's folder), `label` (an integer in 0..classes) and optionally `split` (`train` or `test`), in any order, other columns ignored; fields separated by commas, quoted with `\"` to hold commas; images decoded as `image_folder`'s (all of one size, resized to `like`'s input size); without a `split` column a `test` share of each class is held out, spread evenly over its rows; each part stored class-interleaved, so `limit` keeps every class; `like` picks the normalisation and augmentation; the dataset's key covers the CSV and every file it names",
        positional: &["path"],
        fields: &[
            field("path", Ty::Str, Default::Required, "CSV file under the data root"),
            field("like", LIKE, Default::Word("cifar10"), "whose normalisation, augmentation and input size to use"),
            field("classes", CLASSES, Default::Int(10), "number of classes (labels are checked when the data is read)"),
            field("test", FRACTION, Default::Float(0.2), "share of each class held out as the test part when the CSV has no `split` column"),
        ],
    },
];

/// The benchmark datasets whose normalisation, augmentation and input size user data can borrow.
const LIKE: Ty = Ty::Word(&["cifar10", "cifar100", "mnist", "fashion_mnist", "utkface"]);

/// Every source munl decodes.
const ALL: &[Facts] = &[
    Facts {
        source: "mnist",
        title: "MNIST",
        classes: Some(10),
        input_size: 32,
        mean: [0.1307; 3],
        std: [0.3081; 3],
        augment: Augment::Flip,
        idx_files: Some(idx([
            "6bbc9ace898e44ae57da46a324031adb",
            "a25bea736e30d166cdddb491f175f624",
            "2646ac647ad5339dbf082846283269ea",
            "27ae3e4e09519cfbb04c329615203637",
        ])),
        download: Some(Download {
            files: IDX_NAMES,
            // The mirror torchvision uses, then the original page.
            mirrors: &["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
            alternatives: &[],
        }),
    },
    Facts {
        source: "fashion_mnist",
        title: "Fashion-MNIST",
        classes: Some(10),
        input_size: 32,
        mean: [0.2860; 3],
        std: [0.3530; 3],
        augment: Augment::Flip,
        idx_files: Some(idx([
            "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "9018921c3c673c538a1fc5bad174d6f9",
            "8181f5470baa50b63fa0f6fddb340f0a",
            "15d484375f8d13e6eb1aabb0c3f46965",
        ])),
        download: Some(Download {
            files: IDX_NAMES,
            mirrors: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
            alternatives: &[],
        }),
    },
    Facts {
        source: "cifar10",
        title: "CIFAR-10",
        classes: Some(10),
        input_size: 32,
        mean: [0.4914, 0.4822, 0.4465],
        std: [0.2023, 0.1994, 0.2010],
        augment: Augment::CropFlip,
        idx_files: None,
        // The python version, as torchvision downloads it; the decoder checks its MD5.
        download: Some(Download {
            files: &["cifar-10-python.tar.gz"],
            mirrors: TORONTO,
            alternatives: &[
                "cifar-10-batches-py",
                "cifar-10-batches-bin",
                "cifar-10-binary.tar.gz",
                "data_batch_1",
                "data_batch_1.bin",
            ],
        }),
    },
    Facts {
        source: "cifar100",
        title: "CIFAR-100",
        classes: Some(100),
        input_size: 32,
        mean: [0.5071, 0.4865, 0.4409],
        std: [0.2673, 0.2564, 0.2762],
        augment: Augment::CropFlip,
        idx_files: None,
        download: Some(Download {
            files: &["cifar-100-python.tar.gz"],
            mirrors: TORONTO,
            alternatives: &["cifar-100-python", "cifar-100-binary", "cifar-100-binary.tar.gz", "train", "train.bin"],
        }),
    },
    // No stable official address.
    Facts {
        source: "utkface",
        title: "UTKFace",
        classes: Some(5),
        input_size: 224,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        augment: Augment::None,
        idx_files: None,
        download: None,
    },
    // munl's own source: centred on mid-grey; flips only, as no crop is defined for it.
    Facts {
        source: "synthetic",
        title: "synthetic",
        classes: None,
        input_size: 32,
        mean: [0.5; 3],
        std: [0.25; 3],
        augment: Augment::Flip,
        idx_files: None,
        download: None,
    },
];

/// The facts of a source op; `image_folder`, `arrays` and `csv` have none of their own (they
/// borrow those of the benchmark dataset their `like` field names).
pub(crate) fn facts(source: &str) -> Option<&'static Facts> {
    ALL.iter().find(|f| f.source == source)
}

/// The official distribution of a source; `None` for sources without one.
pub(crate) fn download(source: &str) -> Option<&'static Download> {
    facts(source)?.download.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{in_category, Category, Ty};

    #[test]
    fn every_source_op_has_facts_or_borrows_them() {
        let sources: Vec<&str> = in_category(Category::Source).map(|op| op.name).collect();
        for name in &sources {
            assert!(facts(name).is_some() || ["image_folder", "arrays", "csv"].contains(name), "{name} has no facts");
        }
        for f in ALL {
            assert!(sources.contains(&f.source), "{} is no source op", f.source);
        }
        // `image_folder` borrows from exactly the sources its `like` field offers.
        let like = crate::ops::find(Category::Source, "image_folder").unwrap().field("like").unwrap();
        let Ty::Word(words) = like.ty else { panic!("`like` is a word") };
        assert!(words.iter().all(|w| facts(w).is_some_and(|f| f.classes.is_some())));
    }

    #[test]
    fn downloads_have_base_addresses() {
        for name in ["mnist", "fashion_mnist", "cifar10", "cifar100"] {
            let d = download(name).unwrap();
            assert!(!d.files.is_empty() && !d.mirrors.is_empty());
            assert!(d.mirrors.iter().all(|m| m.ends_with('/')), "{name}: mirrors are base addresses");
        }
        assert!(download("synthetic").is_none());
        let idx = facts("mnist").unwrap().idx_files.unwrap();
        assert_eq!(idx.map(|f| f.name).as_slice(), IDX_NAMES, "the fetched files are the checked ones");
    }
}
