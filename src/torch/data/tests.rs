//! Tests of the dataset sources on tiny generated files in the official layouts (CIFAR python and
//! binary batches, UTKFace file names, image-folder trees), plus the shared CIFAR-10 JPEG archive
//! when `MUNL_DATA` points at it.

use std::io::Write;
use std::path::Path;

use super::{cifar, csv, folder, store, utkface, write, Raw};
use crate::artifact::NodeFailure;

/// Deterministic bytes (a 32-bit LCG), so a failing test shows the same data every time.
fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 24) as u8
        })
        .collect()
}

/// The failure of a read that must fail.
fn err(r: Result<Raw, NodeFailure>) -> NodeFailure {
    match r {
        Ok(_) => panic!("the read succeeded, expected an error"),
        Err(e) => e,
    }
}

fn assert_same(a: &Raw, b: &Raw) {
    assert_eq!((a.shape, a.n_train, a.n_test), (b.shape, b.n_train, b.n_test));
    assert_eq!(a.labels, b.labels);
    assert!(a.pixels == b.pixels, "pixels differ");
}

/// A CIFAR python batch as Python 2's `cPickle.dump(d, f, 2)` writes it: a dict with a NumPy
/// `uint8` array `data` of `[n, 3072]`, label lists and a `batch_label` string.
fn pickle_batch(data: &[u8], labels: &[(&str, &[u8])]) -> Vec<u8> {
    let n = data.len() / 3072;
    let mut p = vec![0x80, 2, b'}', b'q', 1, b'('];
    let short = |p: &mut Vec<u8>, s: &[u8]| {
        p.push(b'U');
        p.push(s.len() as u8);
        p.extend_from_slice(s);
    };
    short(&mut p, b"batch_label");
    short(&mut p, b"training batch 1 of 5");
    short(&mut p, b"data");
    p.extend_from_slice(
        b"cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04K\x00\x85U\x01b\x87Rq\x05(K\x01",
    );
    p.push(b'J');
    p.extend_from_slice(&(n as i32).to_le_bytes());
    p.extend_from_slice(b"M\x00\x0c\x86cnumpy\ndtype\nq\x06U\x02u1K\x00K\x01\x87Rq\x07(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89T");
    p.extend_from_slice(&(data.len() as u32).to_le_bytes());
    p.extend_from_slice(data);
    p.extend_from_slice(b"tb");
    for (key, values) in labels {
        short(&mut p, key.as_bytes());
        p.extend_from_slice(b"]q\x08(");
        for v in *values {
            p.extend_from_slice(&[b'K', *v]);
        }
        p.push(b'e');
    }
    p.extend_from_slice(b"u.");
    p
}

/// Writes a tiny CIFAR-10 (2 images per batch) in both formats under `dir`; returns the
/// expected images and labels in torchvision's order.
fn write_cifar10(py: &Path, bin: &Path) -> (Vec<u8>, Vec<i64>) {
    std::fs::create_dir_all(py.join("cifar-10-batches-py")).unwrap();
    std::fs::create_dir_all(bin.join("cifar-10-batches-bin")).unwrap();
    let names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"];
    let (mut all, mut all_labels) = (vec![], vec![]);
    for (i, name) in names.iter().enumerate() {
        let data = noise(2 * 3072, i as u32);
        let labels = [(i * 3 % 10) as u8, (i * 7 + 1) as u8 % 10];
        std::fs::write(py.join("cifar-10-batches-py").join(name), pickle_batch(&data, &[("labels", &labels)])).unwrap();
        let mut records = vec![];
        for (img, l) in data.chunks(3072).zip(labels) {
            records.push(l);
            records.extend_from_slice(img);
        }
        std::fs::write(bin.join("cifar-10-batches-bin").join(format!("{name}.bin")), records).unwrap();
        all.extend_from_slice(&data);
        all_labels.extend(labels.iter().map(|&l| i64::from(l)));
    }
    (all, all_labels)
}

/// Packs `src` (a folder) into a `.tar.gz` at `out`, its contents under `prefix`.
fn tar_gz(src: &Path, prefix: &str, out: &Path) {
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(out).unwrap(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    b.append_dir_all(prefix, src).unwrap();
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

#[test]
fn cifar10_pickle_binary_and_archive_agree() {
    let t = tempfile::tempdir().unwrap();
    let (py, bin) = (t.path().join("py"), t.path().join("bin"));
    let (pixels, labels) = write_cifar10(&py, &bin);
    let a = cifar::read(&cifar::CIFAR10, &py, false).unwrap();
    let b = cifar::read(&cifar::CIFAR10, &bin, false).unwrap();
    assert_eq!((a.n_train, a.n_test, a.shape), (10, 2, [3, 32, 32]));
    assert_eq!(a.labels, labels);
    assert!(a.pixels == pixels);
    assert_same(&a, &b);
    // `dir` may be the extracted folder itself, or hold the official archive instead.
    assert_same(&a, &cifar::read(&cifar::CIFAR10, &py.join("cifar-10-batches-py"), false).unwrap());
    let arch = t.path().join("arch");
    std::fs::create_dir(&arch).unwrap();
    tar_gz(&py.join("cifar-10-batches-py"), "cifar-10-batches-py", &arch.join("cifar-10-python.tar.gz"));
    assert_same(&a, &cifar::read(&cifar::CIFAR10, &arch, false).unwrap());
    let binarch = t.path().join("binarch");
    std::fs::create_dir(&binarch).unwrap();
    tar_gz(&bin.join("cifar-10-batches-bin"), "cifar-10-batches-bin", &binarch.join("cifar-10-binary.tar.gz"));
    assert_same(&a, &cifar::read(&cifar::CIFAR10, &binarch, false).unwrap());
    // `limit` keeps the first train images and the first test ones.
    let l = a.limit(Some(6));
    assert_eq!((l.n_train, l.n_test, l.labels.len()), (6, 1, 7));
    assert_eq!(l.labels[6], labels[10]);
}

#[test]
fn cifar100_reads_fine_labels() {
    let t = tempfile::tempdir().unwrap();
    let (py, bin) = (t.path().join("cifar-100-python"), t.path().join("cifar-100-binary"));
    std::fs::create_dir_all(&py).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let mut expected = vec![];
    for (i, (name, n)) in [("train", 3usize), ("test", 2)].into_iter().enumerate() {
        let data = noise(n * 3072, 10 + i as u32);
        let fine: Vec<u8> = (0..n).map(|k| (k * 37 + 60 * i + 5) as u8 % 100).collect();
        let coarse: Vec<u8> = fine.iter().map(|f| f / 5).collect();
        std::fs::write(py.join(name), pickle_batch(&data, &[("fine_labels", &fine), ("coarse_labels", &coarse)]))
            .unwrap();
        let mut records = vec![];
        for ((img, f), c) in data.chunks(3072).zip(&fine).zip(&coarse) {
            records.extend_from_slice(&[*c, *f]);
            records.extend_from_slice(img);
        }
        std::fs::write(bin.join(format!("{name}.bin")), records).unwrap();
        expected.extend(fine.iter().map(|&f| i64::from(f)));
    }
    let a = cifar::read(&cifar::CIFAR100, t.path(), false).unwrap();
    assert_eq!((a.n_train, a.n_test), (3, 2));
    assert_eq!(a.labels, expected);
    assert!(expected.iter().any(|&l| l >= 20), "fine labels, not coarse ones");
    std::fs::remove_dir_all(&py).unwrap();
    assert_same(&a, &cifar::read(&cifar::CIFAR100, t.path(), false).unwrap());
}

#[test]
fn bad_cifar_files_are_named() {
    let t = tempfile::tempdir().unwrap();
    let (py, bin) = (t.path().join("py"), t.path().join("bin"));
    write_cifar10(&py, &bin);
    // The generated files are not the official ones: the MD5 check names the first batch.
    let e = err(cifar::read(&cifar::CIFAR10, &py, true));
    assert!(e.message.contains("data_batch_1") && e.message.contains("MD5"), "{}", e.message);

    let batch = py.join("cifar-10-batches-py/data_batch_3");
    let good = std::fs::read(&batch).unwrap();
    std::fs::write(&batch, &good[..good.len() - 100]).unwrap();
    let e = err(cifar::read(&cifar::CIFAR10, &py, false));
    assert!(e.message.contains("data_batch_3") && e.message.contains("truncated"), "{}", e.message);
    let mut foreign = good.clone();
    foreign[1] = 4; // protocol 4
    std::fs::write(&batch, &foreign).unwrap();
    let e = err(cifar::read(&cifar::CIFAR10, &py, false));
    assert!(e.message.contains("data_batch_3") && e.message.contains("protocol 4"), "{}", e.message);
    let mut bad_label = good.clone();
    let at = bad_label.len() - 4; // the last label: `K`, value, then `e`, `u`, `.`
    assert_eq!(bad_label[at - 1], b'K');
    bad_label[at] = 10;
    std::fs::write(&batch, &bad_label).unwrap();
    let e = err(cifar::read(&cifar::CIFAR10, &py, false));
    assert!(e.message.contains("data_batch_3") && e.message.contains("label 10"), "{}", e.message);

    let b = bin.join("cifar-10-batches-bin/test_batch.bin");
    let good = std::fs::read(&b).unwrap();
    std::fs::write(&b, &good[..good.len() - 1]).unwrap();
    let e = err(cifar::read(&cifar::CIFAR10, &bin, false));
    assert!(e.message.contains("test_batch.bin") && e.message.contains("truncated"), "{}", e.message);

    // A truncated archive, and an archive with the wrong MD5, name the archive.
    std::fs::write(&b, &good).unwrap();
    let arch = t.path().join("arch");
    std::fs::create_dir(&arch).unwrap();
    let path = arch.join("cifar-10-binary.tar.gz");
    tar_gz(&bin.join("cifar-10-batches-bin"), "cifar-10-batches-bin", &path);
    let e = err(cifar::read(&cifar::CIFAR10, &arch, true));
    assert!(e.message.contains("cifar-10-binary.tar.gz") && e.message.contains("MD5"), "{}", e.message);
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let e = err(cifar::read(&cifar::CIFAR10, &arch, false));
    assert!(e.message.contains("cifar-10-binary.tar.gz"), "{}", e.message);

    let e = err(cifar::read(&cifar::CIFAR10, t.path(), false));
    assert!(e.message.contains("not found"), "{}", e.message);
}

/// A tiny JPEG of one colour.
fn jpeg(w: u16, h: u16, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = vec![];
    let data: Vec<u8> = (0..usize::from(w) * usize::from(h)).flat_map(|_| rgb).collect();
    jpeg_encoder::Encoder::new(&mut out, 95).encode(&data, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// A tiny RGB PNG of one colour.
fn png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut out = vec![];
    let mut e = png::Encoder::new(&mut out, w, h);
    e.set_color(png::ColorType::Rgb);
    e.set_depth(png::BitDepth::Eight);
    let data: Vec<u8> = (0..w * h).flat_map(|_| rgb).collect();
    e.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

#[test]
fn utkface_labels_and_sorted_permuted_split() {
    let t = tempfile::tempdir().unwrap();
    let ages = [5u64, 25, 45, 65, 85, 1, 30, 50, 70, 116, 19, 20];
    let mut names: Vec<String> = vec![];
    for (i, age) in ages.iter().enumerate() {
        let name = format!("{age}_{}_{}_2017011{i:02}.jpg.chip.jpg", i % 2, i % 5);
        // Colour = 20·i, so each image can be found again after the split.
        std::fs::write(t.path().join(&name), jpeg(10, 10, [20 * i as u8; 3])).unwrap();
        names.push(name);
    }
    std::fs::write(t.path().join("notes.txt"), "not an image").unwrap();
    let raw = utkface::read(t.path(), None).unwrap();
    let mut sorted: Vec<(String, u64, usize)> =
        names.iter().zip(ages).enumerate().map(|(i, (n, a))| (n.clone(), a, i)).collect();
    sorted.sort();
    let (order, n_train, n_test) = utkface::split_order(12);
    assert_eq!((raw.n_train, raw.n_test, n_train, n_test), (10, 2, 10, 2));
    assert_eq!(raw.shape, [3, 224, 224]);
    let expected: Vec<i64> = order.iter().map(|&k| (sorted[k].1 / 20).min(4) as i64).collect();
    assert_eq!(raw.labels, expected);
    for (pos, &k) in order.iter().enumerate() {
        let px = raw.pixels[pos * 3 * 224 * 224 + 1000];
        let want = 20 * sorted[k].2 as i32;
        assert!((i32::from(px) - want).abs() <= 2, "image {pos}: pixel {px}, expected about {want}");
    }
    // A limited dataset keeps the first train and test images of the same order.
    let lim = utkface::read(t.path(), Some(6)).unwrap();
    assert_eq!((lim.n_train, lim.n_test), (6, 1));
    assert_eq!(lim.labels[..6], raw.labels[..6]);
    assert_eq!(lim.labels[6], raw.labels[10]);

    // Every age bin must occur.
    for (name, age) in names.iter().zip(ages) {
        if age >= 80 {
            std::fs::remove_file(t.path().join(name)).unwrap();
        }
    }
    let e = err(utkface::read(t.path(), None));
    assert!(e.message.contains("label 4"), "{}", e.message);
    std::fs::write(t.path().join("x_0_0_1.jpg.chip.jpg"), jpeg(10, 10, [0; 3])).unwrap();
    let e = err(utkface::read(t.path(), None));
    assert!(e.message.contains("x_0_0_1.jpg.chip.jpg"), "{}", e.message);
}

/// A two-class tree: train 3 + 2 images, test 1 + 1, JPEG and PNG mixed.
fn write_tree(root: &Path) {
    let files: [(&str, &str, Vec<u8>); 7] = [
        ("train/dog", "b.jpg", jpeg(8, 8, [200, 10, 10])),
        ("train/cat", "a.png", png(8, 8, [1, 2, 3])),
        ("train/cat", "c.JPG", jpeg(8, 8, [10, 200, 10])),
        ("train/cat", "b.jpeg", jpeg(8, 8, [10, 10, 200])),
        ("train/dog", "a.jpg", jpeg(8, 8, [100, 100, 100])),
        ("test/dog", "z.png", png(8, 8, [50, 60, 70])),
        ("test/cat", "y.jpg", jpeg(8, 8, [90, 30, 160])),
    ];
    for (dir, name, bytes) in files {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join(name), bytes).unwrap();
    }
    std::fs::write(root.join("README"), "ignored").unwrap();
    std::fs::write(root.join("train/cat/.DS_Store"), "ignored").unwrap();
}

#[test]
fn image_folder_from_folder_and_archive() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("tree");
    write_tree(&root);
    let a = folder::read(&root, 2, 32, None).unwrap();
    assert_eq!((a.n_train, a.n_test, a.shape), (5, 2, [3, 32, 32]));
    // Classes interleaved (cat a, dog a, cat b, dog b, cat c), each sorted by file name.
    assert_eq!(a.labels, [0, 1, 0, 1, 0, 0, 1]);
    // cat/a.png (1, 2, 3) first; resizing a flat image keeps it flat.
    assert_eq!(&a.pixels[..2], &[1, 1]);
    assert_eq!(a.pixels[1024], 2);
    let arch = t.path().join("tree.tar.gz");
    tar_gz(&root, "tree", &arch);
    assert_same(&a, &folder::read(&arch, 2, 32, None).unwrap());
    // At the model size already: stored as is; a limit keeps every class.
    let b = folder::read(&root, 2, 8, Some(3)).unwrap();
    assert_eq!((b.n_train, b.n_test, b.shape, b.labels), (3, 0, [3, 8, 8], vec![0, 1, 0]));
}

#[test]
fn image_folder_errors_name_the_problem() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("tree");
    write_tree(&root);
    let e = err(folder::read(&root, 3, 32, None));
    assert!(e.message.contains("2 class folders") && e.message.contains("`classes` is 3"), "{}", e.message);

    std::fs::create_dir_all(root.join("train/emu")).unwrap();
    let e = err(folder::read(&root, 3, 32, None));
    assert!(e.message.contains("train/emu") && e.message.contains("no images"), "{}", e.message);
    let arch = t.path().join("tree.tar.gz");
    tar_gz(&root, ".", &arch);
    let e = err(folder::read(&arch, 3, 32, None));
    assert!(e.message.contains("train/emu") && e.message.contains("no images"), "{}", e.message);
    std::fs::remove_dir(root.join("train/emu")).unwrap();

    std::fs::write(root.join("train/dog/big.jpg"), jpeg(9, 8, [0; 3])).unwrap();
    let e = err(folder::read(&root, 2, 32, None));
    assert!(e.message.contains("big.jpg") && e.message.contains("same size"), "{}", e.message);

    let good = jpeg(8, 8, [5, 6, 7]);
    std::fs::write(root.join("train/dog/big.jpg"), &good[..good.len() / 2]).unwrap();
    let e = err(folder::read(&root, 2, 32, None));
    assert!(e.message.contains("big.jpg") && e.message.contains("JPEG"), "{}", e.message);

    std::fs::write(root.join("train/dog/big.jpg"), b"GIF89a").unwrap();
    let e = err(folder::read(&root, 2, 32, None));
    assert!(e.message.contains("big.jpg") && e.message.contains("magic"), "{}", e.message);
    std::fs::remove_file(root.join("train/dog/big.jpg")).unwrap();

    std::fs::write(root.join("train/dog/notes.txt"), "x").unwrap();
    let e = err(folder::read(&root, 2, 32, None));
    assert!(e.message.contains("notes.txt"), "{}", e.message);
}

/// Writes `files` (path under `root`, PNG side, grey level) and `labels.csv` with `text`; returns
/// the CSV's path.
fn write_csv(root: &Path, text: &str, files: &[(&str, u32, u8)]) -> std::path::PathBuf {
    for (name, side, level) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png(*side, *side, [*level, level + 1, level + 2])).unwrap();
    }
    let csv = root.join("labels.csv");
    std::fs::write(&csv, text).unwrap();
    csv
}

/// The first pixel of each image: the images' levels in stored order.
fn levels(raw: &Raw) -> Vec<u8> {
    raw.pixels.chunks_exact(raw.shape.iter().product()).map(|img| img[0]).collect()
}

#[test]
fn csv_with_a_split_column() {
    let t = tempfile::tempdir().unwrap();
    // Columns in any order, an extra one ignored; a quoted path with a comma; CRLF and a BOM.
    let text = "\u{feff}label,Path,split,note\r\n\
                0,img/a.png,train,first\r\n\
                1,\"img/b, 1.png\",train,\"quoted, with a comma\"\r\n\
                0,img/c.png,train,\r\n\
                \r\n\
                2,img/d.png,test,\r\n\
                2, img/e.png ,TRAIN,\r\n\
                0,img/f.png,test,\r\n";
    let files = [
        ("img/a.png", 8, 10),
        ("img/b, 1.png", 8, 20),
        ("img/c.png", 8, 30),
        ("img/d.png", 8, 40),
        ("img/e.png", 8, 50),
        ("img/f.png", 8, 60),
    ];
    let path = write_csv(t.path(), text, &files);
    let raw = csv::read(&path, 3, 0.5, 32, None).unwrap();
    assert_eq!((raw.n_train, raw.n_test, raw.shape), (4, 2, [3, 32, 32]), "resized to 32, the split column wins");
    // Each part class-interleaved, a class's rows in file order.
    assert_eq!(raw.labels, [0, 1, 2, 0, 0, 2]);
    assert_eq!(levels(&raw), [10, 20, 50, 30, 60, 40]);
    let same = csv::read(&path, 3, 0.2, 8, Some(2)).unwrap();
    assert_eq!((same.n_train, same.n_test, same.shape, &same.labels[..]), (2, 0, [3, 8, 8], &[0, 1][..]));
    assert_eq!(levels(&same), [10, 20]);
}

#[test]
fn csv_without_a_split_column_holds_out_each_class() {
    let t = tempfile::tempdir().unwrap();
    // Sorted by class, as a script over class folders writes it.
    let files: Vec<(String, u32, u8)> = (0..10).map(|i| (format!("{i}.png"), 4, 10 * i as u8)).collect();
    let text: String =
        std::iter::once("path,label\n".to_string()).chain((0..10).map(|i| format!("{i}.png,{}\n", i / 5))).collect();
    let named: Vec<(&str, u32, u8)> = files.iter().map(|(n, s, l)| (n.as_str(), *s, *l)).collect();
    let path = write_csv(t.path(), &text, &named);
    let raw = csv::read(&path, 2, 0.2, 4, None).unwrap();
    assert_eq!((raw.n_train, raw.n_test, raw.shape), (8, 2, [3, 4, 4]));
    assert_eq!(raw.labels, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    // Every fifth row of each class is held out.
    assert_eq!(levels(&raw), [0, 50, 10, 60, 20, 70, 30, 80, 40, 90]);
    let all = csv::read(&path, 2, 0.0, 4, None).unwrap();
    assert_eq!((all.n_train, all.n_test), (10, 0));
}

/// A `csv` dataset node decodes, resizes to `like`'s input size and stores `like` as its source.
#[test]
fn csv_dataset_node_stores_what_like_says() {
    use crate::ops::{self, Category, Value};
    use crate::plan::{Node, Paths, Payload};
    let t = tempfile::tempdir().unwrap();
    let text = "path,label\na.png,0\nb.png,1\nc.png,0\nd.png,1\n";
    let path = write_csv(t.path(), text, &[("a.png", 8, 1), ("b.png", 8, 2), ("c.png", 8, 3), ("d.png", 8, 4)]);
    let mut args = ops::defaults(Category::Source, "csv");
    args.retain(|k, _| k != "path");
    args.insert("classes".into(), Value::Int(2));
    args.insert("test".into(), Value::Float(0.5));
    let node = Node {
        key: crate::digest::Key::of(b"csv"),
        op: "csv".into(),
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
    super::build(&node, out.path(), &|_, _, _| {}).unwrap();
    let info: crate::artifact::DatasetInfo = store::read_json(&out.path().join("dataset.json")).unwrap();
    assert_eq!((info.source.as_str(), info.classes, info.n_train, info.n_test), ("cifar10", 2, 2, 2));
    assert_eq!(info.shape, [3, 32, 32], "resized to CIFAR-10's input size");
}

#[test]
fn csv_errors_name_the_file_and_line() {
    let t = tempfile::tempdir().unwrap();
    let files = [("a.png", 8, 10), ("b.png", 8, 20), ("big.png", 9, 30)];
    let e = |text: &str| {
        let path = write_csv(t.path(), text, &files);
        err(csv::read(&path, 3, 0.2, 8, None)).message
    };
    let at = |line: usize| format!("`{}` line {line}: ", t.path().join("labels.csv").display());
    let check = |text: &str, want: &[&str]| {
        let message = e(text);
        assert!(want.iter().all(|w| message.contains(w)), "{message:?} lacks {want:?}");
    };
    check("", &["labels.csv` is empty"]);
    check(" \n\r\n", &["is empty"]);
    check("path,label\n", &["labels.csv` has a header but no rows"]);
    check("path,class\na.png,0\n", &[&at(1), "no `label` column; the header has `path`, `class`"]);
    check("file,label\na.png,0\n", &[&at(1), "no `path` column"]);
    check("path,label,label\na.png,0,0\n", &[&at(1), "two `label` columns"]);
    check("path,label\na.png,0\n\nb.png\n", &[&at(4), "the header has 2 fields, this line 1"]);
    check("path,label\n\"a.png,0\n", &[&at(2), "does not close"]);
    check("path,label\na.png,0\nb.png,cat\n", &[&at(3), "label `cat` is not an integer in 0..3"]);
    check("path,label\na.png,0\nb.png,1.0\n", &[&at(3), "label `1.0` is not an integer"]);
    check("path,label\na.png,0\nb.png,3\n", &[&at(3), "label 3 is not in 0..3"]);
    check("path,label\na.png,0\nb.png,-1\n", &[&at(3), "label -1 is not in 0..3"]);
    check("path,label,split\na.png,0,train\nb.png,1,val\n", &[&at(3), "split `val` is neither"]);
    check("path,label,split\na.png,0,test\n", &["no row whose `split` is `train`"]);
    check("path,label\na.png,0\n,1\n", &[&at(3), "the `path` is empty"]);
    check("path,label\na.png,0\nimg/none.png,1\n", &[&at(3), "image `img/none.png` does not exist"]);
    check("path,label\na.png,0\nbig.png,1\n", &[&at(3), "image `big.png` is 9×9", "same size"]);
    std::fs::write(t.path().join("bad.png"), b"GIF89a").unwrap();
    check("path,label\na.png,0\nbad.png,1\n", &[&at(3), "image `bad.png` is neither a JPEG nor a PNG"]);
    let good = png(8, 8, [1, 2, 3]);
    std::fs::write(t.path().join("cut.png"), &good[..good.len() / 2]).unwrap();
    check("path,label\na.png,0\ncut.png,1\n", &[&at(3), "image `cut.png`", "PNG"]);
    std::fs::write(t.path().join("labels.csv"), b"path,label\n\xff.png,0\n").unwrap();
    let bytes = err(csv::read(&t.path().join("labels.csv"), 3, 0.2, 8, None)).message;
    assert!(bytes.contains("line 2 is not UTF-8"), "{bytes}");
    let missing = err(csv::read(&t.path().join("none.csv"), 3, 0.2, 8, None)).message;
    assert!(missing.contains("none.csv` does not exist"), "{missing}");
}

/// The shared CIFAR-10 JPEG archive (data/README.md), when `MUNL_DATA` points at the data.
#[test]
fn cifar10_jpeg_archive_loads() {
    let Some(path) = super::testing::shared_data("cifar10-jpeg/cifar10-jpeg.tar.gz") else { return };
    let t0 = std::time::Instant::now();
    let raw = folder::read(&path, 10, 32, None).unwrap();
    let decode = t0.elapsed();
    assert_eq!((raw.n_train, raw.n_test, raw.shape), (50_000, 10_000, [3, 32, 32]));
    for (part, range, per) in [("train", 0..50_000, 5_000), ("test", 50_000..60_000, 1_000)] {
        let mut counts = [0usize; 10];
        for &l in &raw.labels[range] {
            counts[l as usize] += 1;
        }
        assert_eq!(counts, [per; 10], "{part} counts per class");
    }
    // Channel means of the train part match the official CIFAR-10 ones (data/README.md says to
    // 1e-4; with Pillow's pixels, which the decoder here reproduces exactly, red is 0.49125,
    // 1.5e-4 off: the JPEGs are lossy).
    let plane = 32 * 32;
    for (ch, official) in [0.4914f64, 0.4822, 0.4465].iter().enumerate() {
        let sum: u64 = raw.pixels[..50_000 * 3 * plane]
            .chunks_exact(3 * plane)
            .map(|img| img[ch * plane..(ch + 1) * plane].iter().map(|&p| u64::from(p)).sum::<u64>())
            .sum();
        let mean = sum as f64 / (50_000.0 * plane as f64 * 255.0);
        assert!((mean - official).abs() < 3e-4, "channel {ch}: mean {mean}, official {official}");
    }
    let out = tempfile::tempdir().unwrap();
    write(&raw, "cifar10", 10, out.path()).unwrap();
    let t1 = std::time::Instant::now();
    let tensors = store::read_tensors(&out.path().join("data.safetensors")).unwrap();
    let load = t1.elapsed();
    assert_eq!(tensors.len(), 2);
    println!("cifar10-jpeg: decoded 60 000 images in {decode:.2?}; loading data.safetensors took {load:.2?}");
}
