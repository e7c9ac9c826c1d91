"""The controls of Zhou, Lan, Liu & Yosinski (NeurIPS 2019, "Deconstructing lottery tickets") and the
fine-tuning arm of Renda, Frankle & Carbin (ICLR 2020), under the level's (winning) mask.

The starting weights are the rewind weights W_j (W_0 without late rewinding), changed in every tensor
of the mask, from the unit's ticket seed, before the mask applies:

- ``reshuffle``: the kept values permuted among the kept positions of their tensor;
- ``sign_constant``: each entry's sign times its tensor's standard deviation (over all its entries);
- ``sign_random``: each entry's sign times a magnitude drawn (with replacement) from the absolute
  values of its tensor, the tensor's own initial distribution of magnitudes.

A tensor whose starting values are all equal (a norm's ones, a zero bias) has no spread to draw from
and is left as it is. ``supermask`` is the masked start scored with no training; ``finetune`` keeps
the trained weights the mask was pruned from and trains them for ``--finetune-budget`` at the
schedule's final learning rate.
"""

from __future__ import annotations

import torch

from ..tickets import TICKETS, Start, TicketKind


class _StartChange(TicketKind):
    """A kind that changes each masked tensor's starting values (see the module docstring)."""

    start, control = Start.REWIND, True

    def derive_weights(self, weights, mask, seed):
        generator = torch.Generator().manual_seed(seed)
        for name, keep in mask.items():
            weight = weights[name]
            values = weight.detach().cpu()
            if values.numel() < 2 or bool((values == values.flatten()[0]).all()):
                continue
            weight.copy_(self.change(values, keep.cpu(), generator).to(weight.device, weight.dtype))

    def change(self, values: torch.Tensor, keep: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError


class Reshuffle(_StartChange):
    name, label, color, linestyle = "reshuffle", "winning mask, reshuffled init", "tab:olive", "-."

    def change(self, values, keep, generator):
        kept = values[keep]
        out = values.clone()
        out[keep] = kept[torch.randperm(kept.numel(), generator=generator)]
        return out


class SignConstant(_StartChange):
    name, label, color, linestyle = "sign_constant", "winning mask, init sign x std", "tab:cyan", "-."

    def change(self, values, keep, generator):
        return values.sign() * values.double().std().to(values.dtype)


class SignRandom(_StartChange):
    name, label, color, linestyle = "sign_random", "winning mask, init sign, random magnitude", "tab:cyan", ":"

    def change(self, values, keep, generator):
        flat = values.abs().flatten()
        drawn = flat[torch.randint(flat.numel(), (flat.numel(),), generator=generator)]
        return values.sign() * drawn.reshape(values.shape)


class Supermask(TicketKind):
    name, label, color, linestyle = "supermask", "supermask (no training)", "tab:pink", ":"
    start, trains = Start.REWIND, False


class Finetune(TicketKind):
    name, label, color, linestyle = "finetune", "fine-tuning (final learning rate)", "black", "--"
    start, fine_tunes = Start.FINAL, True


for _kind in (Reshuffle(), SignConstant(), SignRandom(), Supermask(), Finetune()):
    TICKETS.register(_kind)
