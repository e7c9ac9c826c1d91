"""Parameter-matched random tickets: random positions, or fresh random weights."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .mask import Mask


def random_mask_like(mask: Mask, seed: int) -> Mask:
    """A mask with the same number of kept entries in every tensor, at random positions (the same
    positions on every device and process: they are drawn on the CPU from ``seed``)."""
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, keep in mask.items():
        shuffled = torch.zeros(keep.numel(), dtype=torch.bool)
        shuffled[torch.randperm(keep.numel(), generator=generator)[: int(torch.count_nonzero(keep))]] = True
        tensors[name] = shuffled.reshape(keep.shape).to(keep.device)
    return Mask(tensors)


@torch.no_grad()
def reinit_(model: nn.Module, seed: int, init_fn: Callable[[nn.Module], None] | None = None) -> nn.Module:
    """Re-initialize ``model`` in place, deterministically in ``seed``, without touching the global RNG.

    By default every module's own ``reset_parameters()`` runs (so each layer keeps its own init
    scheme); models with a custom scheme (e.g. fairseq's Transformer) pass it as ``init_fn``.
    Tied parameters stay tied since they are re-initialized in place.
    """
    devices = sorted({p.device for p in model.parameters() if p.device.type == "cuda"}, key=str)
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if init_fn is not None:
            init_fn(model)
            return model
        for module in model.modules():
            if any(True for _ in module.parameters(recurse=False)) and not hasattr(module, "reset_parameters"):
                raise ValueError(
                    f"module {type(module).__name__} has parameters but no reset_parameters(); "
                    "pass init_fn to re-initialize it"
                )
        for module in model.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return model
