//! Methods written in Python (`python("methods/x.py")(original)`), run by the real worker and a
//! Python with torch (`scripts/with-torch` provides one): the same weights as the built-in
//! method they re-implement, failures that name the place in the Python file, a re-run of
//! exactly the nodes of an edited file, and a returned model munl cannot store refused clearly.

use std::path::Path;
use std::process::Command;

use tch::Tensor;

/// The toy experiment (synthetic data, a small CNN) with the built-in FT and its Python twin.
const TOY: &str = r#"
seeds = 0..1
dataset toy {
  source = synthetic(classes: 4, size: 160, test: 40, shape: [3, 8, 8], seed: 1)
  split  = random(val: 0.15, forget: 0.10, seed: 123)
}
model net = cnn(width: 4)
train original { model = net; data = toy.train; epochs = 2; batch = 32 }
train retrained = original { data = toy.retain }
unlearn ft   = finetune(original) { epochs = 2; lr = 0.05; batch = 16 }
unlearn pyft = python("methods/finetune.py")(original) { epochs = 2; lr = 0.05; batch = 16 }
METHODS
evaluate bench { models = [original, retrained, ft, pyft MODELS]; reference = retrained; metrics = [accuracy] }
"#;

/// A folder holding `toy.munl` (with `methods` declared and evaluated) and the Python files.
fn lab(methods: &[(&str, &str)], files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let decls: Vec<String> = methods.iter().map(|(name, head)| format!("unlearn {name} = {head}")).collect();
    let models: String = methods.iter().map(|(name, _)| format!(", {name}")).collect();
    let text = TOY.replace("METHODS", &decls.join("\n")).replace(" MODELS", &models);
    std::fs::write(dir.path().join("toy.munl"), text).unwrap();
    std::fs::create_dir(dir.path().join("methods")).unwrap();
    let finetune = include_str!("../experiments/byo/methods/finetune.py");
    for (name, text) in [("finetune.py", finetune)].iter().chain(files) {
        std::fs::write(dir.path().join("methods").join(name), text).unwrap();
    }
    dir
}

/// `munl ARGS` in `dir` on the cache `dir/cache`: exit code, stdout, stderr.
fn munl(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(args)
        .current_dir(dir)
        .env("MUNL_CACHE", dir.join("cache"))
        .env("TORCH_CPP_LOG_LEVEL", "ERROR")
        .output()
        .expect("munl starts");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn run(dir: &Path) -> (Option<i32>, String) {
    let (code, _, err) = munl(dir, &["run", "toy.munl", "--device", "cpu"]);
    (code, err)
}

/// The labels a run computed, from its progress lines.
fn computed(stderr: &str) -> Vec<String> {
    let mut labels: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("done    "))
        .map(|l| l.rsplit_once(" (").map_or(l, |(label, _)| label).to_string())
        .collect();
    labels.sort();
    labels
}

/// Where `munl show` says a node's result is, if it is cached.
fn entry(dir: &Path, label: &str) -> Option<std::path::PathBuf> {
    let (_, out, _) = munl(dir, &["show", "toy.munl", label]);
    out.lines().find_map(|l| l.trim().strip_prefix("status   cached in ").map(|p| Path::new(p.trim()).to_path_buf()))
}

/// A stored model's tensors, by name.
fn weights(dir: &Path) -> Vec<(String, Tensor)> {
    let mut w = Tensor::read_safetensors(dir.join("model.safetensors")).unwrap();
    w.sort_by(|a, b| a.0.cmp(&b.0));
    w
}

/// The Python re-implementation of FT (experiments/byo/methods/finetune.py) and the built-in
/// `finetune`, with the same fields on the same seed, end with the same weights on the CPU:
/// the same batches in the same order through the same libtorch kernels. Tolerance 1e-5
/// absolute on every tensor (measured: 1.2e-7 on MNIST): PyTorch's SGD updates each parameter
/// with its own kernels where munl updates one flat buffer, which may round differently in the
/// last bit, and two epochs compound that.
#[test]
fn python_finetune_gives_the_builtin_weights() {
    let dir = lab(&[], &[]);
    let (code, err) = run(dir.path());
    assert_eq!(code, Some(0), "{err}");
    let (ft, py) = (
        weights(&entry(dir.path(), "unlearn ft [seed=0]").unwrap()),
        weights(&entry(dir.path(), "unlearn pyft [seed=0]").unwrap()),
    );
    let names = |w: &[(String, Tensor)]| w.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ft), names(&py), "the same tensors, in the same order");
    let mut worst = 0f64;
    for ((name, a), (_, b)) in ft.iter().zip(&py) {
        let d = (a.to_kind(tch::Kind::Double) - b.to_kind(tch::Kind::Double)).abs().max().double_value(&[]);
        assert!(d <= 1e-5, "{name} differs by {d}");
        worst = worst.max(d);
    }
    eprintln!("Python FT vs built-in FT: largest difference {worst:e}");
    let log = std::fs::read_to_string(entry(dir.path(), "unlearn pyft [seed=0]").unwrap().join("python.log")).unwrap();
    assert!(log.contains("munl: epoch 2 loss"), "Python's output is the node's log:\n{log}");
}

/// A Python exception fails its node (exit 2) with the exception and its file and line, and
/// commits nothing for it; the other nodes are computed and kept.
#[test]
fn a_python_exception_fails_its_node_with_its_place() {
    let boom = "def unlearn(model, data, *, epochs: int = 1):\n    for x, y in data.retain(8):\n        pass\n    raise ValueError(\"no convergence\")\n";
    let dir = lab(&[("boom", r#"python("methods/boom.py")(original)"#)], &[("boom.py", boom)]);
    let (code, err) = run(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("boom.py:4: ValueError: no convergence"), "{err}");
    assert!(err.contains("unlearn boom"), "{err}");
    assert!(entry(dir.path(), "unlearn boom [seed=0]").is_none(), "nothing committed for the failed node");
    assert!(entry(dir.path(), "unlearn ft [seed=0]").is_some(), "the rest is kept");
}

/// Editing a Python file re-runs its nodes and their dependants, nothing else.
#[test]
fn editing_a_python_file_reruns_exactly_its_nodes() {
    let dir = lab(&[], &[]);
    let (code, err) = run(dir.path());
    assert_eq!(code, Some(0), "{err}");
    let file = dir.path().join("methods/finetune.py");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("lr0 * (1 + math.cos", "0.5 * lr0 * (1 + math.cos").replace(") / 2\n", ")\n"))
        .unwrap();
    let (code, err) = run(dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        computed(&err),
        ["evaluate bench", "measure pyft [seed=0]", "unlearn pyft [seed=0]"],
        "only the edited method's nodes and their dependants: {err}"
    );
}

/// A returned model munl cannot store as the architecture's fails its node and says why: other
/// parameter names, or logits of the wrong shape.
#[test]
fn a_returned_model_munl_cannot_store_is_refused() {
    let renamed =
        "import torch\n\ndef unlearn(model, data, *, k: int = 1):\n    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 4))\n";
    let narrow = "import torch\n\nclass Two(torch.nn.Module):\n    def __init__(self, inner):\n        super().__init__()\n        self.inner = inner\n\n    def forward(self, x):\n        return self.inner(x)[:, :2]\n\n    def state_dict(self, *a, **k):\n        return self.inner.state_dict(*a, **k)\n\ndef unlearn(model, data):\n    return Two(model)\n";
    let dir = lab(
        &[
            ("renamed", r#"python("methods/renamed.py")(original)"#),
            ("narrow", r#"python("methods/narrow.py")(original)"#),
        ],
        &[("renamed.py", renamed), ("narrow.py", narrow)],
    );
    let (code, _, err) = munl(dir.path(), &["run", "toy.munl", "--device", "cpu", "--keep-going"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("state dict differs from the architecture's: missing conv1.weight"), "{err}");
    assert!(err.contains("unexpected 1.weight, 1.bias"), "{err}");
    assert!(err.contains("output for a batch of 2 is [2, 2], not [2, 4] logits"), "{err}");
}

/// A custom architecture (a PyTorch module compiled to TorchScript) trained by munl's own
/// trainer: built-in and Python methods run on it (a searched one included), CF-k refuses it
/// naming what it needs, and a Python method's non-finite loss is recorded as its divergence.
#[test]
fn a_custom_model_is_trained_unlearned_searched_and_refused_clearly() {
    let net = "import torch\nfrom torch import nn\n\nclass Net(nn.Module):\n    def __init__(self, num_classes, *, width: int = 4):\n        super().__init__()\n        self.features = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.AdaptiveAvgPool2d(2))\n        self.fc = nn.Linear(4 * width, num_classes)\n\n    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return self.fc(torch.flatten(self.features(x), 1))\n";
    let nan = "def unlearn(model, data, *, epochs: int = 2):\n    for e in range(epochs):\n        data.epoch_done(float('nan') if e == 1 else 1.0)\n    return model\n";
    let dir = lab(
        &[
            ("cfk", "cf_k(original) { epochs = 1 }"),
            ("nan", r#"python("methods/nan.py")(original)"#),
            (
                "tuned",
                r#"python("methods/finetune.py")(original) { epochs = 1; batch = 16; lr = log_uniform(1e-3, 1e-1); tune = search(trials: 2, seeds: [0]) }"#,
            ),
        ],
        &[("nan.py", nan)],
    );
    let text = std::fs::read_to_string(dir.path().join("toy.munl")).unwrap();
    std::fs::write(
        dir.path().join("toy.munl"),
        text.replace("model net = cnn(width: 4)", r#"model net = python("models/net.py", class: "Net") { width = 3 }"#),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(dir.path().join("models/net.py"), net).unwrap();
    let (code, _, err) = munl(dir.path(), &["run", "toy.munl", "--device", "cpu", "--keep-going"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`cf_k` does not run on a custom model"), "{err}");
    for label in ["train original [seed=0]", "unlearn ft [seed=0]", "unlearn pyft [seed=0]", "unlearn tuned [seed=0]"] {
        assert!(entry(dir.path(), label).is_some(), "{label} is computed: {err}");
    }
    let init = entry(dir.path(), "init net (4 classes) [seed=0]").expect("the custom model's initial weights");
    assert!(init.join("module.pt").is_file() && init.join("module.json").is_file(), "the TorchScript module is stored");
    let run = std::fs::read_to_string(entry(dir.path(), "unlearn nan [seed=0]").unwrap().join("run.json")).unwrap();
    assert!(run.contains("non-finite"), "the divergence is recorded: {run}");
}

/// The GPU check script (`scripts/gpu-check`) runs end to end in its quick mode on the CPU, so
/// that it works the day a GPU is lent: every row of its table is there.
#[test]
fn the_gpu_check_script_runs_in_its_quick_mode() {
    let bin = Path::new(env!("CARGO_BIN_EXE_munl")).parent().unwrap();
    let python =
        std::env::var("VIRTUAL_ENV").map(|v| Path::new(&v).join("bin/python")).expect("scripts/with-torch's venv");
    let out = Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/gpu_check.py"))
        .args(["--quick", "--munl"])
        .arg(bin)
        .env("TORCH_CPP_LOG_LEVEL", "ERROR")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for row in [
        "reference's way",
        "data resident on the device",
        "epoch, munl",
        "8 training(s) at once",
        "TinyViT-11M 32×32, munl",
        "forward+loss",
    ] {
        assert!(stdout.contains(row), "no `{row}` in:\n{stdout}");
    }
}

/// The Python processes of `dir`'s methods (their working folder is `dir/methods`).
fn pythons_in(dir: &Path) -> Vec<u32> {
    let methods = dir.join("methods").canonicalize().unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
            String::from_utf8_lossy(&cmd).contains("munl._run") && cwd.as_deref() == Some(methods.as_path())
        })
        .collect()
}

/// A run killed with SIGKILL while a Python method computes takes the Python process with it
/// (it dies with the worker), and the next run computes the method again.
#[test]
fn a_killed_run_takes_its_python_process_with_it() {
    let slow =
        "import time\n\ndef unlearn(model, data, *, secs: float = 60):\n    time.sleep(secs)\n    return model\n";
    let dir = lab(&[("slow", r#"python("methods/slow.py")(original)"#)], &[("slow.py", slow)]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(["run", "toy.munl", "slow", "--device", "cpu"])
        .current_dir(dir.path())
        .env("MUNL_CACHE", dir.path().join("cache"))
        .env("TORCH_CPP_LOG_LEVEL", "ERROR")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while pythons_in(dir.path()).is_empty() {
        assert!(t0.elapsed().as_secs() < 120, "the Python method never started");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let t0 = std::time::Instant::now();
    while !pythons_in(dir.path()).is_empty() {
        assert!(t0.elapsed().as_secs() < 10, "the Python process outlived the run: {:?}", pythons_in(dir.path()));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(dir.path().join("toy.munl")).unwrap();
    std::fs::write(
        dir.path().join("toy.munl"),
        text.replace(r#"python("methods/slow.py")(original)"#, r#"python("methods/slow.py")(original) { secs = 0.1 }"#),
    )
    .unwrap();
    let (code, _, err) = munl(dir.path(), &["run", "toy.munl", "slow", "--device", "cpu"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(entry(dir.path(), "unlearn slow [seed=0]").is_some(), "{err}");
}
