//! The unlearning methods of the catalogue (unlearners.md §3, §5): every hyper-parameter as a
//! field with the reference default and, where the reference searches it, its search space.
//!
//! Field names are flat: the reference's nested optimiser blocks become prefixes
//! (`forget_optimizer.learning_rate` → `forget_lr`). Fields marked [DEAD] are searched by the
//! reference but change nothing; they are kept so a search draws the same dimensions.

use super::spec::{field, searched, Category, Default, Export, FieldSpec, OpSpec, Space, Ty, COUNT, FRACTION, RATE};

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
];

const BATCHES: Space = Space::Choice(&[64, 128, 256]);
const LOG_RATE: Space = Space::LogUniform(1e-5, 1e-1);
const UNIT: Space = Space::Uniform(0.0, 1.0);
const TEMPERATURE: Space = Space::Uniform(0.0, 5.0);
const TEMP: Ty = Ty::Float { min: 0.0, max: f64::INFINITY };

const fn epochs(d: i64) -> FieldSpec {
    searched("epochs", COUNT, Default::Int(d), Space::Epochs, "passes over the method's data")
}
const fn batch(d: i64) -> FieldSpec {
    searched("batch", COUNT, Default::Int(d), BATCHES, "batch size")
}
const fn lr(d: f64) -> FieldSpec {
    searched("lr", RATE, Default::Float(d), LOG_RATE, "SGD learning rate")
}
const fn momentum(d: f64) -> FieldSpec {
    searched("momentum", FRACTION, Default::Float(d), Space::Fixed(0.9), "SGD momentum (searches pin it to 0.9)")
}
const fn weight_decay(d: f64) -> FieldSpec {
    searched("weight_decay", RATE, Default::Float(d), LOG_RATE, "SGD weight decay")
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
    "FT (§3.1): fine-tune on the shuffled retain set with CE in train mode;\nSGD with cosine(T = epochs), plain images.",
    &[],
    &[epochs(5), batch(256), lr(0.1), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const GRADIENT_ASCENT: OpSpec = method(
    "gradient_ascent",
    "GA (§3.2): minimise −CE on the shuffled forget set in train mode;\nSGD without schedule, plain images.",
    &[],
    &[epochs(10), batch(256), lr(0.01), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const SUCCESSIVE_RANDOM_LABELS: OpSpec = method(
    "successive_random_labels",
    "SRL (§3.3): each epoch, relabel the forget set uniformly at random and train with CE on\n[relabelled forget ∪ retain], shuffled, train mode; SGD without schedule.",
    &[
        "the reference builds a cosine scheduler but never steps it: the learning rate is constant",
        "a random label may equal the true one; labels come from NumPy RandomState(123), re-created each epoch and consumed in fetch order",
    ],
    &[epochs(5), batch(256), lr(0.1), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const NEGGRAD_PLUS: OpSpec = method(
    "neggrad_plus",
    "NG+ (§3.4): per shuffled retain batch, alpha·CE(retain) − (1 − alpha)·CE(next forget batch,\ncycling); SGD without schedule.",
    &["the model stays in eval mode for the whole run: BatchNorm uses and keeps its running statistics"],
    &[
        epochs(10),
        batch(256),
        lr(0.01),
        momentum(0.9),
        weight_decay(0.0),
        unit("alpha", 0.95, "weight of the retain loss; 1 − alpha weighs the negated forget loss"),
    ],
);

pub(super) const BAD_TEACHER: OpSpec = method(
    "bad_teacher",
    "BT (§3.5): distil the original (competent teacher) on retain samples and a random ResNet-18\n(incompetent teacher) on forget samples, KL on softmax_T, Adam, train mode.",
    &[
        "KL uses PyTorch's element-wise mean (divided by batch × classes), no T² factor",
        "the incompetent teacher is a ResNet-18 with seeded random weights whatever the student's architecture",
    ],
    &[
        epochs(10),
        batch(256),
        searched("lr", RATE, Default::Float(0.01), LOG_RATE, "Adam learning rate"),
        searched("weight_decay", RATE, Default::Float(0.0), LOG_RATE, "Adam L2 weight decay"),
        searched("kl_temperature", TEMP, Default::Float(1.0), TEMPERATURE, "softmax temperature T"),
    ],
);

pub(super) const SALUN: OpSpec = method(
    "salun",
    "SalUn (§3.6): mask the int(threshold·N) parameters with the largest accumulated −CE forget\ngradient (eval-mode copy), then SRL epochs updating through the mask only.",
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
        unit("threshold", 0.5, "fraction of parameters the mask keeps"),
        rate("mask_lr", 0.01, "[DEAD] mask optimiser learning rate"),
        pinned("mask_momentum", "[DEAD] mask optimiser momentum"),
        rate("mask_weight_decay", 5e-4, "[DEAD] mask optimiser weight decay"),
        faithful("reproduce the weighted saliency sum"),
    ],
);

pub(super) const SCRUB: OpSpec = method(
    "scrub",
    "SCRUB v2 (§3.7): per epoch, max steps (−KL to the teacher on forget) for the first msteps epochs,\nthen min steps (gamma·CE + alpha·KL on retain); pick the checkpoint whose forget error is nearest the forget-val error.",
    &[
        "when the selection picks index 0 the final student is returned, never the original; `faithful = false` returns the original",
        "beta and smoothing multiply identically zero terms ([DEAD])",
        "the forget set is iterated in index-file order (profile PLAIN_FORGET_ORDERED)",
        "final benchmark runs keep the searched epochs: the reference's export rule tests the suffix `sga_num_epochs`, which `sgda_num_epochs` does not match",
    ],
    &[
        searched("epochs", COUNT, Default::Int(5), Space::Epochs, "SGDA epochs"),
        field("batch", COUNT, Default::Int(32), "batch size of the validation loader"),
        searched("retain_batch", COUNT, Default::Int(32), BATCHES, "retain batch size"),
        searched("forget_batch", COUNT, Default::Int(64), BATCHES, "forget batch size"),
        rate("lr", 5e-4, "SGD learning rate"),
        pinned("momentum", "SGD momentum (searches pin it to 0.9)"),
        rate("weight_decay", 5e-4, "SGD weight decay"),
        unit("gamma", 1.0, "weight of CE in the min steps"),
        unit("alpha", 0.5, "weight of KL in the min steps"),
        unit("beta", 0.0, "[DEAD] weight of a zero term"),
        unit("smoothing", 0.5, "[DEAD] weight of a zero term"),
        searched("msteps", COUNT, Default::Int(3), Space::Epochs, "epochs with max steps"),
        searched("kd_t", TEMP, Default::Float(2.0), TEMPERATURE, "distillation temperature"),
        field("lr_decay_rate", FRACTION, Default::Float(0.1), "lr factor at 50, 80 and 90 % of the epochs"),
        faithful("return the final student when the rule selects index 0"),
    ],
);

pub(super) const FISHER: OpSpec = method(
    "fisher",
    "FF (§3.8): diagonal Fisher estimate over the retain set in eval mode (one backward per class per\nbatch), then Gaussian noise with variance alpha/(Fisher + 1e-8), clamped and averaged per output unit.",
    &["the reference crashes on TinyViT (attention biases have no gradient in eval mode): munl refuses `vit11m`"],
    &[
        searched("batch", COUNT, Default::Int(64), BATCHES, "batch size"),
        unit("alpha", 0.2, "noise scale"),
    ],
);

pub(super) const INFLUENCE: OpSpec = method(
    "influence",
    "IU (§3.9): one WoodFisher inverse-Fisher–vector product over the first 1 002 retain samples\napplied to the forget/retain gradient difference, θ ← θ + alpha·k, eval mode.",
    &[
        "the reference crashes on TinyViT (attention biases have no gradient in eval mode): munl refuses `vit11m`",
        "`epochs` is searched by the reference but unused ([DEAD])",
    ],
    &[
        searched("epochs", COUNT, Default::Int(10), Space::Epochs, "[DEAD]"),
        searched("batch", COUNT, Default::Int(256), BATCHES, "batch size of the gradient sums"),
        unit("alpha", 0.2, "step along the influence direction"),
    ],
);

const CF_K_FIELDS: [FieldSpec; 8] = [
    epochs(10),
    batch(256),
    searched(
        "num_blocks",
        COUNT,
        Default::Int(1),
        Space::IntUniform(1, 10),
        "last blocks trained (ResNet-18 has 4, TinyViT 3)",
    ),
    rate("lr", 0.01, "SGD learning rate (momentum 0, weight decay 0)"),
    unit("decay_rate", 0.1, "lr factor at 50, 80 and 90 % of the epochs (`sgda_decay_rate`)"),
    rate("l2", 0.1, "weight λ of (λ/2)·‖θ − θ_start‖² (`sgda_weight_decay`)"),
    rate("sgda_lr", 5e-4, "[DEAD]"),
    pinned("momentum", "[DEAD]"),
];

pub(super) const CF_K: OpSpec = method(
    "cf_k",
    "CF-k (§3.10): freeze all but the last num_blocks blocks and the classifier; fine-tune on retain\nwith CE + (l2/2)·‖θ − θ_start‖², step-decayed lr, SGD without momentum.",
    &["the model is in eval mode throughout: BatchNorm uses the original running statistics"],
    &CF_K_FIELDS,
);

pub(super) const EU_K: OpSpec = method(
    "eu_k",
    "EU-k (§3.11): as CF-k, but first re-initialise the selected blocks and the classifier, and train\non augmented retain images.",
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
        searched("training_epoch_factor", COUNT, Default::Int(10), Space::IntUniform(1, 10), "[DEAD]"),
    ],
);

pub(super) const FCS: OpSpec = method(
    "fcs",
    "FCS (§3.12, Kaggle 1st): push forget outputs to uniform once, then per epoch a contrast round\n(forget logits against detached retain logits) and a CE round over retain.",
    &[],
    &[
        epochs(8),
        batch(256),
        lr(5e-3),
        momentum(0.9),
        weight_decay(0.0),
        rate("forget_lr", 3e-4, "contrast optimiser learning rate (cosine over all contrast steps)"),
        pinned("forget_momentum", "contrast optimiser momentum"),
        rate("forget_weight_decay", 0.0, "contrast optimiser weight decay"),
        rate("retain_lr", 1e-3, "strengthen optimiser learning rate, × batch/64"),
        pinned("retain_momentum", "strengthen optimiser momentum"),
        rate("retain_weight_decay", 1e-2, "strengthen optimiser weight decay"),
        searched("temperature", TEMP, Default::Float(1.15), TEMPERATURE, "contrast temperature τ"),
        searched("eta_min", RATE, Default::Float(1e-6), Space::LogUniform(1e-6, 1e-1), "contrast cosine floor"),
    ],
);

pub(super) const MSG: OpSpec = method(
    "msg",
    "MSG (§3.13, Kaggle 2nd): re-initialise the round(init_rate·n) conv weights with the smallest\nretain-minus-forget gradient, damp the others' gradients by 0.1, fine-tune on retain (triangular lr).",
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
        unit("init_rate", 0.3, "fraction of each conv's weights re-initialised"),
    ],
);

pub(super) const CFW: OpSpec = method(
    "cfw",
    "CFW (§3.14, Kaggle 3rd): add Gaussian noise to the stem conv, fine-tune on retain with class-balanced\nCE and cosine lr, add smaller noise after the second-to-last epoch.",
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
        unit("start_std", 0.6, "std of the first confusion noise"),
        unit("final_std", 0.005, "std of the second confusion noise"),
    ],
);

pub(super) const PRMQ: OpSpec = method(
    "prmq",
    "PRMQ (§3.15, Kaggle 4th): prune the smallest prune_amount of conv/linear weights and biases globally,\nre-initialise the pruned weights, train with weighted CE + entropy matching to the original, cast to fp16 and back.",
    &[
        "takes max_iters + 1 steps, max_iters = int(retain batches × epochs)",
        "final benchmark runs use ⌊epochs⌋ (the best-HP export casts it to int)",
    ],
    &[
        searched("epochs", RATE, Default::Float(3.2), Space::EpochsFloat, "passes over retain (fractional)"),
        batch(64),
        lr(5e-4),
        momentum(0.9),
        weight_decay(5e-4),
        unit("prune_amount", 0.99, "fraction of conv/linear weights and biases pruned"),
    ],
)
.exporting(Export { drop: &[], truncate: &["epochs"] });

pub(super) const CT: OpSpec = method(
    "ct",
    "CT (§3.16, Kaggle 5th): transpose every conv kernel spatially, then fine-tune on retain with CE\nand cosine(T = epochs), train mode.",
    &[],
    &[epochs(3), batch(64), lr(1e-3), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const KDE: OpSpec = method(
    "kde",
    "KDE (§3.17, Kaggle): reset the stem conv and classifier, distil the original on the validation set,\nthen train on retain with soft-CE + CE + KL to the original.",
    &["on TinyViT only `head` is reset (it has no `conv1`)"],
    &[
        epochs(3),
        batch(64),
        lr(9e-4),
        momentum(0.9),
        weight_decay(5e-4),
        searched("retain_epochs", COUNT, Default::Int(3), Space::Epochs, "epochs of the retain phase"),
        rate("retain_lr", 1e-3, "retain-phase learning rate (cosine)"),
        pinned("retain_momentum", "retain-phase momentum"),
        rate("retain_weight_decay", 5e-4, "retain-phase weight decay"),
        searched("temperature", TEMP, Default::Float(5.0), TEMPERATURE, "distillation temperature"),
    ],
);

pub(super) const RNI: OpSpec = method(
    "rni",
    "RNI (§3.18, Kaggle): reset the classifier, then per epoch train only BatchNorms plus 9 random\nlayers (all layers in the last fine_epochs), with one-off noise on newly chosen layers.",
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
        searched("fine_epochs", COUNT, Default::Int(4), Space::Epochs, "final epochs that train every layer"),
        searched("reset_epochs", COUNT, Default::Int(1), Space::Epochs, "first epochs without noise"),
        unit("noise_ratio", 0.7, "noised layers per epoch = int(noise_ratio · 9)"),
        unit("origin_noise", 0.04, "scale of the injected Gaussian noise"),
        searched(
            "fine_lr",
            Ty::Floats,
            Default::FloatList(&[2e-4, 2e-4, 2e-4, 1e-3, 1e-3, 1e-4]),
            LOG_RATE,
            "fine-phase learning rate, or one per fine epoch",
        ),
        pinned("fine_momentum", "fine-phase momentum"),
        rate("fine_weight_decay", 5e-4, "fine-phase weight decay"),
    ],
);

pub(super) const NEGATIVE_GRADIENT: OpSpec = method(
    "negative_gradient",
    "NG (§5, not benchmarked): one shuffled pass over retain ∪ forget, per-sample CE with the sign\nflipped on forget samples and clamped to [0, 1/C]; SGD with cosine(T = epochs).",
    &["the clamp zeroes every forget term, so forget samples contribute no gradient"],
    &[epochs(5), batch(256), lr(0.1), momentum(0.9), weight_decay(5e-4)],
);

pub(super) const SCRUB_V1: OpSpec = method(
    "scrub_v1",
    "SCRUB v1 (§5, not benchmarked): max/min student–teacher steps as SCRUB with Adam, plus a\nsmoothing term towards a weight-averaged copy of the student from epoch sstart.",
    &["the intended forget batch size is never applied (a variable-name slip): forget batches use `batch`"],
    &[
        field("epochs", COUNT, Default::Int(10), "epochs"),
        field("batch", COUNT, Default::Int(32), "retain (and forget) batch size"),
        field("lr", RATE, Default::Float(5e-4), "Adam learning rate"),
        field("weight_decay", RATE, Default::Float(0.1), "Adam L2 weight decay"),
        field("gamma", FRACTION, Default::Float(1.0), "weight of CE in the min steps"),
        field("alpha", FRACTION, Default::Float(0.5), "weight of KL in the min steps"),
        field("beta", FRACTION, Default::Float(0.1), "weight of the extra distillation term"),
        field("smoothing", FRACTION, Default::Float(0.5), "weight of ‖θ − θ_avg‖"),
        field("msteps", COUNT, Default::Int(3), "epochs with max steps"),
        field("kd_t", TEMP, Default::Float(2.0), "distillation temperature"),
        field("sstart", COUNT, Default::Int(10), "epoch from which the average is updated"),
    ],
)
.exporting(Export { drop: &["kd_t"], truncate: &[] });
