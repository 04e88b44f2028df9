"""A small PyTorch CNN declared as a custom munl model (`python("models/net.py", class: "SmallCNN")`).

munl constructs it as `SmallCNN(num_classes, width=…)` under each run's seed, compiles it to
TorchScript and trains it with its own trainer, like its built-in architectures. Its inputs are
munl's normalised 3-channel batches (grey images are repeated over the channels).
"""

import torch
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, num_classes, *, width: int = 16, dropout: float = 0.0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4),
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * width * 16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(torch.flatten(self.features(x), 1)))
