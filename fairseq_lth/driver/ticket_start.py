"""The checkpoint a fairseq ticket run starts from (``--continue-once``), as its ticket kind says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

import shared_mask as sm

from ..plugin.checkpoint_compat import load_checked, save_checked


def start_checkpoint(unit: sm.Unit) -> Path:
    """W_0 (init.pt), the rewind checkpoint (also for kinds the plugin re-initializes after loading),
    or, for learning-rate rewinding, the rewind checkpoint carrying the pruned trained weights; for
    fine-tuning, W_0's checkpoint (update 0, no schedule state) carrying them; for kinds that change
    their start weights (``derive_weights``), a copy of the start with the weights changed."""
    kind = sm.ticket_kind(unit.ticket)
    if kind.fine_tunes:
        return lr_rewind_checkpoint(unit.init_path, unit.source_path, unit.files.ticket_start)
    if kind.start is sm.Start.FINAL:
        return lr_rewind_checkpoint(unit.rewind_path, unit.source_path, unit.files.lr_rewind_start)
    start = unit.init_path if kind.start is sm.Start.INIT else unit.rewind_path
    if type(kind).derive_weights is not sm.TicketKind.derive_weights:
        derive = lambda weights: kind.derive_weights(weights, unit.mask, unit.ticket_seed)
        return changed_checkpoint(start, unit.files.ticket_start, derive)
    return start


def supermask_checkpoint(unit: sm.Unit, out: Path) -> Path:
    """The ticket's start with its mask applied: what a kind that does not train is scored as."""
    return changed_checkpoint(start_checkpoint(unit), out, unit.mask.apply_)


def changed_checkpoint(start: Path, out: Path, change: Callable[[dict], object]) -> Path:
    """``start`` with ``change`` applied in place to its model weights (by name), written once to ``out``."""
    if not out.exists():
        state = load_checked(start)  # its checksum checked: the copy gets a checksum of its own
        with torch.no_grad():
            change(state["model"])
        out.parent.mkdir(parents=True, exist_ok=True)
        save_checked(state, out)
    return out


def lr_rewind_checkpoint(rewind: Path, trained: Path, out: Path) -> Path:
    """``rewind`` with ``trained``'s model weights and a fresh optimizer state (no Adam moments: they
    belonged to other weights). The learning-rate scheduler, the update count, the data iterator's
    position and the loss scale stay the rewind point's, so the run replays the schedule from there."""
    if not out.exists():
        state = load_checked(rewind)
        state["model"] = load_checked(trained)["model"]
        if state.get("last_optimizer_state"):
            state["last_optimizer_state"]["state"] = {}  # optimizers create per-parameter state lazily
        save_checked(state, out)
    return out
