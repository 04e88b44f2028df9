"""munl's three architectures in PyTorch, equal to munl's own (src/torch/models/).

`build(arch, num_classes, **fields)` returns a `torch.nn.Module` whose `state_dict()` has
exactly the names, shapes and order of the `model.safetensors` files munl stores, so such a file
loads with `load_state_dict(..., strict=True)`, and whose forward pass computes what munl's
does, in train and in eval mode:

* `resnet18`: torchvision's `resnet18(num_classes=C)`, the ImageNet stem at every input size.
* `cnn`: munl's small CNN, two conv-BN-ReLU-max-pool stages, an adaptive average pool to 4x4
  and two linear layers.
* `vit11m`: TinyViT-11M as the reference builds it (dims 64/128/256/448, depths 2/2/6/2,
  windows 7/14/7 with unmasked zero padding, drop path up to 0.1), with the attention bias
  taken without gradient in eval mode.

Every model takes normalised float32 batches `[B, 3, H, W]`: munl widens grey images to 3
channels before a batch reaches a model, so every architecture has 3 input channels.

After `torch.manual_seed(seed)`, `build(...)` draws the same initial weights as munl's `init`
node of that seed (on the CPU, same libtorch): the default layer initialisation in module order
for `cnn`, torchvision's for `resnet18`, and munl's TinyViT initialisation for `vit11m`.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["build", "Cnn", "TinyViT", "DropPath"]

# munl's bounds on the catalogue's numbers (src/ops/limits.rs).
MAX_CLASSES = 100_000
MAX_WIDTH = 1_024
MIN_IMG_SIZE, MAX_IMG_SIZE = 32, 4_096


def _count(name, value, low, high):
    """`value` if it is an integer in `low..=high`; otherwise a TypeError or ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"`{name}` must be between {low} and {high}, got {value}")
    return value


def build(arch: str, num_classes: int, in_channels: int = 3, **args) -> nn.Module:
    """Builds munl's architecture `arch` with `num_classes` outputs.

    arch: "resnet18", "cnn" or "vit11m" (munl's catalogue names).
    num_classes: the dataset's class count (munl reads it off the data; a stored model's
        last layer has that many outputs).
    in_channels: must be 3. munl expands grey images to 3 channels in every batch, so all its
        models have 3 input channels; the argument is here to say so, not to change it.
    args: the architecture's catalogue fields, with munl's defaults:
        cnn: `width = 32` (channels of the first conv; the second has twice as many);
        resnet18: none;
        vit11m: `img_size = 32`. As in munl, the weights do not depend on it and the forward
            pass reads every stage's resolution off its input; it is kept as `model.img_size`.

    The model is in training mode, as any freshly built PyTorch module.
    """
    _count("num_classes", num_classes, 1, MAX_CLASSES)
    if in_channels != 3:
        raise ValueError(
            f"munl's models take 3 input channels (grey images are widened to 3), got in_channels={in_channels}"
        )
    fields = {"cnn": {"width": 32}, "resnet18": {}, "vit11m": {"img_size": 32}}
    if arch not in fields:
        raise ValueError(f"unknown architecture {arch!r}: munl has 'resnet18', 'cnn' and 'vit11m'")
    unknown = sorted(set(args) - set(fields[arch]))
    if unknown:
        raise TypeError(f"`{arch}` has no field {', '.join(map(repr, unknown))}")
    values = {**fields[arch], **args}
    if arch == "resnet18":
        # Imported here: methods on the other architectures run without torchvision.
        import torchvision

        return torchvision.models.resnet18(weights=None, num_classes=num_classes)
    if arch == "cnn":
        return Cnn(num_classes, _count("width", values["width"], 1, MAX_WIDTH))
    return TinyViT(num_classes, _count("img_size", values["img_size"], MIN_IMG_SIZE, MAX_IMG_SIZE))


# ---- the CNN


class Cnn(nn.Module):
    """munl's small CNN (catalogue op `cnn`, src/torch/models/cnn.rs).

    conv1 (3x3, pad 1, no bias) -> bn1 -> ReLU -> max-pool 2x2 -> conv2 (twice the channels) ->
    bn2 -> ReLU -> max-pool 2x2 -> adaptive average pool to 4x4 -> flatten -> fc1 (128) -> ReLU
    -> fc2. Any square input of at least 4 pixels works.

    The layers are PyTorch's with their default initialisation, constructed in the order munl
    draws its initial weights, so after `torch.manual_seed(seed)` a new `Cnn` holds munl's.
    """

    HIDDEN = 128
    POOLED = 4

    def __init__(self, num_classes: int, width: int = 32):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.fc1 = nn.Linear(2 * width * self.POOLED * self.POOLED, self.HIDDEN)
        self.fc2 = nn.Linear(self.HIDDEN, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.adaptive_avg_pool2d(x, self.POOLED).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))


# ---- TinyViT-11M

# Embedding dimension, blocks, attention heads and window side of stages 0..3 (stage 0 is
# convolutional: its heads and window are unused).
DIMS = (64, 128, 256, 448)
DEPTHS = (2, 2, 6, 2)
HEADS = (2, 4, 8, 14)
WINDOWS = (7, 7, 14, 7)
# Width of every attention head (dim / heads in every attention stage).
HEAD_DIM = 32
# Hidden width of the MLPs and of the MBConv expansion, as a multiple of the stage's dim.
RATIO = 4
# Channels after the first patch-embedding conv.
EMBED_MID = 32
# Drop-path rate of the last block; the rates are spaced linearly from 0 over all blocks.
DROP_PATH_MAX = 0.1


def drop_path_rates():
    """The drop-path rate of every block in network order, computed as munl does (in double)."""
    n = sum(DEPTHS)
    return [DROP_PATH_MAX * i / (n - 1) for i in range(n)]


class DropPath(nn.Module):
    """Stochastic depth: in training mode each sample's branch is kept with probability
    `1 - p` and then divided by `1 - p`; the identity in eval mode or for `p = 0`.

    The mask is drawn from the global generator with one `bernoulli_` per call, as munl draws
    it, so the same seed gives the same masks in both.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x / keep * mask

    def extra_repr(self):
        return f"p={self.p}"


class ConvBN(nn.Sequential):
    """TinyViT's `Conv2d_BN`: a bias-free convolution `c` followed by a BatchNorm `bn`."""

    def __init__(self, inp, out, k=1, stride=1, padding=0, groups=1):
        super().__init__()
        self.c = nn.Conv2d(inp, out, k, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out)


class MBConv(nn.Module):
    """A block of stage 0: 1x1 expand, 3x3 depth-wise, 1x1 project, drop path, residual, then
    GELU after the addition. The projection's BatchNorm weight starts at 0."""

    def __init__(self, dim, drop):
        super().__init__()
        hidden = dim * RATIO
        self.conv1 = ConvBN(dim, hidden)
        self.conv2 = ConvBN(hidden, hidden, 3, 1, 1, groups=hidden)
        self.conv3 = ConvBN(hidden, dim)
        self.drop_path = DropPath(drop)

    def forward(self, x):
        y = F.gelu(self.conv1(x))
        y = F.gelu(self.conv2(y))
        y = self.drop_path(self.conv3(y))
        return F.gelu(y + x)


class PatchMerging(nn.Module):
    """Between stages: 1x1 conv, GELU, 3x3 stride-2 depth-wise conv, GELU, 1x1 conv."""

    def __init__(self, dim, out):
        super().__init__()
        self.conv1 = ConvBN(dim, out)
        self.conv2 = ConvBN(out, out, 3, 2, 1, groups=out)
        self.conv3 = ConvBN(out, out)

    def forward(self, x):
        """Tokens `[B, H'*W', out]` (row-major) of a map `[B, C, H, W]`, with `(H', W')`."""
        y = F.gelu(self.conv1(x))
        y = F.gelu(self.conv2(y))
        y = self.conv3(y)
        h, w = y.shape[2], y.shape[3]
        return y.flatten(2).transpose(1, 2), h, w


class Attention(nn.Module):
    """Multi-head attention inside windows of `window * window` tokens, with a learned bias per
    head and relative offset (`attention_biases`, `[heads, window**2]`).

    The bias between window positions (r1, c1) and (r2, c2) is entry `|r1 - r2| * window +
    |c1 - c2|` of the head's row. The qkv output is laid out head-major: each head's 96 outputs
    are its q, k and v in turn.

    In eval mode the bias table is used detached, so no gradient reaches `attention_biases`
    (the reference caches a detached copy when switched to eval mode; munl, and this module,
    gather it at every call, which gives the same values without the reference's stale cache
    after loading new weights in eval mode).
    """

    def __init__(self, dim, heads, window):
        super().__init__()
        self.heads = heads
        n = window * window
        self.attention_biases = nn.Parameter(torch.zeros(heads, n))
        pos = torch.arange(n)
        rows, cols = pos // window, pos % window
        idx = (rows[:, None] - rows[None, :]).abs() * window + (cols[:, None] - cols[None, :]).abs()
        # Not part of the state dict (a non-persistent buffer, as in the reference).
        self.register_buffer("bias_idx", idx, persistent=False)
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * heads * HEAD_DIM)
        self.proj = nn.Linear(heads * HEAD_DIM, dim)

    def forward(self, x):
        """Attention within each of the windows `x`, `[B', N, C]` with `N = window**2`."""
        b, n, _ = x.shape
        qkv = self.qkv(self.norm(x)).view(b, n, self.heads, 3 * HEAD_DIM)
        q, k, v = (t.permute(0, 2, 1, 3) for t in qkv.split(HEAD_DIM, dim=3))
        table = self.attention_biases if self.training else self.attention_biases.detach()
        bias = table[:, self.bias_idx]
        scores = q @ k.transpose(-2, -1) * HEAD_DIM**-0.5 + bias
        out = scores.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, self.heads * HEAD_DIM))


class Mlp(nn.Module):
    """LayerNorm -> fc1 (4x wider) -> GELU -> fc2."""

    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * RATIO)
        self.fc2 = nn.Linear(dim * RATIO, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(self.norm(x))))


class TinyViTBlock(nn.Module):
    """Windowed attention (residual), a depth-wise 3x3 `local_conv` (no residual), an MLP
    (residual); drop path on both residual branches."""

    def __init__(self, dim, heads, window, drop):
        super().__init__()
        self.window = window
        self.attn = Attention(dim, heads, window)
        self.mlp = Mlp(dim)
        self.local_conv = ConvBN(dim, dim, 3, 1, 1, groups=dim)
        self.drop_path = DropPath(drop)

    def windowed(self, x, h, w):
        """Attention of tokens `[B, H*W, C]`: directly if the grid is one window, otherwise
        zero-padded at the bottom and right to window multiples, cut into windows, attended
        and cropped. The padded tokens are not masked: they go through the attention's
        LayerNorm and act as keys and values of the real tokens."""
        ws = self.window
        if h == ws and w == ws:
            return self.attn(x)
        b, _, c = x.shape
        pad_b, pad_r = (ws - h % ws) % ws, (ws - w % ws) % ws
        grid = F.pad(x.reshape(b, h, w, c), (0, 0, 0, pad_r, 0, pad_b))
        ph, pw = h + pad_b, w + pad_r
        nh, nw = ph // ws, pw // ws
        windows = grid.reshape(b, nh, ws, nw, ws, c).transpose(2, 3).reshape(b * nh * nw, ws * ws, c)
        out = self.attn(windows)
        out = out.view(b, nh, nw, ws, ws, c).transpose(2, 3).reshape(b, ph, pw, c)
        return out[:, :h, :w].reshape(b, h * w, c)

    def forward(self, x, h, w):
        b, n, c = x.shape
        x = x + self.drop_path(self.windowed(x, h, w))
        x = self.local_conv(x.transpose(1, 2).reshape(b, c, h, w)).view(b, c, n).transpose(1, 2)
        return x + self.drop_path(self.mlp(x))


class ConvLayer(nn.Module):
    """Stage 0: MBConv blocks on feature maps, then the PatchMerging to stage 1."""

    def __init__(self, dim, out, drops):
        super().__init__()
        self.blocks = nn.ModuleList(MBConv(dim, d) for d in drops)
        self.downsample = PatchMerging(dim, out)

    def forward(self, x):
        """Tokens of stage 1 and their grid `(h, w)` from a map `[B, C, H, W]`."""
        for block in self.blocks:
            x = block(x)
        return self.downsample(x)


class BasicLayer(nn.Module):
    """An attention stage: TinyViT blocks, then a PatchMerging unless it is the last stage."""

    def __init__(self, dim, out, heads, window, drops):
        super().__init__()
        self.blocks = nn.ModuleList(TinyViTBlock(dim, heads, window, d) for d in drops)
        self.downsample = PatchMerging(dim, out) if out is not None else None

    def forward(self, x, h, w):
        """Tokens `[B, h*w, C]` on an `h x w` grid -> the next stage's tokens and grid."""
        for block in self.blocks:
            x = block(x, h, w)
        if self.downsample is None:
            return x, h, w
        b, _, c = x.shape
        return self.downsample(x.reshape(b, h, w, c).permute(0, 3, 1, 2))


class PatchEmbed(nn.Module):
    """Two stride-2 3x3 convs with a GELU between them: the patch grid is a quarter of the image
    side."""

    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(
            ConvBN(3, EMBED_MID, 3, 2, 1), nn.GELU(), ConvBN(EMBED_MID, DIMS[0], 3, 2, 1)
        )

    def forward(self, x):
        return self.seq(x)


class TinyViT(nn.Module):
    """TinyViT-11M (catalogue op `vit11m`, src/torch/models/tinyvit.rs).

    `img_size` is recorded, not used: the weights do not depend on it, and the forward pass
    reads each stage's resolution off its input (the patch grid is a quarter of the image side
    and each PatchMerging halves it), as munl does.

    The initial weights are munl's (`reset_parameters`); construction itself leaves the global
    generator as it found it, so after `torch.manual_seed(seed)` a new `TinyViT` holds the
    weights of munl's `init` node of that seed.
    """

    def __init__(self, num_classes: int, img_size: int = 32):
        super().__init__()
        self.img_size = img_size
        drops = drop_path_rates()
        # The layers' own default initialisation draws from the global generator; undo those
        # draws, so that `reset_parameters` starts from the caller's generator state.
        with torch.random.fork_rng(devices=[]):
            self.patch_embed = PatchEmbed()
            first = DEPTHS[0]
            layers = [ConvLayer(DIMS[0], DIMS[1], drops[:first])]
            for stage in range(1, len(DIMS)):
                out = DIMS[stage + 1] if stage + 1 < len(DIMS) else None
                stage_drops = drops[first : first + DEPTHS[stage]]
                layers.append(BasicLayer(DIMS[stage], out, HEADS[stage], WINDOWS[stage], stage_drops))
                first += DEPTHS[stage]
            self.layers = nn.ModuleList(layers)
            self.norm_head = nn.LayerNorm(DIMS[-1])
            self.head = nn.Linear(DIMS[-1], num_classes)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        """munl's initial weights for TinyViT, drawn from the global generator: every conv
        weight U(+-1/sqrt(fan_in)) (PyTorch's default conv init) in module order, then every
        Linear weight N(0, 0.02) clamped to +-2 in module order, Linear biases 0; BatchNorm and
        LayerNorm weights 1 and biases 0, except the MBConv `conv3` BatchNorm weights 0; the
        attention biases 0; BatchNorm running statistics reset."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, Attention):
                nn.init.zeros_(m.attention_biases)
        for m in self.modules():
            if isinstance(m, MBConv):
                nn.init.zeros_(m.conv3.bn.weight)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0.0, 0.02).clamp_(-2.0, 2.0)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        """Logits for a normalised batch `[B, 3, H, W]`."""
        x = self.patch_embed(x)
        x, h, w = self.layers[0](x)
        for layer in self.layers[1:]:
            x, h, w = layer(x, h, w)
        return self.head(self.norm_head(x.mean(dim=1)))
