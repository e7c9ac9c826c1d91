"""ELF's Atari actor-critic network; every parameter (biases and the PReLU slope included) is prunable."""

from __future__ import annotations

import torch
from torch import nn

import shared_mask as sm


class ELFAtariNet(nn.Module):
    """Stacked frames (uint8) -> (action logits, state value), after ELF's ``atari/model.py``.

    Four same-size convolutions (5x5, 5x5, 3x3, 3x3; ``channels/2``, ``channels/2``, ``channels``,
    ``channels`` filters), each followed by LeakyReLU(0.1) and 2x2 max-pooling; a fully connected
    layer of ``hidden`` units with PReLU; linear policy and value heads. ELF fed 105x80 frames
    (1920 features after the trunk); the 84x84 frames here give 64 x 5 x 5 = 1600.
    """

    def __init__(
        self, in_channels: int, actions: int, height: int = 84, width: int = 84, channels: int = 64, hidden: int = 512
    ):
        super().__init__()
        half = max(channels // 2, 1)
        layers, previous = [], in_channels
        for out, kernel in ((half, 5), (half, 5), (channels, 3), (channels, 3)):
            layers += [nn.Conv2d(previous, out, kernel, padding=kernel // 2), nn.LeakyReLU(0.1), nn.MaxPool2d(2)]
            previous = out
            height, width = height // 2, width // 2
        self.trunk = nn.Sequential(*layers, nn.Flatten())
        self.fc = nn.Sequential(nn.Linear(channels * height * width, hidden), nn.PReLU())
        self.policy = nn.Linear(hidden, actions)
        self.value = nn.Linear(hidden, 1)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.fc(self.trunk(frames.float() / 255.0))
        return self.policy(hidden), self.value(hidden).squeeze(-1)


def build_network(in_channels: int, actions: int, channels: int, hidden: int, seed: int) -> ELFAtariNet:
    """PyTorch's default initialization (as in ELF), deterministic in ``seed``; global RNG untouched."""
    return sm.reinit_(ELFAtariNet(in_channels, actions, channels=channels, hidden=hidden), seed)
