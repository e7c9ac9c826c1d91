"""SynFlow (Tanaka, Kunin, Yamins & Ganguli, NeurIPS 2020): data-free pruning at initialization.

Every parameter of a float64 copy of the model is replaced by its absolute value (pruned entries
zero), the trainer's ``ones_output`` hook runs it on one all-ones input and R is the sum of its
outputs; the score is |dR/dw * w|. Pruning is iterative over ``ROUNDS`` rounds, the kept fraction
after round j being density^(j / ROUNDS) of the mask's entries, so the last round keeps exactly the
target count. The copy is in evaluation mode (dropout off, batch norm on its running statistics).

Modules an all-ones input does not fit are made linear and positive on the copy (docs/design.md,
"SynFlow on embeddings, recurrences, attention and norms"):

- ``nn.Embedding``: a lookup is a linear map of a one-hot vector; the all-ones vector in vocabulary
  space gives the sum of all rows, so every lookup returns ``|E|.sum(0)`` (every row gets a score).
- ``nn.LayerNorm`` (and ``nn.GroupNorm``): normalizing removes the mean, so a constant input would
  give zero everywhere and no flow; the copy keeps the affine part only (x * |gamma| + |beta|).
- recurrent weights (``nn.LSTM``) and attention run as they are on the positive weights: their
  gates and softmax are positive, differentiable functions, so the flow stays positive.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ..pruning import PRUNING, ScorePruning
from ..pruning_context import PruningContext
from ..selection import select_lowest

ROUNDS = 100


class SynFlow(ScorePruning):
    """Iterative synaptic flow pruning; one-shot to a density (its own rounds), or one step of ``rate``."""

    name, at_init, hooks = "synflow", True, ("ones_output",)
    label, color = "SynFlow", "tab:brown"
    rounds = ROUNDS

    def prune(self, model, mask, rate, context=None):
        return self.prune_to_density(model, mask, (1 - rate) * mask.density(), context)

    def prune_to_density(self, model, mask, density, context=None):
        if not isinstance(model, nn.Module):
            raise ValueError("synflow needs the model (gradients), not a state dict")
        if context is None or context.ones_output is None:
            raise ValueError("synflow runs the model on an all-ones input: this trainer has no ones_output hook")
        keep_target = _nearest(density * mask.numel())
        if keep_target > mask.alive():
            raise ValueError(f"the mask is already sparser than the target density {density}")
        positive = _positive_copy(model)
        start = mask.alive() / mask.numel()
        for round_ in range(1, self.rounds + 1):
            keep = _nearest(start * (density / start) ** (round_ / self.rounds) * mask.numel())
            keep = keep_target if round_ == self.rounds else max(keep, keep_target)
            scores = synflow_scores(positive, mask, context)
            mask = select_lowest(scores, mask.to_model(model), mask.alive() - keep)
        return mask.to_model(model)


def synflow_scores(positive: nn.Module, mask, context: PruningContext) -> dict[str, torch.Tensor]:
    """|dR/dw * w| of the positive float64 copy under ``mask`` (in mask order)."""
    params = dict(positive.named_parameters())
    with torch.no_grad():
        for name, keep in mask.items():
            params[name].copy_(params[name].abs() * keep.to(params[name].device))
    positive.zero_grad(set_to_none=True)
    with torch.enable_grad():
        outputs = context.ones_output(positive)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        sum(o.sum() for o in outputs).backward()
    return {name: (params[name].grad * params[name]).detach().abs() for name, _ in mask.items()}


def _nearest(x: float) -> int:
    return math.floor(x + 0.5)  # round half up, as the magnitude pruning counts


def _positive_copy(model: nn.Module) -> nn.Module:
    """A float64 copy with every parameter and buffer made non-negative, in evaluation mode, with
    embeddings and layer norms replaced as the module docstring says."""
    positive = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for tensor in list(positive.parameters()) + list(positive.buffers()):
            if tensor.is_floating_point():
                tensor.abs_()
    for module in positive.modules():
        if isinstance(module, nn.Embedding):
            module.register_forward_hook(_all_rows)
        elif isinstance(module, (nn.LayerNorm, nn.GroupNorm)):
            module.register_forward_hook(_affine_only)
    return positive


def _all_rows(module: nn.Embedding, inputs, output: torch.Tensor) -> torch.Tensor:
    return module.weight.sum(0).expand_as(output)


def _affine_only(module: nn.Module, inputs, output: torch.Tensor) -> torch.Tensor:
    x = inputs[0]
    if isinstance(module, nn.GroupNorm):
        shape = (1, -1) + (1,) * (x.dim() - 2)
        weight, bias = (None if p is None else p.view(shape) for p in (module.weight, module.bias))
    else:
        weight, bias = module.weight, module.bias
    x = x if weight is None else x * weight
    return x if bias is None else x + bias


PRUNING.register(SynFlow())
