"""Ticket transfer (Morcos et al. 2019): another run's masks and rewind weights fitted to this run's model.

A tensor that both models have with the same name and shape keeps the source's rewind weights and
mask; any other tensor (an Atari policy head with another action count, a vocabulary of another
size) starts from this run's own initialization and stays dense. The run folder's transfer.json
names those tensors, and the report repeats them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .config_file import read_run_config, run_id
from .identity import mask_identity
from .mask import Mask
from .run_folder import RunFolder, locate_seed


@dataclass(frozen=True)
class TransferSource:
    """What ``--transfer-from`` points at: the levels of one seed of another run."""

    given: str  # the path as the user wrote it (recorded in config.json)
    run: RunFolder
    seed: int
    levels: tuple[int, ...]
    run_id: str  # the source run's identity, which its mask files record

    def mask_path(self, level: int) -> Path:
        return self.run.mask(self.seed, level)

    def mask(self, level: int) -> Mask:
        """The source's mask of ``level``, refused when its file records another run, seed or level."""
        return Mask.load(self.mask_path(level), identity=mask_identity(self.run_id, self.seed, level))

    def check(self, trainer) -> None:
        """Read every file the transfer needs (``trainer`` reads the rewind weights), before any folder is
        written: a truncated, corrupt or refused file is one ValueError naming it."""
        try:
            trainer.read_state(self.rewind_path)
            for level in self.levels:
                self.mask(level)
        except Exception as error:  # the trainer's reader may raise anything (a refused pickle, a zip error)
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise ValueError(f"--transfer-from {self.given}: {first}") from error

    @property
    def rewind_path(self) -> Path:
        return self.run.rewind(self.seed)


def transfer_source(given: str, suffix: str) -> TransferSource:
    """Check ``given`` (RUN/seed_<s>/level_<kk>, or RUN/seed_<s> for every pruned level) before any
    folder is written; ValueError naming what is missing."""
    try:
        found, seed, level = locate_seed(given)
    except ValueError:
        raise ValueError(
            f"--transfer-from {given}: expected RUN/seed_<s>/level_<kk> or RUN/seed_<s> of a run folder"
        ) from None
    run = RunFolder(found.root, suffix)
    levels = (level,) if level is not None else tuple(k for k in run.levels_with_masks(seed) if k > 0)
    try:
        identity = run_id(read_run_config(run.config))
    except ValueError as error:
        raise ValueError(f"--transfer-from {given}: {error}") from error
    source = TransferSource(given, run, seed, levels, identity)
    if not levels or levels[0] == 0:
        raise ValueError(f"--transfer-from {given}: no pruned level with a mask.safetensors to transfer")
    for needed in [source.rewind_path, *map(source.mask_path, levels)]:
        if not needed.is_file():
            raise ValueError(f"--transfer-from {given}: {needed} is missing (a run of another domain, or unfinished)")
    return source


@torch.no_grad()
def fit_weights(model: nn.Module, source: dict[str, torch.Tensor]) -> list[str]:
    """Copy into ``model`` every tensor of ``source`` with the same name and shape; return the names of
    the model's tensors left as they were (its own initialization)."""
    kept = []
    for name, tensor in model.state_dict().items():
        if name in source and source[name].shape == tensor.shape:
            tensor.copy_(source[name])
        else:
            kept.append(name)
    if len(kept) == len(model.state_dict()):
        raise ValueError(
            "the source run's model shares no tensor (same name and shape) with this one: nothing to transfer"
        )
    return kept


def fit_mask(source: Mask, dense: Mask) -> tuple[Mask, list[str]]:
    """The source mask on this model's prunable tensors (``dense``); a tensor the source mask lacks or
    has in another shape stays dense. Returns the mask and the names of those dense tensors."""
    fitted, dense_names = {}, []
    for name, keep in dense.items():
        if name in source.names() and source[name].shape == keep.shape:
            fitted[name] = source[name]
        else:
            fitted[name] = keep
            dense_names.append(name)
    return Mask(fitted), dense_names
