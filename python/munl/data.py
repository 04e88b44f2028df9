"""The data a Python method sees, batched exactly as munl's built-in methods batch it.

munl keeps a dataset on the device as `uint8 [N, C, H, W]` images and `int64 [N]` labels (the
official train images first, then the test images). A pass over a set of indices draws its
order from one generator per method run, NumPy's legacy MT19937 seeded with 123 (the
reference's data seed): `RandomState(123).permutation(n)`, then, for the augmented profile, a
random crop offset pair (top, left) per image and a horizontal flip per image, in that order.
Each batch is gathered on the device, cropped and flipped there, widened to 3 channels and
normalised with the dataset's mean and standard deviation: `x * (1 / (255 std)) - mean / std`
in float32, the arithmetic of munl's own batches.
"""

import math

import numpy as np
import torch

# The padding of the reference's RandomCrop(32, padding=4).
CROP_PAD = 4


class Pass:
    """One pass over a set of images in batches: iterate it for `(x, y)` pairs.

    The order (and the augmentation draws) were drawn when the pass was made, so making passes
    in the order a built-in method does (one per epoch) gives its batches exactly.
    """

    def __init__(self, data, index, batch, crop=None, flip=None):
        self.data, self.index, self.batch = data, index, batch
        self.crop, self.flip = crop, flip

    def __len__(self):
        """The number of batches (the last one may be smaller)."""
        return math.ceil(len(self.index) / self.batch)

    @property
    def samples(self):
        return len(self.index)

    def __iter__(self):
        for start in range(0, len(self.index), self.batch):
            end = min(start + self.batch, len(self.index))
            yield self.data._batch(self, start, end)


class Data:
    """The dataset, the split and munl's data-order generator for one method run.

    Attributes: `device`, `seed` (the run's seed: the models' seed; the data order does not
    depend on it), `classes`, `retain_indices` / `forget_indices` / `val_indices` (int64 on the
    device, positions in `images`), `images` (uint8, as stored) and `labels` (int64), and `rng`,
    the `numpy.random.RandomState(123)` every shuffled pass draws from.
    """

    def __init__(self, images, labels, mean, std, augment, split, classes, device, seed):
        self.device = torch.device(device)
        self.seed = seed
        self.classes = classes
        self.images = images.to(self.device)
        self.labels = labels.to(self.device, torch.int64)
        self.augment_profile = augment
        as_index = lambda xs: torch.as_tensor(xs, dtype=torch.int64, device=self.device)  # noqa: E731
        self.retain_indices = as_index(split["retain"])
        self.forget_indices = as_index(split["forget"])
        self.val_indices = as_index(split["val"])
        self._host = {name: np.asarray(split[name], dtype=np.int64) for name in ("retain", "forget", "val")}
        scale = [1.0 / (255.0 * s) for s in std]
        shift = [m / s for m, s in zip(mean, std)]
        self._scale = torch.tensor(scale, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self._shift = torch.tensor(shift, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self.rng = np.random.RandomState(123)
        self.losses = []
        self.diverged = None

    # ---- passes

    def retain(self, batch, augment=False):
        """A shuffled pass over the retain set (plain images unless `augment`)."""
        return self.shuffled(self._host["retain"], batch, augment)

    def forget(self, batch, augment=False):
        """A shuffled pass over the forget set."""
        return self.shuffled(self._host["forget"], batch, augment)

    def val(self, batch):
        """The validation set in order, plain images."""
        return self.ordered(self._host["val"], batch)

    def shuffled(self, indices, batch, augment=False):
        """A shuffled pass over `indices` (positions in `images`), drawn from `rng` now.

        `augment` applies the dataset's reference augmentation (random crop with 4 pixels of
        zero padding and horizontal flip for CIFAR; flip only, or nothing, for the others).
        """
        indices = np.asarray(indices, dtype=np.int64)
        n = len(indices)
        order = indices[self.rng.permutation(n)]
        profile = self.augment_profile if augment else "none"
        crop = flip = None
        if profile == "crop_flip":
            # torchvision's RandomCrop draws the top offset, then the left one, per image.
            crop = torch.as_tensor(self.rng.randint(0, 2 * CROP_PAD + 1, size=2 * n), device=self.device).view(n, 2)
        if profile in ("flip", "crop_flip"):
            flip = torch.as_tensor(self.rng.random_sample(n) < 0.5, device=self.device)
        return Pass(self, torch.as_tensor(order, device=self.device), batch, crop, flip)

    def ordered(self, indices, batch):
        """A pass over `indices` in the given order, plain images."""
        return Pass(self, torch.as_tensor(np.asarray(indices, dtype=np.int64), device=self.device), batch)

    def _batch(self, p, start, end):
        index = p.index[start:end]
        x = self.images.index_select(0, index)
        if p.crop is not None:
            x = _crop(x, p.crop[start:end])
        if p.flip is not None:
            flip = p.flip[start:end].view(-1, 1, 1, 1)
            x = torch.where(flip, x.flip(3), x)
        x = x.expand(x.shape[0], 3, x.shape[2], x.shape[3]).float()
        return x * self._scale - self._shift, self.labels.index_select(0, index)

    # ---- bookkeeping

    def epoch_done(self, loss):
        """Records an epoch's (or phase's) mean loss for munl's `run.json`; returns it.

        A non-finite loss is recorded as the run's divergence (the first one), as munl records a
        built-in method's: the run goes on, and munl's tables mark what cannot be measured.
        """
        loss = float(loss)
        if not math.isfinite(loss) and self.diverged is None:
            self.diverged = f"the loss became non-finite ({loss}) in epoch {len(self.losses) + 1}"
        self.losses.append(loss)
        print(f"munl: epoch {len(self.losses)} loss {loss:.4f}", flush=True)
        return loss


def _crop(x, offsets):
    """Pads `uint8 [B, C, H, W]` by CROP_PAD zeros and cuts an H × W window per image at
    `offsets [B, 2]` (top, left)."""
    b, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (CROP_PAD,) * 4)
    rows = offsets[:, :1] + torch.arange(h, device=x.device).view(1, h)
    cols = offsets[:, 1:] + torch.arange(w, device=x.device).view(1, w)
    wp = w + 2 * CROP_PAD
    x = padded.gather(2, rows.view(b, 1, h, 1).expand(b, c, h, wp))
    return x.gather(3, cols.view(b, 1, 1, w).expand(b, c, h, w))
