"""The line between two trained networks and its error barrier (the instability)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch


def grid(points: int) -> list[float]:
    """``points`` evenly spaced values of a in [0, 1], the ends exactly 0 and 1."""
    return [i / (points - 1) for i in range(points)]


def interpolate(first: Mapping[str, torch.Tensor], second: Mapping[str, torch.Tensor], a: float) -> dict:
    """w(a) = (1 - a) w1 + a w2 for every floating tensor (others, such as counters, are the first's).
    The ends are the two networks bit for bit; where both are zero (a shared mask), every point is zero."""
    if set(first) != set(second):
        raise ValueError(f"the two networks differ in their tensors: {sorted(set(first) ^ set(second))[:5]}")
    line = {}
    for name, w1 in first.items():
        w2 = second[name]
        if not w1.is_floating_point():
            line[name] = w1.clone()
        elif a == 0:
            line[name] = w1.clone()
        elif a == 1:
            line[name] = w2.clone()
        else:
            line[name] = (1 - a) * w1 + a * w2
    return line


def instability(losses: Sequence[float]) -> float:
    """max over the line of the loss minus the mean of its two ends (Frankle et al. 2020); the losses are
    in grid order, a = 0 first and a = 1 last."""
    if len(losses) < 2:
        raise ValueError("the instability needs the two ends of the line at least")
    return max(losses) - (losses[0] + losses[-1]) / 2
