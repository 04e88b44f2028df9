//! TinyViT-11M as the reference instantiates it (catalogue op `vit11m`, models.md §2), written
//! from the spec: PyTorch state-dict names, a convolutional first stage of MBConv blocks,
//! PatchMerging between stages, and window-attention blocks with the reference's quirks (zero
//! padding to window multiples without masks, head-major qkv, `|Δr|·w + |Δc|` bias indexing, no
//! residual around the local conv, an attention bias without gradient in eval mode).
//!
//! The state dict does not depend on the image size (the attention-bias tables are sized by the
//! window, not the resolution), so the network reads the resolution of every stage off its input:
//! the patch grid is `img/4` and each PatchMerging halves it, which for the sizes the reference
//! accepts (multiples of 32) is its `(img/4) // 2^i` (§2.1).

use tch::{Kind, Tensor};

use super::layers::{BatchNorm, Conv, LayerNorm, Linear, Weights};
use super::rng::GLOBAL_RNG;
use crate::artifact::NodeFailure;

/// Embedding dimension of stages 0..3 (§2 table).
pub(crate) const DIMS: [i64; 4] = [64, 128, 256, 448];
/// Blocks per stage.
pub(crate) const DEPTHS: [usize; 4] = [2, 2, 6, 2];
/// Attention heads per stage (stage 0 is convolutional and has none).
pub(crate) const HEADS: [i64; 4] = [2, 4, 8, 14];
/// Attention window side per stage (stage 0 unused).
pub(crate) const WINDOWS: [i64; 4] = [7, 7, 14, 7];
/// Width of every attention head: `dim / heads` is 32 in every attention stage.
pub(crate) const HEAD_DIM: i64 = 32;
/// Hidden width of the MLP and of the MBConv expansion, as a multiple of the stage dim.
pub(crate) const RATIO: i64 = 4;
/// Channels after the first patch-embedding conv.
pub(crate) const EMBED_MID: i64 = 32;
/// Largest drop-path rate, reached by the last block (§2: linearly spaced over the 12 blocks).
const DROP_PATH_MAX: f64 = 0.1;

/// Drop-path rate of every block in network order: `linspace(0, 0.1, 12)` (§2.1).
fn drop_path_rates() -> Vec<f64> {
    let n: usize = DEPTHS.iter().sum();
    (0..n).map(|i| DROP_PATH_MAX * i as f64 / (n - 1) as f64).collect()
}

/// Exact (erf) GELU, the activation everywhere in TinyViT (§2 table).
fn gelu(x: &Tensor) -> Tensor {
    x.gelu("none")
}

/// Stochastic depth as timm 0.4.12 does it (§2.1): in train mode each sample's branch is kept
/// with probability `1 − p` and scaled by `1 / (1 − p)`; identity in eval mode or for `p = 0`.
fn drop_path(x: Tensor, p: f64, train: bool) -> Tensor {
    if !train || p == 0.0 {
        return x;
    }
    let keep = 1.0 - p;
    let mut shape = vec![1i64; x.dim()];
    shape[0] = x.size()[0];
    let mut mask = Tensor::empty(shape.as_slice(), (x.kind(), x.device()));
    {
        // The global generators are shared with seeded draws (initialisation, the methods'), which
        // may run on another worker thread: drawing in the middle of one would shift its stream.
        let _guard = GLOBAL_RNG.lock().unwrap_or_else(|e| e.into_inner());
        let _ = mask.bernoulli_float_(keep);
    }
    x / keep * mask
}

/// A `Conv2d_BN`: a bias-free conv `c` followed by a BatchNorm `bn` (§2.1).
struct ConvBn {
    c: Conv,
    bn: BatchNorm,
}

impl ConvBn {
    #[allow(clippy::too_many_arguments)]
    fn new(
        w: &mut Weights,
        prefix: &str,
        inp: i64,
        out: i64,
        k: i64,
        stride: i64,
        padding: i64,
        groups: i64,
    ) -> Result<ConvBn, NodeFailure> {
        let c = Conv::grouped(w, &format!("{prefix}.c"), inp, out, k, stride, padding, groups)?;
        let bn = BatchNorm::new(w, &format!("{prefix}.bn"), out)?;
        Ok(ConvBn { c, bn })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        self.bn.forward(&self.c.forward(x), train)
    }
}

/// An MBConv block of stage 0: 1×1 expand, 3×3 depth-wise, 1×1 project, drop path, residual,
/// then GELU after the addition (§2.1).
struct MbConv {
    conv1: ConvBn,
    conv2: ConvBn,
    conv3: ConvBn,
    drop: f64,
}

impl MbConv {
    fn new(w: &mut Weights, prefix: &str, dim: i64, drop: f64) -> Result<MbConv, NodeFailure> {
        let hidden = dim * RATIO;
        Ok(MbConv {
            conv1: ConvBn::new(w, &format!("{prefix}.conv1"), dim, hidden, 1, 1, 0, 1)?,
            conv2: ConvBn::new(w, &format!("{prefix}.conv2"), hidden, hidden, 3, 1, 1, hidden)?,
            conv3: ConvBn::new(w, &format!("{prefix}.conv3"), hidden, dim, 1, 1, 0, 1)?,
            drop,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let y = gelu(&self.conv1.forward(x, train));
        let y = gelu(&self.conv2.forward(&y, train));
        let y = drop_path(self.conv3.forward(&y, train), self.drop, train);
        gelu(&(y + x))
    }
}

/// PatchMerging between stages: 1×1 conv, GELU, 3×3 stride-2 depth-wise conv, GELU, 1×1 conv,
/// flattened row-major to tokens (§2.1).
struct PatchMerging {
    conv1: ConvBn,
    conv2: ConvBn,
    conv3: ConvBn,
}

impl PatchMerging {
    fn new(w: &mut Weights, prefix: &str, dim: i64, out: i64) -> Result<PatchMerging, NodeFailure> {
        Ok(PatchMerging {
            conv1: ConvBn::new(w, &format!("{prefix}.conv1"), dim, out, 1, 1, 0, 1)?,
            conv2: ConvBn::new(w, &format!("{prefix}.conv2"), out, out, 3, 2, 1, out)?,
            conv3: ConvBn::new(w, &format!("{prefix}.conv3"), out, out, 1, 1, 0, 1)?,
        })
    }

    /// Tokens `[B, H'·W', out]` of a `[B, C, H, W]` map, with `(H', W')`.
    fn forward(&self, x: &Tensor, train: bool) -> (Tensor, i64, i64) {
        let y = gelu(&self.conv1.forward(x, train));
        let y = gelu(&self.conv2.forward(&y, train));
        let y = self.conv3.forward(&y, train);
        let (h, w) = (y.size()[2], y.size()[3]);
        (y.flatten(2, -1).transpose(1, 2), h, w)
    }
}

/// Multi-head attention over one window of `window²` tokens, with the learned relative bias.
struct Attention {
    /// `attn.attention_biases`, `[heads, window²]`.
    biases: Tensor,
    /// `[window², window²]` index into the bias table: `|r1 − r2|·window + |c1 − c2|` (§2.1).
    /// Not part of the state dict (the reference keeps it as a non-persistent buffer).
    idx: Tensor,
    norm: LayerNorm,
    qkv: Linear,
    proj: Linear,
    heads: i64,
}

impl Attention {
    fn new(w: &mut Weights, prefix: &str, dim: i64, heads: i64, window: i64) -> Result<Attention, NodeFailure> {
        let n = window * window;
        // Declared parameters come before sub-modules in PyTorch's state-dict order.
        let biases = w.param(&format!("{prefix}.attention_biases"), &[heads, n])?;
        let idx: Vec<i64> = (0..n)
            .flat_map(|a| {
                (0..n).map(move |b| (a / window - b / window).abs() * window + (a % window - b % window).abs())
            })
            .collect();
        let idx = Tensor::from_slice(&idx).to_device(biases.device());
        Ok(Attention {
            biases,
            idx,
            norm: LayerNorm::new(w, &format!("{prefix}.norm"), dim)?,
            qkv: Linear::new(w, &format!("{prefix}.qkv"), dim, 3 * heads * HEAD_DIM)?,
            proj: Linear::new(w, &format!("{prefix}.proj"), heads * HEAD_DIM, dim)?,
            heads,
        })
    }

    /// Attention within each of the `[B', N, C]` windows (`N = window²`).
    fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let (b, n) = (x.size()[0], x.size()[1]);
        let qkv = self.qkv.forward(&self.norm.forward(x)).reshape([b, n, self.heads, 3 * HEAD_DIM]);
        // Head-major layout (§2.1): each head's 96 outputs are its q, k and v in turn.
        let parts = qkv.split(HEAD_DIM, 3);
        let [q, k, v] = [0, 1, 2].map(|i| parts[i].permute([0, 2, 1, 3]));
        // The reference caches a detached copy of the gathered table in eval mode (§2.3): no
        // gradient reaches `attention_biases` then, which methods training in eval mode rely on.
        let table = if train { self.biases.shallow_clone() } else { self.biases.detach() };
        let bias = table.index_select(1, &self.idx.view([-1])).view([self.heads, n, n]);
        let scores = q.matmul(&k.transpose(-2, -1)) * (HEAD_DIM as f64).powf(-0.5) + bias;
        let out = scores.softmax(-1, Kind::Float).matmul(&v);
        self.proj.forward(&out.transpose(1, 2).reshape([b, n, self.heads * HEAD_DIM]))
    }
}

/// The MLP of a TinyViT block: LayerNorm → fc1 → GELU → fc2.
struct Mlp {
    norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    fn new(w: &mut Weights, prefix: &str, dim: i64) -> Result<Mlp, NodeFailure> {
        Ok(Mlp {
            norm: LayerNorm::new(w, &format!("{prefix}.norm"), dim)?,
            fc1: Linear::new(w, &format!("{prefix}.fc1"), dim, dim * RATIO)?,
            fc2: Linear::new(w, &format!("{prefix}.fc2"), dim * RATIO, dim)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        self.fc2.forward(&gelu(&self.fc1.forward(&self.norm.forward(x))))
    }
}

/// A TinyViT block: windowed attention (residual), depth-wise local conv (no residual), MLP
/// (residual), §2.1.
struct Block {
    attn: Attention,
    mlp: Mlp,
    local_conv: ConvBn,
    window: i64,
    drop: f64,
}

impl Block {
    fn new(w: &mut Weights, prefix: &str, stage: usize, drop: f64) -> Result<Block, NodeFailure> {
        let dim = DIMS[stage];
        let window = WINDOWS[stage];
        Ok(Block {
            attn: Attention::new(w, &format!("{prefix}.attn"), dim, HEADS[stage], window)?,
            mlp: Mlp::new(w, &format!("{prefix}.mlp"), dim)?,
            local_conv: ConvBn::new(w, &format!("{prefix}.local_conv"), dim, dim, 3, 1, 1, dim)?,
            window,
            drop,
        })
    }

    /// The windowed attention of tokens `[B, H·W, C]`: one window if the grid is exactly one,
    /// otherwise zero-padded bottom/right to window multiples, tiled, attended and cropped. The
    /// padded tokens are not masked (§2.1 [QUIRK]): they are LayerNorm-ed and act as keys/values.
    fn windowed(&self, x: &Tensor, h: i64, w: i64, train: bool) -> Tensor {
        let ws = self.window;
        if h == ws && w == ws {
            return self.attn.forward(x, train);
        }
        let (b, c) = (x.size()[0], x.size()[2]);
        let (pad_b, pad_r) = ((ws - h % ws) % ws, (ws - w % ws) % ws);
        // `constant_pad_nd` lists pads from the last dimension: channels, then W, then H.
        let grid = x.reshape([b, h, w, c]).constant_pad_nd([0, 0, 0, pad_r, 0, pad_b]);
        let (ph, pw) = (h + pad_b, w + pad_r);
        let (nh, nw) = (ph / ws, pw / ws);
        let windows = grid.reshape([b, nh, ws, nw, ws, c]).transpose(2, 3).reshape([b * nh * nw, ws * ws, c]);
        let out = self.attn.forward(&windows, train);
        let out = out.view([b, nh, nw, ws, ws, c]).transpose(2, 3).reshape([b, ph, pw, c]);
        out.narrow(1, 0, h).narrow(2, 0, w).reshape([b, h * w, c])
    }

    fn forward(&self, x: &Tensor, h: i64, w: i64, train: bool) -> Tensor {
        let (b, l, c) = (x.size()[0], x.size()[1], x.size()[2]);
        let x = x + drop_path(self.windowed(x, h, w, train), self.drop, train);
        let map = x.transpose(1, 2).reshape([b, c, h, w]);
        let x = self.local_conv.forward(&map, train).view([b, c, l]).transpose(1, 2);
        let y = drop_path(self.mlp.forward(&x), self.drop, train);
        x + y
    }
}

/// An attention stage (`layers.1..3`): its blocks and the PatchMerging that ends it, if any.
struct Stage {
    blocks: Vec<Block>,
    downsample: Option<PatchMerging>,
}

/// The TinyViT-11M network.
pub(crate) struct TinyVit {
    embed0: ConvBn,
    embed2: ConvBn,
    conv_blocks: Vec<MbConv>,
    merge0: PatchMerging,
    stages: Vec<Stage>,
    norm_head: LayerNorm,
    head: Linear,
}

impl TinyVit {
    /// Builds the network from a state dict, taking tensors in PyTorch's state-dict order; the
    /// class count is read from `head.weight`.
    pub(crate) fn new(w: &mut Weights) -> Result<TinyVit, NodeFailure> {
        let classes = w.shape("head.weight").map_or(0, |s| s[0]);
        let drops = drop_path_rates();
        let embed0 = ConvBn::new(w, "patch_embed.seq.0", 3, EMBED_MID, 3, 2, 1, 1)?;
        let embed2 = ConvBn::new(w, "patch_embed.seq.2", EMBED_MID, DIMS[0], 3, 2, 1, 1)?;
        let conv_blocks = (0..DEPTHS[0])
            .map(|j| MbConv::new(w, &format!("layers.0.blocks.{j}"), DIMS[0], drops[j]))
            .collect::<Result<Vec<_>, _>>()?;
        let merge0 = PatchMerging::new(w, "layers.0.downsample", DIMS[0], DIMS[1])?;
        let mut stages = Vec::new();
        let mut first = DEPTHS[0];
        for stage in 1..DIMS.len() {
            let blocks = (0..DEPTHS[stage])
                .map(|j| Block::new(w, &format!("layers.{stage}.blocks.{j}"), stage, drops[first + j]))
                .collect::<Result<Vec<_>, _>>()?;
            first += DEPTHS[stage];
            let downsample = match DIMS.get(stage + 1) {
                Some(&out) => Some(PatchMerging::new(w, &format!("layers.{stage}.downsample"), DIMS[stage], out)?),
                None => None,
            };
            stages.push(Stage { blocks, downsample });
        }
        let norm_head = LayerNorm::new(w, "norm_head", DIMS[3])?;
        let head = Linear::new(w, "head", DIMS[3], classes)?;
        Ok(TinyVit { embed0, embed2, conv_blocks, merge0, stages, norm_head, head })
    }

    /// Logits for a `[B, 3, H, W]` batch; `train` selects BatchNorm's mode, drop path and the
    /// attention bias's gradient (§2.3).
    pub(crate) fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let x = gelu(&self.embed0.forward(x, train));
        let mut x = self.embed2.forward(&x, train);
        for block in &self.conv_blocks {
            x = block.forward(&x, train);
        }
        let (mut tokens, mut h, mut w) = self.merge0.forward(&x, train);
        for stage in &self.stages {
            for block in &stage.blocks {
                tokens = block.forward(&tokens, h, w, train);
            }
            if let Some(merge) = &stage.downsample {
                let (b, c) = (tokens.size()[0], tokens.size()[2]);
                let map = tokens.reshape([b, h, w, c]).permute([0, 3, 1, 2]);
                (tokens, h, w) = merge.forward(&map, train);
            }
        }
        let pooled = tokens.mean_dim(1, false, None::<Kind>);
        self.head.forward(&self.norm_head.forward(&pooled))
    }
}
