"""What the RL lottery trainers share: a budget, torch's thread count while training, progress display."""
from __future__ import annotations

from abc import abstractmethod
from contextlib import contextmanager

import shared_mask as sm
import torch

from .budget import Budget


class RLTrainer(sm.Trainer):
    """A shared_mask trainer that trains each unit for ``budget.batches`` batches with ``threads`` torch
    threads (0: torch's default); subclasses implement :meth:`train_unit`."""

    def __init__(self, budget: Budget, threads: int, progress: bool):
        if threads < 0:
            raise ValueError(f"threads must be 0 (torch's default) or positive, got {threads}")
        self.budget = budget
        self.threads = threads
        self.progress = progress

    def rewind_batch(self, step: sm.Step) -> int:
        return self.budget.rewind_batch(step)

    def budget_config(self) -> dict:
        b = self.budget
        return {"algo": b.algo, "epochs": b.epochs, "batches_per_epoch": b.batches_per_epoch,
                "last_episodes": b.last_episodes}

    def train(self, unit: sm.Unit) -> dict[str, float]:
        with torch_threads(self.threads):
            return self.train_unit(unit)

    @abstractmethod
    def train_unit(self, unit: sm.Unit) -> dict[str, float]:
        """Train ``unit`` (see :meth:`shared_mask.Trainer.train`)."""


@contextmanager
def torch_threads(count: int):
    """Run with ``count`` intra-op threads (0: leave torch's default), then restore."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
