"""l1-sparse unlearning, a method munl does not ship, in plain PyTorch.

Jia, Liu, Ram, Yao, Liu, Liu, Sharma, Liu: "Model Sparsity Can Simplify Machine Unlearning",
NeurIPS 2023 (arXiv:2304.04934), §4: fine-tune on the retain set with an l1 penalty on the
weights, `CE(retain) + gamma_t * ||theta||_1`, whose weight decays linearly over the run,
`gamma_t = alpha * (1 - t / T)` per epoch t of T. Sparsity makes the model forget more of what
only the forget set taught it. Optimiser and schedule as munl's fine-tuning (SGD, cosine).
"""

import math

import torch
import torch.nn.functional as F


def unlearn(model, data, *, epochs: int = 5, batch: int = 256, lr: float = 0.05,
            momentum: float = 0.9, weight_decay: float = 5e-4, alpha: float = 1e-4):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    params = [p for p in model.parameters() if p.requires_grad]
    model.train()
    for epoch in range(epochs):
        gamma = alpha * (1 - epoch / epochs)
        for group in opt.param_groups:
            group["lr"] = lr * (1 + math.cos(math.pi * epoch / epochs)) / 2
        total, seen = torch.zeros((), device=data.device), 0
        for x, y in data.retain(batch):
            ce = F.cross_entropy(model(x), y)
            l1 = sum(p.abs().sum() for p in params)
            loss = ce + gamma * l1
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += ce.detach() * len(y)
            seen += len(y)
        data.epoch_done(total.item() / max(seen, 1))
    return model
