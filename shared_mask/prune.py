"""Exact selection of the lowest-scoring surviving entries, and magnitude pruning built on it.

``select_lowest`` removes exactly ``k`` surviving entries with the lowest scores; ties go in mask
order (tensor order, then flat index), so it removes the same set as a stable sort of all surviving
scores, without sorting or concatenating them. A strided sample of the scores brackets the k-th
lowest value; one pass over the tensors then writes every entry above the bracket as kept, counts
those below it and gathers the few inside it, where a k-th value and a running count of its ties
settle the rest. When the sample misleads (a crowded or missed bracket), histograms of an
order-preserving integer key narrow the range exactly before that pass is repeated. Tensors are
read in chunks on their own device (on the CPU, a tensor's chunks are spread over worker threads),
so the extra memory is the new mask plus chunk buffers and the bracket. Magnitude pruning is this
selection with the score ``|w|``, taken chunk by chunk.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import torch

from .mask import Mask, ModelOrState

_CHUNK = 1 << 19  # on the CPU: a chunk's working set stays in cache; tensors split evenly over threads
_CUDA_CHUNK = 1 << 22  # on a GPU: few launches per tensor; buffers stay small next to fp16 weights
_BINS = 1 << 16  # histogram bins per narrowing pass
_MARGIN = 5.0  # sample standard deviations on each side of the estimated rank
_MIN_CAP = 1 << 16  # a bracket may gather this many entries, or 1/32 of the group if more
_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def select_lowest(scores: Mapping[str, torch.Tensor], mask: Mask, counts: int | Sequence[int]) -> Mask:
    """A new mask without the ``counts`` lowest-scoring surviving entries of ``mask``.

    An int pools over every tensor of ``mask`` (global selection); a sequence gives one count per
    tensor in mask order. ``scores[name]`` has the shape of ``mask[name]``, a floating dtype, finite
    values where the mask keeps entries, and any device; it is read once per pass, one tensor at a
    time, so a lazy Mapping never holds every tensor's scores at once.
    """
    def get(name: str) -> torch.Tensor:
        try:
            score = scores[name]
        except KeyError:
            raise ValueError(f"no scores for {name!r}") from None
        if not isinstance(score, torch.Tensor) or score.dtype not in _FLOATS:
            raise ValueError(f"scores for {name!r} must be a floating-point tensor, got {getattr(score, 'dtype', type(score))}")
        if score.shape != mask[name].shape:
            raise ValueError(f"scores for {name!r} have shape {tuple(score.shape)}, the mask {tuple(mask[name].shape)}")
        return score.detach()

    return _select(get, mask, counts, magnitude=False)


def prune_global(model: ModelOrState, mask: Mask, rate: float) -> Mask:
    """Prune ``round(rate * alive)`` of the surviving entries with the smallest magnitudes, pooled
    over every tensor of ``mask``; per-tensor sparsity may therefore differ."""
    _check_fraction(rate, "pruning rate")
    return _prune_magnitudes(model, mask, lambda alive: _round(rate * sum(alive)))


def prune_layerwise(model: ModelOrState, mask: Mask, rate: float) -> Mask:
    """Prune ``round(rate * alive)`` of the surviving entries inside every tensor separately."""
    _check_fraction(rate, "pruning rate")
    return _prune_magnitudes(model, mask, lambda alive: [_round(rate * a) for a in alive])


def prune_to_density(model: ModelOrState, mask: Mask, density: float) -> Mask:
    """One-shot global pruning: keep ``round(density * numel)`` entries of the mask's tensors."""
    _check_fraction(density, "target density", upper_inclusive=True)
    keep = _round(density * mask.numel())

    def count(alive: list[int]) -> int:
        if keep > sum(alive):
            raise ValueError(f"the mask is already sparser ({sum(alive) / mask.numel():.4f}) than the target density {density}")
        return sum(alive) - keep

    return _prune_magnitudes(model, mask, count)


def _prune_magnitudes(model: ModelOrState, mask: Mask, counts: Callable[[list[int]], int | list[int]]) -> Mask:
    params = mask.check(model)
    return _select(lambda name: params[name].detach(), mask, counts, magnitude=True)


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def _check_fraction(value: float, what: str, upper_inclusive: bool = False) -> None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not (0 < value <= 1 if upper_inclusive else 0 < value < 1):
        bound = "(0, 1]" if upper_inclusive else "(0, 1)"
        raise ValueError(f"{what} must be in {bound}, got {value!r}")


@contextmanager
def _cpu_workers():
    """A pool of threads that each run torch ops on one CPU thread (None if torch has one thread).

    A pass is many short ops on cache-sized chunks. Multi-threaded ops wait for every thread at
    their end, which costs far more than it gains once other processes share the cores (0.08-3 s
    per 58M-parameter step on two threads, 0.13 s on one); independent chunks on independent
    threads never wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            yield pool if threads > 1 else None
    finally:
        torch.set_num_threads(threads)


def _map(pool: ThreadPoolExecutor | None, fn: Callable, items: Sequence) -> list:
    return list(pool.map(fn, items)) if pool is not None and len(items) > 1 else [fn(item) for item in items]


def _select(get: Callable[[str], torch.Tensor], mask: Mask, counts, magnitude: bool) -> Mask:
    """``counts`` as for ``select_lowest``, or a function of the per-tensor survivor counts."""
    with _cpu_workers() as pool:
        sources = [_Source(name, keep, pool) for name, keep in mask.items()]
        if callable(counts):
            counts = counts([s.alive for s in sources])
        if isinstance(counts, int) and not isinstance(counts, bool):
            groups, counts = [sources], [counts]
        else:
            counts = list(counts)
            if len(counts) != len(sources):
                raise ValueError(f"got {len(counts)} counts for a mask of {len(sources)} tensors")
            groups = [[s] for s in sources]
        for group, k in zip(groups, counts):
            _check_count(group, k)
        for group, k in zip(groups, counts):
            if k:
                _drop_lowest(_Scan(group, get, magnitude, pool), k)
    return Mask({s.name: (s.keep.clone() if s.out is None else s.out.view(s.keep.shape).cpu()) for s in sources})


def _check_count(group: list["_Source"], k) -> None:
    alive = sum(s.alive for s in group)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= alive:
        where = f"{group[0].name!r}" if len(group) == 1 else "the mask"
        raise ValueError(f"cannot remove {k!r} entries of {where}: {alive} survive")


class _Source:
    """One masked tensor: its keep-mask and, once selection has run on it, its new keep-mask."""

    def __init__(self, name: str, keep: torch.Tensor, pool: ThreadPoolExecutor | None):
        self.name, self.keep = name, keep
        flat = keep.reshape(-1)
        counts = _map(pool, lambda start: torch.count_nonzero(flat[start : start + _CHUNK]), range(0, flat.numel(), _CHUNK))
        self.alive = int(sum(counts))
        self.dense = self.alive == keep.numel()
        self.out: torch.Tensor | None = None  # flat, on the scores' device
        self.flat_keep: torch.Tensor | None = None


class _Scan:
    """Reads the scores of one selection chunk by chunk as floats (``|w|`` for magnitudes) in reused
    buffers, fp32 unless a tensor is fp64, so that order and ties are exact for every dtype."""

    def __init__(self, sources: list[_Source], get: Callable[[str], torch.Tensor], magnitude: bool,
                 pool: ThreadPoolExecutor | None):
        self.sources, self.get, self.magnitude, self.pool = sources, get, magnitude, pool
        self.alive = sum(s.alive for s in sources)
        self.numel = sum(s.keep.numel() for s in sources)
        self.device: torch.device | None = None
        self.dtype = torch.float32
        self._local = threading.local()  # chunk buffers, one set per thread

    def tensor(self, source: _Source) -> torch.Tensor:
        """The flat scores of ``source``; the first call per source fixes device and buffers."""
        flat = self.get(source.name).reshape(-1)
        if self.device is None:
            self._start(flat)
        if flat.device != self.device:
            raise ValueError(f"scores for {source.name!r} are on {flat.device}, others on {self.device}: pool one device")
        if flat.dtype == torch.float64 and self.dtype != torch.float64:
            raise ValueError(f"scores for {source.name!r} are float64 but those before it are not: pool one precision")
        if source.out is None:
            source.out = torch.empty(flat.numel(), dtype=torch.bool, device=self.device)
            source.flat_keep = source.keep.reshape(-1).to(self.device)
        return flat

    def _start(self, flat: torch.Tensor) -> None:
        self.device = flat.device
        self.dtype = torch.float64 if flat.dtype == torch.float64 else torch.float32
        self.chunk = _CUDA_CHUNK if self.device.type == "cuda" else _CHUNK

    def _buffers(self) -> threading.local:
        """This thread's chunk buffers: ``values`` and ``flags`` (padded to whole int64 words)."""
        local = self._local
        if not hasattr(local, "values"):
            size = min(self.chunk, max(s.keep.numel() for s in self.sources))
            local.values = torch.empty(size, dtype=self.dtype, device=self.device)
            local.flags = torch.empty(-(-size // 8) * 8, dtype=torch.bool, device=self.device)
        return local

    def values(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (or ``|x|``) as this scan's float dtype; into ``out`` unless ``x`` can be used as is."""
        if x.dtype == self.dtype and not self.magnitude:
            return x
        if out is None:
            out = torch.empty(x.shape, dtype=self.dtype, device=x.device)
        if x.dtype == self.dtype:
            return torch.abs(x, out=out)
        out.copy_(x)
        return out.abs_() if self.magnitude else out

    def _read(self, flat: torch.Tensor, start: int) -> torch.Tensor:
        """The values of a chunk, in this thread's buffer (overwritten by its next chunk)."""
        chunk = flat[start : start + self.chunk]
        return self.values(chunk, self._buffers().values[: chunk.numel()])

    def __iter__(self):
        """(source, start, values) per chunk in mask order, on this thread."""
        for source in self.sources:
            flat = self.tensor(source)
            for start in range(0, flat.numel(), self.chunk):
                yield source, start, self._read(flat, start)

    def map(self, fn: Callable) -> list:
        """``fn(source, start, values)`` for every chunk, in mask order; on the CPU the chunks of a
        tensor are spread over the worker threads, which share nothing but ``source.out``."""
        results = []
        for source in self.sources:
            flat = self.tensor(source)
            pool = self.pool if self.device.type == "cpu" else None
            results += _map(pool, lambda start: fn(source, start, self._read(flat, start)), range(0, flat.numel(), self.chunk))
        return results

    def keep(self, source: _Source, start: int, n: int) -> torch.Tensor:
        return source.flat_keep[start : start + n]

    def split(self, source: _Source, start: int, values: torch.Tensor, lo: float, hi: float):
        """Set the chunk of ``source.out`` to its survivors above ``hi``; return it and the flags
        (this thread's, until its next chunk) of its survivors in [lo, hi], for ``lo <= hi``."""
        n = values.numel()
        out = torch.gt(values, hi, out=source.out[start : start + n])
        inside = torch.ge(values, lo, out=self._buffers().flags[:n])
        if not source.dense:
            keep = self.keep(source, start, n)
            out.logical_and_(keep)
            inside.logical_and_(keep)
        return out, inside.logical_xor_(out)  # out is a subset of inside

    def flagged(self, n: int) -> torch.Tensor:
        """Indices of this thread's set ``flags[:n]``, which are few: scan them 8 at a time as
        int64 words, then look at the bytes of the nonzero words only."""
        padded = self._buffers().flags[: -(-n // 8) * 8]
        padded[n:] = False
        words = padded.view(torch.int64)
        nonzero = words.nonzero().squeeze(1)
        rows, lanes = words[nonzero].view(torch.uint8).view(-1, 8).nonzero().unbind(1)
        return nonzero[rows].mul_(8).add_(lanes)

    # -- order-preserving integer keys, for the exact narrowing ------------------------------------
    def keys(self, values: torch.Tensor) -> torch.Tensor:
        """Integer keys ordered like the floats (-0.0 and 0.0 share key 0): negative floats get
        minus the bits of their magnitude."""
        bits = values.view(torch.int64 if self.dtype == torch.float64 else torch.int32)
        magnitude_bits = bits & torch.iinfo(bits.dtype).max
        return torch.where(bits < 0, magnitude_bits.neg(), bits)

    def key_of(self, value: float) -> int:
        return int(self.keys(torch.tensor([value], dtype=self.dtype))[0])

    def value_of(self, key: int) -> float:
        bits = key if key >= 0 else -key - (1 << (63 if self.dtype == torch.float64 else 31))
        key_dtype = torch.int64 if self.dtype == torch.float64 else torch.int32
        return float(torch.tensor([bits], dtype=key_dtype).view(self.dtype)[0])


class _Bracket:
    """What one pass learnt about the survivors inside [lo, hi]: how many lie above, inside and
    below it, and (unless more than ``cap``) the values and flat indices of those inside."""

    def __init__(self, lo: float, hi: float, above: int, count: int, parts: list | None, alive: int):
        self.lo, self.hi, self.above, self.count, self.parts = lo, hi, above, count, parts
        self.below = alive - above - count


def _drop_lowest(scan: _Scan, k: int) -> None:
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


def _sample_bracket(scan: _Scan, k: int) -> tuple[float, float]:
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


def _gather(scan: _Scan, lo: float, hi: float, cap: int) -> _Bracket:
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


def _check_finite(scan: _Scan, totals: list[tuple[_Source, torch.Tensor]]) -> None:
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


def _known_range(scan: _Scan, bracket: _Bracket, k: int) -> tuple[int, int, int, int]:
    """The key range [low, high] holding the k-th lowest survivor after a pass that did not settle
    it, with the survivors below it and inside it."""
    if k <= bracket.below:
        return scan.key_of(-math.inf), scan.key_of(bracket.lo) - 1, 0, bracket.below
    if k > bracket.below + bracket.count:
        return scan.key_of(bracket.hi) + 1, scan.key_of(math.inf), bracket.below + bracket.count, bracket.above
    return scan.key_of(bracket.lo), scan.key_of(bracket.hi), bracket.below, bracket.count


def _narrow(scan: _Scan, low: int, high: int, below: int, k: int) -> tuple[int, int, int, int]:
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


def _prune_ties(scan: _Scan, value: float, r: int) -> None:
    """``out`` = survivors above ``value`` and those equal to it but the first ``r``, in mask order:
    for a threshold shared by more survivors than a bracket may gather."""
    done = torch.zeros((), dtype=torch.int64, device=scan.device)
    for source, start, values in scan:
        out, ties = scan.split(source, start, values, value, value)
        rank = torch.cumsum(ties, 0).add_(done)
        done = rank[-1]
        out.logical_or_(torch.gt(rank, r).logical_and_(ties))

