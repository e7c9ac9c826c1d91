"""The state of fp16 loss scaling, which fairseq's checkpoints leave out.

fairseq saves the loss scale of ``--fp16`` training but not the dynamic scaler's counters (the
iteration of the last overflow and rescale: when the scale next grows), and nothing of ``--amp``'s
torch GradScaler. A resumed run would change its scale at other updates than the uninterrupted one;
the plugin keeps this state in the checkpoint's task state instead.
"""

from __future__ import annotations

import torch
from fairseq.optim.dynamic_loss_scaler import DynamicLossScaler


def scaler_state(optimizer) -> dict:
    """The loss scaler's state of a fairseq optimizer ({} without loss scaling)."""
    scaler = getattr(optimizer, "scaler", None)
    if isinstance(scaler, DynamicLossScaler):
        return {"dynamic": dict(vars(scaler))}
    if isinstance(scaler, torch.amp.GradScaler) and scaler.state_dict():
        return {"amp": scaler.state_dict()}
    return {}


def load_scaler_state(optimizer, state: dict) -> None:
    """Restore :func:`scaler_state`'s ``state`` into ``optimizer``'s loss scaler."""
    scaler = getattr(optimizer, "scaler", None)
    if "dynamic" in state and isinstance(scaler, DynamicLossScaler):
        vars(scaler).update(state["dynamic"])
    elif "amp" in state and isinstance(scaler, torch.amp.GradScaler):
        scaler.load_state_dict(state["amp"])
