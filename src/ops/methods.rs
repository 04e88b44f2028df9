//! The unlearning methods of the catalogue (unlearners.md §3, §5): every hyper-parameter as a
//! field with the reference default and, where the reference searches it, its search space.
//!
//! Field names are flat: the reference's nested optimiser blocks become prefixes
//! (`forget_optimizer.learning_rate` → `forget_lr`). Fields marked [DEAD] are searched by the
//! reference but change nothing; they are kept so a search draws the same dimensions.
//!
//! Every field the reference searches records how its search knows it (`.suggested(slot,
//! name)`, or the generic helpers below): its dotted config name, by which NSGA-III sorts the
//! relative search space, and its place in the order the reference suggests the method's
//! parameters — its `HYPER_PARAMETERS` dict (`munl/unlearning/*.py`, the generic block in
//! `munl/settings.py`; unlearners.md §1, §3; search.md §8). The catalogue lists fields in its
//! own order; a search suggests them in the reference's (`OpSpec::suggestion_order`).

use super::limits;
use super::spec::Slot::{After, Generic, Own};
use super::spec::{
    count, field, searched, Category, Default, Export, FieldSpec, OpSpec, Space, Ty, BATCH, EPOCHS, FRACTION, RATE,
};

/// Every method, in the order `munl methods` lists them. A new method is its entry below and
/// one line here, plus its implementation in `torch/methods/`.
pub(super) const ALL: &[OpSpec] = &[
    FINETUNE,
    GRADIENT_ASCENT,
    SUCCESSIVE_RANDOM_LABELS,
    NEGGRAD_PLUS,
    BAD_TEACHER,
    SALUN,
    SCRUB,
    FISHER,
    INFLUENCE,
    CF_K,
    EU_K,
    FCS,
    MSG,
    CFW,
    PRMQ,
    CT,
    KDE,
    RNI,
    NEGATIVE_GRADIENT,
    SCRUB_V1,
    PYTHON,
];

const BATCHES: Space = Space::Choice(&[64, 128, 256]);
const LOG_RATE: Space = Space::LogUniform(1e-5, 1e-1);
const UNIT: Space = Space::Uniform(0.0, 1.0);
const TEMPERATURE: Space = Space::Uniform(0.0, 5.0);
const FRACTIONAL_EPOCHS: Ty = Ty::Float { min: 0.0, max: limits::EPOCHS_FRACTIONAL };
const TEMP: Ty = Ty::Float { min: 0.0, max: limits::FINITE };

// The generic block of the reference's search (unlearners.md §1), suggested as
// `optimizer.learning_rate`, `optimizer.momentum`, `optimizer.weight_decay`, `batch_size`,
// `num_epochs`.
const fn lr(d: f64) -> FieldSpec {
    searched("lr", RATE, Default::Float(d), LOG_RATE, "SGD learning rate")
        .suggested(Generic(0), "optimizer.learning_rate")
}
const fn momentum(d: f64) -> FieldSpec {
    searched("momentum", FRACTION, Default::Float(d), Space::Fixed(0.9), "SGD momentum (searches pin it to 0.9)")
        .suggested(Generic(1), "optimizer.momentum")
}
const fn weight_decay(d: f64) -> FieldSpec {
    searched("weight_decay", RATE, Default::Float(d), LOG_RATE, "SGD weight decay")
        .suggested(Generic(2), "optimizer.weight_decay")
}
const fn batch(d: i64) -> FieldSpec {
    searched("batch", BATCH, Default::Int(d), BATCHES, "batch size").suggested(Generic(3), "batch_size")
}
const fn epochs(d: i64) -> FieldSpec {
    searched("epochs", EPOCHS, Default::Int(d), Space::Epochs, "passes over the method's data")
        .suggested(Generic(4), "num_epochs")
}
const fn unit(name: &'static str, d: f64, doc: &'static str) -> FieldSpec {
    searched(name, FRACTION, Default::Float(d), UNIT, doc)
}
const fn rate(name: &'static str, d: f64, doc: &'static str) -> FieldSpec {
    searched(name, RATE, Default::Float(d), LOG_RATE, doc)
}
const fn pinned(name: &'static str, doc: &'static str) -> FieldSpec {
    searched(name, FRACTION, Default::Float(0.9), Space::Fixed(0.9), doc)
}
const fn faithful(doc: &'static str) -> FieldSpec {
    field("faithful", Ty::Bool, Default::Bool(true), doc)
}

/// A method at version 1; bump one with `OpSpec { version: 2, ..method(…) }` when its numerics
/// change, which invalidates that method's cached results and nothing else.
const fn method(
    name: &'static str,
    doc: &'static str,
    quirks: &'static [&'static str],
    fields: &'static [FieldSpec],
) -> OpSpec {
    OpSpec { name, category: Category::Method, version: 1, doc, quirks, positional: &[], fields, export: Export::KEEP }
}

impl OpSpec {
    /// With the reference's export rule for its searched values.
    const fn exporting(self, export: Export) -> OpSpec {
        OpSpec { export, ..self }
    }
}

pub(super) const FINETUNE: OpSpec = method(
    "finetune",
    "FT (reference code: munl/unlearning/finetune.py): fine-tune on the shuffled retain set with CE in\ntrain mode; SGD with cosine(T = epochs), plain images.",
    &[],
    &[epochs(5), batch(256), lr(0.1), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const GRADIENT_ASCENT: OpSpec = method(
    "gradient_ascent",
    "GA (reference code: munl/unlearning/gradient_ascent.py): minimise −CE on the shuffled forget set\nin train mode; SGD without schedule, plain images.",
    &[],
    &[epochs(10), batch(256), lr(0.01), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const SUCCESSIVE_RANDOM_LABELS: OpSpec = method(
    "successive_random_labels",
    "SRL (reference code: munl/unlearning/successive_random_labels.py): each epoch, relabel the forget\nset uniformly at random and train with CE on [relabelled forget ∪ retain], shuffled, train mode;\nSGD without schedule.",
    &[
        "the reference builds a cosine scheduler but never steps it: the learning rate is constant",
        "a random label may equal the true one; labels come from NumPy RandomState(123), re-created each epoch and consumed in fetch order",
    ],
    &[epochs(5), batch(256), lr(0.1), momentum(0.9), weight_decay(5e-4)],
);

// 2: a parameter without a gradient (TinyViT's attention biases in eval mode) is skipped by SGD,
// weight decay and momentum included, as PyTorch skips it.
pub(super) const NEGGRAD_PLUS: OpSpec = OpSpec {
    version: 2,
    ..method(
        "neggrad_plus",
        "NG+ (reference code: munl/unlearning/neggradplus.py): per shuffled retain batch, alpha·CE(retain)\n− (1 − alpha)·CE(next forget batch, cycling); SGD without schedule.",
        &["the model stays in eval mode for the whole run: BatchNorm uses and keeps its running statistics, and TinyViT's attention biases get no gradient, so they never change"],
        &[
            epochs(10),
            batch(256),
            lr(0.01),
            momentum(0.9),
            weight_decay(0.0),
            unit("alpha", 0.95, "weight of the retain loss; 1 − alpha weighs the negated forget loss")
                .suggested(After(0), "alpha"),
        ],
    )
};

pub(super) const BAD_TEACHER: OpSpec = method(
    "bad_teacher",
    "BT (reference code: munl/unlearning/bad_teacher.py): distil the original (competent teacher) on\nretain samples and a random ResNet-18 (incompetent teacher) on forget samples, KL on softmax_T,\nAdam, train mode.",
    &[
        "KL uses PyTorch's element-wise mean (divided by batch × classes), no T² factor",
        "the incompetent teacher is a ResNet-18 with seeded random weights whatever the student's architecture",
    ],
    &[
        epochs(10),
        batch(256),
        searched("lr", RATE, Default::Float(0.01), LOG_RATE, "Adam learning rate")
            .suggested(Generic(0), "optimizer.learning_rate"),
        searched("weight_decay", RATE, Default::Float(0.0), LOG_RATE, "Adam L2 weight decay")
            .suggested(Generic(2), "optimizer.weight_decay"),
        searched("kl_temperature", TEMP, Default::Float(1.0), TEMPERATURE, "softmax temperature T")
            .suggested(Own(0), "kl_temperature"),
    ],
);

pub(super) const SALUN: OpSpec = method(
    "salun",
    "SalUn (reference code: munl/unlearning/salun.py): mask the int(threshold·N) parameters with the\nlargest accumulated −CE forget gradient (eval-mode copy), then SRL epochs updating through the\nmask only.",
    &[
        "the saliency sum weighs earlier forget batches more: Σ (K − k + 1)·g_k (the reference resets the wrong model's gradients); `faithful = false` sums Σ g_k",
        "weight decay and momentum still act on masked-out entries",
        "the mask optimiser fields are searched by the reference but unused ([DEAD])",
    ],
    &[
        epochs(10),
        batch(256),
        lr(0.01),
        momentum(0.0),
        weight_decay(0.0),
        unit("threshold", 0.5, "fraction of parameters the mask keeps").suggested(After(0), "threshold"),
        rate("mask_lr", 0.01, "[DEAD] mask optimiser learning rate")
            .suggested(After(1), "mask_optimizer.learning_rate"),
        pinned("mask_momentum", "[DEAD] mask optimiser momentum").suggested(After(2), "mask_optimizer.momentum"),
        rate("mask_weight_decay", 5e-4, "[DEAD] mask optimiser weight decay")
            .suggested(After(3), "mask_optimizer.weight_decay"),
        faithful("reproduce the weighted saliency sum"),
    ],
);

pub(super) const SCRUB: OpSpec = method(
    "scrub",
    "SCRUB v2 (reference code: munl/unlearning/scrubv2.py): per epoch, max steps (−KL to the teacher on\nforget) for the first msteps epochs, then min steps (gamma·CE + alpha·KL on retain); pick the\ncheckpoint whose forget error is nearest the forget-val error.",
    &[
        "when the selection picks index 0 the final student is returned, never the original; `faithful = false` returns the original",
        "beta and smoothing multiply identically zero terms ([DEAD])",
        "the forget set is iterated in index-file order (profile PLAIN_FORGET_ORDERED)",
        "final benchmark runs keep the searched epochs: the reference's export rule tests the suffix `sga_num_epochs`, which `sgda_num_epochs` does not match",
    ],
    &[
        searched("epochs", EPOCHS, Default::Int(5), Space::Epochs, "SGDA epochs").suggested(Own(6), "sgda_num_epochs"),
        field("batch", BATCH, Default::Int(32), "batch size of the validation loader"),
        searched("retain_batch", BATCH, Default::Int(32), BATCHES, "retain batch size")
            .suggested(Own(10), "retain_batch_size"),
        searched("forget_batch", BATCH, Default::Int(64), BATCHES, "forget batch size")
            .suggested(Own(11), "forget_batch_size"),
        rate("lr", 5e-4, "SGD learning rate").suggested(Own(7), "sgda_learning_rate"),
        pinned("momentum", "SGD momentum (searches pin it to 0.9)").suggested(Own(9), "sgda_momentum"),
        rate("weight_decay", 5e-4, "SGD weight decay").suggested(Own(8), "sgda_weight_decay"),
        unit("gamma", 1.0, "weight of CE in the min steps").suggested(Own(0), "gamma"),
        unit("alpha", 0.5, "weight of KL in the min steps").suggested(Own(1), "alpha"),
        unit("beta", 0.0, "[DEAD] weight of a zero term").suggested(Own(2), "beta"),
        unit("smoothing", 0.5, "[DEAD] weight of a zero term").suggested(Own(3), "smoothing"),
        searched("msteps", EPOCHS, Default::Int(3), Space::Epochs, "epochs with max steps").suggested(Own(4), "msteps"),
        searched("kd_t", TEMP, Default::Float(2.0), TEMPERATURE, "distillation temperature").suggested(Own(5), "kd_T"),
        field("lr_decay_rate", FRACTION, Default::Float(0.1), "lr factor at 50, 80 and 90 % of the epochs"),
        faithful("return the final student when the rule selects index 0"),
    ],
);

pub(super) const FISHER: OpSpec = method(
    "fisher",
    "FF (reference code: munl/unlearning/fisher.py): diagonal Fisher estimate over the retain set in\neval mode (one backward per class per batch), then Gaussian noise with variance alpha/(Fisher +\n1e-8), clamped and averaged per output unit.",
    &["the reference crashes on TinyViT (attention biases have no gradient in eval mode): munl refuses `vit11m`"],
    &[
        searched("batch", BATCH, Default::Int(64), BATCHES, "batch size").suggested(Own(0), "batch_size"),
        unit("alpha", 0.2, "noise scale").suggested(Own(1), "alpha"),
    ],
);

pub(super) const INFLUENCE: OpSpec = method(
    "influence",
    "IU (reference code: munl/unlearning/iu.py): one WoodFisher inverse-Fisher–vector product over the\nfirst 1 002 retain samples applied to the forget/retain gradient difference, θ ← θ + alpha·k, eval\nmode.",
    &[
        "the reference crashes on TinyViT (attention biases have no gradient in eval mode): munl refuses `vit11m`",
        "`epochs` is searched by the reference but unused ([DEAD])",
    ],
    &[
        searched("epochs", EPOCHS, Default::Int(10), Space::Epochs, "[DEAD]").suggested(Own(0), "num_epochs"),
        searched("batch", BATCH, Default::Int(256), BATCHES, "batch size of the gradient sums")
            .suggested(Own(1), "batch_size"),
        unit("alpha", 0.2, "step along the influence direction").suggested(Own(2), "alpha"),
    ],
);

// CF-k and EU-k do not use the generic block: their own order (`sgda_*`, then the top-level
// `learning_rate` and `momentum`).
const CF_K_FIELDS: [FieldSpec; 8] = [
    epochs(10).suggested(Own(0), "num_epochs"),
    batch(256).suggested(Own(1), "batch_size"),
    searched(
        "num_blocks",
        count(limits::BLOCKS),
        Default::Int(1),
        Space::IntUniform(1, 10),
        "last blocks trained (ResNet-18 has 4, TinyViT 3)",
    )
    .suggested(Own(7), "num_blocks"),
    rate("lr", 0.01, "SGD learning rate (momentum 0, weight decay 0)").suggested(Own(5), "learning_rate"),
    unit("decay_rate", 0.1, "lr factor at 50, 80 and 90 % of the epochs (`sgda_decay_rate`)")
        .suggested(Own(2), "sgda_decay_rate"),
    rate("l2", 0.1, "weight λ of (λ/2)·‖θ − θ_start‖² (`sgda_weight_decay`)").suggested(Own(4), "sgda_weight_decay"),
    rate("sgda_lr", 5e-4, "[DEAD]").suggested(Own(3), "sgda_learning_rate"),
    pinned("momentum", "[DEAD]").suggested(Own(6), "momentum"),
];

pub(super) const CF_K: OpSpec = method(
    "cf_k",
    "CF-k (reference code: munl/unlearning/catastrophic_forgetting_k.py): freeze all but the last\nnum_blocks blocks and the classifier; fine-tune on retain with CE + (l2/2)·‖θ − θ_start‖²,\nstep-decayed lr, SGD without momentum.",
    &["the model is in eval mode throughout: BatchNorm uses the original running statistics"],
    &CF_K_FIELDS,
);

pub(super) const EU_K: OpSpec = method(
    "eu_k",
    "EU-k (reference code: munl/unlearning/exact_unlearning_k.py): as CF-k, but first re-initialise the\nselected blocks and the classifier, and train on augmented retain images.",
    &[
        "the model is in eval mode throughout: the re-initialised BatchNorms normalise with the original running statistics",
        "`training_epoch_factor` is searched by the reference but unused ([DEAD])",
    ],
    &[
        CF_K_FIELDS[0],
        CF_K_FIELDS[1],
        CF_K_FIELDS[2],
        CF_K_FIELDS[3],
        CF_K_FIELDS[4],
        CF_K_FIELDS[5],
        CF_K_FIELDS[6],
        CF_K_FIELDS[7],
        searched("training_epoch_factor", count(limits::EPOCH_FACTOR), Default::Int(10), Space::IntUniform(1, 10), "[DEAD]")
            .suggested(Own(8), "training_epoch_factor"),
    ],
);

pub(super) const FCS: OpSpec = method(
    "fcs",
    "FCS (reference code: munl/unlearning/kgltop1.py; Kaggle 1st): push forget outputs to uniform once,\nthen per epoch a contrast round (forget logits against detached retain logits) and a CE round over\nretain.",
    &[],
    &[
        epochs(8),
        batch(256),
        lr(5e-3),
        momentum(0.9),
        weight_decay(0.0),
        rate("forget_lr", 3e-4, "contrast optimiser learning rate (cosine over all contrast steps)")
            .suggested(Own(3), "forget_optimizer.learning_rate"),
        pinned("forget_momentum", "contrast optimiser momentum").suggested(Own(4), "forget_optimizer.momentum"),
        rate("forget_weight_decay", 0.0, "contrast optimiser weight decay")
            .suggested(Own(5), "forget_optimizer.weight_decay"),
        rate("retain_lr", 1e-3, "strengthen optimiser learning rate, × batch/64")
            .suggested(Own(0), "retain_optimizer.learning_rate"),
        pinned("retain_momentum", "strengthen optimiser momentum").suggested(Own(1), "retain_optimizer.momentum"),
        rate("retain_weight_decay", 1e-2, "strengthen optimiser weight decay")
            .suggested(Own(2), "retain_optimizer.weight_decay"),
        searched("temperature", TEMP, Default::Float(1.15), TEMPERATURE, "contrast temperature τ")
            .suggested(Own(6), "temperature"),
        searched("eta_min", RATE, Default::Float(1e-6), Space::LogUniform(1e-6, 1e-1), "contrast cosine floor")
            .suggested(Own(7), "eta_min"),
    ],
);

pub(super) const MSG: OpSpec = method(
    "msg",
    "MSG (reference code: munl/unlearning/kgltop2.py; Kaggle 2nd): re-initialise the round(init_rate·n)\nconv weights with the smallest retain-minus-forget gradient, damp the others' gradients by 0.1,\nfine-tune on retain (triangular lr).",
    &[
        "the gradient-collection forwards run in train mode and update BatchNorm running statistics",
        "only Conv2d weights are touched (Linear layers, hence most of TinyViT, are not)",
    ],
    &[
        epochs(5),
        batch(64),
        lr(1e-3),
        momentum(0.9),
        weight_decay(5e-4),
        unit("init_rate", 0.3, "fraction of each conv's weights re-initialised").suggested(Own(0), "init_rate"),
    ],
);

pub(super) const CFW: OpSpec = method(
    "cfw",
    "CFW (reference code: munl/unlearning/kgltop3.py; Kaggle 3rd): add Gaussian noise to the stem conv,\nfine-tune on retain with class-balanced CE and cosine lr, add smaller noise after the\nsecond-to-last epoch.",
    &[
        "only direct children named like `conv` are confused: ResNet-18's stem; on TinyViT nothing",
        "`class_weight` of the reference is unused ([DEAD]) and left out",
    ],
    &[
        epochs(4),
        batch(64),
        lr(7e-4),
        momentum(0.9),
        weight_decay(5e-4),
        unit("start_std", 0.6, "std of the first confusion noise").suggested(Own(0), "start_confuser_std"),
        unit("final_std", 0.005, "std of the second confusion noise").suggested(Own(1), "final_confuser_std"),
    ],
);

pub(super) const PRMQ: OpSpec = method(
    "prmq",
    "PRMQ (reference code: munl/unlearning/kgltop4.py; Kaggle 4th): prune the smallest prune_amount of\nconv/linear weights and biases globally, re-initialise the pruned weights, train with weighted CE\n+ entropy matching to the original, cast to fp16 and back.",
    &[
        "takes max_iters + 1 steps, max_iters = int(retain batches × epochs)",
        "final benchmark runs use ⌊epochs⌋ (the best-HP export casts it to int)",
    ],
    &[
        // `{prune_amount, **HYPER_PARAMETERS, num_epochs: float}`: the re-assigned key keeps the
        // generic block's place.
        searched("epochs", FRACTIONAL_EPOCHS, Default::Float(3.2), Space::EpochsFloat, "passes over retain (fractional)")
            .suggested(Generic(4), "num_epochs"),
        batch(64),
        lr(5e-4),
        momentum(0.9),
        weight_decay(5e-4),
        unit("prune_amount", 0.99, "fraction of conv/linear weights and biases pruned")
            .suggested(Own(0), "prune_amount"),
    ],
)
.exporting(Export { drop: &[], truncate: &["epochs"] });

pub(super) const CT: OpSpec = method(
    "ct",
    "CT (reference code: munl/unlearning/kgltop5.py; Kaggle 5th): transpose every conv kernel\nspatially, then fine-tune on retain with CE and cosine(T = epochs), train mode.",
    &[],
    &[epochs(3), batch(64), lr(1e-3), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const KDE: OpSpec = method(
    "kde",
    "KDE (reference code: munl/unlearning/kgltop6.py; Kaggle): reset the stem conv and classifier,\ndistil the original on the validation set, then train on retain with soft-CE + CE + KL to the\noriginal.",
    &["on TinyViT only `head` is reset (it has no `conv1`)"],
    &[
        epochs(3),
        batch(64),
        lr(9e-4),
        momentum(0.9),
        weight_decay(5e-4),
        searched("retain_epochs", EPOCHS, Default::Int(3), Space::Epochs, "epochs of the retain phase")
            .suggested(Own(1), "retain_num_epochs"),
        rate("retain_lr", 1e-3, "retain-phase learning rate (cosine)")
            .suggested(Own(2), "retain_optimizer.learning_rate"),
        pinned("retain_momentum", "retain-phase momentum").suggested(Own(3), "retain_optimizer.momentum"),
        rate("retain_weight_decay", 5e-4, "retain-phase weight decay").suggested(Own(4), "retain_optimizer.weight_decay"),
        searched("temperature", TEMP, Default::Float(5.0), TEMPERATURE, "distillation temperature")
            .suggested(Own(0), "temperature"),
    ],
);

// 2: runs the per-epoch validation pass the reference logs, inside the timed method (RTE).
pub(super) const RNI: OpSpec = OpSpec {
    version: 2,
    ..method(
        "rni",
        "RNI (reference code: munl/unlearning/kgltop7.py; Kaggle): reset the classifier, then per epoch\ntrain only BatchNorms plus 9 random layers (all layers in the last fine_epochs), with one-off\nnoise on newly chosen layers.",
        &[
            "\"bn\" layers are found by name: ResNet-18's downsample BatchNorms are not among them",
            "a fresh SGD each epoch (momentum state reset)",
        ],
        &[
            epochs(9),
            batch(64),
            lr(2e-4),
            momentum(0.9),
            weight_decay(5e-4),
            searched("fine_epochs", EPOCHS, Default::Int(4), Space::Epochs, "final epochs that train every layer")
                .suggested(Own(0), "fine_num_epochs"),
            searched("reset_epochs", EPOCHS, Default::Int(1), Space::Epochs, "first epochs without noise")
                .suggested(Own(4), "reset_num_epochs"),
            unit("noise_ratio", 0.7, "noised layers per epoch = int(noise_ratio · 9)").suggested(Own(5), "noise_ratio"),
            unit("origin_noise", 0.04, "scale of the injected Gaussian noise").suggested(Own(6), "origin_noise"),
            searched(
                "fine_lr",
                Ty::Floats { max: limits::FINITE, max_len: limits::PER_EPOCH },
                Default::FloatList(&[2e-4, 2e-4, 2e-4, 1e-3, 1e-3, 1e-4]),
                LOG_RATE,
                "fine-phase learning rate, or one per fine epoch",
            )
            .suggested(Own(1), "fine_optimizer.learning_rate"),
            pinned("fine_momentum", "fine-phase momentum").suggested(Own(2), "fine_optimizer.momentum"),
            rate("fine_weight_decay", 5e-4, "fine-phase weight decay").suggested(Own(3), "fine_optimizer.weight_decay"),
        ],
    )
};

pub(super) const NEGATIVE_GRADIENT: OpSpec = method(
    "negative_gradient",
    "NG (reference code: munl/unlearning/negative_gradient.py; not benchmarked): one shuffled pass over\nretain ∪ forget, per-sample CE with the sign flipped on forget samples and clamped to [0, 1/C];\nSGD with cosine(T = epochs).",
    &["the clamp zeroes every forget term, so forget samples contribute no gradient"],
    &[epochs(5), batch(256), lr(0.1), momentum(0.9), weight_decay(5e-4)],
);

/// A method written in PyTorch: `python("methods/mine.py")(original) { … }`. Its fields are the
/// file's (lowering reads them, `lower/python.rs`); the version covers munl's side of running it
/// (`python/munl/`), the code's own fingerprint is a field of every node.
pub(super) const PYTHON: OpSpec = method(
    "python",
    "your own method, in PyTorch: `unlearn mine = python(\"methods/mine.py\")(original) { lr = 0.01 }`\nruns `def unlearn(model, data, *, lr: float = 0.01, …)` from that file (path relative to the\n`.munl` file) and stores the model it returns. Its fields are the function's keyword-only\nparameters (types from annotations or defaults; `munl methods FILE.py` lists them); searched with\ndistributions written in the block. `data` batches munl's dataset in munl's exact order\n(`data.retain(batch)`); `munl.models` builds munl's architectures. The key covers the file, the\nlocal modules it imports, and the Python and torch versions.",
    &[],
    &[],
);

pub(super) const SCRUB_V1: OpSpec = method(
    "scrub_v1",
    "SCRUB v1 (reference code: munl/unlearning/scrub.py; not benchmarked): max/min student–teacher\nsteps as SCRUB with Adam, plus a smoothing term towards a weight-averaged copy of the student from\nepoch sstart.",
    &["the intended forget batch size is never applied (a variable-name slip): forget batches use `batch`"],
    &[
        field("epochs", EPOCHS, Default::Int(10), "epochs"),
        field("batch", BATCH, Default::Int(32), "retain (and forget) batch size"),
        field("lr", RATE, Default::Float(5e-4), "Adam learning rate"),
        field("weight_decay", RATE, Default::Float(0.1), "Adam L2 weight decay"),
        field("gamma", FRACTION, Default::Float(1.0), "weight of CE in the min steps"),
        field("alpha", FRACTION, Default::Float(0.5), "weight of KL in the min steps"),
        field("beta", FRACTION, Default::Float(0.1), "weight of the extra distillation term"),
        field("smoothing", FRACTION, Default::Float(0.5), "weight of ‖θ − θ_avg‖"),
        field("msteps", EPOCHS, Default::Int(3), "epochs with max steps"),
        field("kd_t", TEMP, Default::Float(2.0), "distillation temperature"),
        field("sstart", EPOCHS, Default::Int(10), "epoch from which the average is updated"),
    ],
)
.exporting(Export { drop: &["kd_t"], truncate: &[] });

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// The generic block of `munl/settings.py`, in the order the reference suggests it.
    const GENERIC: [(&str, &str); 5] = [
        ("lr", "optimizer.learning_rate"),
        ("momentum", "optimizer.momentum"),
        ("weight_decay", "optimizer.weight_decay"),
        ("batch", "batch_size"),
        ("epochs", "num_epochs"),
    ];

    /// (munl field, reference name) of the searched fields, in the reference's suggestion order.
    fn suggested(op: &OpSpec) -> Vec<(&'static str, &'static str)> {
        op.suggestion_order().into_iter().filter_map(|f| Some((f.name, f.reference?.name))).collect()
    }

    fn with_generic(
        first: &[(&'static str, &'static str)],
        after: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        first.iter().chain(&GENERIC).chain(after).copied().collect()
    }

    /// Each method's `HYPER_PARAMETERS` (unlearners.md §1, §3; `munl/unlearning/*.py`).
    #[test]
    fn searched_fields_come_in_the_reference_order_under_the_reference_names() {
        let expected: Vec<(&OpSpec, Vec<(&str, &str)>)> = vec![
            (&FINETUNE, with_generic(&[], &[])),
            (&GRADIENT_ASCENT, with_generic(&[], &[])),
            (&SUCCESSIVE_RANDOM_LABELS, with_generic(&[], &[])),
            (&NEGGRAD_PLUS, with_generic(&[], &[("alpha", "alpha")])),
            // The reference also suggests the pinned momentum, which Adam ignores: no draw.
            (
                &BAD_TEACHER,
                vec![
                    ("kl_temperature", "kl_temperature"),
                    ("lr", "optimizer.learning_rate"),
                    ("weight_decay", "optimizer.weight_decay"),
                    ("batch", "batch_size"),
                    ("epochs", "num_epochs"),
                ],
            ),
            (
                &SALUN,
                with_generic(
                    &[],
                    &[
                        ("threshold", "threshold"),
                        ("mask_lr", "mask_optimizer.learning_rate"),
                        ("mask_momentum", "mask_optimizer.momentum"),
                        ("mask_weight_decay", "mask_optimizer.weight_decay"),
                    ],
                ),
            ),
            (
                &SCRUB,
                vec![
                    ("gamma", "gamma"),
                    ("alpha", "alpha"),
                    ("beta", "beta"),
                    ("smoothing", "smoothing"),
                    ("msteps", "msteps"),
                    ("kd_t", "kd_T"),
                    ("epochs", "sgda_num_epochs"),
                    ("lr", "sgda_learning_rate"),
                    ("weight_decay", "sgda_weight_decay"),
                    ("momentum", "sgda_momentum"),
                    ("retain_batch", "retain_batch_size"),
                    ("forget_batch", "forget_batch_size"),
                ],
            ),
            (&FISHER, vec![("batch", "batch_size"), ("alpha", "alpha")]),
            (&INFLUENCE, vec![("epochs", "num_epochs"), ("batch", "batch_size"), ("alpha", "alpha")]),
            (
                &CF_K,
                vec![
                    ("epochs", "num_epochs"),
                    ("batch", "batch_size"),
                    ("decay_rate", "sgda_decay_rate"),
                    ("sgda_lr", "sgda_learning_rate"),
                    ("l2", "sgda_weight_decay"),
                    ("lr", "learning_rate"),
                    ("momentum", "momentum"),
                    ("num_blocks", "num_blocks"),
                ],
            ),
            (
                &EU_K,
                vec![
                    ("epochs", "num_epochs"),
                    ("batch", "batch_size"),
                    ("decay_rate", "sgda_decay_rate"),
                    ("sgda_lr", "sgda_learning_rate"),
                    ("l2", "sgda_weight_decay"),
                    ("lr", "learning_rate"),
                    ("momentum", "momentum"),
                    ("num_blocks", "num_blocks"),
                    ("training_epoch_factor", "training_epoch_factor"),
                ],
            ),
            (
                &FCS,
                with_generic(
                    &[
                        ("retain_lr", "retain_optimizer.learning_rate"),
                        ("retain_momentum", "retain_optimizer.momentum"),
                        ("retain_weight_decay", "retain_optimizer.weight_decay"),
                        ("forget_lr", "forget_optimizer.learning_rate"),
                        ("forget_momentum", "forget_optimizer.momentum"),
                        ("forget_weight_decay", "forget_optimizer.weight_decay"),
                        ("temperature", "temperature"),
                        ("eta_min", "eta_min"),
                    ],
                    &[],
                ),
            ),
            (&MSG, with_generic(&[("init_rate", "init_rate")], &[])),
            (&CFW, with_generic(&[("start_std", "start_confuser_std"), ("final_std", "final_confuser_std")], &[])),
            // `num_epochs` is re-assigned after the generic block and keeps its place.
            (&PRMQ, with_generic(&[("prune_amount", "prune_amount")], &[])),
            (&CT, with_generic(&[], &[])),
            (
                &KDE,
                with_generic(
                    &[
                        ("temperature", "temperature"),
                        ("retain_epochs", "retain_num_epochs"),
                        ("retain_lr", "retain_optimizer.learning_rate"),
                        ("retain_momentum", "retain_optimizer.momentum"),
                        ("retain_weight_decay", "retain_optimizer.weight_decay"),
                    ],
                    &[],
                ),
            ),
            (
                &RNI,
                with_generic(
                    &[
                        ("fine_epochs", "fine_num_epochs"),
                        ("fine_lr", "fine_optimizer.learning_rate"),
                        ("fine_momentum", "fine_optimizer.momentum"),
                        ("fine_weight_decay", "fine_optimizer.weight_decay"),
                        ("reset_epochs", "reset_num_epochs"),
                        ("noise_ratio", "noise_ratio"),
                        ("origin_noise", "origin_noise"),
                    ],
                    &[],
                ),
            ),
            (&NEGATIVE_GRADIENT, with_generic(&[], &[])),
            (&SCRUB_V1, vec![]),
            (&PYTHON, vec![]),
        ];
        assert_eq!(expected.len(), ALL.len(), "every method is listed");
        for (op, want) in expected {
            assert_eq!(suggested(op), want, "{}", op.name);
        }
    }

    #[test]
    fn exactly_the_searched_fields_have_a_unique_reference_name_and_slot() {
        for op in ALL {
            let mut slots = HashSet::new();
            let mut names = HashSet::new();
            for f in op.fields {
                assert_eq!(f.space.is_some(), f.reference.is_some(), "{}.{}", op.name, f.name);
                if let Some(r) = f.reference {
                    assert!(slots.insert(r.slot), "{}.{}: slot {:?} twice", op.name, f.name, r.slot);
                }
                // Also for fields the reference does not search, which a file may still search.
                assert!(names.insert(f.reference_name()), "{}.{}: name twice", op.name, f.name);
            }
        }
    }
}
