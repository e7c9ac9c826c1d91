"""An independent reference of exact, tie-stable pruning: a stable sort of every surviving score."""

import torch

import shared_mask as sm


def remove_lowest(scores: dict, mask: sm.Mask, k: int) -> sm.Mask:
    """``mask`` without the ``k`` lowest surviving scores; ties in mask order, then flat index."""
    names = mask.names()
    flat = torch.cat([scores[n].detach().flatten().double() for n in names])
    alive = torch.cat([mask[n].flatten() for n in names])
    index = torch.nonzero(alive).squeeze(1)
    order = torch.sort(flat[index], stable=True).indices
    keep = alive.clone()
    keep[index[order[:k]]] = False
    tensors, start = {}, 0
    for n in names:
        tensors[n] = keep[start : start + mask[n].numel()].reshape(mask[n].shape)
        start += mask[n].numel()
    return sm.Mask(tensors)
