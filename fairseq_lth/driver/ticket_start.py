"""The checkpoint a fairseq ticket run starts from (``--continue-once``), as its ticket kind says."""

from __future__ import annotations

from pathlib import Path

import shared_mask as sm

from ..plugin.checkpoint_compat import load_checked, load_checkpoint, save_checked


def start_checkpoint(unit: sm.Unit) -> Path:
    """W_0 (init.pt), the rewind checkpoint (also for kinds the plugin re-initializes after loading),
    or, for learning-rate rewinding, the rewind checkpoint carrying the pruned trained weights."""
    start = sm.ticket_kind(unit.ticket).start
    if start is sm.Start.INIT:
        return unit.init_path
    if start is sm.Start.FINAL:
        return lr_rewind_checkpoint(unit.rewind_path, unit.source_path, unit.files.lr_rewind_start)
    return unit.rewind_path


def lr_rewind_checkpoint(rewind: Path, trained: Path, out: Path) -> Path:
    """``rewind`` with ``trained``'s model weights and a fresh optimizer state (no Adam moments: they
    belonged to other weights). The learning-rate scheduler, the update count, the data iterator's
    position and the loss scale stay the rewind point's, so the run replays the schedule from there."""
    if not out.exists():
        state = load_checkpoint(rewind)
        state["model"] = load_checked(trained)["model"]
        if state.get("last_optimizer_state"):
            state["last_optimizer_state"]["state"] = {}  # optimizers create per-parameter state lazily
        save_checked(state, out)
    return out
