"""The classic-control actor-critic: a fully connected trunk of three hidden layers, two linear heads."""

from __future__ import annotations

import math

import torch
from torch import nn

DEFAULT_WIDTH = 128  # hidden units per layer; the paper does not give FLARE's width


class ActorCritic(nn.Module):
    """obs -> (action logits, state value) through a shared tanh trunk.

    Every parameter, biases included, is an ordinary ``nn.Linear`` weight or bias, so all of them
    are prunable. Weights are orthogonal (gain sqrt(2) in the trunk, 1 in the heads); with PyTorch's
    default init A2C needs several times more samples on CartPole. Biases are uniform in
    +-1/sqrt(fan_in) like PyTorch's default rather than zero: global magnitude pruning would
    otherwise remove every bias at the first level (they barely move at lr 1e-4), leaving a critic
    that is an odd function of the observation, unable to represent CartPole's positive values.
    Head gains are 1 rather than the usual 0.01 for the same reason: tiny heads are pruned away first.
    """

    def __init__(self, obs_size: int, actions: int, width: int = DEFAULT_WIDTH, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):  # nn.Linear's own init draws from the global RNG
            self.trunk = nn.Sequential(
                nn.Linear(obs_size, width),
                nn.Tanh(),
                nn.Linear(width, width),
                nn.Tanh(),
                nn.Linear(width, width),
                nn.Tanh(),
            )
            self.policy = nn.Linear(width, actions)
            self.value = nn.Linear(width, 1)
        self.init_weights(seed)

    @torch.no_grad()
    def init_weights(self, seed: int) -> None:
        """Orthogonal init from its own generator: deterministic in ``seed``, global RNG untouched."""
        generator = torch.Generator().manual_seed(seed)
        gains = [(layer, math.sqrt(2)) for layer in self.trunk if isinstance(layer, nn.Linear)]
        for layer, gain in gains + [(self.policy, 1.0), (self.value, 1.0)]:
            nn.init.orthogonal_(layer.weight, gain=gain, generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        """Action logits alone (acting needs no value)."""
        return self.policy(self.trunk(obs))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.trunk(obs)
        return self.policy(hidden), self.value(hidden).squeeze(-1)
