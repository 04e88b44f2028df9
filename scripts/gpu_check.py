"""The GPU check of munl's throughput, in one call on one card: `scripts/gpu-check`.

Needs Python with torch 2.11 (no torchvision, no Rust) and munl's release binaries
(`target/release/munl` and `munl-torch`, or `--munl DIR`). Prints one Markdown table:

1. the reference's way: per-image CPU transforms (pad-4 random crop, flip, normalise) in a
   DataLoader with 8 workers, pinned memory, ResNet-18, SGD — one CIFAR-10-sized epoch;
2. PyTorch with the images resident on the GPU, batches built there (scripts/bench_pytorch.py's
   loop) — one epoch;
3. munl, one training — one epoch (`munl bench --epoch`);
4. munl, 1/2/4/8 trainings at once, each on its own stream — aggregate images/s;
5. TinyViT-11M at 32×32: munl against PyTorch eager (munl's own PyTorch version of it);
6. where a munl step's time goes (`--breakdown`).

`--quick` shrinks everything (and runs on the CPU) to check the script itself.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from bench_pytorch import ResNet18, augment  # noqa: E402

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


class CifarLike(torch.utils.data.Dataset):
    """Random uint8 HWC images transformed per image on the CPU, as torchvision's pipeline
    does: pad 4 and crop 32×32 at a random offset, flip half, to float, normalise."""

    def __init__(self, n):
        rng = np.random.default_rng(0)
        self.x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        self.y = rng.integers(0, 10, n)
        self.mean = np.array(MEAN, dtype=np.float32)
        self.std = np.array(STD, dtype=np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        img = np.pad(self.x[i], ((4, 4), (4, 4), (0, 0)))
        top, left = np.random.randint(0, 9, 2)
        img = img[top : top + 32, left : left + 32]
        if np.random.rand() < 0.5:
            img = img[:, ::-1]
        img = (img.astype(np.float32) / 255 - self.mean) / self.std
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))), int(self.y[i])


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)


def reference_epoch(dev, n, batch, workers):
    model = ResNet18().to(dev).train()
    opt = sgd(model)
    loader = torch.utils.data.DataLoader(
        CifarLike(n), batch_size=batch, shuffle=True, num_workers=workers, pin_memory=dev.type == "cuda",
        persistent_workers=workers > 0,
    )
    for i, (x, y) in enumerate(loader):  # warm-up pass (workers, cuDNN)
        if i == 2:
            break
    sync(dev)
    t0 = time.perf_counter()
    for x, y in loader:
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    sync(dev)
    return time.perf_counter() - t0


def resident_epoch(dev, n, batch, model=None):
    model = (model or ResNet18()).to(dev).train()
    opt = sgd(model)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, device=dev)
    labels = torch.randint(0, 10, (n,), device=dev)
    mean = torch.tensor(MEAN, device=dev)[None, :, None, None]
    std = torch.tensor(STD, device=dev)[None, :, None, None]

    def step(idx):
        x = augment((images[idx].float() / 255 - mean) / std)
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    for _ in range(3):
        step(torch.randint(0, n, (batch,), device=dev))
    sync(dev)
    t0 = time.perf_counter()
    total = torch.zeros((), device=dev)
    perm = torch.randperm(n, device=dev)
    for i in range(0, n, batch):
        total += step(perm[i : i + batch])
    total.item()
    return time.perf_counter() - t0


def munl_bench(munl, device, **kw):
    args = [munl, "bench", "--device", device, "--json"]
    for k, v in kw.items():
        if v is True:
            args.append(f"--{k}")
        elif v is not None:
            args += [f"--{k}", str(v)]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr}")
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--munl", default=os.path.join(HERE, "..", "target", "release"), help="folder of munl and munl-torch")
    p.add_argument("--quick", action="store_true", help="tiny sizes on the CPU: checks the script, measures nothing")
    a = p.parse_args()
    munl = os.path.join(a.munl, "munl")
    quick = a.quick or not torch.cuda.is_available()
    if quick and not a.quick:
        print("no CUDA device: running the quick check on the CPU; these numbers say nothing about a GPU\n")
    dev = torch.device("cpu" if quick else "cuda")
    torch.backends.cudnn.benchmark = True
    n, batch, workers, steps = (512, 64, 2, 2) if quick else (42_500, 256, 8, 50)
    vit_batch, vit_steps = (8, 1) if quick else (256, 20)
    device = "cpu" if quick else "cuda"
    rows = []
    t0 = time.perf_counter()

    ref = reference_epoch(dev, n, batch, workers)
    rows.append(("ResNet-18 epoch, reference's way (DataLoader, %d workers, CPU transforms)" % workers, n / ref, ref, 1.0))
    res = resident_epoch(dev, n, batch)
    rows.append(("ResNet-18 epoch, PyTorch, data resident on the device", n / res, res, ref / res))
    m = munl_bench(munl, device, arch="resnet18", batch=batch, epoch=n)
    rows.append(("ResNet-18 epoch, munl", m["images_per_s"], m["seconds"], ref / m["seconds"]))
    single = None
    for k in (1, 2, 4, 8):
        c = munl_bench(munl, device, arch="resnet18", batch=batch, steps=steps, concurrent=k)
        single = single or c["images_per_s"]
        streams = "own streams" if c["stream_shim"] and any(s != 0 for s in c["streams"]) else "default stream"
        rows.append((f"ResNet-18, munl, {k} training(s) at once ({streams}), aggregate", c["images_per_s"], None, c["images_per_s"] / single))
    v = munl_bench(munl, device, arch="vit11m", batch=vit_batch, steps=vit_steps)
    rows.append(("TinyViT-11M 32×32, munl", v["images_per_s"], None, None))
    from munl.models import build

    vit = build("vit11m", num_classes=10)
    pv = resident_epoch(dev, vit_batch * vit_steps, vit_batch, model=vit)
    rows.append(("TinyViT-11M 32×32, PyTorch eager, data resident", vit_batch * vit_steps / pv, None, None))
    b = munl_bench(munl, device, arch="resnet18", batch=batch, steps=steps, breakdown=True)["breakdown"]

    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "CPU (quick check)"
    print(f"munl GPU check on {name}, torch {torch.__version__}, batch {batch}, epoch of {n} images\n")
    print("| what | images/s | epoch s | × |")
    print("|---|---:|---:|---:|")
    for what, ips, secs, x in rows:
        secs = "" if secs is None else f"{secs:.2f}"
        x = "" if x is None else f"{x:.2f}"
        print(f"| {what} | {ips:,.0f} | {secs} | {x} |")
    total = b["data_ms"] + b["forward_ms"] + b["backward_ms"] + b["optimizer_ms"]
    print(
        f"\nmunl ResNet-18 step, each phase after a synchronisation: data {b['data_ms']:.2f} ms, "
        f"forward+loss {b['forward_ms']:.2f} ms, backward {b['backward_ms']:.2f} ms, optimiser {b['optimizer_ms']:.2f} ms "
        f"({total:.2f} ms)"
    )
    print(f"\n× is against the reference's epoch for epochs, against one munl training for the concurrent rows. Took {time.perf_counter() - t0:.0f} s.")
    if any(math.isnan(r[1]) for r in rows):
        raise SystemExit("a measurement is not a number")


if __name__ == "__main__":
    main()
