"""Early-bird draws inside fairseq-train: the dense run draws the one-shot masks of every level's density
every N updates (``--lth-early-bird``: the JSON file the driver writes, see
:meth:`shared_mask.early_bird.Draws.spec`), on rank 0, into the run folder."""

from __future__ import annotations

import json

from torch import nn

from shared_mask.early_bird import Draws


class EarlyBirdDrawer:
    """Draws after every ``every``-th update (the plugin knows updates, not the fraction of an epoch)."""

    def __init__(self, spec_path: str):
        with open(spec_path, encoding="utf-8") as spec:
            self.draws = Draws.from_spec(json.load(spec))
        if self.draws.every.unit != "it" or self.draws.every.is_zero:
            raise ValueError(f"fairseq draws early-bird masks every N updates, not every {self.draws.every}")

    def after_update(self, model: nn.Module, updates: int) -> None:
        if updates % self.draws.every.amount == 0:
            self.draws.draw(model, updates, None)
