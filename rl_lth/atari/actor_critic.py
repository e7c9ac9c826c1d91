"""The learning loop: act with a behaviour copy, train the current network on completed trajectories."""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import nn

from .collector import TrajectoryCollector
from .loss import elf_loss
from .presets import ELFConfig

UpdateCallback = Callable[[int, dict[str, float], list[float]], None]


def make_optimizer(model: nn.Module, settings: ELFConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=settings.lr, betas=(settings.beta1, settings.beta2),
                            eps=settings.adam_eps)


def train_updates(model: nn.Module, optimizer: torch.optim.Optimizer, collector: TrajectoryCollector,
                  settings: ELFConfig, updates: int, on_update: UpdateCallback | None = None) -> None:
    """``updates`` training batches; after each, ``on_update(updates_done, losses, finished_game_scores)``.

    The behaviour copy is refreshed from ``model`` every ``settings.behaviour_refresh`` updates. When a
    mask guard holds ``model``, the copy is taken after the guard re-zeroed the pruned entries, so it is
    exactly as sparse.
    """
    behaviour = copy.deepcopy(model).requires_grad_(False)
    s = settings
    for update in range(1, updates + 1):
        batch, finished = collector.collect(behaviour, s.trajectories)
        batch = batch.to(collector.device)
        B, T = batch.actions.shape
        logits, values = model(batch.obs.flatten(0, 1))
        loss, stats = elf_loss(logits.view(B, T + 1, -1), values.view(B, T + 1), batch, s.gamma, s.entropy_coef,
                               s.value_coef, s.ratio_clamp, s.reward_clip, s.advantage_clip)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if update % s.behaviour_refresh == 0:
            behaviour.load_state_dict(model.state_dict())
        if on_update is not None:
            on_update(update, stats, finished)
