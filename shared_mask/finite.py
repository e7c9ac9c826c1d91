"""A unit whose trained weights or metrics are not finite has failed: it is never recorded as done."""

from __future__ import annotations

import math

import torch

ADVICE = (
    "training diverged; a lower learning rate (--lr) is the usual fix (rerun in a new --out folder if "
    "other units of this run have finished)"
)


def check_finite(trainer, unit, metrics: dict[str, float]) -> None:
    """ValueError naming what is not finite (NaN or inf) in ``unit``'s metrics or trained weights."""
    bad = [name for name, value in metrics.items() if not math.isfinite(float(value))]
    if bad:
        raise ValueError(f"its metric {', '.join(bad)} is not finite: {ADVICE}")
    state = trainer.read_state(unit.final_path)
    bad = [name for name, t in state.items() if torch.is_tensor(t) and t.is_floating_point() and not t.isfinite().all()]
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise ValueError(f"its trained weights are not finite (NaN or inf in {shown}): {ADVICE}")
