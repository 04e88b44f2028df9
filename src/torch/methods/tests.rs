//! Behaviour tests of the methods on tiny seeded CPU data and models: each would fail if its
//! method did something else than the spec says. Method-specific tests that need the method's
//! internals live beside the method; these exercise whole runs through `Ctx`.

use std::collections::BTreeMap;

use tch::{Device, Kind, Tensor};

use super::{method, Ctx};
use crate::ops::{self, Category, Value};
use crate::stats::split::Split;
use crate::torch::data::resident::Resident;
use crate::torch::metrics::losses::per_sample;
use crate::torch::models::{init::init, rng::GLOBAL_RNG, Model};

/// A tiny dataset (96 random 3×16×16 images, 4 classes) with a fixed split, and a `cnn`
/// (width 8) on it.
pub(crate) struct Fixture {
    pub(crate) res: Resident,
    pub(crate) split: Split,
    pub(crate) model: Model,
}

pub(crate) const CLASSES: i64 = 4;

pub(crate) fn fixture() -> Fixture {
    fixture_with("cnn")
}

/// As `fixture`, with `arch` (`cnn`, `resnet18`, `vit11m` at 32×32 then).
pub(crate) fn fixture_with(arch: &str) -> Fixture {
    let side = if arch == "cnn" { 16 } else { 32 };
    let res = {
        let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(7);
        Resident::random(96, [3, side, side], CLASSES, Device::Cpu)
    };
    let width = if arch == "cnn" { 8 } else { 32 };
    let model = Model::from_state_dict(init(arch, width, CLASSES, 0).expect("init"), Device::Cpu).expect("model");
    let split = Split {
        train: (0..72).collect(),
        val: (72..84).collect(),
        retain: (0..60).collect(),
        forget: (60..72).collect(),
        test: (84..96).collect(),
    };
    Fixture { res, split, model }
}

/// Parameters from `(name, value)` pairs.
pub(crate) fn params(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn quiet(_: u64, _: u64, _: &str) {}

/// A context for `op` on a copy of the fixture's model, with `p` over the catalogue's defaults
/// (as lowering fills them).
pub(crate) fn ctx<'a>(f: &'a Fixture, op: &'a str, p: &BTreeMap<String, Value>) -> Ctx<'a> {
    let mut all = ops::defaults(Category::Method, op);
    all.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ctx::new(op, all, f.model.duplicate().expect("copy"), &f.res, &f.split, &quiet)
}

/// Runs `op` with `p` on the fixture; returns the unlearned model and the epoch losses.
pub(crate) fn run(f: &Fixture, op: &str, p: &[(&str, Value)]) -> (Model, Vec<f64>) {
    let p = params(p);
    let mut c = ctx(f, op, &p);
    method(op).unwrap_or_else(|| panic!("no method {op}"))(&mut c).unwrap_or_else(|e| panic!("{op}: {e:?}"));
    (c.model, c.losses)
}

/// Mean eval-mode CE of `model` on `indices`.
pub(crate) fn mean_ce(f: &Fixture, model: &Model, indices: &[i64]) -> f64 {
    let pass = f.res.ordered(indices);
    let (x, y) = f.res.batch(&pass, 0, indices.len() as i64);
    tch::no_grad(|| per_sample(&model.forward(&x, false), &y).mean(Kind::Float).double_value(&[]))
}

/// The largest absolute difference between two models' parameter `name`.
pub(crate) fn param_diff(a: &Model, b: &Model, name: &str) -> f64 {
    (a.param(name).unwrap() - b.param(name).unwrap()).abs().max().double_value(&[])
}

#[test]
fn every_catalogue_method_has_an_implementation() {
    for op in ops::in_category(Category::Method) {
        assert!(method(op.name).is_some(), "`{}` is in the catalogue but not in the torch backend", op.name);
    }
}

#[test]
fn every_method_runs_on_the_tiny_cnn_with_few_epochs() {
    let f = fixture();
    // `python` runs a Python file: tests/python.rs runs it with its own files.
    for op in ops::in_category(Category::Method).filter(|op| op.name != "python") {
        let mut p = vec![("batch", Value::Int(16))];
        for name in ["epochs", "retain_epochs", "fine_epochs"] {
            if op.field(name).is_some() {
                p.push((name, if op.name == "prmq" { Value::Float(1.0) } else { Value::Int(1) }));
            }
        }
        let (m, _) = run(&f, op.name, &p);
        let finite = m.flat().isfinite().all().int64_value(&[]) == 1;
        assert!(finite, "{}: non-finite parameters", op.name);
    }
}

#[test]
fn fisher_and_influence_refuse_tinyvit_with_the_reason() {
    // One TinyViT fixture for both: building it is the slow part.
    let f = fixture_with("vit11m");
    for op in ["fisher", "influence"] {
        let p = params(&[]);
        let mut c = ctx(&f, op, &p);
        let err = method(op).unwrap()(&mut c).expect_err("vit11m is refused");
        assert!(err.message.contains("vit11m") && err.message.contains("attention biases"), "{op}: {}", err.message);
    }
}

#[test]
fn finetune_lowers_the_retain_loss() {
    let f = fixture();
    let (m, _) =
        run(&f, "finetune", &[("epochs", Value::Int(3)), ("batch", Value::Int(16)), ("lr", Value::Float(0.05))]);
    assert!(mean_ce(&f, &m, &f.split.retain) < mean_ce(&f, &f.model, &f.split.retain));
}

#[test]
fn gradient_ascent_raises_the_forget_loss() {
    let f = fixture();
    let (m, losses) = run(&f, "gradient_ascent", &[("epochs", Value::Int(2)), ("batch", Value::Int(8))]);
    assert!(mean_ce(&f, &m, &f.split.forget) > mean_ce(&f, &f.model, &f.split.forget));
    assert!(losses.iter().all(|l| *l < 0.0), "GA records −CE: {losses:?}");
}

#[test]
fn neggrad_plus_keeps_batchnorm_statistics() {
    let f = fixture();
    let (m, _) = run(&f, "neggrad_plus", &[("epochs", Value::Int(1)), ("batch", Value::Int(16))]);
    for name in ["bn1.running_mean", "bn1.running_var", "bn2.running_mean"] {
        assert!(m.tensor(name).unwrap().equal(f.model.tensor(name).unwrap()), "{name} changed in eval mode");
    }
    assert!(param_diff(&m, &f.model, "fc2.weight") > 0.0);
}

#[test]
fn srl_relabels_forget_samples_from_a_fresh_numpy_stream_each_epoch() {
    let f = fixture();
    let p = params(&[]);
    let mut c = ctx(&f, "successive_random_labels", &p);
    let first = super::successive_random_labels::relabelled_pass(&mut c);
    let second = super::successive_random_labels::relabelled_pass(&mut c);
    let labels = |pass| {
        let n = f.split.forget.len() + f.split.retain.len();
        let idx = c.res.batch_indices(pass, 0, n as i64);
        let (_, y) = c.res.batch(pass, 0, n as i64);
        let forget = c.forget_flags().index_select(0, &idx);
        (Vec::<i64>::try_from(y.masked_select(&forget)).unwrap(), Vec::<i64>::try_from(idx).unwrap())
    };
    let (a, order_a) = labels(&first);
    let (b, order_b) = labels(&second);
    assert_ne!(order_a, order_b, "each epoch reshuffles");
    // Fetch-order relabelling from RandomState(123): the same label sequence every epoch.
    assert_eq!(a, b);
    let mut rs = crate::stats::mt19937::Mt19937::new(123);
    let expected: Vec<i64> = (0..a.len()).map(|_| rs.interval(CLASSES as u64 - 1) as i64).collect();
    assert_eq!(a, expected);
    // Retain samples keep their own labels.
    let n = f.split.forget.len() + f.split.retain.len();
    let (_, y) = c.res.batch(&first, 0, n as i64);
    let own = f.res.labels().index_select(0, &c.res.batch_indices(&first, 0, n as i64));
    let retain = c.forget_flags().index_select(0, &c.res.batch_indices(&first, 0, n as i64)).logical_not();
    assert!(y.masked_select(&retain).equal(&own.masked_select(&retain)));
}

#[test]
fn ct_transposes_every_conv_kernel() {
    let f = fixture();
    let m = f.model.duplicate().unwrap();
    super::ct::transpose_convs(&m);
    for name in ["conv1.weight", "conv2.weight"] {
        let want = f.model.param(name).unwrap().transpose(2, 3);
        assert!(m.param(name).unwrap().equal(&want), "{name}");
        assert!(!m.param(name).unwrap().equal(f.model.param(name).unwrap()));
    }
    assert!(m.param("fc1.weight").unwrap().equal(f.model.param("fc1.weight").unwrap()));
}

#[test]
fn negative_gradient_ignores_the_forget_set() {
    // The clamp to [0, 1/C] zeroes every negated forget term: a run equals one on retain only
    // up to the data order, so check the gradient directly.
    let f = fixture();
    let m = &f.model;
    let flags = {
        let p = params(&[]);
        ctx(&f, "negative_gradient", &p).forget_flags()
    };
    let pass = f.res.ordered(&f.split.forget);
    let (x, y) = f.res.batch(&pass, 0, 12);
    let ce = per_sample(&m.forward(&x, false), &y);
    let forget = flags.index_select(0, &f.res.batch_indices(&pass, 0, 12));
    let loss = ce.where_self(&forget.logical_not(), &-&ce).clamp(0.0, 1.0 / CLASSES as f64).mean(Kind::Float);
    let grads = Tensor::run_backward(&[loss], m.params(), false, true);
    assert!(grads.iter().all(|g| !g.defined() || g.abs().max().double_value(&[]) == 0.0));
}

#[test]
fn bad_teacher_moves_forget_outputs_towards_the_incompetent_teacher() {
    let f = fixture();
    let bad = Model::from_state_dict(init("resnet18", 32, CLASSES, 123).unwrap(), Device::Cpu).unwrap();
    let gap = |m: &Model| {
        let pass = f.res.ordered(&f.split.forget);
        let (x, _) = f.res.batch(&pass, 0, 12);
        tch::no_grad(|| {
            let target = super::losses::softmax_t(&bad.forward(&x, false), 1.0);
            super::losses::kl_elementwise_mean(&target, &m.forward(&x, false), 1.0).double_value(&[])
        })
    };
    let (m, _) = run(&f, "bad_teacher", &[("epochs", Value::Int(3)), ("batch", Value::Int(16))]);
    assert!(gap(&m) < gap(&f.model), "{} vs {}", gap(&m), gap(&f.model));
}

/// Every method for one epoch on ResNet-18 and TinyViT-11M at 32×32 (slow on a CPU: run with
/// `cargo test --lib every_method_runs_on_the_benchmark_models -- --ignored`).
#[test]
#[ignore = "minutes on a CPU"]
fn every_method_runs_on_the_benchmark_models() {
    for arch in ["resnet18", "vit11m"] {
        let f = fixture_with(arch);
        for op in ops::in_category(Category::Method).filter(|op| op.name != "python") {
            let mut p = vec![("batch", Value::Int(32))];
            for name in ["epochs", "retain_epochs", "fine_epochs"] {
                if op.field(name).is_some() {
                    p.push((name, if op.name == "prmq" { Value::Float(1.0) } else { Value::Int(1) }));
                }
            }
            let params = params(&p);
            let mut c = ctx(&f, op.name, &params);
            let t0 = std::time::Instant::now();
            let result = method(op.name).expect("registered")(&mut c);
            match result {
                Ok(()) => {
                    let finite = c.model.flat().isfinite().all().int64_value(&[]) == 1;
                    assert!(finite, "{arch} {}: non-finite parameters", op.name);
                    eprintln!("{arch} {}: ok in {:.1} s", op.name, t0.elapsed().as_secs_f64());
                }
                Err(e) if arch == "vit11m" && matches!(op.name, "fisher" | "influence") => {
                    assert!(e.message.contains("vit11m"), "{e:?}");
                    eprintln!("{arch} {}: refused as the reference fails: {}", op.name, e.message);
                }
                Err(e) => panic!("{arch} {}: {e:?}", op.name),
            }
        }
    }
}

/// The fixture's data with a custom model (a TorchScript module made by PyTorch,
/// `models::script_tests`) instead of the `cnn`.
fn custom_fixture() -> Fixture {
    Fixture { model: crate::torch::models::script_tests::custom_model(), ..fixture() }
}

/// The methods that find layers by the names of munl's own architectures.
const NEED_KNOWN_LAYERS: [&str; 4] = ["cf_k", "eu_k", "kde", "rni"];

#[test]
fn cf_k_refuses_a_custom_model_naming_what_it_needs() {
    let f = custom_fixture();
    let p = params(&[("epochs", Value::Int(1)), ("batch", Value::Int(16))]);
    let mut c = ctx(&f, "cf_k", &p);
    let err = method("cf_k").unwrap()(&mut c).expect_err("a custom model is refused");
    assert_eq!(err.kind, crate::artifact::FailureKind::Refused);
    assert!(err.message.starts_with("`cf_k` does not run on a custom model"), "{}", err.message);
    assert!(err.message.contains("layer names") && err.message.contains("resnet18"), "{}", err.message);
    assert!(c.model.flat().equal(f.model.flat()), "refused before changing anything");
}

#[test]
fn finetune_trains_a_custom_model() {
    let f = custom_fixture();
    let (m, losses) =
        run(&f, "finetune", &[("epochs", Value::Int(3)), ("batch", Value::Int(16)), ("lr", Value::Float(0.05))]);
    assert_eq!(losses.len(), 3);
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    assert!(!m.flat().equal(f.model.flat()), "finetune did not move the weights");
    assert!(mean_ce(&f, &m, &f.split.retain) < mean_ce(&f, &f.model, &f.split.retain));
    // Train mode: the module's own BatchNorm counted the steps (60 retain samples, batches of 16).
    let steps = m.tensor("features.1.num_batches_tracked").unwrap().int64_value(&[]);
    assert_eq!(steps, 3 * 4);
}

#[test]
fn every_method_runs_on_a_custom_model_or_refuses_it() {
    let f = custom_fixture();
    for op in ops::in_category(Category::Method) {
        if op.name == "python" {
            continue; // runs a Python file: tested with its own fixtures
        }
        let mut p = vec![("batch", Value::Int(16))];
        for name in ["epochs", "retain_epochs", "fine_epochs"] {
            if op.field(name).is_some() {
                p.push((name, if op.name == "prmq" { Value::Float(1.0) } else { Value::Int(1) }));
            }
        }
        let params = params(&p);
        let mut c = ctx(&f, op.name, &params);
        match method(op.name).expect("registered")(&mut c) {
            Ok(()) => {
                assert!(!NEED_KNOWN_LAYERS.contains(&op.name), "{} ran on a custom model", op.name);
                let finite = c.model.flat().isfinite().all().int64_value(&[]) == 1;
                assert!(finite, "{}: non-finite parameters", op.name);
                assert_eq!(c.model.arch(), "custom", "{}", op.name);
            }
            Err(e) => {
                assert!(NEED_KNOWN_LAYERS.contains(&op.name), "{}: {e:?}", op.name);
                assert_eq!(e.kind, crate::artifact::FailureKind::Refused, "{}: {e:?}", op.name);
                assert!(e.message.contains("custom model"), "{}: {}", op.name, e.message);
            }
        }
    }
}
