"""Fine-tuning (FT) in plain PyTorch: munl's built-in `finetune`, re-implemented.

Cross-entropy on the shuffled retain set in train mode, SGD with momentum and L2 weight decay,
a cosine learning-rate schedule over the epochs (T = epochs, eta_min = 0). With the same fields
and seed it gives the built-in method's weights (tests/python.rs checks it on the CPU).
"""

import math

import torch
import torch.nn.functional as F


def cosine(lr0, epoch, epochs):
    """The learning rate of `epoch` (0-based): the closed form munl and the reference use."""
    return lr0 * (1 + math.cos(math.pi * epoch / epochs)) / 2


def unlearn(model, data, *, epochs: int = 5, batch: int = 256, lr: float = 0.1,
            momentum: float = 0.9, weight_decay: float = 5e-4):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    model.train()
    for epoch in range(epochs):
        for group in opt.param_groups:
            group["lr"] = cosine(lr, epoch, epochs)
        total, seen = torch.zeros((), device=data.device), 0
        for x, y in data.retain(batch):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() * len(y)  # summed on the device: no sync per batch
            seen += len(y)
        data.epoch_done(total.item() / max(seen, 1))
    return model
