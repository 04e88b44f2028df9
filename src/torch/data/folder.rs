//! `image_folder`: any `train/<class>/<image>` + `test/<class>/<image>` tree of JPEG or PNG
//! files, from a folder or a `.tar.gz` (read as a stream, never extracted to disk).
//!
//! Classes are the sorted names of the `train/` class folders (label = position); images are
//! taken in sorted file-name order within a class, classes interleaved, train part first. Hidden files (`.*`, e.g.
//! macOS `._x.jpg`) are skipped; anything else that is not an image where images belong is an
//! error, as are empty class folders and test classes without a train folder.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use super::image::{self, Encoded};
use super::{limited, Raw};
use crate::artifact::NodeFailure;

/// The two parts of the tree, in stored order.
const PARTS: [&str; 2] = ["train", "test"];

/// One image file: its part (index into `PARTS`), class folder, file name, how errors name it,
/// and its bytes.
struct File {
    part: usize,
    origin: String,
    class: String,
    name: String,
    bytes: Vec<u8>,
}

/// What was found: the class folders of each part (empty ones included) and the images.
#[derive(Default)]
struct Tree {
    classes: [BTreeSet<String>; 2],
    files: Vec<File>,
}

fn is_image(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".png") || lower.ends_with(".jpg") || lower.ends_with(".jpeg")
}

fn not_image(where_: &str) -> NodeFailure {
    NodeFailure::invalid_data(format!("{where_} is not a `.png`, `.jpg` or `.jpeg` file"))
        .with_help("`image_folder` reads `train/<class>/<image>` and `test/<class>/<image>` only")
}

/// Reads a tree from a folder.
fn read_folder(root: &Path) -> Result<Tree, NodeFailure> {
    let list = |dir: &Path| -> Result<Vec<(String, std::path::PathBuf)>, NodeFailure> {
        let mut out = Vec::new();
        let entries =
            std::fs::read_dir(dir).map_err(|e| NodeFailure::io(format!("cannot read `{}`: {e}", dir.display())))?;
        for e in entries {
            let e = e.map_err(|e| NodeFailure::io(format!("cannot list `{}`: {e}", dir.display())))?;
            let name = e.file_name().to_str().map(str::to_string).ok_or_else(|| {
                NodeFailure::invalid_data(format!("`{}` holds a file whose name is not UTF-8", dir.display()))
            })?;
            if !name.starts_with('.') {
                out.push((name, e.path()));
            }
        }
        Ok(out)
    };
    let mut tree = Tree::default();
    for (part, part_name) in PARTS.iter().enumerate() {
        let dir = root.join(part_name);
        if !dir.is_dir() {
            continue;
        }
        for (class, class_dir) in list(&dir)? {
            if !class_dir.is_dir() {
                return Err(NodeFailure::invalid_data(format!(
                    "`{}` is a file directly in `{part_name}/`; images belong in class folders",
                    class_dir.display()
                )));
            }
            tree.classes[part].insert(class.clone());
            for (name, path) in list(&class_dir)? {
                if !path.is_file() || !is_image(&name) {
                    return Err(not_image(&format!("`{}`", path.display())));
                }
                let bytes = std::fs::read(&path)
                    .map_err(|e| NodeFailure::io(format!("cannot read `{}`: {e}", path.display())))?;
                let origin = format!("`{}`", path.display());
                tree.files.push(File { part, origin, class: class.clone(), name, bytes });
            }
        }
    }
    Ok(tree)
}

/// Reads a tree from a `.tar.gz`, in one pass. Members may sit under a common prefix folder.
fn read_archive(path: &Path) -> Result<Tree, NodeFailure> {
    let shown = path.display();
    let broken = |e: std::io::Error| {
        NodeFailure::invalid_data(format!("`{shown}` is not a complete .tar.gz archive: {e}"))
            .with_help("the file is truncated or corrupted: create or download it again")
    };
    let file = std::fs::File::open(path).map_err(|e| NodeFailure::io(format!("cannot open `{shown}`: {e}")))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut archive = tar::Archive::new(gz);
    let mut tree = Tree::default();
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let member = entry.path().map_err(broken)?.to_string_lossy().into_owned();
        let parts: Vec<&str> = member.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        let part_at =
            |from_end: usize| parts.len().checked_sub(from_end).and_then(|i| PARTS.iter().position(|p| *p == parts[i]));
        let kind = entry.header().entry_type();
        let hidden = parts.last().is_some_and(|p| p.starts_with('.'));
        if kind.is_dir() {
            if let (Some(part), false) = (part_at(2), hidden) {
                tree.classes[part].insert(parts[parts.len() - 1].to_string());
            }
            continue;
        }
        let inside = parts.iter().any(|p| PARTS.contains(p));
        if hidden || !inside {
            continue;
        }
        let where_ = format!("`{shown}` member `{member}`");
        let Some(part) = part_at(3) else {
            return Err(NodeFailure::invalid_data(format!("{where_} is not at `train|test/<class>/<image>`")));
        };
        if !(kind.is_file() || kind == tar::EntryType::Continuous) || !is_image(parts[parts.len() - 1]) {
            return Err(not_image(&where_));
        }
        let class = parts[parts.len() - 2].to_string();
        tree.classes[part].insert(class.clone());
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(broken)?;
        let name = parts[parts.len() - 1].to_string();
        tree.files.push(File { part, origin: where_, class, name, bytes });
    }
    Ok(tree)
}

/// Reads an image folder or `.tar.gz` at `path`: `classes` must be the number of class folders,
/// images are resized to `size × size` if they differ; `limit` as in `Raw::limit`, applied
/// before decoding.
pub(crate) fn read(path: &Path, classes: usize, size: usize, limit: Option<usize>) -> Result<Raw, NodeFailure> {
    let name = path.to_string_lossy();
    let tree = if path.is_dir() {
        read_folder(path)?
    } else if path.is_file() && (name.ends_with(".tar.gz") || name.ends_with(".tgz")) {
        read_archive(path)?
    } else if path.exists() {
        return Err(NodeFailure::invalid_data(format!(
            "`{}` is neither a folder nor a `.tar.gz` file",
            path.display()
        )));
    } else {
        return Err(NodeFailure::invalid_data(format!("`{}` does not exist", path.display()))
            .with_help("`path` is a folder or .tar.gz under the data root ($MUNL_DATA, else data/)"));
    };
    let shown = path.display();
    for (part, p) in PARTS.iter().enumerate() {
        if tree.classes[part].is_empty() {
            return Err(NodeFailure::invalid_data(format!("`{shown}` has no class folders in `{p}/`")));
        }
    }
    let names: Vec<&String> = tree.classes[0].iter().collect();
    if let Some(extra) = tree.classes[1].iter().find(|c| !tree.classes[0].contains(*c)) {
        return Err(NodeFailure::invalid_data(format!(
            "`{shown}`: class `test/{extra}` has no `train/{extra}` folder"
        )));
    }
    if names.len() != classes {
        return Err(NodeFailure::invalid_data(format!(
            "`{shown}` has {} class folders in `train/`, but `classes` is {classes}",
            names.len()
        )));
    }
    let label: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let mut files = tree.files;
    {
        let filled: BTreeSet<(usize, &str)> = files.iter().map(|f| (f.part, f.class.as_str())).collect();
        for (part, p) in PARTS.iter().enumerate() {
            if let Some(empty) = tree.classes[part].iter().find(|c| !filled.contains(&(part, c.as_str()))) {
                return Err(NodeFailure::invalid_data(format!(
                    "`{shown}`: class folder `{p}/{empty}` holds no images"
                )));
            }
        }
    }
    // Stored order: part, then round-robin over the classes (the k-th image of every class, in
    // class order, before any (k+1)-th), each class in file-name order. Class-by-class order
    // would make `limit = N` keep only the first classes, and the official datasets this
    // stands in for are not stored by class either.
    files.sort_by(|a, b| (a.part, label[a.class.as_str()], &a.name).cmp(&(b.part, label[b.class.as_str()], &b.name)));
    let mut rank = vec![0usize; files.len()];
    for i in 1..files.len() {
        let same = files[i].part == files[i - 1].part && files[i].class == files[i - 1].class;
        rank[i] = if same { rank[i - 1] + 1 } else { 0 };
    }
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| (files[i].part, rank[i], label[files[i].class.as_str()]));
    let mut slots: Vec<Option<File>> = files.into_iter().map(Some).collect();
    let files: Vec<File> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    let n_train = files.iter().filter(|f| f.part == 0).count();
    let n_test = files.len() - n_train;
    let (keep_train, keep_test) = limited(n_train, n_test, limit);
    let kept: Vec<&File> = files[..keep_train].iter().chain(&files[n_train..n_train + keep_test]).collect();
    let encoded: Vec<Encoded<'_>> = kept.iter().map(|f| Encoded { name: f.origin.clone(), bytes: &f.bytes }).collect();
    let decoded = image::decode_all(&encoded, Some(size))?;
    Ok(Raw {
        pixels: decoded.pixels,
        labels: kept.iter().map(|f| label[f.class.as_str()] as i64).collect(),
        shape: decoded.shape,
        n_train: keep_train,
        n_test: keep_test,
    })
}
