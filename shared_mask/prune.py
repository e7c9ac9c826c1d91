"""Magnitude pruning: global (pooled over all masked tensors), layerwise, and one-shot to a density.

The selection is exact and never sorts or concatenates the weights. Non-negative IEEE-754 floats
order like their bit patterns read as integers, so |w| becomes an int32 key; a histogram of the top
16 key bits finds the bucket holding the k-th smallest magnitude, a histogram of the low 16 bits
inside that bucket finds the exact threshold, and a last pass writes the new mask. Ties at the
threshold are pruned in mask order (parameter order, then flat index), so exactly k entries go:
the same set as a stable sort of all surviving magnitudes. Tensors are read in chunks, so the extra
memory is the new mask (1 byte per entry) plus a few chunk-sized buffers.
"""
from __future__ import annotations

import math

import torch

from .mask import Mask, ModelOrState

_CHUNK = 1 << 22
_BUCKETS = 1 << 15  # top 16 bits of a non-negative float32 (the sign bit is always 0)
_NONFINITE_BUCKET = 0x7F800000 >> 16  # keys from here up are inf or NaN
_DEAD = _BUCKETS  # histogram slot for pruned entries, dropped after counting


def prune_global(model: ModelOrState, mask: Mask, rate: float) -> Mask:
    """Prune ``round(rate * alive)`` of the surviving entries with the smallest magnitudes, pooled
    over every tensor of ``mask``; per-tensor sparsity may therefore differ."""
    _check_fraction(rate, "pruning rate")
    return _prune(model, mask, [_round(rate * mask.alive())], pooled=True)


def prune_layerwise(model: ModelOrState, mask: Mask, rate: float) -> Mask:
    """Prune ``round(rate * alive)`` of the surviving entries inside every tensor separately."""
    _check_fraction(rate, "pruning rate")
    counts = [_round(rate * int(t.sum())) for _, t in mask.items()]
    return _prune(model, mask, counts, pooled=False)


def prune_to_density(model: ModelOrState, mask: Mask, density: float) -> Mask:
    """One-shot global pruning: keep ``round(density * numel)`` entries of the mask's tensors."""
    _check_fraction(density, "target density", upper_inclusive=True)
    keep, alive = _round(density * mask.numel()), mask.alive()
    if keep > alive:
        raise ValueError(f"the mask is already sparser ({alive / mask.numel():.4f}) than the target density {density}")
    return _prune(model, mask, [alive - keep], pooled=True)


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def _check_fraction(value: float, what: str, upper_inclusive: bool = False) -> None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not (0 < value <= 1 if upper_inclusive else 0 < value < 1):
        bound = "(0, 1]" if upper_inclusive else "(0, 1)"
        raise ValueError(f"{what} must be in {bound}, got {value!r}")


def _prune(model: ModelOrState, mask: Mask, counts: list[int], pooled: bool) -> Mask:
    params = mask.check(model)
    pairs = [(name, params[name].detach(), keep) for name, keep in mask.items()]
    groups = [pairs] if pooled else [[p] for p in pairs]
    new = {}
    for group, k in zip(groups, counts):
        new.update(_drop_smallest(group, k))
    return Mask(new)


def _chunks(pairs):
    """(name, magnitude keys, keep, offset) for every chunk of every tensor, in mask order."""
    for name, weights, keep in pairs:
        flat_w, flat_keep = weights.reshape(-1), keep.reshape(-1).to(weights.device)
        for start in range(0, flat_w.numel(), _CHUNK):
            chunk = flat_w[start : start + _CHUNK]
            keys = chunk.float().abs() if chunk.dtype != torch.float32 else chunk.abs()
            yield name, keys.view(torch.int32), flat_keep[start : start + _CHUNK], start


def _drop_smallest(pairs, k: int) -> dict[str, torch.Tensor]:
    """New keep-masks for ``pairs`` with the ``k`` smallest surviving magnitudes removed."""
    if k == 0:
        return {name: keep.clone() for name, _, keep in pairs}
    device = pairs[0][1].device
    # Pass 1: histogram of the top 16 bits over surviving entries.
    hist = torch.zeros(_BUCKETS + 1, dtype=torch.int64, device=device)
    for name, keys, keep, _ in _chunks(pairs):
        top = keys >> 16
        top.masked_fill_(~keep, _DEAD)
        counts = torch.bincount(top, minlength=_BUCKETS + 1)
        if counts[_NONFINITE_BUCKET:_DEAD].any():
            raise ValueError(f"parameter {name!r} holds inf or NaN values; cannot prune by magnitude")
        hist += counts
    hist = hist[:_BUCKETS]
    bucket, below = _locate(hist, k)
    # Pass 2: histogram of the low 16 bits inside the threshold bucket.
    low_hist = torch.zeros(1 << 16, dtype=torch.int64, device=device)
    for _, keys, keep, _ in _chunks(pairs):
        inside = keys[((keys >> 16) == bucket) & keep]
        low_hist += torch.bincount(inside & 0xFFFF, minlength=1 << 16)
    low, below_low = _locate(low_hist, k - below)
    threshold = (bucket << 16) | low
    ties_to_prune = k - below - below_low
    # Pass 3: write the new masks; prune ties at the threshold in mask order.
    new = {name: torch.empty(keep.shape, dtype=torch.bool, device=device) for name, _, keep in pairs}
    for name, keys, keep, start in _chunks(pairs):
        kept = (keys > threshold) & keep
        if ties_to_prune > 0:
            ties = ((keys == threshold) & keep).nonzero().squeeze(1)
            kept[ties[ties_to_prune:]] = True
            ties_to_prune -= min(ties_to_prune, ties.numel())
        else:
            kept |= (keys == threshold) & keep
        new[name].view(-1)[start : start + kept.numel()] = kept
    return {name: t.cpu() for name, t in new.items()}


def _locate(hist: torch.Tensor, k: int) -> tuple[int, int]:
    """The bin holding the k-th smallest entry (1-based) and how many entries lie in lower bins."""
    cumulative = torch.cumsum(hist, 0)
    if k > int(cumulative[-1]):
        raise ValueError(f"cannot prune {k} entries: only {int(cumulative[-1])} survive")
    index = int(torch.searchsorted(cumulative, torch.tensor(k, device=hist.device)))
    return index, int(cumulative[index - 1]) if index > 0 else 0
