"""``--lth-verify-masks``: every rank checks, after every update, that the pruned entries are exactly zero in
its weights, its optimizer state and its fp32 master copy, and records what it checked.

The record, ``SAVE_DIR/lth_verify.rank<R>.json``, holds the updates checked (counted on across a resume),
a digest of the mask the rank trains under and one of its weights after the last update: under data
parallelism every rank must hold the same mask (random_mask positions included) and the same weights.
Meant for tests and for trying new hardware: each update pays a pass over the weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from fairseq.distributed import utils as distributed_utils
from torch import nn

import shared_mask as sm
from shared_mask import tensor_file
from shared_mask.files import write_json

from .masking import MaskEnforcer


def record_path(save_dir: str, rank: int) -> Path:
    return Path(save_dir) / f"lth_verify.rank{rank}.json"


class MaskVerifier:
    """Checks one rank's pruned entries after each update and keeps its record up to date."""

    def __init__(self, save_dir: str, model: nn.Module, mask: sm.Mask | None):
        self.rank = distributed_utils.get_global_rank()
        self.world = distributed_utils.get_global_world_size()
        self.model, self.path = model, record_path(save_dir, self.rank)
        self.mask_digest = None if mask is None else tensor_file.checksum({n: t.cpu() for n, t in mask.items()})
        self.updates = json.loads(self.path.read_text())["updates_checked"] if self.path.exists() else 0

    @torch.no_grad()
    def after_update(self, enforcer: MaskEnforcer | None, update: int) -> None:
        """Check update ``update`` (1-based); RuntimeError naming the rank, the update and the places."""
        stray = enforcer.stray_counts() if enforcer is not None else {}
        if any(stray.values()):
            found = ", ".join(f"{n} in the {place.replace('_', ' ')}" for place, n in stray.items() if n)
            raise RuntimeError(f"rank {self.rank}, update {update}: pruned entries are not zero: {found}")
        self.updates += 1
        weights = {name: t.detach().cpu() for name, t in self.model.state_dict().items()}
        write_json(
            self.path,
            {
                "rank": self.rank,
                "world_size": self.world,
                "updates_checked": self.updates,
                "last_update": update,
                "mask_sha256": self.mask_digest,
                "weights_sha256": tensor_file.checksum(weights),
                "stray": stray,
            },
        )
