//! Custom models (`script.rs`): a small TorchScript module made by PyTorch, loaded, trained and
//! stored by munl.
//!
//! A Python script (run once per test binary with the venv's Python) builds a model entry the
//! way munl's Python side does (`module.pt`, `module.json`, `model.safetensors`) and records
//! PyTorch's own outputs for a fixed batch: eval-mode logits, train-mode logits and the buffers
//! after that train-mode pass. The tests check munl's model against them, and check munl's own
//! mechanics independently of TorchScript: the eval-mode logits are recomputed from the state
//! dict with plain tensor ops (`by_hand`), so a module that ignored munl's parameter buffer
//! would be caught, not just agree with itself.

use std::path::Path;
use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use super::{load, Model, Source, StateDict};
use crate::artifact::file;
use crate::torch::data::store;
use crate::torch::optim::Optimizer;
use crate::torch::train;

/// Agreement asked of logits and running statistics against PyTorch (same libtorch, same CPU).
const TOL: f64 = 1e-5;

/// The expected outputs, beside the entry's files.
const EXPECTED: &str = "expected.safetensors";

/// Makes a custom model entry in `sys.argv[1]` and PyTorch's outputs for it in `expected.safetensors`:
/// `x` (a fixed batch), `y` (eval logits), `t` (train-mode logits) and `after.<buffer>` (every
/// buffer after that train-mode pass).
const MAKE_ENTRY: &str = r#"
import torch, importlib.util, tempfile, os, json, sys
from safetensors.torch import save_file
class Net(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
        self.fc = torch.nn.Linear(4, n)
    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))
torch.manual_seed(0)
inner = Net(4)
buffers = [n for n, _ in inner.named_buffers()]
def chain(name):
    expr = "self.inner"
    for part in name.split("."):
        expr = f"getattr({expr}, {part!r})"
    return expr
src = "import torch\nfrom typing import List\n\nclass Wrap(torch.nn.Module):\n    def __init__(self, inner):\n        super().__init__()\n        self.inner = inner\n\n    def forward(self, x):\n        return self.inner(x)\n\n    @torch.jit.export\n    def munl_buffers(self) -> List[torch.Tensor]:\n        return [" + ", ".join(chain(n) for n in buffers) + "]\n"
d = tempfile.mkdtemp(); p = os.path.join(d, "munl_wrap.py"); open(p, "w").write(src)
spec = importlib.util.spec_from_file_location("munl_wrap", p); mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
out = sys.argv[1]
torch.jit.script(mod.Wrap(inner)).save(os.path.join(out, "module.pt"))
json.dump({"buffers": buffers, "params": [n for n, _ in inner.named_parameters()]}, open(os.path.join(out, "module.json"), "w"))
save_file({k: v.contiguous() for k, v in inner.state_dict().items()}, os.path.join(out, "model.safetensors"))

torch.manual_seed(1)
x = torch.randn(5, 3, 16, 16)
with torch.no_grad():
    y = inner.eval()(x)
    t = inner.train()(x)
expected = {"x": x, "y": y, "t": t}
expected.update({"after." + k: v.clone() for k, v in inner.named_buffers()})
save_file(expected, os.path.join(out, "expected.safetensors"))
"#;

/// The entry's files, made once per test binary.
struct Files(Vec<(&'static str, Vec<u8>)>);

fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        // From a file: TorchScript compiles from source, which `python -c` does not keep.
        let script = dir.path().join("make_entry.py");
        std::fs::write(&script, MAKE_ENTRY).expect("write the script");
        crate::torch::tests::venv_python(&[script.as_os_str(), dir.path().as_os_str()]);
        let names = [file::MODEL, file::MODULE, file::MODULE_NAMES, EXPECTED];
        Files(names.iter().map(|n| (*n, std::fs::read(dir.path().join(n)).expect("made by Python"))).collect())
    })
}

/// A fresh folder holding the custom model entry (and `expected.safetensors`).
pub(crate) fn custom_entry() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in &files().0 {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    dir
}

/// The custom model of `custom_entry` (4 classes, any image size), on the CPU.
pub(crate) fn custom_model() -> Model {
    let dir = custom_entry();
    load(&dir.path().join(file::MODEL), Device::Cpu).expect("custom model")
}

fn expected(dir: &Path) -> StateDict {
    store::read_tensors(&dir.join(EXPECTED)).expect("expected outputs")
}

fn get<'a>(tensors: &'a [(String, Tensor)], name: &str) -> &'a Tensor {
    &tensors.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no tensor `{name}`")).1
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double)).abs().max().double_value(&[])
}

/// Eval-mode logits of the test's `Net` computed from a state dict with plain tensor ops.
fn by_hand(sd: &[(String, Tensor)], x: &Tensor) -> Tensor {
    let t = |n: &str| get(sd, n);
    let h = x.conv2d(t("features.0.weight"), Some(t("features.0.bias")), [1], [0], [1], 1);
    let h = h.batch_norm(
        Some(t("features.1.weight")),
        Some(t("features.1.bias")),
        Some(t("features.1.running_mean")),
        Some(t("features.1.running_var")),
        false,
        0.1,
        1e-5,
        false,
    );
    h.relu().mean_dim([2i64, 3].as_slice(), false, Kind::Float).linear(t("fc.weight"), Some(t("fc.bias")))
}

/// A few SGD steps of CE towards fixed labels, in train mode, through munl's trainer step.
fn sgd_steps(model: &Model, x: &Tensor, steps: usize) {
    let y = Tensor::from_slice(&[0i64, 1, 2, 3, 0]);
    let mut opt = Optimizer::sgd(0.5, 0.9, 5e-4);
    for _ in 0..steps {
        let loss = model.forward(x, true).cross_entropy_for_logits(&y);
        train::step(model, &mut opt, &loss);
    }
}

fn eval(model: &Model, x: &Tensor) -> Tensor {
    tch::no_grad(|| model.forward(x, false))
}

const PARAMS: [&str; 6] =
    ["features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "fc.weight", "fc.bias"];
const BUFFERS: [&str; 3] = ["features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"];

#[test]
fn a_custom_model_loads_and_matches_pytorch_in_eval_mode() {
    let dir = custom_entry();
    let model = load(&dir.path().join(file::MODEL), Device::Cpu).expect("custom model");
    let exp = expected(dir.path());
    assert_eq!(model.arch(), "custom");
    assert_eq!(model.param_names(), PARAMS);
    assert_eq!(model.names_in_model_order(), PARAMS);
    let names: Vec<String> = model.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, PARAMS.iter().chain(&BUFFERS).map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(model.parameter_count(), 4 * 3 * 9 + 4 + 4 + 4 + 4 * 4 + 4);
    assert_eq!(model.flat().size(), [model.parameter_count()]);
    let x = get(&exp, "x");
    let d = max_diff(&eval(&model, x), get(&exp, "y"));
    eprintln!("custom model vs PyTorch, eval: max |Δ| = {d:e}");
    assert!(d < TOL, "eval logits differ from PyTorch's by {d}");
    // The stored state dict as read.
    let stored = store::read_tensors(&dir.path().join(file::MODEL)).unwrap();
    for (name, t) in model.state_dict() {
        assert!(t.equal(get(&stored, &name)), "{name} differs from the file");
    }
}

#[test]
fn train_mode_updates_the_running_statistics_like_pytorch() {
    let dir = custom_entry();
    let model = load(&dir.path().join(file::MODEL), Device::Cpu).expect("custom model");
    let exp = expected(dir.path());
    let x = get(&exp, "x");
    let t = tch::no_grad(|| model.forward(x, true));
    let d = max_diff(&t, get(&exp, "t"));
    eprintln!("custom model vs PyTorch, train mode: max |Δ| = {d:e}");
    assert!(d < TOL, "train-mode logits differ by {d}");
    let sd = model.state_dict();
    for name in BUFFERS {
        let d = max_diff(get(&sd, name), get(&exp, &format!("after.{name}")));
        assert!(d < TOL, "{name} after a train-mode pass differs by {d}");
    }
    assert_eq!(get(&sd, "features.1.num_batches_tracked").int64_value(&[]), 1);
    // Eval mode again: uses (and keeps) the updated statistics.
    let y = eval(&model, x);
    assert!(max_diff(&y, &by_hand(&model.state_dict(), x)) < TOL);
    assert_eq!(get(&model.state_dict(), "features.1.num_batches_tracked").int64_value(&[]), 1);
}

#[test]
fn the_module_computes_with_munls_parameter_buffer() {
    let dir = custom_entry();
    let model = load(&dir.path().join(file::MODEL), Device::Cpu).expect("custom model");
    let x = get(&expected(dir.path()), "x").shallow_clone();
    let before = eval(&model, &x);
    assert!(max_diff(&before, &by_hand(&model.state_dict(), &x)) < TOL);
    // Writing into the flat buffer is what the module sees.
    tch::no_grad(|| {
        let _ = model.flat().shallow_clone().g_mul_scalar_(0.5);
    });
    let halved = eval(&model, &x);
    assert!(max_diff(&halved, &before) > 1e-3, "the module ignored a change of munl's parameter buffer");
    assert!(max_diff(&halved, &by_hand(&model.state_dict(), &x)) < TOL);
    // munl's optimiser updates the flat buffer in place; the module follows.
    let start = model.flat().copy();
    sgd_steps(&model, &x, 3);
    assert!(max_diff(model.flat(), &start) > 1e-3, "SGD did not move the weights");
    for (name, p) in model.param_names().iter().zip(model.params()) {
        assert!(max_diff(p, get(&model.state_dict(), name)) == 0.0);
    }
    let trained = eval(&model, &x);
    assert!(max_diff(&trained, &halved) > 1e-3);
    let d = max_diff(&trained, &by_hand(&model.state_dict(), &x));
    assert!(d < TOL, "after SGD the module's logits are {d} off the state dict's");
    assert_eq!(get(&model.state_dict(), "features.1.num_batches_tracked").int64_value(&[]), 3);
}

#[test]
fn a_stored_custom_model_reloads_identically() {
    let dir = custom_entry();
    let model = load(&dir.path().join(file::MODEL), Device::Cpu).expect("custom model");
    let x = get(&expected(dir.path()), "x").shallow_clone();
    // Trained first, so that the stored weights are no longer module.pt's own.
    let initial = eval(&model, &x);
    sgd_steps(&model, &x, 2);
    assert!(max_diff(&eval(&model, &x), &initial) > 1e-3, "training did not change the logits");
    let out = tempfile::tempdir().unwrap();
    train::write_run(out.path(), &model, 0.5, vec![1.0], None, Device::Cpu).expect("write_run");
    for name in [file::MODEL, file::MODULE, file::MODULE_NAMES, file::RUN] {
        assert!(out.path().join(name).exists(), "{name} not written");
    }
    for name in [file::MODULE, file::MODULE_NAMES] {
        assert_eq!(std::fs::read(out.path().join(name)).unwrap(), std::fs::read(dir.path().join(name)).unwrap());
    }
    let again = load(&out.path().join(file::MODEL), Device::Cpu).expect("reload");
    assert_eq!(again.arch(), "custom");
    let (a, b) = (model.state_dict(), again.state_dict());
    assert_eq!(a.len(), b.len());
    for ((na, ta), (nb, tb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert!(ta.equal(tb), "{na} changed in the round trip");
    }
    assert!(eval(&model, &x).equal(&eval(&again, &x)), "the reloaded model's logits differ");
    assert!(max_diff(&eval(&again, &x), &by_hand(&b, &x)) < TOL);
    // `Model::write` alone writes the same three files.
    let plain = tempfile::tempdir().unwrap();
    again.write(plain.path()).unwrap();
    let third = load(&plain.path().join(file::MODEL), Device::Cpu).unwrap();
    assert!(eval(&third, &x).equal(&eval(&model, &x)));
}

#[test]
fn a_duplicate_is_independent() {
    let dir = custom_entry();
    let model = load(&dir.path().join(file::MODEL), Device::Cpu).expect("custom model");
    let x = get(&expected(dir.path()), "x").shallow_clone();
    let snapshot: StateDict = model.state_dict().into_iter().map(|(n, t)| (n, t.copy())).collect();
    let logits = eval(&model, &x);
    let copy = model.duplicate().expect("duplicate");
    assert_eq!(copy.arch(), "custom");
    // Training the original (parameters and running statistics) leaves the copy alone…
    sgd_steps(&model, &x, 2);
    assert!(max_diff(&eval(&model, &x), &logits) > 1e-3, "training did not change the logits");
    for (name, t) in copy.state_dict() {
        assert!(t.equal(get(&snapshot, &name)), "{name} of the copy changed with the original");
    }
    assert!(eval(&copy, &x).equal(&logits));
    // …and the other way round.
    let trained = eval(&model, &x);
    sgd_steps(&copy, &x, 1);
    assert!(eval(&model, &x).equal(&trained));
    assert!(max_diff(&eval(&copy, &x), &logits) > 1e-4);
    // `copy_from` brings the copy back in line, buffers included.
    copy.copy_from(&model);
    assert!(eval(&copy, &x).equal(&trained));
}

#[test]
fn the_stored_weights_override_the_modules_own() {
    let dir = custom_entry();
    let path = dir.path().join(file::MODEL);
    let exp = expected(dir.path());
    let x = get(&exp, "x");
    let changed: StateDict = store::read_tensors(&path)
        .unwrap()
        .into_iter()
        .map(|(n, t)| if t.is_floating_point() && !n.ends_with("running_var") { (n, t * -0.7 + 0.1) } else { (n, t) })
        .collect();
    store::write_tensors(&path, &changed).unwrap();
    let model = load(&path, Device::Cpu).expect("custom model");
    let y = eval(&model, x);
    assert!(max_diff(&y, get(&exp, "y")) > 1e-3, "the module kept its own weights");
    let d = max_diff(&y, &by_hand(&changed, x));
    assert!(d < TOL, "the logits are {d} off those of the stored weights");
}

#[test]
fn weights_that_do_not_fit_the_module_are_refused_by_name() {
    let dir = custom_entry();
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    let source = Source::from_bytes(read(file::MODULE), read(file::MODULE_NAMES));
    let tensors = || store::read_tensors(&dir.path().join(file::MODEL)).unwrap();
    let build = |sd: StateDict| Model::from_script(source.clone(), sd, Device::Cpu).err().expect("refused").message;

    let missing: StateDict = tensors().into_iter().filter(|(n, _)| n != "fc.bias").collect();
    assert!(build(missing).contains("`fc.bias`"));
    let mut extra = tensors();
    extra.push(("fc.scale".to_string(), Tensor::ones([4], (Kind::Float, Device::Cpu))));
    assert!(build(extra).contains("`fc.scale`"));
    let wrong: StateDict = tensors()
        .into_iter()
        .map(|(n, t)| if n == "fc.weight" { (n, Tensor::zeros([4, 5], (Kind::Float, Device::Cpu))) } else { (n, t) })
        .collect();
    let message = build(wrong);
    assert!(message.contains("`fc.weight`") && message.contains("[4, 5]"), "{message}");

    let renamed = Source::from_bytes(read(file::MODULE), br#"{"params": ["a"], "buffers": []}"#.to_vec());
    let message = Model::from_script(renamed, tensors(), Device::Cpu).err().expect("refused").message;
    assert!(message.contains("features.0.weight") && message.contains("module.json"), "{message}");
}
