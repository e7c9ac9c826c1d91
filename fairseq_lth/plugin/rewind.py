"""The late-rewinding point of a dense fairseq run, and capturing fairseq's checkpoint there.

The rewind checkpoint is the full checkpoint fairseq itself writes at the rewind point (weights,
optimizer, LR schedule, data position), so a ticket run restarts exactly there with
``--continue-once``. The plugin copies ``checkpoint_last.pt`` before the next update, after
checking that it really holds the rewind point.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from shared_mask.files import atomic_write

from .checkpoint_compat import load_checkpoint

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RewindPoint:
    """After ``updates`` updates, or (if ``epochs`` > 0) at the end of epoch ``epochs``."""

    updates: int = 0
    epochs: int = 0

    def __post_init__(self):
        if self.updates < 0 or self.epochs < 0:
            raise ValueError(f"the rewind point must not be negative, got {self}")

    @classmethod
    def from_options(cls, updates: int | None, epochs: int | None, default: RewindPoint) -> RewindPoint:
        """The point named by --lth-rewind-updates or --lth-rewind-epochs (at most one), else the task's default."""
        if updates is not None and epochs is not None:
            raise ValueError("give the rewind point once: --lth-rewind-updates or --lth-rewind-epochs, not both")
        if updates is not None:
            return cls(updates=updates)
        if epochs is not None:
            return cls(epochs=epochs)
        return default

    @property
    def is_zero(self) -> bool:
        return self.updates == 0 and self.epochs == 0

    def __str__(self) -> str:
        return f"end of epoch {self.epochs}" if self.epochs else f"update {self.updates}"

    def reached(self, update_num: int, epoch: int) -> bool:
        """Whether a train step about to make update ``update_num + 1`` in ``epoch`` is past the point."""
        return epoch > self.epochs if self.epochs else update_num >= self.updates

    def holds(self, state: dict) -> bool:
        """Whether a fairseq checkpoint ``state`` was saved exactly at this point."""
        if self.epochs:
            itr = state["extra_state"]["train_iterator"]
            return itr["epoch"] == self.epochs + 1 and itr["iterations_in_epoch"] == 0
        return state["optimizer_history"][-1]["num_updates"] == self.updates

    def check_saved(self, save_interval_updates: int, save_interval: int, no_save: bool,
                    no_last_checkpoints: bool) -> None:
        """Raise unless fairseq's checkpoint options make it save checkpoint_last.pt at this point."""
        if no_save or no_last_checkpoints:
            raise ValueError("capturing the rewind checkpoint needs checkpoint_last.pt: drop --no-save and "
                             "--no-last-checkpoints")
        if self.epochs and self.epochs % save_interval:
            raise ValueError(f"the rewind point is the {self}, but --save-interval {save_interval} does not save "
                             "there; use a save interval that divides the rewind epoch")
        if not self.epochs and (save_interval_updates <= 0 or self.updates % save_interval_updates):
            raise ValueError(f"the rewind point is {self}, but --save-interval-updates {save_interval_updates} does "
                             f"not save there; use --save-interval-updates {self.updates} or a divisor of it")


def capture(point: RewindPoint, save_dir: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy ``save_dir/checkpoint_last.pt`` to ``dest`` after checking that it holds ``point``."""
    source = Path(save_dir) / "checkpoint_last.pt"
    if not source.is_file() or not point.holds(load_checkpoint(source, mmap=True)):
        raise RuntimeError(f"the dense run is past the rewind point ({point}) but {source} does not hold it: "
                           "was the run resumed from a later checkpoint, or saved elsewhere?")
    atomic_write(dest, lambda tmp: shutil.copyfile(source, tmp))
    logger.info(f"saved the rewind checkpoint ({point}) to {dest}")
