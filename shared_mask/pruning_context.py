"""``PruningContext``: what a pruning strategy may read besides the weights it prunes.

The plan builds one per (seed, level): the seed's initial weights W_0 and rewind weights W_j (read
through the trainer's ``read_state`` only when a strategy asks for them), the trainer's batch-loss
and all-ones hooks (None where the trainer has none) and the number of training batches asked for.
Strategies never open files themselves.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property, partial
from pathlib import Path

import torch
from torch import nn

# The training losses of ``count`` batches for ``model`` (scalar tensors with their graphs).
BatchLosses = Callable[[nn.Module, int], Iterable[torch.Tensor]]
# The model's outputs (a tensor or a tuple of tensors) for one all-ones input sample.
OnesOutput = Callable[[nn.Module], torch.Tensor | tuple[torch.Tensor, ...]]


class PruningContext:
    """The starting weights and data hooks of one seed and level (see the module docstring)."""

    def __init__(
        self,
        seed: int = 0,
        level: int = 0,
        initial: Mapping[str, torch.Tensor] | Path | None = None,
        rewind: Mapping[str, torch.Tensor] | Path | None = None,
        read_state: Callable[[Path], Mapping[str, torch.Tensor]] | None = None,
        batch_losses: BatchLosses | None = None,
        ones_output: OnesOutput | None = None,
        batches: int | None = None,
    ):
        self.seed, self.level = seed, level
        self._sources = {"initial": initial, "rewind": rewind}
        self._read = read_state
        self.batch_losses, self.ones_output, self.batches = batch_losses, ones_output, batches

    @cached_property
    def initial(self) -> Mapping[str, torch.Tensor]:
        """W_0 by parameter name."""
        return self._state("initial")

    @cached_property
    def rewind(self) -> Mapping[str, torch.Tensor]:
        """W_j (the late-rewinding point; W_0 without late rewinding) by parameter name."""
        return self._state("rewind")

    def _state(self, which: str) -> Mapping[str, torch.Tensor]:
        source = self._sources[which]
        if source is None:
            raise ValueError(f"this pruning strategy needs the {which} weights, which the caller did not give")
        return self._read(source) if isinstance(source, Path) else source

    def losses(self, model: nn.Module, strategy: str, default: int) -> list[torch.Tensor]:
        """The losses of the asked number of training batches (``default`` when none was asked)."""
        count = default if self.batches is None else self.batches
        if self.batch_losses is None:
            raise ValueError(f"{strategy} scores weights on training batches: this trainer has no batch_losses hook")
        if count < 1:
            raise ValueError(f"{strategy} scores weights on training batches: give it at least one, not {count}")
        return list(self.batch_losses(model, count))

    def random_seed(self, name: str) -> int:
        """A seed for a strategy's random choices at this seed and level, distinct per strategy name."""
        return 1_000_003 * (self.seed + 1) + 1_009 * self.level + zlib.crc32(name.encode()) % 1_009


def trainer_hooks(trainer, seed: int) -> dict:
    """A trainer's optional pruning hooks for ``seed`` (None where it has none), as PruningContext's
    arguments: ``trainer.batch_losses(model, count, seed)`` and ``trainer.ones_output(model)``."""
    losses = getattr(trainer, "batch_losses", None)
    return {
        "batch_losses": None if losses is None else partial(losses, seed=seed),
        "ones_output": getattr(trainer, "ones_output", None),
    }


def missing_hooks(strategy, trainer) -> list[str]:
    """The trainer hooks that ``strategy`` needs and ``trainer`` lacks."""
    return [hook for hook in getattr(strategy, "hooks", ()) if getattr(trainer, hook, None) is None]
