"""The late-rewinding point of a dense fairseq run (a :class:`shared_mask.Step`), and capturing fairseq's
checkpoint there.

The rewind checkpoint is the full checkpoint fairseq itself writes at the rewind point (weights,
optimizer, LR schedule, data position), so a ticket run restarts exactly there with
``--continue-once``. The plugin copies ``checkpoint_last.pt`` before the next update, after
checking that it really holds the rewind point, and adds the checksum of its weights (fairseq writes
none). A point in epochs (``1ep``) is the end of that epoch.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from shared_mask import Step, parse_step

from .checkpoint_compat import load_checkpoint, save_checked

logger = logging.getLogger(__name__)


def from_options(updates: int | None, epochs: int | None, default: Step) -> Step:
    """The point named by --lth-rewind-updates or --lth-rewind-epochs (at most one), else the task's default."""
    if updates is not None and epochs is not None:
        raise ValueError("give the rewind point once: --lth-rewind-updates or --lth-rewind-epochs, not both")
    if updates is None and epochs is None:
        return default
    if (updates if updates is not None else epochs) < 0:
        raise ValueError(f"the rewind point must not be negative, got {updates if updates is not None else epochs}")
    return Step(updates, "it") if updates is not None else Step(epochs, "ep")


def describe(point: Step) -> str:
    """The point in words: ``update 1000``, ``end of epoch 1``."""
    return f"end of epoch {point.amount}" if point.unit == "ep" else f"update {point.amount}"


def reached(point: Step, update_num: int, epoch: int) -> bool:
    """Whether a train step about to make update ``update_num + 1`` in ``epoch`` is past ``point``."""
    return epoch > point.amount if point.unit == "ep" else update_num >= point.amount


def holds(point: Step, state: dict) -> bool:
    """Whether a fairseq checkpoint ``state`` was saved exactly at ``point``."""
    if point.unit == "ep":
        itr = state["extra_state"]["train_iterator"]
        return itr["epoch"] == point.amount + 1 and itr["iterations_in_epoch"] == 0
    return state["optimizer_history"][-1]["num_updates"] == point.amount


def check_saved(
    point: Step, save_interval_updates: int, save_interval: int, no_save: bool, no_last_checkpoints: bool
) -> None:
    """Raise unless fairseq's checkpoint options make it save checkpoint_last.pt at ``point`` (not zero)."""
    if no_save or no_last_checkpoints:
        raise ValueError(
            "capturing the rewind checkpoint needs checkpoint_last.pt: drop --no-save and --no-last-checkpoints"
        )
    if point.unit == "ep" and point.amount % save_interval:
        raise ValueError(
            f"the rewind point is the {describe(point)}, but --save-interval {save_interval} does "
            "not save there; use a save interval that divides the rewind epoch"
        )
    if point.unit == "it" and (save_interval_updates <= 0 or point.amount % save_interval_updates):
        raise ValueError(
            f"the rewind point is {describe(point)}, but --save-interval-updates "
            f"{save_interval_updates} does not save there; use --save-interval-updates "
            f"{point.amount} or a divisor of it"
        )


def capture(point: Step, save_dir: str | os.PathLike, dest: str | os.PathLike) -> None:
    """Copy ``save_dir/checkpoint_last.pt`` to ``dest`` after checking that it holds ``point``."""
    source = Path(save_dir) / "checkpoint_last.pt"
    state = load_checkpoint(source) if source.is_file() else None
    if state is None or not holds(point, state):
        raise RuntimeError(
            f"the dense run is past the rewind point ({describe(point)}) but {source} does not "
            "hold it: was the run resumed from a later checkpoint, or saved elsewhere?"
        )
    save_checked(state, dest)  # with the checksum of its weights, checked wherever it is read
    logger.info(f"saved the rewind checkpoint ({describe(point)}) to {dest}")


def pending_captures(cfg) -> list[tuple[Step, str]]:
    """``--lth-captures STEP=PATH,...`` (the stability points' checkpoints) not yet written, each checked to
    be on a save boundary."""
    pending = []
    for item in filter(None, (cfg.lth_captures or "").split(",")):
        text, path = item.split("=", 1)
        point = parse_step(text)
        check_saved(point, cfg.save_interval_updates, cfg.save_interval, cfg.no_save, cfg.no_last_checkpoints)
        if not os.path.exists(path):
            pending.append((point, path))
    return pending
