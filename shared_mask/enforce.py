"""Keep pruned entries exactly zero while a model trains."""
from __future__ import annotations

import torch
from torch import nn

from .mask import Mask


class MaskGuard:
    """Holds a mask on a model and its optimizer; see :func:`enforce`."""

    def __init__(self, model: nn.Module, mask: Mask, optimizer: torch.optim.Optimizer | None = None):
        params = mask.check(model)
        # Masks move to each parameter's device once; "dead" marks the pruned entries.
        self._dead = [(params[name], (~keep).to(params[name].device)) for name, keep in mask.items()]
        self.optimizer = optimizer
        self._handles = []
        self._state_dirty = True
        self.zero_weights_()
        if optimizer is not None:
            self._handles.append(optimizer.register_step_pre_hook(lambda *_: self.mask_grads_()))
            self._handles.append(optimizer.register_step_post_hook(lambda *_: self._after_step()))
            self._handles.append(optimizer.register_load_state_dict_post_hook(lambda *_: self._mark_state_dirty()))
            self.zero_optimizer_state_()
        else:
            for p, dead in self._dead:
                self._handles.append(p.register_post_accumulate_grad_hook(_grad_masker(dead)))

    @torch.no_grad()
    def mask_grads_(self) -> None:
        """Zero the gradients of pruned entries (call before clipping to get the sparse norm)."""
        for p, dead in self._dead:
            if p.grad is not None:
                p.grad.masked_fill_(dead, 0)

    @torch.no_grad()
    def zero_weights_(self) -> None:
        for p, dead in self._dead:
            p.masked_fill_(dead, 0)

    @torch.no_grad()
    def zero_optimizer_state_(self) -> None:
        """Zero every per-parameter optimizer buffer (moments, momentum) at pruned entries."""
        if self.optimizer is None:
            return
        for p, dead in self._dead:
            for value in self.optimizer.state.get(p, {}).values():
                if torch.is_tensor(value) and value.shape == p.shape:
                    value.masked_fill_(dead, 0)
        self._state_dirty = False

    def remove(self) -> None:
        """Stop enforcing: detach every hook."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _after_step(self) -> None:
        self.zero_weights_()
        # With masked gradients the moments of pruned entries stay zero once they are zero, so the
        # state only needs cleaning on the first step (lazily created state) and after a load.
        if self._state_dirty:
            self.zero_optimizer_state_()

    def _mark_state_dirty(self) -> None:
        self._state_dirty = True


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
