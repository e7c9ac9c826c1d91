"""A finished lottery unit folder, checked before anything is exported from it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..config_file import read_run_config, run_id
from ..identity import mask_identity
from ..mask import Mask
from ..run_folder import Key, locate_unit
from ..tickets import DENSE, TICKETS


@dataclass(frozen=True)
class FinishedUnit:
    """RUN/seed_<s>/level_<kk>/<ticket>/ with its final weights, its metrics.json and the level's mask."""

    dir: Path
    key: Key
    final: Path
    mask: Path
    run_config: dict
    metrics: dict

    @classmethod
    def open(cls, path: str | os.PathLike) -> FinishedUnit:
        """The unit at ``path``; ValueError naming the path unless it is a finished unit of a run folder."""
        path = Path(path)
        if not path.is_dir():
            raise ValueError(f"{path}: no such unit folder")
        run, key = locate_unit(path)
        files = run.unit(key)
        if not files.metrics.is_file():
            raise ValueError(f"{path} is not a finished unit: no metrics.json (its training has not finished)")
        finals = files.finals()
        if not finals:
            raise ValueError(
                f"{path} has no final weights (a run with keep_weights 'needed' keeps only those of "
                "the dense and chain tickets)"
            )
        if len(finals) > 1:
            raise ValueError(f"{path} holds {len(finals)} final.* weight files, expected one")
        # A transferred ticket's mask is the source run's, fitted to this model (shared_mask.transfer).
        seed, level, ticket = key
        transferred = ticket in TICKETS and TICKETS[ticket].transferred
        mask = run.transfer_mask(seed, level) if transferred else run.mask(seed, level)
        if not mask.is_file():
            raise ValueError(f"{path}: the level's mask {mask} is missing")
        config = read_run_config(run.config)  # types, ranges and the digest: a hand edit is refused
        try:
            metrics = json.loads(files.metrics.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{files.metrics} is corrupt or unreadable: {e}") from e
        return cls(path, key, finals[0], mask, config, metrics)

    def ticket_mask(self) -> Mask:
        """The mask the unit trained under: the level's (or the transferred one), or the one its ticket kind
        draws from it (random_mask)."""
        seed, level, ticket = self.key
        mask = Mask.load(self.mask, identity=mask_identity(run_id(self.run_config), seed, level))
        if ticket == DENSE:
            return mask
        kind = TICKETS[ticket]  # ValueError naming the registered kinds for an unknown one
        return kind.derive_mask(mask, kind.ticket_seed(seed, level))

    def summary(self) -> dict:
        """Where the ticket comes from and how it scored (stored in the exported file's config)."""
        keys = ("seed", "level", "ticket", "density", "fraction_pruned", "metrics")
        return {"path": str(self.dir.resolve()), **{k: self.metrics[k] for k in keys if k in self.metrics}}
