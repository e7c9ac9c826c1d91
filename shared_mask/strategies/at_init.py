"""Pruning at initialization: SNIP, GraSP, magnitude and uniform random (SynFlow: ``synflow.py``).

Each scores the starting weights it is given (the lottery gives W_0, or W_j with
``LotteryConfig.prune_from = "rewind"``, and prunes them one-shot to each level's density) and
prunes the lowest scores, pooled over every prunable tensor, through the exact, tie-stable
selection. SNIP and GraSP need gradients on training data: the trainer's ``batch_losses`` hook
gives the losses of ``LotteryConfig.pruning_batches`` batches (default: one, as in both papers).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from ..pruning import PRUNING, GlobalMagnitude, ScorePruning
from ..pruning_context import PruningContext

DEFAULT_BATCHES = 1  # SNIP: one mini-batch; GraSP: one batch (10 samples per class on images)


class MagnitudeInit(GlobalMagnitude):
    """|w| of the starting weights: global magnitude pruning of W_0."""

    name, at_init, label, color = "magnitude_init", True, "magnitude at init", "tab:orange"


class RandomAtInit(ScorePruning):
    """Uniform random: scores drawn on the CPU from the context's seed for this level."""

    name, at_init, label, color = "random", True, "random at init", "tab:red"

    def scores(self, model, params, mask, context):
        generator = torch.Generator().manual_seed(_context(self, context).random_seed(self.name))
        return {name: torch.rand(keep.shape, generator=generator, dtype=torch.float64) for name, keep in mask.items()}


class _GradientScore(ScorePruning):
    """A score from gradients of the training loss at the starting weights."""

    at_init, hooks = True, ("batch_losses",)

    def scores(self, model, params, mask, context):
        if not isinstance(model, nn.Module):
            raise ValueError(f"{self.name} needs the model (gradients), not a state dict")
        names = mask.names()
        # The fused attention kernels have no double backward (GraSP): attention runs on the math kernel.
        with torch.enable_grad(), sdpa_kernel(SDPBackend.MATH):
            losses = _context(self, context).losses(model, self.name, DEFAULT_BATCHES)
            scores = self.gradient_scores(losses, [params[n] for n in names])
        return dict(zip(names, (s.detach() for s in scores)))

    def gradient_scores(self, losses: list[torch.Tensor], weights: list[torch.Tensor]) -> list[torch.Tensor]:
        raise NotImplementedError


class SNIP(_GradientScore):
    """Connection sensitivity |dL/dw * w| (Lee, Ajanthan & Torr 2019), L the mean loss of the batches."""

    name, label, color = "snip", "SNIP", "tab:green"

    def gradient_scores(self, losses, weights):
        grads = torch.autograd.grad(torch.stack(losses).mean(), weights, allow_unused=True)
        return [(_zero_if_none(g, w) * w).abs() for g, w in zip(grads, weights)]


class GraSP(_GradientScore):
    """Gradient signal preservation (Wang, Zhang & Grosse 2020): with g the mean gradient of the
    batches and H g the Hessian-gradient product (double backward), GraSP keeps the entries with the
    lowest -w * (H g); so the pruned ones are the lowest w * (H g)."""

    name, label, color = "grasp", "GraSP", "tab:purple"

    def gradient_scores(self, losses, weights):
        loss = torch.stack(losses).mean()
        first = torch.autograd.grad(loss, weights, retain_graph=True, allow_unused=True)
        g = [_zero_if_none(x, w) for x, w in zip(first, weights)]
        grads = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
        z = sum((x * gi.detach()).sum() for x, gi in zip(grads, g) if x is not None)
        hg = torch.autograd.grad(z, weights, allow_unused=True)
        return [w * _zero_if_none(h, w) for h, w in zip(hg, weights)]


def _zero_if_none(grad: torch.Tensor | None, weight: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(weight) if grad is None else grad


def _context(strategy, context: PruningContext | None) -> PruningContext:
    if context is None:
        raise ValueError(f"{strategy.name} needs a PruningContext (its seed, level and the trainer's hooks)")
    return context


for _strategy in (MagnitudeInit(), RandomAtInit(), SNIP(), GraSP()):
    PRUNING.register(_strategy)
