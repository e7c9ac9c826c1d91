"""Keep a mask enforced on a fairseq model, its optimizer state and its fp32 master copy.

fairseq wraps torch optimizers (``FairseqOptimizer.optimizer``) and under ``--fp16``/``--bf16``
(``FP16Optimizer``) trains a separate fp32 master copy of the weights, flattened into one tensor
by default, which the torch optimizer updates and then copies back into the model. Hooks on the
model's parameters or on the torch optimizer therefore do not see the weights that are really
updated, so the task calls :class:`MaskEnforcer` at fixed points of its own ``train_step`` and
``optimizer_step`` instead.
"""

from __future__ import annotations

import torch
from torch import nn

import shared_mask as sm


class MaskEnforcer:
    """Zeroes pruned gradients, weights, optimizer moments and fp32 master entries on request.

    ``bind(optimizer)`` before the first step with a (new) fairseq optimizer; then
    ``mask_grads_()`` after every backward (before clipping, so the gradient norm is the sparse
    one) and ``after_step_()`` after every optimizer step.
    """

    def __init__(self, model: nn.Module, mask: sm.Mask):
        self.model = model
        self.mask = mask
        self.optimizer = None
        self._masker = sm.Masker(model, mask)
        self._master: _MasterCopy | None = None

    @torch.no_grad()
    def bind(self, optimizer, refresh_master: bool = False) -> None:
        """Start enforcing with ``optimizer`` (a FairseqOptimizer); zero everything pruned now.

        ``refresh_master`` copies the model's weights into the fp32 master copy first (needed
        after the model's weights were replaced, e.g. by a random re-initialization).
        """
        self._master = _MasterCopy.of(optimizer, self.model, self.mask)
        self._masker.zero_weights_()
        if self._master is not None:
            if refresh_master:
                self._master.copy_from_model_()
            self._master.zero_weights_()
        self.optimizer = optimizer
        self.zero_optimizer_state_()

    def mask_grads_(self) -> None:
        self._masker.mask_grads_()

    @torch.no_grad()
    def after_step_(self) -> None:
        if self._master is not None:
            self._master.zero_weights_()
        self._masker.zero_weights_()
        if self._masker.state_dirty:
            self.zero_optimizer_state_()

    def zero_optimizer_state_(self) -> None:
        """Zero the optimizer state at pruned entries: the master copy's, or the model parameters'."""
        torch_optimizer = self.optimizer.optimizer
        if self._master is not None:
            self._master.zero_state_()
            self._masker.state_cleaned(torch_optimizer)
        else:
            self._masker.zero_state_(torch_optimizer)

    @torch.no_grad()
    def stray_counts(self) -> dict[str, int]:
        """Nonzero pruned entries now, per place: the model's weights, the optimizer state, and the fp32
        master copy's weights (where there is one); all zero while the mask is enforced."""
        counts = {"weights": sum(int(torch.count_nonzero(p[dead])) for p, dead in self._masker.dead)}
        if self._master is not None:
            counts.update(self._master.stray_counts())
        else:
            state = self.optimizer.optimizer.state
            counts["optimizer_state"] = sum(
                int(torch.count_nonzero(value[dead]))
                for p, dead in self._masker.dead
                for value in state.get(p, {}).values()
                if torch.is_tensor(value) and value.shape == p.shape
            )
        return counts


class _MasterCopy:
    """Per-parameter views into FP16Optimizer's fp32 master weights and their optimizer state."""

    def __init__(self, optimizer, entries):
        self._state = optimizer.optimizer.state
        # (master tensor, offset, model parameter, dead mask on the master's device)
        self._entries = entries

    @classmethod
    def of(cls, optimizer, model: nn.Module, mask: sm.Mask) -> _MasterCopy | None:
        fp32 = getattr(optimizer, "fp32_params", None)
        if fp32 is None:  # fp32 training, --amp, or --memory-efficient-fp16: no master copy
            return None
        fp16 = list(optimizer.fp16_params)
        slots = {}
        if isinstance(fp32, list):  # --fp16-no-flatten-grads, --bf16
            slots = {id(p): (p32, 0) for p, p32 in zip(fp16, fp32)}
        else:  # flattened: one tensor per device, parameters laid out in order
            flats = fp32 if isinstance(fp32, dict) else {None: fp32}
            for device, flat in flats.items():
                offset = 0
                for p in fp16 if len(flats) == 1 else [p for p in fp16 if p.device.index == device]:
                    slots[id(p)] = (flat, offset)
                    offset += p.numel()
        params = mask.check(model)
        entries = []
        for name, keep in mask.items():
            p = params[name]
            if id(p) not in slots:
                raise ValueError(f"parameter {name!r} is not optimized (frozen?); it cannot be masked")
            master, offset = slots[id(p)]
            entries.append((master, offset, p, (~keep).to(master.device)))
        return cls(optimizer, entries)

    @staticmethod
    def _view(tensor: torch.Tensor, offset: int, p: torch.Tensor) -> torch.Tensor:
        return tensor.data.view(-1)[offset : offset + p.numel()].view(p.shape)

    def copy_from_model_(self) -> None:
        for master, offset, p, _ in self._entries:
            self._view(master, offset, p).copy_(p.data)

    def zero_weights_(self) -> None:
        for master, offset, p, dead in self._entries:
            self._view(master, offset, p).masked_fill_(dead, 0)

    def stray_counts(self) -> dict[str, int]:
        views = [(master, self._view(master, offset, p), p, offset, dead) for master, offset, p, dead in self._entries]
        return {
            "master_weights": sum(int(torch.count_nonzero(view[dead])) for _, view, _, _, dead in views),
            "optimizer_state": sum(
                int(torch.count_nonzero(self._view(value, offset, p)[dead]))
                for master, _, p, offset, dead in views
                for value in self._state.get(master, {}).values()
                if torch.is_tensor(value) and value.shape == master.shape
            ),
        }

    def zero_state_(self) -> None:
        for master, offset, p, dead in self._entries:
            for value in self._state.get(master, {}).values():
                if torch.is_tensor(value) and value.shape == master.shape:
                    self._view(value, offset, p).masked_fill_(dead, 0)
