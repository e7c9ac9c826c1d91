"""open_lth's random masks (its randomly_prune branch) beside this toolkit's ``random_mask``, which
keeps the level's per-tensor counts: ``random_mask_global`` keeps the level's total count at random
positions over all prunable entries, ``random_mask_even`` the same density in every tensor
(``round(density * numel)`` entries of each, so the total may differ from the level's by rounding).
Positions are drawn on the CPU from the unit's ticket seed, the same on every device and process."""

from __future__ import annotations

import math

import torch

from ..mask import Mask
from ..tickets import TICKETS, Start, TicketKind


def random_mask_global(mask: Mask, seed: int) -> Mask:
    """``mask.alive()`` kept entries at uniformly random positions over all of ``mask``'s entries."""
    generator = torch.Generator().manual_seed(seed)
    flat = torch.zeros(mask.numel(), dtype=torch.bool)
    flat[torch.randperm(mask.numel(), generator=generator)[: mask.alive()]] = True
    tensors, start = {}, 0
    for name, keep in mask.items():
        tensors[name] = flat[start : start + keep.numel()].reshape(keep.shape).to(keep.device)
        start += keep.numel()
    return Mask(tensors)


def random_mask_even(mask: Mask, seed: int) -> Mask:
    """``round(density * numel)`` kept entries at random positions in every tensor (``density``: the mask's)."""
    generator, density = torch.Generator().manual_seed(seed), mask.density()
    tensors = {}
    for name, keep in mask.items():
        flat = torch.zeros(keep.numel(), dtype=torch.bool)
        flat[torch.randperm(keep.numel(), generator=generator)[: math.floor(density * keep.numel() + 0.5)]] = True
        tensors[name] = flat.reshape(keep.shape).to(keep.device)
    return Mask(tensors)


class RandomMaskGlobal(TicketKind):
    name, label, color, linestyle = "random_mask_global", "random mask (global count)", "tab:brown", "--"
    start, control = Start.REWIND, True

    def derive_mask(self, mask, seed):
        return random_mask_global(mask, seed)


class RandomMaskEven(TicketKind):
    name, label, color, linestyle = "random_mask_even", "random mask (even density)", "tab:brown", ":"
    start, control = Start.REWIND, True

    def derive_mask(self, mask, seed):
        return random_mask_even(mask, seed)


for _kind in (RandomMaskGlobal(), RandomMaskEven()):
    TICKETS.register(_kind)
