//! munl's architectures against their PyTorch versions in `python/munl/models.py`.
//!
//! For each architecture munl builds its seeded initial weights, perturbs them (so that nothing
//! initialised to a constant, such as TinyViT's attention biases or its zero BatchNorm weights,
//! hides a difference), stores them as a training run does and runs a fixed batch through them.
//! A Python script builds the same architecture with `munl.models.build`, loads munl's file
//! strictly and runs the same batch. The test compares:
//! * the state dict's names, shapes and order;
//! * the initial weights `build` draws after `torch.manual_seed(seed)`, with munl's `init` of the
//!   same seed, bit for bit;
//! * for TinyViT, that its attention biases get a gradient in train mode only (munl's own tests
//!   check munl's side);
//! * the eval-mode logits, the train-mode logits (batch statistics; for TinyViT also drop path,
//!   whose masks both draw from libtorch's global generator seeded the same way) and the state
//!   dict after that train-mode pass (running statistics, `num_batches_tracked`), at `TOL`.
//!
//! munl's passes run in a child process of this test binary (`munl_passes_in_a_child_process`):
//! there no other test draws from the global generator between the seeding and the drop-path
//! draws, which would shift munl's masks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tch::{Device, Kind, Tensor};

use super::init::init;
use super::rng::GLOBAL_RNG;
use super::{Model, StateDict};
use crate::torch::data::store;

/// Agreement asked of logits and running statistics. Both sides run the same libtorch kernels
/// on the same CPU in float32, so the only differences are the summation orders libtorch picks
/// (thread counts, fused versus separate ops): float32 rounding, about 1e-7 relative per
/// operation, accumulated over a few dozen layers, stays well under 1e-5 on logits of order 1.
/// Any difference in the architecture (a wrong momentum, bias index, padding, qkv layout)
/// moves them by 1e-2 or more. Measured with torch 2.11 on the CPU: no difference at all.
const TOL: f64 = 1e-4;

/// Images per batch: BatchNorm's batch statistics in train mode are then well conditioned, even
/// over ResNet-18's 1×1 maps at 32×32 (8 values per channel), and a few samples lose a TinyViT
/// branch to drop path.
const BATCH: i64 = 8;

/// Seed of libtorch's global generator before each train-mode pass (drop path's masks).
const TRAIN_SEED: i64 = 11;

/// Set, in the child process, to the folder of the case whose munl passes it computes.
const CHILD_ENV: &str = "MUNL_PYTHON_TESTS_CASE";

/// One comparison: an architecture, its catalogue fields as JSON, its class count and seed, and
/// the side of the square input.
struct Case {
    arch: &'static str,
    width: i64,
    fields: &'static str,
    classes: i64,
    seed: u64,
    side: i64,
}

/// munl's seeded initial weights with every tensor that starts at a constant moved off it
/// (from a seeded draw): normalisation weights and biases, Linear biases, attention biases,
/// running statistics (variances kept positive) and `num_batches_tracked`. Linear weights are
/// redrawn with variance 1/fan_in: at TinyViT's N(0, 0.02) its attention and MLP branches weigh
/// so little in the logits that a wrong attention-bias index moved them by only 4e-4. Conv
/// weights keep their initial values.
fn perturbed(init: &StateDict, seed: i64) -> StateDict {
    let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    init.iter()
        .map(|(name, t)| {
            let t = if name.ends_with("num_batches_tracked") {
                t + 7
            } else if name.ends_with("running_var") {
                t.rand_like() * 0.5 + 0.75
            } else if name.ends_with("attention_biases") {
                t.randn_like()
            } else if t.dim() == 1 {
                t + t.randn_like() * 0.2
            } else if t.dim() == 2 {
                t.randn_like() / (t.size()[1] as f64).sqrt()
            } else {
                t.copy()
            };
            (name.clone(), t)
        })
        .collect()
}

/// A seeded input batch of `BATCH` images of `side`×`side`.
fn input(side: i64, seed: i64) -> Tensor {
    let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    Tensor::randn([BATCH, 3, side, side], (Kind::Float, Device::Cpu))
}

/// The tensors of a safetensors file by name.
fn read(path: &Path) -> HashMap<String, Tensor> {
    store::read_tensors(path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message)).into_iter().collect()
}

/// The largest absolute difference between two tensors of the same shape, in f64.
fn max_diff(ours: &Tensor, theirs: &Tensor) -> f64 {
    assert_eq!(ours.size(), theirs.size());
    (ours.to_kind(Kind::Double) - theirs.to_kind(Kind::Double)).abs().max().double_value(&[])
}

/// What the child process computes for the case in `dir` (see the module): eval-mode logits
/// `y`, train-mode logits `t` after seeding the global generator with `TRAIN_SEED`, and the
/// state dict after that pass as `trained.{name}`, in `munl.safetensors`.
#[test]
#[ignore = "a helper: the other tests of this module run it alone in a process of its own"]
fn munl_passes_in_a_child_process() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let model = super::load(&dir.join("model.safetensors"), Device::Cpu).expect("munl loads its own file");
    let x = read(&dir.join("x.safetensors")).remove("x").expect("x");
    let y = tch::no_grad(|| model.forward(&x, false));
    {
        let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(TRAIN_SEED);
    }
    let t = tch::no_grad(|| model.forward(&x, true));
    let mut out = vec![("y".to_string(), y), ("t".to_string(), t)];
    out.extend(model.state_dict().into_iter().map(|(n, t)| (format!("trained.{n}"), t)));
    store::write_tensors(&dir.join("munl.safetensors"), &out).expect("write munl's results");
}

/// Runs `munl_passes_in_a_child_process` for the case in `dir`.
fn munl_passes(dir: &Path) -> HashMap<String, Tensor> {
    let module = module_path!().split_once("::").map_or(module_path!(), |(_, rest)| rest);
    let test = format!("{module}::munl_passes_in_a_child_process");
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(&exe)
        .args([test.as_str(), "--exact", "--ignored", "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the child process failed:\n{log}");
    let results = dir.join("munl.safetensors");
    assert!(results.exists(), "the child process did not run `{test}`:\n{log}");
    read(&results)
}

/// Builds the case's model with `munl.models`, loads munl's file strictly and runs the passes
/// the child runs; writes `torch.safetensors` (`y`, `t`, `trained.*`, the freshly built model's
/// state dict as `fresh.*`, and `dropped`: the samples whose drop-path branch was dropped in
/// the train-mode pass; `bias_grad`: whether a backward pass from eval-mode, then train-mode
/// logits reaches TinyViT's attention biases) and `layout.json` (the loaded model's `[name, shape]` in state-dict
/// order).
const TORCH_SCRIPT: &str = r#"
import json, sys
import torch
from safetensors.torch import load_file, save_file
import munl.models

arch, classes, fields, seed, train_seed, folder = sys.argv[1:7]
classes, fields = int(classes), json.loads(fields)

torch.manual_seed(int(seed))
fresh = munl.models.build(arch, classes, **fields).state_dict()

model = munl.models.build(arch, classes, **fields)
model.load_state_dict(load_file(f"{folder}/model.safetensors"), strict=True)
layout = [[name, list(t.shape)] for name, t in model.state_dict().items()]

dropped = 0
def count_dropped(module, inputs, output):
    global dropped
    if module.training:
        dropped += int((output.flatten(1) == 0).all(dim=1).sum())
for m in model.modules():
    if isinstance(m, munl.models.DropPath):
        m.register_forward_hook(count_dropped)

x = load_file(f"{folder}/x.safetensors")["x"]
with torch.no_grad():
    model.eval()
    y = model(x)
    model.train()
    torch.manual_seed(int(train_seed))
    t = model(x)
trained = {n: v.clone() for n, v in model.state_dict().items()}
drops = dropped

# Whether any attention bias gets a gradient, in eval and in train mode.
def bias_gets_gradient(train):
    model.train(train)
    model.zero_grad(set_to_none=True)
    model(x[:2]).sum().backward()
    return any(m.attention_biases.grad is not None and bool(m.attention_biases.grad.abs().sum() > 0)
               for m in model.modules() if isinstance(m, munl.models.Attention))
bias_grad = [bias_gets_gradient(False), bias_gets_gradient(True)] if arch == "vit11m" else [False, False]

out = {"y": y, "t": t, "dropped": torch.tensor(drops), "bias_grad": torch.tensor(bias_grad, dtype=torch.int64)}
out.update({f"fresh.{n}": v for n, v in fresh.items()})
out.update({f"trained.{n}": v for n, v in trained.items()})
save_file({n: v.detach().contiguous() for n, v in out.items()}, f"{folder}/torch.safetensors")
with open(f"{folder}/layout.json", "w") as f:
    json.dump(layout, f)
"#;

/// Runs `TORCH_SCRIPT` for `case` in `dir` with the venv's python (set up by
/// `scripts/with-torch`), `python/` on its path.
fn torch_passes(case: &Case, dir: &Path) -> HashMap<String, Tensor> {
    let (classes, seed, train_seed) = (case.classes.to_string(), case.seed.to_string(), TRAIN_SEED.to_string());
    crate::torch::tests::venv_python(&[
        "-c".as_ref(),
        TORCH_SCRIPT.as_ref(),
        case.arch.as_ref(),
        classes.as_ref(),
        case.fields.as_ref(),
        seed.as_ref(),
        train_seed.as_ref(),
        dir.as_os_str(),
    ]);
    read(&dir.join("torch.safetensors"))
}

/// Runs the case on both sides and compares them (see the module).
fn check(case: &Case) {
    let label = format!("{} {} at {}×{}", case.arch, case.fields, case.side, case.side);
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let fresh = init(case.arch, case.width, case.classes, case.seed).expect("init");
    let model = Model::from_state_dict(perturbed(&fresh, case.seed as i64 + 100), Device::Cpu).expect("build");
    let saved = model.state_dict();
    store::write_tensors(&dir.join("model.safetensors"), &saved).expect("write the model");
    let x = input(case.side, case.seed as i64 + 200);
    store::write_tensors(&dir.join("x.safetensors"), &[("x".to_string(), x)]).expect("write the input");

    let ours = munl_passes(dir);
    let theirs = torch_passes(case, dir);

    let text = std::fs::read_to_string(dir.join("layout.json")).expect("layout.json");
    let layout: Vec<(String, Vec<i64>)> = serde_json::from_str(&text).expect("layout.json parses");
    let want: Vec<(String, Vec<i64>)> = saved.iter().map(|(n, t)| (n.clone(), t.size())).collect();
    assert_eq!(layout, want, "{label}: the PyTorch state dict's names, shapes and order");

    let fresh_count = theirs.keys().filter(|n| n.starts_with("fresh.")).count();
    assert_eq!(fresh_count, fresh.len(), "{label}: tensors of the freshly built model");
    for (name, t) in &fresh {
        let built = &theirs[&format!("fresh.{name}")];
        assert!(t.equal(built), "{label}: `{name}` of `build` after torch.manual_seed differs from munl's init");
    }

    for (what, key) in [("eval", "y"), ("train-mode", "t")] {
        let d = max_diff(&ours[key], &theirs[key]);
        let scale = ours[key].abs().max().double_value(&[]);
        eprintln!("{label}: {what} logits (largest |logit| {scale:.3}) max |Δ| = {d:e}");
        assert!(d < TOL, "{label}: {what} logits differ by {d}");
    }
    let mut worst = (0.0, String::new());
    for (name, _) in &saved {
        let key = format!("trained.{name}");
        let (a, b) = (&ours[&key], &theirs[&key]);
        if name.ends_with("num_batches_tracked") {
            assert!(a.equal(b), "{label}: `{name}` after the train-mode pass");
            continue;
        }
        let d = max_diff(a, b);
        if d >= worst.0 {
            worst = (d, name.clone());
        }
    }
    eprintln!("{label}: state dict after the train-mode pass, max |Δ| = {:e} (`{}`)", worst.0, worst.1);
    assert!(worst.0 < TOL, "{label}: `{}` differs by {} after the train-mode pass", worst.1, worst.0);

    let dropped = theirs["dropped"].int64_value(&[]);
    eprintln!("{label}: {dropped} drop-path branches dropped in the train-mode pass");
    if case.arch == "vit11m" {
        assert!(dropped > 0, "{label}: the train-mode pass should drop some branches");
        // models.md §2.3: the attention bias is a constant in eval mode, learned in train mode.
        let grad: Vec<i64> = Vec::try_from(&theirs["bias_grad"]).expect("bias_grad");
        assert_eq!(grad, [0, 1], "{label}: gradients of the attention biases (eval, train)");
    }
}

#[test]
fn cnn_of_width_8_equals_its_pytorch_version() {
    // 28×28 (MNIST's side): the adaptive pool then averages uneven 7×7 → 4×4 windows.
    check(&Case { arch: "cnn", width: 8, fields: r#"{"width": 8}"#, classes: 10, seed: 1, side: 28 });
}

#[test]
fn cnn_of_default_width_equals_its_pytorch_version() {
    check(&Case { arch: "cnn", width: 32, fields: "{}", classes: 7, seed: 2, side: 32 });
}

#[test]
fn resnet18_equals_its_pytorch_version() {
    check(&Case { arch: "resnet18", width: 0, fields: "{}", classes: 10, seed: 3, side: 32 });
}

#[test]
fn vit11m_equals_its_pytorch_version_at_32() {
    check(&Case { arch: "vit11m", width: 0, fields: r#"{"img_size": 32}"#, classes: 10, seed: 4, side: 32 });
}

#[test]
fn vit11m_equals_its_pytorch_version_at_64() {
    // Stage 1's 8×8 grid is padded to 14×14 and cut into four 7×7 windows: the tiling path.
    check(&Case { arch: "vit11m", width: 0, fields: r#"{"img_size": 64}"#, classes: 5, seed: 5, side: 64 });
}
