//! Where the official files of each downloadable source come from: one table for the front end
//! (which fetches missing files before a dataset node runs) and for the decoders (whose
//! missing-file errors say where to get them).

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

const IDX_FILES: &[&str] = &[
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

const TORONTO: &[&str] = &["https://www.cs.toronto.edu/~kriz/"];

/// The official distribution of the source op `source`; `None` for sources without one
/// (`synthetic`, `image_folder`, and UTKFace, which has no stable official address).
pub(crate) fn download(source: &str) -> Option<&'static Download> {
    match source {
        "mnist" => Some(&Download {
            files: IDX_FILES,
            // The mirror torchvision uses, then the original page.
            mirrors: &["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
            alternatives: &[],
        }),
        "fashion_mnist" => Some(&Download {
            files: IDX_FILES,
            mirrors: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
            alternatives: &[],
        }),
        // The python version, as torchvision downloads it; the decoder checks its MD5.
        "cifar10" => Some(&Download {
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
        "cifar100" => Some(&Download {
            files: &["cifar-100-python.tar.gz"],
            mirrors: TORONTO,
            alternatives: &["cifar-100-python", "cifar-100-binary", "cifar-100-binary.tar.gz", "train", "train.bin"],
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{in_category, Category};

    #[test]
    fn every_entry_names_a_source_op_and_has_a_mirror() {
        let sources: Vec<&str> = in_category(Category::Source).map(|op| op.name).collect();
        for name in ["mnist", "fashion_mnist", "cifar10", "cifar100"] {
            assert!(sources.contains(&name), "{name} is no source op");
            let d = download(name).unwrap();
            assert!(!d.files.is_empty() && !d.mirrors.is_empty());
            assert!(d.mirrors.iter().all(|m| m.ends_with('/')), "{name}: mirrors are base addresses");
        }
        assert!(download("synthetic").is_none());
    }
}
