"""The selection engine: exact, tie-stable removal of the lowest-scoring surviving entries of a mask.

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

from collections.abc import Callable, Mapping, Sequence

import torch

from ..mask import Mask
from .bracket import drop_lowest
from .scan import Scan, Source, cpu_workers

_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
Counts = int | Sequence[int] | Callable[[list[int]], int | Sequence[int]]


def select_lowest(scores: Mapping[str, torch.Tensor], mask: Mask, counts: Counts, magnitude: bool = False) -> Mask:
    """A new mask without the ``counts`` lowest-scoring surviving entries of ``mask``.

    An int pools over every tensor of ``mask`` (global selection); a sequence gives one count per
    tensor in mask order; a function of the per-tensor survivor counts returns either. ``scores[name]``
    has the shape of ``mask[name]``, a floating dtype, finite values where the mask keeps entries, and
    any device; it is read once per pass, one tensor at a time, so a lazy Mapping never holds every
    tensor's scores at once. ``magnitude``: the scores are ``|scores[name]|``, taken chunk by chunk
    (magnitude pruning reads the weights themselves, with no copy). The new mask's tensors are on the
    scores' devices (a tensor no entry of which is removed keeps its mask's device).
    """

    def get(name: str) -> torch.Tensor:
        try:
            score = scores[name]
        except KeyError:
            raise ValueError(f"no scores for {name!r}") from None
        if not isinstance(score, torch.Tensor) or score.dtype not in _FLOATS:
            kind = getattr(score, "dtype", type(score))
            raise ValueError(f"scores for {name!r} must be a floating-point tensor, got {kind}")
        if score.shape != mask[name].shape:
            raise ValueError(f"scores for {name!r} have shape {tuple(score.shape)}, the mask {tuple(mask[name].shape)}")
        return score.detach()

    with cpu_workers() as pool:
        sources = [Source(name, keep, pool) for name, keep in mask.items()]
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
                drop_lowest(Scan(group, get, magnitude, pool), k)
    return Mask({s.name: s.keep.clone() if s.out is None else s.out.view(s.keep.shape) for s in sources})


def _check_count(group: list[Source], k) -> None:
    alive = sum(s.alive for s in group)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= alive:
        where = f"{group[0].name!r}" if len(group) == 1 else "the mask"
        raise ValueError(f"cannot remove {k!r} entries of {where}: {alive} survive")
