"""A finished lottery unit folder, checked before anything is exported from it."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..mask import Mask
from ..tickets import DENSE, TICKETS

_LEVEL, _SEED = re.compile(r"^level_\d+$"), re.compile(r"^seed_\d+$")


@dataclass(frozen=True)
class FinishedUnit:
    """RUN/seed_<s>/level_<kk>/<ticket>/ with its final weights, its metrics.json and the level's mask."""

    dir: Path
    final: Path
    mask: Path
    run_config: dict
    metrics: dict

    @classmethod
    def open(cls, path: str | os.PathLike) -> "FinishedUnit":
        """The unit at ``path``; ValueError naming the path unless it is a finished unit of a run folder."""
        path = Path(path)
        if not path.is_dir():
            raise ValueError(f"{path}: no such unit folder")
        level, seed, run = path.parent, path.parent.parent, path.parent.parent.parent
        config_path = run / "config.json"
        if not (_LEVEL.match(level.name) and _SEED.match(seed.name) and config_path.is_file()):
            raise ValueError(f"{path} is not a lottery unit folder "
                             "(RUN/seed_<s>/level_<kk>/<ticket> with RUN/config.json)")
        if not (path / "metrics.json").is_file():
            raise ValueError(f"{path} is not a finished unit: no metrics.json (its training has not finished)")
        finals = sorted(path.glob("final.*"))
        if not finals:
            raise ValueError(f"{path} has no final weights (a run with keep_weights 'needed' keeps only those of "
                             "the dense and chain tickets)")
        if len(finals) > 1:
            raise ValueError(f"{path} holds {len(finals)} final.* weight files, expected one")
        # A transferred ticket's mask is the source run's, fitted to this model (shared_mask.transfer).
        transferred = path.name in TICKETS and TICKETS[path.name].transferred
        mask = level / ("transfer_mask.safetensors" if transferred else "mask.safetensors")
        if not mask.is_file():
            raise ValueError(f"{path}: the level's mask {mask} is missing")
        try:
            return cls(path, finals[0], mask, json.loads(config_path.read_text()),
                       json.loads((path / "metrics.json").read_text()))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: corrupt config.json or metrics.json: {e}") from None

    def ticket_mask(self) -> Mask:
        """The mask the unit trained under: the level's (or the transferred one), or the one its ticket kind
        draws from it (random_mask)."""
        mask = Mask.load(self.mask)
        if self.dir.name == DENSE:
            return mask
        kind = TICKETS[self.dir.name]  # ValueError naming the registered kinds for an unknown one
        seed, level = (int(p.name.split("_")[1]) for p in (self.dir.parent.parent, self.dir.parent))
        return kind.derive_mask(mask, kind.ticket_seed(seed, level))

    def summary(self) -> dict:
        """Where the ticket comes from and how it scored (stored in the exported file's config)."""
        keys = ("seed", "level", "ticket", "density", "fraction_pruned", "metrics")
        return {"path": str(self.dir.resolve()), **{k: self.metrics[k] for k in keys if k in self.metrics}}
