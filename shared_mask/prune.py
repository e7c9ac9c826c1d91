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
_LOW_OTHER = 1 << 16  # second histogram: slot for keys outside the threshold bucket


def prune_global(model: ModelOrState, mask: Mask, rate: float) -> Mask:
    """Prune ``round(rate * alive)`` of the surviving entries with the smallest magnitudes, pooled
    over every tensor of ``mask``; per-tensor sparsity may therefore differ."""
    _check_fraction(rate, "pruning rate")
    return _prune(model, mask, [_round(rate * mask.alive())], pooled=True)


def prune_layerwise(model: ModelOrState, mask: Mask, rate: float) -> Mask:
    """Prune ``round(rate * alive)`` of the surviving entries inside every tensor separately."""
    _check_fraction(rate, "pruning rate")
    counts = [_round(rate * int(torch.count_nonzero(t))) for _, t in mask.items()]
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


class _Scanner:
    """Walks the masked tensors chunk by chunk, turning |w| into int32 keys in reused buffers."""

    def __init__(self, pairs):
        self.pairs = pairs
        size = min(_CHUNK, max(w.numel() for _, w, _ in pairs))
        device = pairs[0][1].device
        self._magnitudes = torch.empty(size, dtype=torch.float32, device=device)
        self.ints = torch.empty(size, dtype=torch.int32, device=device)
        self.flags = torch.empty(size, dtype=torch.bool, device=device)
        self.dense = {name: bool(keep.all()) for name, _, keep in pairs}

    def __iter__(self):
        """(name, keys, keep, offset) per chunk; ``keys`` is overwritten by the next chunk."""
        for name, weights, keep in self.pairs:
            flat_w, flat_keep = weights.reshape(-1), keep.reshape(-1).to(weights.device)
            for start in range(0, flat_w.numel(), _CHUNK):
                chunk = flat_w[start : start + _CHUNK]
                magnitudes = self._magnitudes[: chunk.numel()]
                torch.abs(chunk, out=magnitudes) if chunk.dtype == torch.float32 else magnitudes.copy_(chunk).abs_()
                yield name, magnitudes.view(torch.int32), flat_keep[start : start + _CHUNK], start


def _drop_smallest(pairs, k: int) -> dict[str, torch.Tensor]:
    """New keep-masks for ``pairs`` with the ``k`` smallest surviving magnitudes removed."""
    if k == 0:
        return {name: keep.clone() for name, _, keep in pairs}
    scan = _Scanner(pairs)
    device = pairs[0][1].device
    # Pass 1: histogram of the top 16 bits over surviving entries (pruned ones go to slot _DEAD).
    dead = torch.tensor(_DEAD, dtype=torch.int32, device=device)
    hist = torch.zeros(_BUCKETS + 1, dtype=torch.int64, device=device)
    for name, keys, keep, _ in scan:
        top = torch.bitwise_right_shift(keys, 16, out=scan.ints[: keys.numel()])
        if not scan.dense[name]:
            torch.where(keep, top, dead, out=top)
        counts = torch.bincount(top, minlength=_BUCKETS + 1)
        if counts[_NONFINITE_BUCKET:_DEAD].any():
            raise ValueError(f"parameter {name!r} holds inf or NaN values; cannot prune by magnitude")
        hist += counts
    bucket, below = _locate(hist[:_BUCKETS], k)
    # Pass 2: histogram of the low 16 bits of the surviving keys inside that bucket (others go to
    # slot _LOW_OTHER); the bin of the (k - below)-th of them is the exact threshold.
    other = torch.tensor(_LOW_OTHER, dtype=torch.int32, device=device)
    low_hist = torch.zeros(_LOW_OTHER + 1, dtype=torch.int64, device=device)
    for name, keys, keep, _ in scan:
        n = keys.numel()
        in_bucket = torch.eq(torch.bitwise_right_shift(keys, 16, out=scan.ints[:n]), bucket, out=scan.flags[:n])
        if not scan.dense[name]:
            in_bucket.logical_and_(keep)
        low = torch.bitwise_and(keys, _LOW_OTHER - 1, out=scan.ints[:n])
        low_hist += torch.bincount(torch.where(in_bucket, low, other, out=low), minlength=_LOW_OTHER + 1)
    low_bits, below_in_bucket = _locate(low_hist[:_LOW_OTHER], k - below)
    threshold = (bucket << 16) | low_bits
    ties = int(low_hist[low_bits])
    ties_to_prune = k - below - below_in_bucket
    # Pass 3: keep what lies above the threshold; ties at it are pruned in mask order.
    new = {name: torch.empty(keep.shape, dtype=torch.bool, device=device) for name, _, keep in pairs}
    compare = torch.gt if ties_to_prune == ties else torch.ge
    for name, keys, keep, start in scan:
        kept = compare(keys, threshold, out=new[name].view(-1)[start : start + keys.numel()])
        if not scan.dense[name]:
            kept.logical_and_(keep)
    if 0 < ties_to_prune < ties:
        for name, keys, keep, start in scan:
            found = torch.eq(keys, threshold, out=scan.flags[: keys.numel()]).logical_and_(keep).nonzero().squeeze(1)
            new[name].view(-1)[start + found[:ties_to_prune]] = False
            ties_to_prune -= min(ties_to_prune, found.numel())
            if ties_to_prune == 0:
                break
    return {name: t.cpu() for name, t in new.items()}


def _locate(hist: torch.Tensor, k: int) -> tuple[int, int]:
    """The bin holding the k-th smallest entry (1-based) and how many entries lie in lower bins."""
    cumulative = torch.cumsum(hist, 0)
    if k > int(cumulative[-1]):
        raise ValueError(f"cannot prune {k} entries: only {int(cumulative[-1])} survive")
    index = int(torch.searchsorted(cumulative, torch.tensor(k, device=hist.device)))
    return index, int(cumulative[index - 1]) if index > 0 else 0
