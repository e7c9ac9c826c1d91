"""Settling a selection: which survivors of a scan are the ``k`` lowest, exactly.

A strided sample brackets the k-th lowest value; one pass writes every entry above the bracket as kept,
counts those below it and gathers the few inside it, where a k-th value and a running count of its ties
settle the rest. When the sample misleads (a crowded or missed bracket), histograms of an
order-preserving integer key narrow the range exactly before that pass is repeated.
"""

from __future__ import annotations

import math
import threading

import torch

from .scan import Scan, Source

_BINS = 1 << 16  # histogram bins per narrowing pass
_MARGIN = 5.0  # sample standard deviations on each side of the estimated rank
_MIN_CAP = 1 << 16  # a bracket may gather this many entries, or 1/32 of the group if more


class _Bracket:
    """What one pass learnt about the survivors inside [lo, hi]: how many lie above, inside and
    below it, and (unless more than ``cap``) the values and flat indices of those inside."""

    def __init__(self, lo: float, hi: float, above: int, count: int, parts: list | None, alive: int):
        self.lo, self.hi, self.above, self.count, self.parts = lo, hi, above, count, parts
        self.below = alive - above - count


def drop_lowest(scan: Scan, k: int) -> None:
    """Write each source's ``out``: its keep-mask without the group's ``k`` lowest survivors."""
    cap = max(_MIN_CAP, scan.numel // 32)
    bracket = _gather(scan, *_sample_bracket(scan, k), cap)
    if bracket.below < k <= bracket.below + bracket.count and bracket.parts is not None:
        return _settle(bracket, k - bracket.below)
    low, high, below, n = _known_range(scan, bracket, k)
    while n > cap and low < high:
        low, high, below, n = _narrow(scan, low, high, below, k)
    if n > cap:
        return _prune_ties(scan, scan.value_of(low), k - below)
    bracket = _gather(scan, scan.value_of(low), scan.value_of(high), cap)
    _settle(bracket, k - bracket.below)


def _sample_bracket(scan: Scan, k: int) -> tuple[float, float]:
    """Values that bracket the k-th lowest survivor with high probability: order statistics of
    survivors at a fixed odd stride, ``_MARGIN`` binomial standard deviations either side."""
    stride = max(1, round(scan.numel ** (1 / 3) / 2)) | 1
    parts, offset = [], 0
    for source in scan.sources:
        first = -offset % stride
        sample = scan.values(scan.tensor(source)[first::stride])
        parts.append(sample if source.dense else sample[source.flat_keep[first::stride]])
        offset += source.keep.numel()
    sample = torch.cat(parts)
    n, p = sample.numel(), k / scan.alive
    margin = _MARGIN * math.sqrt(n * p * (1 - p)) + 8
    i_lo, i_hi = math.floor(p * n - margin), math.ceil(p * n + margin)
    lo = float(torch.kthvalue(sample, i_lo + 1).values) if i_lo >= 0 else -math.inf
    hi = float(torch.kthvalue(sample, i_hi + 1).values) if i_hi < n else math.inf
    return lo, hi


def _gather(scan: Scan, lo: float, hi: float, cap: int) -> _Bracket:
    """One pass: ``out`` = survivors above ``hi``; gather the survivors in [lo, hi] (values and flat
    indices, in mask order) unless there are more than ``cap``; raise on inf/NaN survivors."""
    lock, gathered = threading.Lock(), [0]

    def chunk(source, start, values):
        out, _ = scan.split(source, start, values, lo, hi)
        index = scan.flagged(values.numel())
        with lock:
            gathered[0] += index.numel()
            small = gathered[0] <= cap
        part = (source, index + start, values[index]) if small and index.numel() else None
        return source, torch.count_nonzero(out), values.sum(), index.numel(), part

    results = scan.map(chunk)
    _check_finite(scan, [(source, total) for source, _, total, _, _ in results])
    above = int(torch.stack([above for _, above, _, _, _ in results]).sum())
    count = sum(n for _, _, _, n, _ in results)
    parts = [part for *_, part in results if part is not None] if count <= cap else None
    return _Bracket(lo, hi, above, count, parts, scan.alive)


def _check_finite(scan: Scan, totals: list[tuple[Source, torch.Tensor]]) -> None:
    """Raise if a surviving score is inf or NaN; only tensors with a chunk whose sum is not finite
    are reread."""
    finite = torch.stack([total for _, total in totals]).isfinite().tolist()
    for source in dict.fromkeys(source for (source, _), ok in zip(totals, finite) if not ok):
        flat = scan.tensor(source)
        for start in range(0, flat.numel(), scan.chunk):
            chunk = flat[start : start + scan.chunk]
            bad = ~torch.isfinite(chunk)
            if not source.dense:
                bad.logical_and_(scan.keep(source, start, chunk.numel()))
            if bad.any():
                what = "parameter" if scan.magnitude else "scores for"
                raise ValueError(f"{what} {source.name!r} holds inf or NaN values; cannot select the lowest")


def _settle(bracket: _Bracket, r: int) -> None:
    """Keep the bracket's survivors except its ``r`` lowest, ties at the r-th in mask order (the
    set a stable sort gives, from a k-th value and a running count of the ties)."""
    values = torch.cat([v for _, _, v in bracket.parts])
    threshold = torch.kthvalue(values, r).values
    pruned = torch.lt(values, threshold)
    ties = torch.eq(values, threshold)
    pruned.logical_or_(ties.logical_and_(torch.cumsum(ties, 0) <= r - pruned.sum()))
    kept = pruned.logical_not_()
    for (source, index, _), part in zip(bracket.parts, kept.split([i.numel() for _, i, _ in bracket.parts])):
        source.out[index[part]] = True


def _known_range(scan: Scan, bracket: _Bracket, k: int) -> tuple[int, int, int, int]:
    """The key range [low, high] holding the k-th lowest survivor after a pass that did not settle
    it, with the survivors below it and inside it."""
    if k <= bracket.below:
        return scan.key_of(-math.inf), scan.key_of(bracket.lo) - 1, 0, bracket.below
    if k > bracket.below + bracket.count:
        return scan.key_of(bracket.hi) + 1, scan.key_of(math.inf), bracket.below + bracket.count, bracket.above
    return scan.key_of(bracket.lo), scan.key_of(bracket.hi), bracket.below, bracket.count


def _narrow(scan: Scan, low: int, high: int, below: int, k: int) -> tuple[int, int, int, int]:
    """One histogram pass over the keys in [low, high] (at most ``_BINS`` bins of equal width):
    the bin holding the k-th lowest survivor, with the survivors below it and inside it."""
    shift = 0
    while (high >> shift) - (low >> shift) >= _BINS:
        shift += 1
    base, bins = low >> shift, (high >> shift) - (low >> shift) + 1
    hist = torch.zeros(bins + 1, dtype=torch.int64, device=scan.device)
    for source, start, values in scan:
        keys = scan.keys(values)
        inside = (keys >= low).logical_and_(keys <= high)
        if not source.dense:
            inside.logical_and_(scan.keep(source, start, values.numel()))
        slots = torch.where(inside, (keys >> shift) - base, bins)
        hist += torch.bincount(slots, minlength=bins + 1)
    cumulative = torch.cumsum(hist[:bins], 0)
    b = int(torch.searchsorted(cumulative, torch.tensor(k - below, device=scan.device)))
    before = int(cumulative[b - 1]) if b else 0
    return max(low, (base + b) << shift), min(high, ((base + b + 1) << shift) - 1), below + before, int(hist[b])


def _prune_ties(scan: Scan, value: float, r: int) -> None:
    """``out`` = survivors above ``value`` and those equal to it but the first ``r``, in mask order:
    for a threshold shared by more survivors than a bracket may gather."""
    done = torch.zeros((), dtype=torch.int64, device=scan.device)
    for source, start, values in scan:
        out, ties = scan.split(source, start, values, value, value)
        rank = torch.cumsum(ties, 0).add_(done)
        done = rank[-1]
        out.logical_or_(torch.gt(rank, r).logical_and_(ties))
