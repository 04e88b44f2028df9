//! Tests of the torch backend on tiny seeded models and data, on the CPU.

use crate::stats::shuffle::Shuffle;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use super::data::resident::Resident;
use super::data::{self, store};
use super::models::{init::init, Model};
use super::{metrics, split, TorchBackend};
use crate::artifact::{DatasetInfo, Metrics, NodeFailure, RunInfo};
use crate::backend::{Backend, Input, Job};
use crate::digest::Key;
use crate::ops::{self, Call, Category, Value};
use crate::plan::{Coords, Node, NodeKind, Paths, Payload};
use crate::span::Span;

mod ulira;

/// A node of `kind` and `op` with `params` over the catalogue's defaults, as lowering and
/// planning would make it.
fn node(kind: NodeKind, op: &str, params: &[(&str, Value)], seed: Option<u64>) -> Node {
    let category = match kind {
        NodeKind::Dataset => Category::Source,
        NodeKind::Split => Category::Split,
        NodeKind::Init => Category::Arch,
        NodeKind::Train => Category::Train,
        _ => Category::Method,
    };
    let mut p = ops::defaults(category, op);
    p.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let payload = match kind {
        NodeKind::Dataset => {
            let limit = p.remove("limit").and_then(|v| v.as_i64());
            p.retain(|k, _| !matches!(k.as_str(), "dir" | "path"));
            Payload::Dataset { args: p, limit, content: None }
        }
        NodeKind::Split => Payload::Split { args: p },
        NodeKind::Init => {
            let classes = p.remove("classes").and_then(|v| v.as_i64()).expect("an init names its classes");
            Payload::Init { args: p, classes }
        }
        NodeKind::Train => {
            let subset = p.remove("subset").and_then(|v| v.as_str().map(str::to_string)).unwrap_or("train".into());
            p.retain(|k, _| !matches!(k.as_str(), "model" | "data"));
            Payload::Train { recipe: p, subset }
        }
        NodeKind::Unlearn => Payload::Unlearn { hyper: p, export: None },
        NodeKind::Measure if op == "distance" => Payload::Distance,
        NodeKind::Measure if op == "predict" => Payload::Predict,
        NodeKind::Measure if op == "membership" => Payload::Membership,
        NodeKind::Measure => Payload::Measure,
        other => panic!("no test nodes of kind {other:?}"),
    };
    Node {
        key: Key::of(format!("{kind:?} {op} {params:?} {seed:?}").as_bytes()),
        op: op.to_string(),
        version: 1,
        payload,
        inputs: Vec::new(),
        coords: seed.map(|s| Coords::from([("seed".to_string(), s)])).unwrap_or_default(),
        paths: Paths::default(),
        label: format!("{} {op}", kind.as_str()),
        decl: op.to_string(),
        span: Span::new(0, 0),
        source: 0,
    }
}

/// Sets one of a node's op fields.
fn set(node: &mut Node, name: &str, value: Value) {
    match &mut node.payload {
        Payload::Train { recipe: p, .. } | Payload::Unlearn { hyper: p, .. } => {
            p.insert(name.to_string(), value);
        }
        other => panic!("no fields to set on {other:?}"),
    }
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn float(f: f64) -> Value {
    Value::Float(f)
}

fn call(op: &str, args: &[(&str, Value)]) -> Value {
    Value::Call(Call { op: op.into(), args: args.iter().map(|(k, v)| (k.to_string(), v.clone())).collect() })
}

/// Runs one node with inputs given as (role, folder) into a fresh folder under `root`.
fn run(backend: &TorchBackend, root: &Path, node: &Node, inputs: &[(&str, &Path)]) -> Result<PathBuf, NodeFailure> {
    run_reporting(backend, root, node, inputs, &|_, _, _| {})
}

/// `run` with a progress callback.
fn run_reporting(
    backend: &TorchBackend,
    root: &Path,
    node: &Node,
    inputs: &[(&str, &Path)],
    progress: &(dyn Fn(u64, u64, &str) + Sync),
) -> Result<PathBuf, NodeFailure> {
    let out = root.join(node.key.short());
    std::fs::create_dir_all(&out).expect("out folder");
    let dummy = self::node(NodeKind::Dataset, "input", &[], None);
    let inputs: Vec<Input<'_>> = inputs
        .iter()
        .map(|(role, dir)| Input { role, node: &dummy, key: Key::of(dir.to_string_lossy().as_bytes()), dir })
        .collect();
    let job = Job { node, inputs, out: &out, progress };
    backend.run(&job).map(|()| out)
}

fn cpu() -> TorchBackend {
    TorchBackend::new("cpu").expect("cpu backend")
}

/// A tiny synthetic dataset (4 classes, 3×16×16, 300 train + 60 test) and its split.
fn synthetic(backend: &TorchBackend, root: &Path) -> (PathBuf, PathBuf) {
    let shape = Value::List(vec![int(3), int(16), int(16)]);
    let ds = node(
        NodeKind::Dataset,
        "synthetic",
        &[("classes", int(4)), ("size", int(300)), ("test", int(60)), ("shape", shape), ("seed", int(1))],
        None,
    );
    let data = run(backend, root, &ds, &[]).expect("synthetic dataset");
    let sp = node(NodeKind::Split, "random", &[("val", float(0.15)), ("forget", float(0.1)), ("seed", int(123))], None);
    let split = run(backend, root, &sp, &[("data", &data)]).expect("split");
    (data, split)
}

fn cnn_init(backend: &TorchBackend, root: &Path) -> PathBuf {
    let init = node(NodeKind::Init, "cnn", &[("width", int(8)), ("classes", int(4))], Some(0));
    run(backend, root, &init, &[]).expect("init")
}

fn train_node(epochs: i64, lr: f64) -> Node {
    node(
        NodeKind::Train,
        "train",
        &[
            ("epochs", int(epochs)),
            ("batch", int(32)),
            ("optim", call("sgd", &[("lr", float(lr)), ("momentum", float(0.9)), ("weight_decay", float(5e-4))])),
            ("sched", call("cosine", &[("eta_min", float(0.0))])),
            ("augment", Value::Str("reference".into())),
            ("subset", Value::Str("train".into())),
        ],
        Some(0),
    )
}

/// Folders of a dataset, its split and a CNN trained on it, shared by the tests (read-only).
struct Fixture {
    _root: tempfile::TempDir,
    data: PathBuf,
    split: PathBuf,
    trained: PathBuf,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = tempfile::tempdir().expect("temp dir");
        let b = cpu();
        let (data, split) = synthetic(&b, root.path());
        let init = cnn_init(&b, root.path());
        let trained =
            run(&b, root.path(), &train_node(4, 0.05), &[("init", &init), ("data", &data), ("split", &split)])
                .expect("training");
        Fixture { _root: root, data, split, trained }
    })
}

fn metrics_of(model_dir: &Path) -> Metrics {
    let f = fixture();
    let model = super::models::load(&model_dir.join("model.safetensors"), Device::Cpu).expect("model");
    let res = Resident::load(&f.data, Device::Cpu).expect("data");
    let split = split::load(&f.split).expect("split");
    metrics::measure::compute(&model, &res, &split, model_dir).expect("metrics")
}

fn method(op: &str, epochs: i64, lr: f64) -> Node {
    node(
        NodeKind::Unlearn,
        op,
        &[
            ("epochs", int(epochs)),
            ("batch", int(32)),
            ("lr", float(lr)),
            ("momentum", float(0.9)),
            ("weight_decay", float(5e-4)),
            ("alpha", float(0.95)),
        ],
        Some(0),
    )
}

fn unlearn(op: &str, epochs: i64, lr: f64) -> Result<(tempfile::TempDir, PathBuf), NodeFailure> {
    let f = fixture();
    let root = tempfile::tempdir().expect("temp dir");
    let out = run(
        &cpu(),
        root.path(),
        &method(op, epochs, lr),
        &[("original", &f.trained), ("data", &f.data), ("split", &f.split)],
    )?;
    Ok((root, out))
}

#[test]
fn training_the_cnn_on_synthetic_data_lowers_the_loss() {
    let run: RunInfo = store::read_json(&fixture().trained.join("run.json")).expect("run.json");
    assert_eq!(run.epoch_losses.len(), 4);
    let losses: Vec<f64> = run.epoch_losses.iter().map(|l| l.expect("finite")).collect();
    assert!(losses[3] < 0.5 * losses[0], "losses {losses:?}");
    assert!(run.seconds > 0.0);
    assert_eq!(run.device, "cpu");
    let m = metrics_of(&fixture().trained);
    // 10 % of the synthetic labels are redrawn, so about 92.5 % is the ceiling without memorising.
    assert!(m.retain_acc > 0.85 && m.test_acc > 0.8, "{m:?}");
}

#[test]
fn a_saved_model_loads_back_with_identical_logits() {
    let tensors = init("cnn", 4, 3, 7).expect("init");
    let model = Model::from_state_dict(tensors, Device::Cpu).expect("model");
    let x = locked_randn([2, 3, 12, 12], (Kind::Float, Device::Cpu));
    // Train-mode passes change the BN buffers, so the round trip covers them too.
    let _ = model.forward(&x, true);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("model.safetensors");
    store::write_tensors(&path, &model.state_dict()).expect("save");
    let loaded = super::models::load(&path, Device::Cpu).expect("load");
    let (a, b) = tch::no_grad(|| (model.forward(&x, false), loaded.forward(&x, false)));
    assert!(a.equal(&b));
    let tracked = store::read_tensors(&path).expect("read");
    let nbt = tracked.iter().find(|(n, _)| n == "bn1.num_batches_tracked").expect("buffer");
    assert_eq!(nbt.1.int64_value(&[]), 1);
}

#[test]
fn resnet18_has_torchvision_names_and_parameter_count() {
    let tensors = init("resnet18", 0, 10, 0).expect("init");
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    for name in ["conv1.weight", "layer2.0.downsample.1.running_var", "layer4.1.bn2.num_batches_tracked", "fc.bias"] {
        assert!(names.contains(&name), "missing {name}");
    }
    // 62 parameter tensors + 20 BatchNorms × 3 buffers.
    assert_eq!(tensors.len(), 62 + 60);
    let model = Model::from_state_dict(tensors, Device::Cpu).expect("model");
    assert_eq!(model.parameter_count(), 11_181_642);
    assert_eq!(model.params().len(), 62);
    let logits = tch::no_grad(|| model.forward(&Tensor::zeros([2, 3, 32, 32], (Kind::Float, Device::Cpu)), false));
    assert_eq!(logits.size(), [2, 10]);
    // Kaiming-normal fan-out: std √(2 / (64·7·7)) ≈ 0.0255 for the stem.
    let std = init("resnet18", 0, 10, 0).expect("init")[0].1.std(true).double_value(&[]);
    assert!((std - (2.0f64 / 3136.0).sqrt()).abs() < 0.002, "stem std {std}");
}

#[test]
fn initialisation_is_a_function_of_the_seed() {
    let a = init("cnn", 4, 3, 5).expect("init");
    let b = init("cnn", 4, 3, 5).expect("init");
    let c = init("cnn", 4, 3, 6).expect("init");
    assert!(a.iter().zip(&b).all(|((_, x), (_, y))| x.equal(y)));
    assert!(!a[0].1.equal(&c[0].1));
}

#[test]
fn gradient_ascent_lowers_forget_accuracy() {
    let before = metrics_of(&fixture().trained);
    let (_root, out) = unlearn("gradient_ascent", 5, 0.02).expect("ga");
    let after = metrics_of(&out);
    let run: RunInfo = store::read_json(&out.join("run.json")).expect("run.json");
    assert!(after.forget_acc < before.forget_acc - 0.2, "before {before:?}, after {after:?}, {run:?}");
    assert!(run.epoch_losses.iter().all(|l| l.is_some_and(|l| l < 0.0)), "GA records −CE: {:?}", run.epoch_losses);
}

#[test]
fn finetune_keeps_retain_accuracy_high() {
    let before = metrics_of(&fixture().trained);
    let (_root, out) = unlearn("finetune", 2, 0.01).expect("ft");
    let after = metrics_of(&out);
    assert!(after.retain_acc > before.retain_acc - 0.03, "before {before:?}, after {after:?}");
}

#[test]
fn neggrad_plus_runs_in_eval_mode_and_keeps_bn_statistics() {
    let (_root, out) = unlearn("neggrad_plus", 1, 0.01).expect("ng+");
    let before = store::read_tensors(&fixture().trained.join("model.safetensors")).expect("read");
    let after = store::read_tensors(&out.join("model.safetensors")).expect("read");
    let get = |t: &[(String, Tensor)], n: &str| t.iter().find(|(k, _)| k == n).expect(n).1.shallow_clone();
    assert!(get(&before, "bn1.running_mean").equal(&get(&after, "bn1.running_mean")));
    assert!(!get(&before, "conv1.weight").equal(&get(&after, "conv1.weight")));
}

#[test]
fn measure_writes_metrics_with_mia_in_the_unit_interval() {
    let f = fixture();
    let root = tempfile::tempdir().expect("temp dir");
    let m = node(NodeKind::Measure, "measure", &[], Some(0));
    let out = run(&cpu(), root.path(), &m, &[("model", &f.trained), ("data", &f.data), ("split", &f.split)])
        .expect("measure");
    let m: Metrics = store::read_json(&out.join("metrics.json")).expect("metrics.json");
    let (mia_val, mia_test) = (m.mia_val.expect("val MIA"), m.mia_test.expect("test MIA"));
    for v in [mia_val, mia_test, m.retain_acc, m.forget_acc, m.val_acc, m.test_acc] {
        assert!((0.0..=1.0).contains(&v), "{m:?}");
    }
    let run: RunInfo = store::read_json(&f.trained.join("run.json")).expect("run.json");
    assert_eq!(m.seconds, run.seconds);
}

/// A final unlearning run goes on through a non-finite loss, as the reference's does: it
/// completes, keeps what the method left, and records where it diverged; measuring it leaves
/// the MIA unavailable with the reason instead of failing.
#[test]
fn a_diverging_final_run_completes_and_says_where() {
    let (_root, out) = unlearn("finetune", 2, 1e30).expect("a diverging final run completes");
    let run: RunInfo = store::read_json(&out.join("run.json")).expect("run.json");
    let diverged = run.diverged.as_deref().expect("the divergence is recorded");
    assert!(diverged.starts_with("loss became") && diverged.contains("epoch 1, batch"), "{run:?}");
    assert_eq!(run.epoch_losses.len(), 2, "both epochs ran: {run:?}");
    assert!(run.epoch_losses.iter().any(Option::is_none), "{run:?}");
    let m = metrics_of(&out);
    assert_eq!((m.mia_val, m.mia_test), (None, None), "{m:?}");
    assert!(m.unavailable.contains_key("mia_test") && m.diverged.is_some(), "{m:?}");
}

/// A copy of the trained fixture's model folder (`model.safetensors`, `run.json`) whose first
/// float of tensor `name` is NaN: the same-size change a flipped byte on disk can make.
fn trained_with_nan(root: &Path, name: &str) -> PathBuf {
    let dir = root.join("corrupt");
    std::fs::create_dir_all(&dir).expect("folder");
    for file in ["model.safetensors", "run.json"] {
        std::fs::copy(fixture().trained.join(file), dir.join(file)).expect("copy");
    }
    let path = dir.join("model.safetensors");
    let mut bytes = std::fs::read(&path).expect("read");
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).expect("header");
    assert_eq!(header[name]["dtype"], "F32", "{header}");
    let start = 8 + header_len + header[name]["data_offsets"][0].as_u64().expect("offsets") as usize;
    let size = bytes.len();
    bytes[start..start + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&path, &bytes).expect("write");
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, size);
    dir
}

/// Runs a `measure` node on the model in `model_dir`, into a folder dropped afterwards.
fn measure_node_on(model_dir: &Path) -> Result<(), NodeFailure> {
    let f = fixture();
    let root = tempfile::tempdir().expect("temp dir");
    let m = node(NodeKind::Measure, "measure", &[], Some(0));
    run(&cpu(), root.path(), &m, &[("model", model_dir), ("data", &f.data), ("split", &f.split)]).map(drop)
}

/// Regression (issue 11, item 6): a stored model with a NaN its run never produced was measured
/// and blamed on divergence ("the forget set has a non-finite loss"); it is now blamed on its
/// cache entry, with the command that removes it.
#[test]
fn a_corrupt_stored_model_is_blamed_on_the_cache_not_on_divergence() {
    let root = tempfile::tempdir().expect("temp dir");
    let dir = trained_with_nan(root.path(), "conv1.weight");
    let failure = measure_node_on(&dir).expect_err("a corrupt input fails the node");
    assert_eq!(failure.kind, crate::artifact::FailureKind::InvalidData, "{failure:?}");
    let expected = format!(
        "the stored model `{}` has non-finite weights (`conv1.weight` holds NaN) but its run did not diverge: \
         the cache entry holding it may be corrupt",
        dir.join("model.safetensors").display()
    );
    assert_eq!(failure.message, expected);
    let help = failure.help.as_deref().unwrap_or_default();
    assert!(help.starts_with("run `munl cache verify --evict`"), "{help}");

    // The same weights from a run that recorded its divergence are what that run left: measured.
    let mut info: RunInfo = store::read_json(&dir.join("run.json")).expect("run.json");
    info.diverged = Some("loss became NaN at epoch 1, batch 1".into());
    store::write_json(&dir.join("run.json"), &info).expect("write run.json");
    measure_node_on(&dir).expect("a diverged model is measured");

    // A stored model that does not parse is blamed on its entry too.
    std::fs::write(dir.join("model.safetensors"), b"\xff\xff\xff\xff not safetensors").expect("write");
    let failure = measure_node_on(&dir).expect_err("an unreadable input fails the node");
    assert!(failure.message.ends_with("; the cache entry holding it may be corrupt"), "{failure:?}");
    assert!(failure.help.is_some_and(|h| h.contains("munl cache verify --evict")));
}

/// Trains a `cnn` for one epoch on generated `side × side` grey images.
fn train_cnn_on_side(side: i64) -> Result<PathBuf, NodeFailure> {
    let root = tempfile::tempdir().expect("temp dir");
    let b = cpu();
    let ds = node(
        NodeKind::Dataset,
        "synthetic",
        &[
            ("classes", int(2)),
            ("size", int(60)),
            ("test", int(12)),
            ("shape", Value::List(vec![int(1), int(side), int(side)])),
        ],
        None,
    );
    let data = run(&b, root.path(), &ds, &[]).expect("dataset");
    let sp = node(NodeKind::Split, "random", &[], None);
    let split = run(&b, root.path(), &sp, &[("data", &data)]).expect("split");
    let init = node(NodeKind::Init, "cnn", &[("width", int(2)), ("classes", int(2))], Some(0));
    let init = run(&b, root.path(), &init, &[]).expect("init");
    run(&b, root.path(), &train_node(1, 0.1), &[("init", &init), ("data", &data), ("split", &split)])
}

/// Regression (issue 11, item 4): the panic of a libtorch error became a failure whose message
/// was tch's `unwrap` text with libtorch's ~20 C++ stack frames; it is libtorch's first line.
#[test]
fn a_libtorch_panic_is_a_node_failure() {
    // 1×1 images: the second 2×2 max-pool has nothing to pool, which libtorch rejects.
    let err = train_cnn_on_side(1).expect_err("bad shape");
    assert_eq!(
        err.message,
        "libtorch failed: Given input size: (2x1x1). Calculated output size: (2x0x0). Output size is too small"
    );
    assert!(err.help.as_deref().is_some_and(|h| h.contains("MUNL_BACKTRACE=1")), "{err:?}");
}

/// Lowering refuses images smaller than `limits::CNN_MIN_SIDE` for a `cnn`: the smallest it
/// accepts trains, the next smaller one is what libtorch rejects.
#[test]
fn the_cnn_trains_on_the_smallest_images_lowering_accepts() {
    let min = crate::ops::limits::CNN_MIN_SIDE;
    train_cnn_on_side(min).expect("the smallest side lowering accepts");
    let err = train_cnn_on_side(min - 1).expect_err("one pixel less");
    assert!(err.message.contains("Output size is too small"), "{err:?}");
}

/// Writes `bytes` gzip-compressed.
fn gz(path: &Path, bytes: &[u8]) {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    std::fs::write(path, e.finish().expect("gzip")).expect("write");
}

/// The four IDX files of a tiny MNIST-layout dataset: `n_train` + `n_test` images of 2×2.
fn tiny_idx(dir: &Path, n_train: u32, n_test: u32) {
    for (prefix, n) in [("train", n_train), ("t10k", n_test)] {
        let mut images = vec![0, 0, 8, 3];
        for v in [n, 2, 2] {
            images.extend(v.to_be_bytes());
        }
        images.extend((0..4 * n).map(|i| (i % 251) as u8));
        gz(&dir.join(format!("{prefix}-images-idx3-ubyte.gz")), &images);
        let mut labels = vec![0, 0, 8, 1];
        labels.extend(n.to_be_bytes());
        labels.extend((0..n).map(|i| (i % 10) as u8));
        gz(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), &labels);
    }
}

#[test]
fn idx_reader_rejects_a_wrong_magic_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    tiny_idx(dir.path(), 12, 6);
    let path = dir.path().join("t10k-images-idx3-ubyte.gz");
    let mut images = vec![0, 0, 8, 1];
    images.extend([0u8; 12]);
    gz(&path, &images);
    let err = data::read_idx_unverified(dir.path()).err().expect("bad magic");
    assert!(err.message.contains("t10k-images-idx3-ubyte.gz") && err.message.contains("magic number"), "{err:?}");
}

#[test]
fn idx_reader_rejects_truncated_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    tiny_idx(dir.path(), 12, 6);
    // A gzip stream cut short.
    let path = dir.path().join("train-labels-idx1-ubyte.gz");
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() - 6]).expect("write");
    let err = data::read_idx_unverified(dir.path()).err().expect("truncated gzip");
    assert!(err.message.contains("train-labels-idx1-ubyte.gz"), "{err:?}");
    // A complete gzip stream whose content is shorter than its header says.
    tiny_idx(dir.path(), 12, 6);
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 12, 0, 0, 0, 2, 0, 0, 0, 2];
    images.extend([0u8; 40]);
    gz(&dir.path().join("train-images-idx3-ubyte.gz"), &images);
    let err = data::read_idx_unverified(dir.path()).err().expect("short content");
    assert!(err.message.contains("holds 56 bytes") && err.message.contains("needs 64"), "{err:?}");
}

#[test]
fn a_missing_folder_says_where_and_how() {
    let mut ds = node(NodeKind::Dataset, "mnist", &[], None);
    ds.paths.data = Some("/nonexistent/mnist".into());
    let root = tempfile::tempdir().expect("temp dir");
    let err = run(&cpu(), root.path(), &ds, &[]).expect_err("missing");
    assert!(err.message.contains("/nonexistent/mnist"), "{err:?}");
    assert!(err.help.as_deref().is_some_and(|h| h.contains("https://")), "{err:?}");
}

#[test]
fn limit_keeps_the_first_train_and_a_sixth_as_many_test_images() {
    let dir = tempfile::tempdir().expect("temp dir");
    tiny_idx(dir.path(), 30, 10);
    let raw = data::read_idx_unverified(dir.path()).expect("tiny idx");
    assert_eq!((raw.n_train, raw.n_test), (30, 10));
    let limited = data::read_idx_unverified(dir.path()).expect("tiny idx").limit(Some(24));
    assert_eq!((limited.n_train, limited.n_test), (24, 4));
    assert_eq!(limited.labels[..24], raw.labels[..24]);
    assert_eq!(limited.labels[24..], raw.labels[30..34]);
    assert_eq!(limited.pixels[..96], raw.pixels[..96]);
    assert_eq!(limited.pixels[96..], raw.pixels[120..136]);
    let capped = data::read_idx_unverified(dir.path()).expect("tiny idx").limit(Some(1000));
    assert_eq!((capped.n_train, capped.n_test), (30, 10));
}

#[test]
fn resize_matches_pillow_bilinear() {
    // Expected values from Pillow 13.0 `Image.resize((32, 32), Image.BILINEAR)` on this "L" image.
    let px: Vec<u8> = (0..28usize)
        .flat_map(|i| (0..28usize).map(move |j| ((i * 7 + j * 13 + (i * j) % 5 * 40) % 256) as u8))
        .collect();
    let raw = data::Raw { pixels: px, labels: vec![0], shape: [1, 28, 28], n_train: 1, n_test: 0 }.resize(32);
    let out = &raw.pixels;
    assert_eq!(raw.shape, [1, 32, 32]);
    assert_eq!(
        out[..32],
        [
            0, 11, 22, 33, 45, 56, 67, 79, 90, 102, 113, 124, 136, 147, 158, 170, 181, 193, 204, 215, 227, 238, 201, 5,
            16, 28, 39, 50, 62, 73, 84, 95
        ]
    );
    assert_eq!(
        out[32 * 17..32 * 18],
        [
            104, 100, 135, 155, 160, 165, 167, 164, 169, 174, 211, 231, 232, 165, 27, 32, 37, 42, 72, 89, 94, 98, 103,
            108, 103, 147, 160, 165, 170, 171, 168, 173
        ]
    );
    assert_eq!(out.iter().map(|&v| u64::from(v)).sum::<u64>(), 130_211);
    use md5::Digest;
    let digest: String = md5::Md5::digest(out).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(digest, "8c1a2611b01633f084fcb1c440b2f0d8");
}

#[test]
fn crop_and_flip_are_built_on_the_device_per_image() {
    let f = fixture();
    let res = Resident::load(&f.data, Device::Cpu).expect("data");
    let info: DatasetInfo = store::read_json(&f.data.join("dataset.json")).expect("info");
    assert_eq!(info.shape, [3, 16, 16]);
    let indices: Vec<i64> = (0..64).collect();
    let mut rng = crate::stats::mt19937::Mt19937::new(5);
    let pass = res.shuffled(&indices, &mut rng, true);
    let (x, y) = res.batch(&pass, 0, 64);
    assert_eq!(x.size(), [64, 3, 16, 16]);
    assert_eq!(y.size(), [64]);
    let plain = res.ordered(&indices);
    let (p, _) = res.batch(&plain, 0, 64);
    // Flips only (synthetic): each augmented image is its plain image or its mirror.
    let mut order = crate::stats::mt19937::Mt19937::new(5).permutation(64);
    let mut flipped = 0;
    for (b, i) in order.drain(..).enumerate() {
        let (a, q) = (x.get(b as i64), p.get(i as i64));
        if a.equal(&q.flip([2])) && !a.equal(&q) {
            flipped += 1;
        } else {
            assert!(a.equal(&q), "image {b} is neither plain nor mirrored");
        }
    }
    assert!((16..=48).contains(&flipped), "{flipped} flips of 64");
}

#[test]
fn real_mnist_loads_with_verified_checksums() {
    let Some(dir) = data::testing::shared_data("mnist") else { return };
    let raw = data::read_official("mnist", &dir).expect("official MNIST");
    assert_eq!((raw.n_train, raw.n_test), (60_000, 10_000));
    assert_eq!(raw.labels.len(), 70_000);
    assert_eq!(raw.shape, [1, 28, 28]);
    let small = raw.limit(Some(600)).resize(32);
    assert_eq!((small.n_train, small.n_test, small.shape), (600, 100, [1, 32, 32]));
    assert_eq!(small.pixels.len(), 700 * 1024);
}

/// Timings for the report (`cargo test cpu_timings -- --ignored --nocapture`): `bench` for both
/// architectures and one epoch of the CNN on the first 6 000 MNIST training images.
#[test]
#[ignore]
fn cpu_timings() {
    let spec = |arch: &str, steps| super::BenchSpec {
        device: "cpu".into(),
        arch: arch.into(),
        batch: 256,
        steps,
        concurrent: 1,
        epoch: None,
        breakdown: false,
    };
    eprintln!("{}", super::bench(&spec("cnn", 5)).expect("bench cnn").lines());
    eprintln!("{}", super::bench(&spec("resnet18", 3)).expect("bench resnet18").lines());
    let Some(dir) = data::testing::shared_data("mnist") else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let b = cpu();
    let mut ds = node(NodeKind::Dataset, "mnist", &[("limit", int(6000))], None);
    ds.paths.data = Some(dir);
    let start = std::time::Instant::now();
    let data = run(&b, tmp.path(), &ds, &[]).expect("mnist");
    eprintln!("mnist limit 6000 decoded in {:.2} s", start.elapsed().as_secs_f64());
    let split = run(&b, tmp.path(), &node(NodeKind::Split, "random", &[], None), &[("data", &data)]).expect("split");
    let init = node(NodeKind::Init, "cnn", &[("width", int(32)), ("classes", int(10))], Some(0));
    let init = run(&b, tmp.path(), &init, &[]).expect("init");
    let mut t = train_node(1, 0.1);
    set(&mut t, "batch", int(256));
    let out = run(&b, tmp.path(), &t, &[("init", &init), ("data", &data), ("split", &split)]).expect("train");
    let info: RunInfo = store::read_json(&out.join("run.json")).expect("run.json");
    let m = node(NodeKind::Measure, "measure", &[], Some(0));
    let mo = run(&b, tmp.path(), &m, &[("model", &out), ("data", &data), ("split", &split)]).expect("measure");
    let metrics: Metrics = store::read_json(&mo.join("metrics.json")).expect("metrics.json");
    eprintln!(
        "cnn(width 32), one epoch on 5 100 MNIST images (limit 6000 → train part), batch 256: {:.2} s; {metrics:?}",
        info.seconds
    );
}

#[test]
fn resnet18_init_matches_torchvision_bit_for_bit() {
    // md5 of the raw float32 bytes after `torch.manual_seed(seed);
    // torchvision.models.resnet18(num_classes=10)` (torch 2.11.0, torchvision 0.26.0, CPU).
    let expected = [
        (0, "conv1.weight", "ab56fdf69fca5cb2bce58e1d0843ef20"),
        (0, "layer2.0.downsample.0.weight", "8d5a16d148adc9149f4947a357c8030f"),
        (0, "layer4.1.conv2.weight", "6694204cbc8e844416fbe632aa58147a"),
        (0, "fc.weight", "c5713c3d3afd4c70cfb243e45eed8879"),
        (0, "fc.bias", "90bd8aaaa06f489f6d861c3798bfdd4d"),
        (3, "conv1.weight", "e965a2ee1289f13e53206a1cfde43d57"),
        (3, "layer2.0.downsample.0.weight", "1fa6062bfabb233654b2fe94e3f0004f"),
        (3, "layer4.1.conv2.weight", "dfb9b0aa87f7374a2bc80f72bed589ad"),
        (3, "fc.weight", "fca6f7d8e469c31d69b760c72034fc9c"),
        (3, "fc.bias", "f014206ce39bc08776e60c8cc2f80a1d"),
    ];
    use md5::Digest;
    for seed in [0, 3] {
        let tensors = init("resnet18", 0, 10, seed).expect("init");
        for (s, name, want) in expected.iter().filter(|e| e.0 == seed) {
            let t = &tensors.iter().find(|(n, _)| n == name).expect(name).1;
            let mut bytes = vec![0u8; t.numel() * 4];
            t.copy_data_u8(&mut bytes, t.numel());
            let got: String = md5::Md5::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(&got, want, "seed {s} {name}");
        }
    }
}

/// GPU check (`MUNL_TEST_DEVICE=cuda cargo test gpu_check -- --ignored --nocapture`): the whole
/// node sequence on the device, then timings of `bench` and of ResNet-18 epochs over 42 500
/// resident 3×32×32 images (the reference's CIFAR-10 training part) with crop + flip.
#[test]
#[ignore]
fn gpu_check() {
    let device = std::env::var("MUNL_TEST_DEVICE").unwrap_or_else(|_| "cuda".into());
    let b = TorchBackend::new(&device).expect("device");
    let root = tempfile::tempdir().expect("temp dir");
    let (data, split) = synthetic(&b, root.path());
    let init = cnn_init(&b, root.path());
    let trained = run(&b, root.path(), &train_node(4, 0.05), &[("init", &init), ("data", &data), ("split", &split)])
        .expect("train on the device");
    for op in ["finetune", "gradient_ascent", "neggrad_plus"] {
        let out =
            run(&b, root.path(), &method(op, 2, 0.01), &[("original", &trained), ("data", &data), ("split", &split)])
                .expect(op);
        let m = node(NodeKind::Measure, "measure", &[("of", Value::Str(op.into()))], Some(0));
        let mo = run(&b, root.path(), &m, &[("model", &out), ("data", &data), ("split", &split)]).expect("measure");
        let metrics: Metrics = store::read_json(&mo.join("metrics.json")).expect("metrics.json");
        eprintln!("{op} on {device}: {metrics:?}");
    }
    let run_info: RunInfo = store::read_json(&trained.join("run.json")).expect("run.json");
    eprintln!("synthetic cnn training on {device}: {run_info:?}");

    for (arch, batch) in [("cnn", 256), ("resnet18", 256), ("resnet18", 512)] {
        let spec = super::BenchSpec {
            device: device.clone(),
            arch: arch.into(),
            batch,
            steps: 50,
            concurrent: 1,
            epoch: None,
            breakdown: false,
        };
        eprintln!("{}", super::bench(&spec).expect("bench").lines());
    }

    // A CIFAR-sized dataset of random images, stored like a decoded source.
    let n_train = 50_000usize;
    let pixels = locked_randint(256, [60_000, 3, 32, 32], (Kind::Uint8, Device::Cpu));
    let mut bytes = vec![0u8; 60_000 * 3072];
    pixels.copy_data_u8(&mut bytes, 60_000 * 3072);
    let labels: Vec<i64> = (0..60_000).map(|i| i % 10).collect();
    let raw = data::Raw { pixels: bytes, labels, shape: [3, 32, 32], n_train, n_test: 10_000 };
    let big = root.path().join("cifar-like");
    std::fs::create_dir_all(&big).expect("folder");
    data::write(&raw, "cifar10", 10, &big).expect("write");
    let split = run(&b, root.path(), &node(NodeKind::Split, "random", &[], None), &[("data", &big)]).expect("split");
    let init = node(NodeKind::Init, "resnet18", &[("classes", int(10))], Some(0));
    let init = run(&b, root.path(), &init, &[]).expect("init");
    let mut t = train_node(3, 0.1);
    set(&mut t, "batch", int(256));
    let start = std::time::Instant::now();
    let progress =
        |e: u64, n: u64, msg: &str| eprintln!("  epoch {e}/{n} ({msg}) at {:.2} s", start.elapsed().as_secs_f64());
    let out = run_reporting(&b, root.path(), &t, &[("init", &init), ("data", &big), ("split", &split)], &progress)
        .expect("train");
    let info: RunInfo = store::read_json(&out.join("run.json")).expect("run.json");
    eprintln!(
        "resnet18, 3 epochs of 42 500 images, batch 256, crop+flip, on {device}: {:.2} s ({:.0} images/s)",
        info.seconds,
        3.0 * 42_500.0 / info.seconds
    );
    let start = std::time::Instant::now();
    let m = node(NodeKind::Measure, "measure", &[], Some(0));
    run(&b, root.path(), &m, &[("model", &out), ("data", &big), ("split", &split)]).expect("measure");
    eprintln!("measure (60 000 images + two MIAs) on {device}: {:.2} s", start.elapsed().as_secs_f64());
}

#[test]
fn flat_sgd_matches_pytorch_per_tensor_sgd() {
    let model = Model::from_state_dict(init("cnn", 4, 3, 2).expect("init"), Device::Cpu).expect("model");
    let x = locked_randn([6, 3, 8, 8], (Kind::Float, Device::Cpu));
    let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2]);
    let (lr, m, wd) = (0.1, 0.9, 5e-4);
    let mut opt = super::optim::Optimizer::sgd(lr, m, wd);
    // PyTorch's rule per tensor: d = g + wd·θ; b = d, then b = m·b + d; θ ← θ − lr·b.
    let mut expected: Vec<Tensor> = model.params().iter().map(|p| p.detach().copy()).collect();
    let mut buffers: Vec<Option<Tensor>> = expected.iter().map(|_| None).collect();
    for _ in 0..3 {
        let loss = model.forward(&x, false).cross_entropy_for_logits(&y);
        let grads = Tensor::run_backward(&[&loss], model.params(), false, false);
        for ((e, g), b) in expected.iter_mut().zip(&grads).zip(&mut buffers) {
            let d = g + &*e * wd;
            let next = match b.take() {
                None => d,
                Some(b) => b * m + d,
            };
            *e = &*e - &next * lr;
            *b = Some(next);
        }
        opt.step(model.flat(), model.params(), &grads);
    }
    for (p, e) in model.params().iter().zip(&expected) {
        assert!(p.detach().allclose(e, 1e-6, 1e-7, false));
    }
}

#[test]
fn flat_adam_matches_pytorch_adam() {
    let model = Model::from_state_dict(init("cnn", 4, 3, 2).expect("init"), Device::Cpu).expect("model");
    let x = locked_randn([6, 3, 8, 8], (Kind::Float, Device::Cpu));
    let y = Tensor::from_slice(&[0i64, 1, 2, 0, 1, 2]);
    let adam = call("adam", &[("lr", float(0.01)), ("weight_decay", float(1e-3))]);
    let mut opt = super::optim::Optimizer::from_call(&adam).expect("adam");
    let mut expected: Vec<Tensor> = model.params().iter().map(|p| p.detach().copy()).collect();
    let mut moments: Vec<(Tensor, Tensor)> = expected.iter().map(|e| (e.zeros_like(), e.zeros_like())).collect();
    for t in 1..=3 {
        let loss = model.forward(&x, false).cross_entropy_for_logits(&y);
        let grads = Tensor::run_backward(&[&loss], model.params(), false, false);
        for ((e, g), (m, v)) in expected.iter_mut().zip(&grads).zip(&mut moments) {
            let d = g + &*e * 1e-3;
            *m = &*m * 0.9 + &d * 0.1;
            *v = &*v * 0.999 + &d * &d * 0.001;
            let denom = v.sqrt() / (1.0 - 0.999f64.powi(t)).sqrt() + 1e-8;
            *e = &*e - &*m / denom * (0.01 / (1.0 - 0.9f64.powi(t)));
        }
        opt.step(model.flat(), model.params(), &grads);
    }
    for (p, e) in model.params().iter().zip(&expected) {
        assert!(p.detach().allclose(e, 1e-5, 1e-7, false));
    }
}

/// Random test input drawn under the lock that seeded initialisation holds, so tests running
/// in parallel cannot shift another test's seeded weights.
fn locked_randn(shape: impl AsRef<[i64]>, options: (tch::Kind, tch::Device)) -> tch::Tensor {
    let _guard = crate::torch::models::rng::GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::Tensor::randn(shape.as_ref(), options)
}

/// `Tensor::randint` under the initialisation lock (see `locked_randn`).
fn locked_randint(high: i64, shape: impl AsRef<[i64]>, options: (tch::Kind, tch::Device)) -> tch::Tensor {
    let _guard = crate::torch::models::rng::GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::Tensor::randint(high, shape.as_ref(), options)
}

/// Runs the libtorch venv's Python (set up by `scripts/with-torch`, with torch, torchvision and
/// safetensors) on `args` (`-c SCRIPT …`, or a script file and its arguments), munl's `python/`
/// package on its path; panics with Python's error output unless it succeeds.
pub(crate) fn venv_python<S: AsRef<std::ffi::OsStr>>(args: &[S]) {
    let venv = std::env::var("VIRTUAL_ENV").unwrap_or_else(|_| {
        panic!("VIRTUAL_ENV is not set: run the tests under scripts/with-torch, whose venv has torch")
    });
    let python = Path::new(&venv).join("bin/python");
    let out = std::process::Command::new(&python)
        .args(args)
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(out.status.success(), "{} failed:\n{}", python.display(), String::from_utf8_lossy(&out.stderr));
}
