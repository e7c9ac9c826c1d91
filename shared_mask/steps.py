"""Training-step strings in the style of open_lth: ``1000it``, ``2ep``, ``0``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {
    "it": "it",
    "its": "it",
    "iter": "it",
    "iters": "it",
    "update": "it",
    "updates": "it",
    "batch": "it",
    "batches": "it",
    "step": "it",
    "steps": "it",
    "ep": "ep",
    "eps": "ep",
    "epoch": "ep",
    "epochs": "ep",
}
_STEP = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$")


@dataclass(frozen=True)
class Step:
    """A point in training: ``amount`` iterations (``unit == "it"``) or epochs (``unit == "ep"``)."""

    amount: int
    unit: str

    def __post_init__(self):
        if self.unit not in ("it", "ep"):
            raise ValueError(f"a step counts iterations (it) or epochs (ep), not {self.unit!r}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"a step is a non-negative whole number of {self.unit}, got {self.amount!r}")

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}" if self.amount else "0"


def parse_step(text: str | int) -> Step:
    """Parse ``"1000it"``, ``"1000updates"``, ``"12batches"``, ``"1ep"``, ``"1epoch"`` or ``"0"``."""
    match = _STEP.match(str(text).lower())
    if not match or match.group(2) not in _UNITS and match.group(2) != "":
        raise ValueError(
            f"invalid step {text!r}: expected a count with a unit, e.g. 0, 1000it, 500batches, 1ep, 2epochs"
        )
    amount, unit = int(match.group(1)), match.group(2)
    if not unit:
        if amount != 0:
            raise ValueError(f"invalid step {text!r}: say which unit, e.g. {amount}it or {amount}ep")
        unit = "it"
    return Step(amount, _UNITS[unit])
