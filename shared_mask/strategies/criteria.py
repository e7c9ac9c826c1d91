"""Mask criteria of Zhou, Lan, Liu & Yosinski (NeurIPS 2019, "Deconstructing lottery tickets").

Each keeps the entries with the largest score of the initial weights w_i (W_0 of the seed, from the
pruning context) and the trained weights w_f (the weights being pruned), for the iterative and the
one-shot schedules alike; the lowest scores are pruned through the exact, tie-stable selection.
``large_init_large_final`` ranks by the product |w_i| * |w_f| (one of the two rankings the paper
offers; the other, the minimum of the two ranks, is not built in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from ..pruning import PRUNING, GlobalMagnitude, ScorePruning


class LargeFinal(GlobalMagnitude):
    """|w_f|: IMP's criterion, the same masks as ``global_magnitude``."""

    name, label, color = "large_final", "large final (IMP)", "tab:blue"


class InitFinalScore(ScorePruning):
    """A score of (w_i, w_f) per entry; the largest are kept."""

    name: str
    rank: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # a staticmethod: (w_i, w_f) -> score

    def scores(self, model, params, mask, context):
        if context is None:
            raise ValueError(f"the {self.name} criterion needs the initial weights: prune with a PruningContext")
        return _PairScores(self.rank, context.initial, params)


class _PairScores(Mapping):
    """``rank(w_i, w_f)`` of one tensor at a time, when the selection reads it."""

    def __init__(self, rank, initial: Mapping[str, torch.Tensor], final: dict[str, torch.Tensor]):
        self.rank, self.initial, self.final = rank, initial, final

    def __getitem__(self, name: str) -> torch.Tensor:
        final = self.final[name].detach()
        if name not in self.initial or self.initial[name].shape != final.shape:
            raise ValueError(f"the initial weights have no tensor {name!r} of shape {tuple(final.shape)}")
        with torch.no_grad():
            return self.rank(self.initial[name].to(final.device, final.dtype), final)

    def __iter__(self):
        return iter(self.final)

    def __len__(self) -> int:
        return len(self.final)


class SmallFinal(InitFinalScore):
    name, label, color = "small_final", "small final", "tab:red"

    @staticmethod
    def rank(initial, final):
        return -final.abs()


class LargeInit(InitFinalScore):
    name, label, color = "large_init", "large init", "tab:orange"

    @staticmethod
    def rank(initial, final):
        return initial.abs()


class LargeInitLargeFinal(InitFinalScore):
    name, label, color = "large_init_large_final", "large init, large final", "tab:green"

    @staticmethod
    def rank(initial, final):
        return initial.abs() * final.abs()


class MagnitudeIncrease(InitFinalScore):
    name, label, color = "magnitude_increase", "magnitude increase", "tab:purple"

    @staticmethod
    def rank(initial, final):
        return final.abs() - initial.abs()


class Movement(InitFinalScore):
    name, label, color = "movement", "movement", "tab:brown"

    @staticmethod
    def rank(initial, final):
        return (final - initial).abs()


CRITERIA = (LargeFinal(), SmallFinal(), LargeInit(), LargeInitLargeFinal(), MagnitudeIncrease(), Movement())
for _criterion in CRITERIA:
    PRUNING.register(_criterion)
