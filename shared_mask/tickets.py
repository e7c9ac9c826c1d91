"""Ticket kinds: where a ticket's weights start, how its mask derives from the level's, how it is drawn.

Every place that treats tickets differently (the lottery loop, the fairseq hooks and IMP driver,
the report) looks the kind up in :data:`TICKETS` by the name stored in the run folder. Adding a kind
is one subclass of :class:`TicketKind` and one ``TICKETS.register(...)``::

    class ShuffledWinner(sm.TicketKind):
        name, label, color, linestyle = "shuffled", "winning mask, shuffled per tensor", "tab:green", "-."
        start = sm.Start.REWIND

        def derive_mask(self, mask, seed):
            return sm.random_mask_like(mask, seed)

    sm.TICKETS.register(ShuffledWinner())
"""

from __future__ import annotations

import enum
import zlib

import torch

from .mask import Mask
from .random_ticket import random_mask_like
from .registry import Registry


class Start(enum.Enum):
    """The weights a ticket starts training from."""

    INIT = "init"  # W_0 of the seed
    REWIND = "rewind"  # W_j, the late-rewinding point of the dense run (W_0 when j = 0)
    REINIT = "reinit"  # a fresh initialization drawn from the unit's ticket seed
    # The trained weights the level's mask was pruned from, with the learning-rate schedule replayed
    # from the rewind point (learning-rate rewinding, Renda et al. 2020).
    FINAL = "final"


class TicketKind:
    """One kind of ticket. Subclasses set the class attributes and may override :meth:`derive_mask`."""

    name: str
    label: str  # legend label in the report
    color: str  # matplotlib colour in the report
    linestyle: str = "-"
    start: Start = Start.REWIND
    control: bool = False  # a random control that a candidate ticket is compared against
    # Trained with another run's mask and rewind weights (--transfer-from), not with this run's.
    transferred: bool = False
    # Distinguishes the ticket seeds of kinds at the same seed and level. The built-in kinds keep the
    # offsets they always had (so old run folders resume identically); others get one from their name.
    seed_offset: int | None = None
    trains: bool = True  # False: scored as it starts, with no optimizer step (the supermask)
    # True: trained for LotteryConfig.finetune_budget at the schedule's final learning rate (fine-tuning)
    fine_tunes: bool = False
    # The RunFolder method that gives this kind's mask file for (seed, level), when the kind trains under a
    # mask of its own rather than the level's (e.g. "early_bird_mask"); None: the level's mask.
    mask_of: str | None = None

    def derive_mask(self, mask: Mask, seed: int) -> Mask:
        """The mask this ticket trains under, from the level's mask (``seed``: the unit's ticket seed)."""
        return mask

    def derive_weights(self, weights: dict[str, torch.Tensor], mask: Mask, seed: int) -> None:
        """Change the starting weights of ``mask``'s tensors in place before the mask applies (by default
        they stay as the kind's ``start`` gives them)."""

    def ticket_seed(self, seed: int, level: int) -> int:
        """The seed of this kind's random choices (fresh weights, random positions) at (seed, level)."""
        offset = self.seed_offset if self.seed_offset is not None else zlib.crc32(self.name.encode()) % 1_009
        return 1_000_003 * (seed + 1) + 1_009 * level + offset

    def __repr__(self) -> str:
        return f"<ticket kind {self.name}>"


class Dense(TicketKind):
    name, label, color, linestyle = "dense", "dense network", "gray", "-"
    start, seed_offset = Start.INIT, 0


class Winning(TicketKind):
    name, label, color, linestyle = "winning", "winning ticket", "tab:blue", "-"
    start, seed_offset = Start.REWIND, 0


class RandomReinit(TicketKind):
    name, label, color, linestyle = "random_reinit", "random ticket (reinit)", "tab:red", "-"
    start, seed_offset, control = Start.REINIT, 1, True


class RandomMask(TicketKind):
    name, label, color, linestyle = "random_mask", "random ticket (random mask)", "tab:red", "--"
    start, seed_offset, control = Start.REWIND, 2, True

    def derive_mask(self, mask: Mask, seed: int) -> Mask:
        return random_mask_like(mask, seed)


class LRRewind(TicketKind):
    """Learning-rate rewinding: the pruned network keeps its trained weights and trains again with the
    learning-rate schedule replayed from the rewind point."""

    name, label, color, linestyle = "lr_rewind", "learning-rate rewinding", "tab:green", "-"
    start = Start.FINAL


class Transfer(Winning):
    """Another run's winning ticket (its mask and rewind weights) trained on this run's experiment."""

    name, label, color, linestyle = "transfer", "transferred ticket", "tab:purple", "-"
    seed_offset, transferred = None, True


class TransferRandomReinit(RandomReinit):
    name, label, color, linestyle = "transfer_random_reinit", "transferred: random reinit", "tab:orange", "-"
    seed_offset, transferred = None, True


class TransferRandomMask(RandomMask):
    name, label, color, linestyle = "transfer_random_mask", "transferred: random mask", "tab:orange", "--"
    seed_offset, transferred = None, True


DENSE_TICKET = Dense()
DENSE = DENSE_TICKET.name
WINNING = Winning.name  # the ticket whose trained weights the iterative schedule prunes next
# The kinds a lottery can train at pruned levels (the dense kind belongs to level 0 only).
TICKETS: Registry[TicketKind] = Registry("ticket kind")
for _kind in (
    Winning(),
    RandomReinit(),
    RandomMask(),
    LRRewind(),
    Transfer(),
    TransferRandomReinit(),
    TransferRandomMask(),
):
    TICKETS.register(_kind)
TRANSFER_TICKETS = [name for name in TICKETS if TICKETS[name].transferred]


def ticket_kind(name: str) -> TicketKind:
    """The kind called ``name``, the dense one included; ValueError naming the known kinds otherwise."""
    return DENSE_TICKET if name == DENSE else TICKETS[name]
