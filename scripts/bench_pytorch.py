"""PyTorch baseline for `munl bench`: the same training step on the same card.

ResNet-18 with the ImageNet stem (torchvision's layout, written out here so that torchvision is
not needed), batch of 3x32x32 images resident on the device, pad-4 random crop and horizontal
flip done on the device, cross-entropy, SGD(0.01, 0.9, 5e-4). Prints ms/step and images/s, and
one epoch over N images (default 51 000, MNIST's training part) with the data on the device.
"""

import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        widths = [64, 128, 256, 512]
        cin = 64
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(Block(cin, w, stride), Block(w, w, 1)))
            cin = w
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def augment(x):
    """Pad-4 random crop + horizontal flip, vectorised over the batch."""
    b = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4))
    ar = torch.arange(32, device=x.device)
    rows = torch.randint(0, 9, (b, 1), device=x.device) + ar  # b x 32
    cols = torch.randint(0, 9, (b, 1), device=x.device) + ar
    batch = torch.arange(b, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    flip = torch.rand(b, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--epoch", type=int, default=51000)
    a = p.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    model = ResNet18().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    n = a.epoch
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, device=dev)
    labels = torch.randint(0, 10, (n,), device=dev)
    mean = torch.tensor([0.49, 0.48, 0.45], device=dev)[None, :, None, None]
    std = torch.tensor([0.20, 0.20, 0.20], device=dev)[None, :, None, None]

    def step(idx):
        x = (images[idx].float() / 255 - mean) / std
        x = augment(x)
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    model.train()
    for _ in range(3):
        step(torch.randint(0, n, (a.batch,), device=dev))
    sync()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step(torch.randint(0, n, (a.batch,), device=dev))
    sync()
    dt = time.perf_counter() - t0
    print(f"pytorch resnet18 on {dev}: batch {a.batch}, {1e3 * dt / a.steps:.1f} ms/step, {a.batch * a.steps / dt:.0f} images/s")
    perm = torch.randperm(n, device=dev)
    t0 = time.perf_counter()
    total = torch.zeros((), device=dev)
    for i in range(0, n, a.batch):
        total += step(perm[i : i + a.batch]).detach()
    sync()
    dt = time.perf_counter() - t0
    print(f"pytorch resnet18 epoch of {n} images (data on the device): {dt:.2f} s, {n / dt:.0f} images/s")


if __name__ == "__main__":
    main()
