"""Pruning: the magnitude-pruning functions and the strategies (how a level's mask is derived from
trained weights), all through the exact, tie-stable selection of :mod:`shared_mask.selection`.

``LotteryConfig.pruning`` names one entry of :data:`PRUNING`. Built in: ``global_magnitude`` (the
paper's, pooled over every prunable tensor) and ``layerwise_magnitude`` (the same fraction inside each
tensor). A new criterion that scores entries is one subclass of :class:`ScorePruning` and one
``PRUNING.register(...)``; it goes through the same exact, tie-stable selection as magnitudes::

    class RelativeMagnitude(sm.ScorePruning):
        name = "relative_magnitude"

        def score(self, name, weight):   # the lowest scores are pruned
            return weight.abs() / weight.abs().mean()

    sm.PRUNING.register(RelativeMagnitude())
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping

import torch

from .mask import Mask, ModelOrState
from .pruning_context import PruningContext
from .registry import Registry
from .selection import Counts, select_lowest


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
            raise ValueError(
                f"the mask is already sparser ({sum(alive) / mask.numel():.4f}) than the target density {density}"
            )
        return sum(alive) - keep

    return _prune_magnitudes(model, mask, count)


def _prune_magnitudes(model: ModelOrState, mask: Mask, counts: Counts) -> Mask:
    return select_lowest(mask.check(model), mask.to_model(model), counts, magnitude=True)


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def _check_fraction(value: float, what: str, upper_inclusive: bool = False) -> None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not (0 < value <= 1 if upper_inclusive else 0 < value < 1):
        bound = "(0, 1]" if upper_inclusive else "(0, 1)"
        raise ValueError(f"{what} must be in {bound}, got {value!r}")


class PruningStrategy(ABC):
    """Turns trained weights and the current mask into the next, sparser mask.

    ``context`` (a :class:`PruningContext`) gives the seed's initial and rewind weights and the
    trainer's data hooks to the strategies that need them; the others ignore it.
    """

    name: str
    # True: a pruning-at-initialization strategy; the lottery gives it the starting weights (W_0, or
    # W_j with LotteryConfig.prune_from = "rewind") and each level's density, never trained weights.
    at_init: bool = False
    hooks: tuple[str, ...] = ()  # the trainer hooks it needs (batch_losses, ones_output)
    label: str | None = None  # how the report names it (default: its name)
    color: str | None = None  # its runs' colour in an overlay of runs with different strategies

    @abstractmethod
    def prune(self, model: ModelOrState, mask: Mask, rate: float, context: PruningContext | None = None) -> Mask:
        """Iterative step: remove ``rate`` of the entries ``mask`` keeps."""

    @abstractmethod
    def prune_to_density(
        self, model: ModelOrState, mask: Mask, density: float, context: PruningContext | None = None
    ) -> Mask:
        """One-shot: keep ``density`` of all the entries ``mask`` covers."""


class GlobalMagnitude(PruningStrategy):
    """The smallest magnitudes pooled over every tensor of the mask (the paper's)."""

    name, label, color = "global_magnitude", "IMP (global magnitude)", "tab:blue"

    def prune(self, model, mask, rate, context=None):
        return prune_global(model, mask, rate)

    def prune_to_density(self, model, mask, density, context=None):
        return prune_to_density(model, mask, density)


class ScorePruning(PruningStrategy):
    """Prunes the lowest ``score`` values: pooled over all tensors, or per tensor when ``pooled`` is False.

    Subclasses define :meth:`score` (or, to see the model and the context, :meth:`scores`); the
    selection is exact (exactly ``round(rate * alive)`` entries go) and ties fall in parameter order,
    then flat index.
    """

    pooled: bool = True

    def score(self, name: str, weight: torch.Tensor) -> torch.Tensor:
        """Per-entry scores of parameter ``name`` (the shape of ``weight``; finite floats)."""
        raise NotImplementedError(f"{type(self).__name__} defines neither score nor scores")

    def scores(
        self, model: ModelOrState, params: dict[str, torch.Tensor], mask: Mask, context: PruningContext | None
    ) -> Mapping[str, torch.Tensor]:
        """Scores by parameter name of ``mask``'s tensors (``params``: the model's tensors by name);
        by default :meth:`score` of each tensor, computed when the selection reads it."""
        return _Scores(self, params)

    def prune(self, model, mask, rate, context=None):
        _check_fraction(rate, "pruning rate")
        if self.pooled:
            counts = _round(rate * mask.alive())
        else:
            counts = [_round(rate * int(torch.count_nonzero(keep))) for _, keep in mask.items()]
        return self._select(model, mask, counts, context)

    def prune_to_density(self, model, mask, density, context=None):
        _check_fraction(density, "target density", upper_inclusive=True)
        if self.pooled:
            counts = mask.alive() - _round(density * mask.numel())
        else:
            counts = [int(torch.count_nonzero(keep)) - _round(density * keep.numel()) for _, keep in mask.items()]
        if min([counts] if self.pooled else counts) < 0:
            raise ValueError(f"the mask is already sparser than the target density {density}")
        return self._select(model, mask, counts, context)

    def _select(self, model, mask, counts, context) -> Mask:
        return select_lowest(self.scores(model, mask.check(model), mask, context), mask.to_model(model), counts)


class LayerwiseMagnitude(ScorePruning):
    """The smallest magnitudes inside each tensor separately: every tensor loses the same fraction."""

    name = "layerwise_magnitude"
    pooled = False

    def score(self, name, weight):
        return weight.detach().abs()

    def prune(self, model, mask, rate, context=None):
        return prune_layerwise(model, mask, rate)


class _Scores(Mapping):
    """Scores computed one tensor at a time when the selection asks for them (never all at once)."""

    def __init__(self, strategy: ScorePruning, params: dict[str, torch.Tensor]):
        self.strategy, self.params = strategy, params

    def __getitem__(self, name: str) -> torch.Tensor:
        with torch.no_grad():
            return self.strategy.score(name, self.params[name].detach())

    def __iter__(self):
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)


PRUNING: Registry[PruningStrategy] = Registry("pruning strategy")
for _strategy in (GlobalMagnitude(), LayerwiseMagnitude()):
    PRUNING.register(_strategy)
