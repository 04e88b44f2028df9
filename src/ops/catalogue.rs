//! The static table of operations.

use std::collections::BTreeMap;

use super::limits;
use super::spec::{count, field, Category, Default, Export, OpSpec, Ty, BATCH, EPOCHS, FRACTION, RATE, SEED};
use super::value::{Call, Value};
use super::{datasets, methods};

/// Every operation munl knows, in catalogue order (the sources live in `datasets`, the methods
/// in `methods`).
pub(crate) fn all() -> impl Iterator<Item = &'static OpSpec> {
    datasets::SOURCES.iter().chain(BUILDING).chain(methods::ALL).chain(MEASURING)
}

/// Looks an operation up by category and name.
pub(crate) fn find(category: Category, name: &str) -> Option<&'static OpSpec> {
    all().find(|op| op.category == category && op.name == name)
}

/// The version of an op the planner names: lowering checked every name a file gives, and the
/// engine's own names are catalogued (tested), so a miss is a bug, not a user error.
pub(crate) fn version(category: Category, name: &str) -> u32 {
    find(category, name)
        .unwrap_or_else(|| panic!("`{name}` is not in the catalogue as {}", category.describe()))
        .version
}

/// Every operation of one category, in catalogue order.
pub(crate) fn in_category(category: Category) -> impl Iterator<Item = &'static OpSpec> {
    all().filter(move |op| op.category == category)
}

impl Default {
    /// The resolved default value, if the field has one.
    pub(crate) fn value(&self) -> Option<Value> {
        Some(match *self {
            Default::Required => return None,
            Default::Int(i) => Value::Int(i),
            Default::Float(f) => Value::Float(f),
            Default::Str(s) => Value::Str(s.into()),
            Default::Bool(b) => Value::Bool(b),
            Default::IntList(l) => Value::List(l.iter().map(|i| Value::Int(*i)).collect()),
            Default::FloatList(l) => Value::List(l.iter().map(|x| Value::Float(*x)).collect()),
            Default::Call(op) => Value::Call(default_call(op)),
            Default::Word(w) => Value::Str(w.into()),
        })
    }
}

/// Every field of an op that has a default, with it: what lowering fills in for fields a file
/// leaves out.
#[cfg(all(test, feature = "torch"))]
pub(crate) fn defaults(category: Category, name: &str) -> BTreeMap<String, Value> {
    find(category, name)
        .map(|op| op.fields.iter().filter_map(|f| Some((f.name.to_string(), f.default.value()?))).collect())
        .unwrap_or_default()
}

fn default_call(op: &str) -> Call {
    let spec = all().find(|o| o.name == op).expect("catalogue defaults name catalogue ops");
    let args: BTreeMap<String, Value> =
        spec.fields.iter().filter_map(|f| Some((f.name.to_string(), f.default.value()?))).collect();
    Call { op: op.to_string(), args }
}

/// The model seeds a search runs on.
const SEARCH_SEEDS: Ty = Ty::IntList { min: 0, max: limits::SEED, min_len: 1, max_len: limits::SEEDS };

/// The operations listed after the sources and before the methods: splits, architectures,
/// optimisers, schedules and the training recipe.
static BUILDING: &[OpSpec] = &[
    // ---- splits
    OpSpec {
        name: "random",
        category: Category::Split,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "the reference split (reference code: munl/datasets/splits.py): val = ceil(val·n) of the official train part, then forget = ceil(forget·rest), each by a fresh legacy MT19937 permutation",
        positional: &[],
        fields: &[
            field("val", FRACTION, Default::Float(0.15), "share of the official train part held out for validation"),
            field("forget", FRACTION, Default::Float(0.10), "share of the remaining training part to forget"),
            field("seed", SEED, Default::Int(123), "RandomState seed"),
        ],
    },
    OpSpec {
        name: "lira",
        category: Category::Split,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "the U-LiRA shadow split (reference code: pipeline/lira/step_1_lira_generate_splits.py): NumPy default_rng (PCG64) permutations of the official train part; shadow `shadow` (0..63) keeps half the pool, forget draw `draw` (0..9) forgets 10 % of it; test = the shadow's held-out half",
        positional: &[],
        fields: &[
            field("shadow", SEED, Default::Int(0), "shadow split s (the reference uses 0..63)"),
            field("draw", SEED, Default::Int(0), "forget draw f (the reference uses 0..9)"),
            field("val", FRACTION, Default::Float(0.05), "share of the train part held out as LiRA validation set"),
            field("forget", FRACTION, Default::Float(0.10), "share of the shadow's training half to forget"),
            field("seed", SEED, Default::Int(123), "seed of the first permutation"),
        ],
    },
    // ---- architectures
    OpSpec {
        name: "cnn",
        category: Category::Arch,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "a small LeNet-style CNN (two conv–BN–ReLU–pool stages, two linear layers) for CPU runs",
        positional: &[],
        fields: &[field("width", count(limits::WIDTH), Default::Int(32), "channels of the first conv layer (the second has twice as many)")],
    },
    OpSpec {
        name: "resnet18",
        category: Category::Arch,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "torchvision's ResNet-18 with the ImageNet stem, used even at 32×32 (reference code: munl/models/resnets.py); torchvision 0.17 initialisation",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "vit11m",
        category: Category::Arch,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "TinyViT-11M as the reference builds it (reference code: munl/models/vit11m.py): embed dims 64/128/256/448, depths 2/2/6/2, windows 7/14/7 with unmasked zero padding, drop path 0.1, eval-mode cached attention bias",
        positional: &[],
        fields: &[field("img_size", Ty::Int { min: 32, max: limits::SIDE }, Default::Int(32), "input image side: 32 for MNIST/CIFAR, 224 for UTKFace")],
    },
    OpSpec {
        name: "python",
        category: Category::Arch,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "your own architecture, in PyTorch: `model net = python(\"models/net.py\", class: \"Net\") { width = 16 }`\nconstructs `Net(num_classes, width=16)` from that file under the run's seed and trains it with\nmunl's own trainer through TorchScript (the class must script). Its fields are the\nconstructor's keyword-only parameters. Methods that need a known architecture's layers\n(CF-k, EU-k, …) refuse it.",
        positional: &[],
        fields: &[],
    },
    // ---- optimisers and schedules
    OpSpec {
        name: "sgd",
        category: Category::Optim,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "PyTorch SGD: momentum without dampening, L2 weight decay added to the gradient",
        positional: &[],
        fields: &[
            field("lr", RATE, Default::Float(0.1), "learning rate"),
            field("momentum", FRACTION, Default::Float(0.9), "momentum"),
            field("weight_decay", RATE, Default::Float(5e-4), "L2 weight decay"),
        ],
    },
    OpSpec {
        name: "adam",
        category: Category::Optim,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "Adam (β = 0.9, 0.999; ε = 1e-8) with L2 weight decay added to the gradient",
        positional: &[],
        fields: &[
            field("lr", RATE, Default::Float(1e-3), "learning rate"),
            field("weight_decay", RATE, Default::Float(0.0), "L2 weight decay"),
        ],
    },
    OpSpec {
        name: "cosine",
        category: Category::Sched,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "cosine annealing over the run's epochs, stepped after each epoch",
        positional: &[],
        fields: &[field("eta_min", RATE, Default::Float(0.0), "final learning rate")],
    },
    OpSpec {
        name: "constant",
        category: Category::Sched,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "a constant learning rate",
        positional: &[],
        fields: &[],
    },
    // ---- training (Original and Retrain)
    OpSpec {
        name: "train",
        category: Category::Train,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "supervised training from the model's seeded initialisation (reference code: munl/unlearning/naive.py): CE, one optimiser step per batch, one schedule step per epoch, data order seeded with 123",
        positional: &[],
        fields: &[
            field("model", Ty::Str, Default::Required, "a `model` declaration"),
            field("data", Ty::Str, Default::Required, "`<dataset>.train` (Original) or `<dataset>.retain` (Retrain)"),
            field("epochs", EPOCHS, Default::Int(50), "passes over the data"),
            field("batch", BATCH, Default::Int(256), "batch size"),
            field("optim", Ty::Call(Category::Optim), Default::Call("sgd"), "optimiser"),
            field("sched", Ty::Call(Category::Sched), Default::Call("cosine"), "learning-rate schedule"),
            field("augment", Ty::Word(&["reference", "none"]), Default::Word("reference"), "the dataset's reference augmentation, or none"),
        ],
    },
];

/// The operations listed after the methods: metrics, the engine's steps, the search.
static MEASURING: &[OpSpec] = &[
    // ---- metrics
    OpSpec {
        name: "accuracy",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "retain, forget, validation and test accuracy (reference code: munl/evaluation/accuracy.py)",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "mia",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "loss-based membership inference, forget vs validation and forget vs test (reference code: munl/evaluation/membership_inference_attack.py): logistic regression on per-sample CE, 10 stratified splits; 0.5 = indistinguishable",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "indiscernibility",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "1 − |2·MIA − 1| of the test MIA (reference code: munl/evaluation/indiscernibility.py); 1 = the forget set looks unseen",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "rte",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "run-time efficiency T_reference / T_method, per seed against the evaluation's reference model (reference code: munl/evaluation/run_time_efficiency.py)",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "retention",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "accuracy retention RR, FR, TR (retain, forget, test accuracy ÷ the reference's) and RetDev = |RR − 1| + |FR − 1| + |TR − 1| (RR, FR, TR: reference code: munl/evaluation/retention.py), both as mean of per-seed ratios (same seed) and as ratio of means; ranks the methods by RetDev",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "sape",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "symmetric absolute percentage error 100·|b − a| / (|a| + |b|) of each accuracy against the reference's of the same seed (reference code: munl/evaluation/symmetric_absolute_percentage_error.py)",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "distance",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "weight-space distances to the reference model of the same seed over the trainable parameters (reference code: munl/evaluation/model_distances.py): L2 ‖θ − θ_ref‖, normalised L2 ‖θ − θ_ref‖ / ‖θ‖, the norm ‖θ‖, and the distance of the normalised models ‖θ/‖θ‖ − θ_ref/‖θ_ref‖‖",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "ulira",
        category: Category::Metric,
        version: 1,
        export: Export::KEEP,
        quirks: &[
            "[QUIRK] the reference scores binary correctness (argmax = label), not classic LiRA's logit-scaled confidence; munl reports both, the reference's first",
            "[AMBIGUOUS] the reference stops at per-sample probabilities; munl reports the NaN-mean of P over forgotten cases (ideal 0.5), the balanced accuracy at 0.5 and the ROC-AUC against never-seen cases, with 95 % CIs clustered by sample, and the share of NaN P",
            "the in-sample fit puts the noise floor slightly above 0.5: compare a method with Retrain's row, not with 0.5",
        ],
        doc: "U-LiRA, the Deep Unlearn paper's per-sample attack (reference code: munl/lira/): per sample, Gaussians fitted to its scores in the runs that forgot it and the runs that never saw it; P(member) of each forgotten case. Aggregates over the evaluation's `over` dimensions (the shadow and draw of a `lira` split), one attack per model and group",
        positional: &[],
        fields: &[],
    },
    // ---- steps of the engine
    OpSpec {
        name: "measure",
        category: Category::Engine,
        // 2: measurements also store the per-sample losses.
        version: 2,
        export: Export::KEEP,
        quirks: &[],
        doc: "retain, forget, validation and test accuracy and the validation and test MIA of one model and seed, with its per-sample losses",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "predict",
        category: Category::Engine,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "U-LiRA's per-sample scores of one model on the official train part: correctness and logit-scaled confidence",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "membership",
        category: Category::Engine,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "U-LiRA's attack on one model family over its runs (shadow, draw)",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "evaluate",
        category: Category::Engine,
        version: 2,
        export: Export::KEEP,
        quirks: &[],
        doc: "one table over an evaluation's models and seeds: per-seed values, derived metrics, aggregates, ranking",
        positional: &[],
        fields: &[],
    },
    OpSpec {
        name: "report",
        category: Category::Engine,
        version: 2,
        export: Export::KEEP,
        quirks: &[],
        doc: "an evaluation's table rendered in every format (Markdown, CSV, JSON, LaTeX, plot, HTML)",
        positional: &[],
        fields: &[],
    },
    // ---- hyper-parameter search (evaluation.md §5, search.md)
    OpSpec {
        name: "search",
        category: Category::Search,
        version: 1,
        export: Export::KEEP,
        quirks: &[],
        doc: "search the method's hyper-parameters: `trials` completed trials per seed in `seeds`, each scored by the reference's four objectives against the Retrain model of its seed; the best trial overall (smallest Euclidean norm) sets every seed's final run",
        positional: &[],
        fields: &[
            field("trials", count(limits::TRIALS), Default::Int(100), "completed trials per searched seed"),
            field("seeds", SEARCH_SEEDS, Default::IntList(&[0, 1, 2]), "model seeds searched (the reference: 0, 1, 2)"),
            field(
                "sampler",
                Ty::Word(&["nsga3", "nsga3_optuna5", "random", "tpe"]),
                Default::Word("nsga3"),
                "the sampler, seeded by the model seed: Optuna's NSGA-III as in 3.6–4.4 or as in 4.5–5.0, its TPE (not verified draw for draw), or its random sampler",
            ),
            field(
                "export",
                Ty::Word(&["reference", "searched"]),
                Default::Word("reference"),
                "`reference` applies the reference's export rules to the best trial (PRMQ's epochs cast to int, SCRUB v1's `kd_t` dropped); `searched` uses its values as they are",
            ),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::super::Space;
    use super::*;

    #[test]
    fn names_are_unique_per_category_and_defaults_match_types() {
        let ops: Vec<&OpSpec> = all().collect();
        for (i, a) in ops.iter().enumerate() {
            for b in &ops[i + 1..] {
                assert!(!(a.category == b.category && a.name == b.name), "duplicate op {}", a.name);
            }
            for f in a.fields {
                for p in a.positional {
                    assert!(a.field(p).is_some(), "{}: positional {p} is no field", a.name);
                }
                let ok = match (f.ty, f.default.value()) {
                    (_, None) => true,
                    (Ty::Str | Ty::Word(_), Some(Value::Str(_))) => true,
                    (Ty::Bool, Some(Value::Bool(_))) => true,
                    (Ty::Call(c), Some(Value::Call(call))) => find(c, &call.op).is_some(),
                    (ty, Some(v)) => admits(ty, &v),
                };
                assert!(ok, "{}.{}: default does not match its type", a.name, f.name);
            }
        }
    }

    /// Whether a number or list of numbers is of a numeric type, bounds included.
    fn admits(ty: Ty, v: &Value) -> bool {
        match (ty, v) {
            (Ty::Int { min, max }, Value::Int(i)) => (min..=max.max).contains(i),
            (Ty::Float { min, max }, Value::Float(x)) => (min..=max.max).contains(x),
            (Ty::IntList { min, max, min_len, max_len }, Value::List(items)) => {
                (min_len..=max_len.max).contains(&items.len()) && items.iter().all(|i| admits(Ty::Int { min, max }, i))
            }
            (Ty::Floats { max, .. }, Value::Float(_)) => admits(Ty::Float { min: 0.0, max }, v),
            (Ty::Floats { max, max_len }, Value::List(items)) => {
                items.len() <= max_len.max && items.iter().all(|x| admits(Ty::Float { min: 0.0, max }, x))
            }
            _ => false,
        }
    }

    /// The bounds sit above everything the reference does: its defaults and its search spaces
    /// (with the largest epoch cap, ⌈0.2 × 182⌉ = 37), and every bound munl chose says why.
    #[test]
    fn defaults_and_reference_spaces_are_within_the_bounds() {
        for op in all() {
            for f in op.fields {
                // Only a fraction's 1 and a finite number's largest go without saying.
                let says_why = match f.ty {
                    Ty::Int { max, .. } | Ty::IntList { max, .. } => max.why.is_some(),
                    Ty::Float { max, .. } => max.why.is_some() || max.max == 1.0 || max.max == f64::MAX,
                    Ty::Floats { max_len, .. } => max_len.why.is_some(),
                    _ => true,
                };
                assert!(says_why, "{}.{}: a bound without a reason", op.name, f.name);
                let Some(space) = f.space else { continue };
                let ends: Vec<Value> = match (space, f.ty) {
                    (Space::LogUniform(a, b) | Space::Uniform(a, b), _) => vec![Value::Float(a), Value::Float(b)],
                    (Space::Epochs, _) => vec![Value::Int(1), Value::Int(37)],
                    (Space::EpochsFloat, _) => vec![Value::Float(1.0), Value::Float(37.0)],
                    (Space::IntUniform(a, b), _) => vec![Value::Int(a), Value::Int(b)],
                    (Space::Choice(c), _) => c.iter().map(|i| Value::Int(*i)).collect(),
                    (Space::Fixed(x), Ty::Int { .. }) => vec![Value::Int(x as i64)],
                    (Space::Fixed(x), _) => vec![Value::Float(x)],
                };
                let ty = match f.ty {
                    Ty::Floats { max, .. } => Ty::Float { min: 0.0, max },
                    ty => ty,
                };
                for v in ends {
                    assert!(admits(ty, &v), "{}.{}: the reference searches {v}, out of its bounds", op.name, f.name);
                }
            }
        }
    }

    #[test]
    fn reference_defaults() {
        let ngp = find(Category::Method, "neggrad_plus").unwrap();
        assert_eq!(ngp.field("alpha").unwrap().default, Default::Float(0.95));
        assert_eq!(ngp.field("weight_decay").unwrap().default, Default::Float(0.0));
        let sgd = Default::Call("sgd").value().unwrap();
        assert_eq!(sgd.to_string(), "sgd(lr: 0.1, momentum: 0.9, weight_decay: 0.0005)");
    }

    #[test]
    fn the_engine_steps_and_samplers_are_catalogued() {
        for step in ["measure", "evaluate", "report"] {
            assert!(find(Category::Engine, step).is_some(), "{step}");
        }
        assert_eq!(version(Category::Engine, "measure"), 2, "measurements store per-sample losses");
        let search = find(Category::Search, "search").unwrap();
        let Ty::Word(words) = search.field("sampler").unwrap().ty else { panic!("sampler is a word") };
        let kinds: Vec<&str> = crate::search::SamplerKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(words, kinds.as_slice());
    }

    #[test]
    fn export_rules_are_part_of_the_methods_entries() {
        // The reference's rule tests `sga_num_epochs`, which SCRUB's `sgda_num_epochs` does not
        // match: SCRUB keeps its searched epochs (unlearners.md §3.7, §4).
        assert_eq!(find(Category::Method, "scrub").unwrap().export, Export::KEEP);
        assert_eq!(find(Category::Method, "scrub_v1").unwrap().export.drop, &["kd_t"]);
        assert_eq!(find(Category::Method, "prmq").unwrap().export.truncate, &["epochs"]);
        assert_eq!(find(Category::Method, "finetune").unwrap().export, Export::KEEP);
    }
}
