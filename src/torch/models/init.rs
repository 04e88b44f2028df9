//! Seeded initial weights (node kind `init`).
//!
//! All draws happen on the CPU from libtorch's global generator after `tch::manual_seed(seed)`,
//! under `rng::GLOBAL_RNG` so concurrent jobs cannot interleave their draws: the weights are a
//! function of (arch, fields, classes, seed) alone, whatever the device or `--jobs` (`rng` says
//! why this is not a generator of the model's own).
//!
//! ResNet-18 replays what `torch.manual_seed(seed); torchvision.models.resnet18(num_classes=C)`
//! does to the CPU generator (models.md §1.2, §3): every Conv2d draws its default
//! Kaiming-uniform(a = √5) weight at construction, in construction order (a block's `downsample`
//! before its own convs), then `fc` draws weight and bias; then the constructor's init loop
//! re-draws every conv weight from Kaiming-normal (fan-out, ReLU gain) in module order. The
//! reference's factory builds its ResNet-18 first after seeding, so this reproduces its
//! initialisation files bit for bit (checked against torchvision 0.26 / torch 2.11 on the CPU in
//! `tests::resnet18_init_matches_torchvision_bit_for_bit`; no reference file was available).
//!
//! TinyViT-11M follows models.md §2.2 in distribution, not in stream (§3: the reference's streams
//! cannot be matched anyway): every conv weight drawn U(±1/√fan_in) in module order, then every
//! Linear weight N(0, 0.02) in module order (biases 0), BatchNorm and LayerNorm weight 1 and bias
//! 0 except the MBConv `conv3` BatchNorm weight 0, attention biases 0. Its state dict does not
//! depend on the image size, as in the reference (no parameter shape does).
//!
//! The CNN uses PyTorch's default layer init (Kaiming-uniform a = √5 weights, ±1/√fan_in
//! biases), drawn in module order.

use std::collections::HashMap;

use tch::{Device, Kind, Tensor};

use super::rng::GLOBAL_RNG;
use super::{cnn, resnet18::STAGES, tinyvit, StateDict};
use crate::artifact::NodeFailure;

/// PyTorch's `kaiming_uniform_(w, a=√5)` bound, computed in f64 exactly as `torch.nn.init`:
/// gain = √(2 / (1 + a²)), std = gain / √fan_in, bound = √3 · std.
fn default_bound(fan_in: i64) -> f64 {
    let a = 5f64.sqrt();
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    let std = gain / (fan_in as f64).sqrt();
    3f64.sqrt() * std
}

fn uniform(shape: &[i64], bound: f64) -> Tensor {
    let mut t = Tensor::empty(shape, (Kind::Float, Device::Cpu));
    let _ = t.uniform_(-bound, bound);
    t
}

/// The BatchNorm tensors of a fresh layer: weight 1, bias 0, running mean 0, running var 1.
fn batch_norm(out: &mut StateDict, prefix: &str, ch: i64) {
    batch_norm_scaled(out, prefix, ch, 1.0);
}

/// `batch_norm` with the weight set to `weight` (TinyViT zero-inits some, models.md §2.2).
fn batch_norm_scaled(out: &mut StateDict, prefix: &str, ch: i64, weight: f64) {
    let f = (Kind::Float, Device::Cpu);
    out.push((format!("{prefix}.weight"), Tensor::full([ch], weight, f)));
    out.push((format!("{prefix}.bias"), Tensor::zeros([ch], f)));
    out.push((format!("{prefix}.running_mean"), Tensor::zeros([ch], f)));
    out.push((format!("{prefix}.running_var"), Tensor::ones([ch], f)));
    out.push((format!("{prefix}.num_batches_tracked"), Tensor::zeros([], (Kind::Int64, Device::Cpu))));
}

/// A conv weight `[out, inp, k, k]` with its construction-time default draw.
fn conv_default(shape: [i64; 4]) -> Tensor {
    uniform(&shape, default_bound(shape[1] * shape[2] * shape[3]))
}

/// A conv's name and weight shape `[out, in, k, k]`.
type ConvShape = (String, [i64; 4]);

/// ResNet-18's convolutions per block, in module order (`conv1`, `conv2`, then `downsample.0`):
/// `(block prefix, [(conv name, shape)])`, the stem first.
fn resnet18_convs() -> Vec<(String, Vec<ConvShape>)> {
    let mut blocks = vec![(String::new(), vec![("conv1".to_string(), [64, 3, 7, 7])])];
    let mut inp = 64;
    for (i, (planes, stride)) in STAGES.into_iter().enumerate() {
        for b in 0..2 {
            let p = format!("layer{}.{b}", i + 1);
            let (cin, s) = if b == 0 { (inp, stride) } else { (planes, 1) };
            let mut convs =
                vec![(format!("{p}.conv1"), [planes, cin, 3, 3]), (format!("{p}.conv2"), [planes, planes, 3, 3])];
            if s != 1 || cin != planes {
                convs.push((format!("{p}.downsample.0"), [planes, cin, 1, 1]));
            }
            blocks.push((p, convs));
        }
        inp = planes;
    }
    blocks
}

/// ResNet-18's state dict (state-dict order) for `classes` outputs.
fn resnet18(classes: i64) -> StateDict {
    let blocks = resnet18_convs();
    // Construction draws: torchvision's `_make_layer` builds a block's downsample before the
    // block itself, so the downsample conv draws first.
    let mut weights: HashMap<String, Tensor> = HashMap::new();
    for (_, convs) in &blocks {
        let (own, downsample) = convs.split_at(convs.len().min(2));
        for (name, shape) in downsample.iter().chain(own) {
            weights.insert(name.clone(), conv_default(*shape));
        }
    }
    let fc_weight = uniform(&[classes, 512], default_bound(512));
    let fc_bias = uniform(&[classes], 1.0 / 512f64.sqrt());
    // The init loop: Kaiming-normal, fan-out, ReLU gain, in module order.
    for (name, shape) in blocks.iter().flat_map(|(_, c)| c) {
        if let Some(w) = weights.get_mut(name) {
            let std = (2.0 / (shape[0] * shape[2] * shape[3]) as f64).sqrt();
            let _ = w.normal_(0.0, std);
        }
    }

    let mut out = Vec::new();
    for (prefix, convs) in &blocks {
        for (name, shape) in convs {
            let Some(w) = weights.remove(name) else {
                continue;
            };
            out.push((format!("{name}.weight"), w));
            let bn = match name.rsplit_once('.') {
                None => "bn1".to_string(),
                Some((_, "0")) => format!("{prefix}.downsample.1"),
                Some((_, conv)) => format!("{prefix}.bn{}", &conv[4..]),
            };
            batch_norm(&mut out, &bn, shape[0]);
        }
    }
    out.push(("fc.weight".into(), fc_weight));
    out.push(("fc.bias".into(), fc_bias));
    out
}

/// The CNN's state dict with PyTorch's default layer init, drawn in module order.
fn cnn(width: i64, classes: i64) -> StateDict {
    let mut out = vec![("conv1.weight".to_string(), conv_default([width, 3, 3, 3]))];
    batch_norm(&mut out, "bn1", width);
    out.push(("conv2.weight".into(), conv_default([2 * width, width, 3, 3])));
    batch_norm(&mut out, "bn2", 2 * width);
    let fan_in = 2 * width * cnn::POOLED * cnn::POOLED;
    for (name, inp, outp) in [("fc1", fan_in, cnn::HIDDEN), ("fc2", cnn::HIDDEN, classes)] {
        out.push((format!("{name}.weight"), uniform(&[outp, inp], default_bound(inp))));
        out.push((format!("{name}.bias"), uniform(&[outp], 1.0 / (inp as f64).sqrt())));
    }
    out
}

/// Builds TinyViT-11M state dicts in PyTorch's state-dict order (§2.1), drawing conv weights as
/// it goes and leaving Linear weights to `finish`.
struct TinyVitInit {
    out: StateDict,
    /// Positions in `out` of the Linear weights, drawn after construction (§2.2's init pass).
    linears: Vec<usize>,
}

impl TinyVitInit {
    fn zeros(&mut self, name: String, shape: &[i64]) {
        self.out.push((name, Tensor::zeros(shape, (Kind::Float, Device::Cpu))));
    }

    /// A `Conv2d_BN`: PyTorch's default conv init at construction, BatchNorm weight `bn_weight`.
    fn conv_bn(&mut self, prefix: &str, inp: i64, out: i64, k: i64, groups: i64, bn_weight: f64) {
        self.out.push((format!("{prefix}.c.weight"), conv_default([out, inp / groups, k, k])));
        batch_norm_scaled(&mut self.out, &format!("{prefix}.bn"), out, bn_weight);
    }

    fn linear(&mut self, prefix: &str, inp: i64, out: i64) {
        self.linears.push(self.out.len());
        self.zeros(format!("{prefix}.weight"), &[out, inp]);
        self.zeros(format!("{prefix}.bias"), &[out]);
    }

    fn layer_norm(&mut self, prefix: &str, dim: i64) {
        self.out.push((format!("{prefix}.weight"), Tensor::ones([dim], (Kind::Float, Device::Cpu))));
        self.zeros(format!("{prefix}.bias"), &[dim]);
    }

    fn patch_merging(&mut self, prefix: &str, dim: i64, out: i64) {
        self.conv_bn(&format!("{prefix}.conv1"), dim, out, 1, 1, 1.0);
        self.conv_bn(&format!("{prefix}.conv2"), out, out, 3, out, 1.0);
        self.conv_bn(&format!("{prefix}.conv3"), out, out, 1, 1, 1.0);
    }

    /// Linear weights ~ truncated normal(0, 0.02) at ±2: a clamp of a normal draw, the same
    /// distribution in practice since ±2 lies 100 standard deviations out (§2.2).
    fn finish(mut self) -> StateDict {
        for &i in &self.linears {
            let _ = self.out[i].1.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
        }
        self.out
    }
}

/// TinyViT-11M's state dict (state-dict order) for `classes` outputs (models.md §2).
fn vit11m(classes: i64) -> StateDict {
    use tinyvit::{DEPTHS, DIMS, EMBED_MID, HEADS, HEAD_DIM, RATIO, WINDOWS};
    let mut b = TinyVitInit { out: Vec::new(), linears: Vec::new() };
    b.conv_bn("patch_embed.seq.0", 3, EMBED_MID, 3, 1, 1.0);
    b.conv_bn("patch_embed.seq.2", EMBED_MID, DIMS[0], 3, 1, 1.0);
    let hidden = DIMS[0] * RATIO;
    for j in 0..DEPTHS[0] {
        let p = format!("layers.0.blocks.{j}");
        b.conv_bn(&format!("{p}.conv1"), DIMS[0], hidden, 1, 1, 1.0);
        b.conv_bn(&format!("{p}.conv2"), hidden, hidden, 3, hidden, 1.0);
        b.conv_bn(&format!("{p}.conv3"), hidden, DIMS[0], 1, 1, 0.0);
    }
    b.patch_merging("layers.0.downsample", DIMS[0], DIMS[1]);
    for stage in 1..DIMS.len() {
        let dim = DIMS[stage];
        for j in 0..DEPTHS[stage] {
            let p = format!("layers.{stage}.blocks.{j}");
            b.zeros(format!("{p}.attn.attention_biases"), &[HEADS[stage], WINDOWS[stage] * WINDOWS[stage]]);
            b.layer_norm(&format!("{p}.attn.norm"), dim);
            b.linear(&format!("{p}.attn.qkv"), dim, 3 * HEADS[stage] * HEAD_DIM);
            b.linear(&format!("{p}.attn.proj"), HEADS[stage] * HEAD_DIM, dim);
            b.layer_norm(&format!("{p}.mlp.norm"), dim);
            b.linear(&format!("{p}.mlp.fc1"), dim, dim * RATIO);
            b.linear(&format!("{p}.mlp.fc2"), dim * RATIO, dim);
            b.conv_bn(&format!("{p}.local_conv"), dim, dim, 3, dim, 1.0);
        }
        if let Some(&out) = DIMS.get(stage + 1) {
            b.patch_merging(&format!("layers.{stage}.downsample"), dim, out);
        }
    }
    b.layer_norm("norm_head", DIMS[3]);
    b.linear("head", DIMS[3], classes);
    b.finish()
}

/// The seeded initial state dict of `arch` (`cnn` with `width`, `resnet18` or `vit11m`; the
/// latter's weights do not depend on its `img_size`).
pub(crate) fn init(arch: &str, width: i64, classes: i64, seed: u64) -> Result<StateDict, NodeFailure> {
    if classes < 1 {
        return Err(NodeFailure::new(format!("a model needs at least one class, got {classes}")));
    }
    let seed = i64::try_from(seed).map_err(|_| NodeFailure::new(format!("model seed {seed} is too large")))?;
    let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    match arch {
        "resnet18" => Ok(resnet18(classes)),
        "vit11m" => Ok(vit11m(classes)),
        "cnn" if width >= 1 => Ok(cnn(width, classes)),
        "cnn" => Err(NodeFailure::new(format!("`width` must be at least 1, got {width}"))),
        other => Err(NodeFailure::new(format!("unknown architecture `{other}`"))),
    }
}
