"""Keep pruned entries exactly zero while a model trains.

:class:`Masker` does the zeroing when asked (weights, gradients, optimizer state) and installs nothing;
:class:`MaskGuard` calls it from optimizer and gradient hooks. Trainers whose optimizer steps hooks do
not see (fairseq's fp32 master copy) call a Masker at fixed points instead.
"""

from __future__ import annotations

import torch
from torch import nn

from .mask import Mask


class Masker:
    """The pruned entries of ``model``'s masked parameters, zeroed on request."""

    def __init__(self, model: nn.Module, mask: Mask):
        params = mask.check(model)
        # Masks move to each parameter's device once; "dead" marks the pruned entries.
        self.dead = [(params[name], (~keep).to(params[name].device)) for name, keep in mask.items()]
        self._state_dirty = True

    @torch.no_grad()
    def zero_weights_(self) -> None:
        for p, dead in self.dead:
            p.masked_fill_(dead, 0)

    @torch.no_grad()
    def mask_grads_(self) -> None:
        """Zero the gradients of pruned entries (call before clipping to get the sparse norm)."""
        for p, dead in self.dead:
            if p.grad is not None:
                p.grad.masked_fill_(dead, 0)

    @torch.no_grad()
    def zero_state_(self, optimizer: torch.optim.Optimizer) -> None:
        """Zero every per-parameter buffer of ``optimizer`` (moments, momentum) at pruned entries."""
        for p, dead in self.dead:
            for value in optimizer.state.get(p, {}).values():
                if torch.is_tensor(value) and value.shape == p.shape:
                    value.masked_fill_(dead, 0)
        self.state_cleaned(optimizer)

    def state_cleaned(self, optimizer: torch.optim.Optimizer) -> None:
        """Record that ``optimizer``'s state was zeroed at pruned entries. With masked gradients those
        entries stay zero, so the state needs cleaning again only once it is created (lazily, at the
        first step) or loaded (:meth:`state_replaced`)."""
        self._state_dirty = not any(optimizer.state.values())

    def state_replaced(self) -> None:
        self._state_dirty = True

    @property
    def state_dirty(self) -> bool:
        return self._state_dirty


class MaskGuard:
    """Holds a mask on a model and its optimizer through hooks; see :func:`enforce`."""

    def __init__(self, model: nn.Module, mask: Mask, optimizer: torch.optim.Optimizer | None = None):
        self.masker = Masker(model, mask)
        self.optimizer = optimizer
        self._handles = []
        self.masker.zero_weights_()
        if optimizer is not None:
            self._handles.append(optimizer.register_step_pre_hook(lambda *_: self.mask_grads_()))
            self._handles.append(optimizer.register_step_post_hook(lambda *_: self._after_step()))
            self._handles.append(optimizer.register_load_state_dict_post_hook(lambda *_: self.masker.state_replaced()))
            self.masker.zero_state_(optimizer)
        else:
            for p, dead in self.masker.dead:
                self._handles.append(p.register_post_accumulate_grad_hook(_grad_masker(dead)))

    def mask_grads_(self) -> None:
        """Zero the gradients of pruned entries now (before clipping, to get the sparse norm)."""
        self.masker.mask_grads_()

    def remove(self) -> None:
        """Stop enforcing: detach every hook."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _after_step(self) -> None:
        self.masker.zero_weights_()
        if self.masker.state_dirty:
            self.masker.zero_state_(self.optimizer)


def _grad_masker(dead: torch.Tensor):
    def hook(p: torch.Tensor) -> None:
        p.grad.masked_fill_(dead, 0)

    return hook


def enforce(model: nn.Module, mask: Mask, optimizer: torch.optim.Optimizer | None = None) -> MaskGuard:
    """Zero the pruned entries of ``model`` now and keep them exactly zero while it trains.

    With an optimizer: gradients of pruned entries are zeroed before every ``optimizer.step()``,
    the weights are re-zeroed after it, and the optimizer's per-parameter buffers are zeroed at
    pruned entries (now, after the first step and after ``load_state_dict``). Without one, the
    gradients are masked as they accumulate. ``guard.remove()`` stops enforcing.
    """
    return MaskGuard(model, mask, optimizer)
