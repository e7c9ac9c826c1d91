"""What a domain provides to the lottery loop: the :class:`Trainer` interface, the :class:`Unit` it
trains, and :func:`start_model`, a ticket's starting model as its kind says."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import tensor_file
from .mask import Mask
from .run_folder import Key, UnitFolder
from .steps import Step
from .tickets import Start, ticket_kind


@dataclass(frozen=True)
class Unit:
    """One training job of the loop: a ticket of one level of one seed.

    The mask to train under is read from ``mask_path`` (and derived by the ticket kind) where it is
    first used, so a unit sent to a Ray worker carries the file's name, not its tensors.
    """

    seed: int
    level: int
    ticket: str  # "dense" at level 0, else a name registered in TICKETS
    mask: Mask | None  # the mask to train under; None: the kind's derive_mask of the mask at mask_path
    dir: Path  # the unit's folder (its files: :attr:`files`)
    init_path: Path  # W_0 of this seed
    rewind_path: Path  # W_j of this seed: read by tickets, written by the dense unit (see capture_rewind);
    # for a transferred ticket, the source run's W_j fitted to this model
    final_path: Path  # where the trainer writes the trained weights
    ticket_seed: int  # seed of the random ticket's weights or positions
    capture_rewind: Step | None = None  # dense unit with late rewinding: write W_j to rewind_path at this step
    source_path: Path | None = None  # the trained weights the level's mask was pruned from (Start.FINAL)
    mask_path: Path | None = None  # the level's mask file (a transferred ticket's: the fitted source mask)
    budget: Step | None = None  # how long this ticket trains when its kind says (fine_tunes); None: the trainer's
    mask_identity: dict[str, str] | None = None  # the run, seed and level that file must record
    # Stability analysis (shared_mask.stability): a unit that is not the ticket's own training.
    role: str | None = None  # its key's name instead of the ticket's (e.g. stability/k_10it/child_1)
    noise_seed: int | None = None  # seed of the training noise (environments, sampling, batch order); None: seed
    start_path: Path | None = None  # start from these weights (under the mask) instead of the kind's
    start_step: Step | None = None  # the start weights have trained this far: train the rest of the budget
    end_step: Step | None = None  # stop at this point instead of the end of the budget (and score nothing)
    early_bird: object = None  # dense unit: an early_bird.Draws that draws masks as it trains
    captures: tuple = ()  # dense unit: (Step, Path) pairs, W_k to write at each stability point (not replayed)

    def __post_init__(self):
        if self.mask is None:
            if self.mask_path is None:
                raise ValueError("a unit needs its mask or its mask's file")
            del self.__dict__["mask"]  # read on first use (__getattr__)

    def __getattr__(self, name: str):
        if name != "mask" or "mask_path" not in self.__dict__:
            raise AttributeError(name)
        mask = ticket_kind(self.ticket).derive_mask(
            Mask.load(self.mask_path, identity=self.mask_identity), self.ticket_seed
        )
        object.__setattr__(self, "mask", mask)
        return mask

    @property
    def key(self) -> Key:
        return self.seed, self.level, self.role or self.ticket

    @property
    def files(self) -> UnitFolder:
        """The paths of the unit's folder (metrics.json, tb/, the fairseq driver's files)."""
        return UnitFolder(self.dir)

    def __getstate__(self) -> dict:
        """Pickled (to a Ray worker) without the mask when its file says it."""
        return {k: v for k, v in self.__dict__.items() if k != "mask" or self.mask_path is None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class Trainer(ABC):
    """What a domain provides to the lottery loop.

    ``train(unit)`` trains ``unit``'s ticket under ``unit.mask`` (enforced through training), writes
    ``unit.final_path`` (and, if ``unit.capture_rewind`` is set, ``unit.rewind_path`` when training
    reaches that step) and returns its metrics. :func:`start_model` builds a ticket's starting model
    for trainers that hold weights in memory. A kind that does not train (``trains``) is scored as it
    starts; one that ``fine_tunes`` trains for ``unit.budget`` at the schedule's final learning rate.

    Optional hooks for pruning at initialization (None: the trainer has none):
    ``batch_losses(model, count, seed)`` yields the training losses (scalar tensors with their graphs)
    of ``count`` batches for ``model`` (SNIP, GraSP); ``ones_output(model)`` returns the model's
    outputs for one all-ones input (SynFlow).
    """

    suffix = ".safetensors"
    batch_losses = None
    ones_output = None
    # The studies this trainer implements ("stability", "early_bird"); a lottery asking for others is refused.
    studies: frozenset[str] = frozenset()
    # The stability line's metric: (name, higher is better), as :meth:`evaluate` returns it.
    line_metric: tuple[str, bool] = ("loss", False)
    # W_k of a stability point: True, trained again from W_0 by a replay unit (exact where training is
    # deterministic); False, captured by the dense unit (``Unit.captures``), so points come before it trains.
    replays_points: bool = True

    @abstractmethod
    def config(self) -> dict:
        """JSON-able settings saved in config.json; include "experiment" (game or dataset) and "metric"."""

    @abstractmethod
    def build_model(self, seed: int) -> nn.Module:
        """A freshly initialized model, deterministic in ``seed``."""

    @abstractmethod
    def train(self, unit: Unit) -> dict[str, float]:
        """Train ``unit``'s ticket and return its metrics (name -> value)."""

    def unit_work(self) -> str:
        """What one unit trains, for the estimate printed before a run starts (e.g. "2,000 batches")."""
        return ""

    def expected_unit_seconds(self) -> tuple[float, str] | None:
        """Seconds one unit should take here and what that rests on, when the trainer knows; None otherwise
        (the estimate then waits for the run's first finished units)."""
        return None

    def save_weights(self, model: nn.Module, path: Path) -> None:
        """The model's state as a byte-deterministic safetensors file with a checksum (tied tensors once)."""
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict(keep_vars=False).items()}
        unique, seen = {}, set()
        for name, tensor in state.items():  # tied tensors are stored once
            if tensor.data_ptr() not in seen or tensor.numel() == 0:
                unique[name] = tensor
                seen.add(tensor.data_ptr())
        tensor_file.save(unique, path)

    def read_state(self, path: Path) -> dict:
        """The tensors of a weights file by name (for transfer between models of other shapes)."""
        return tensor_file.load(path)[0]

    def evaluate(self, model: nn.Module, seed: int) -> float:
        """The :attr:`line_metric` of ``model`` (seed ``seed``'s network), with fixed evaluation noise."""
        raise NotImplementedError(f"{type(self).__name__} cannot evaluate networks")

    def evaluation_config(self) -> dict:
        """The evaluation's settings (episodes, ...), recorded with the stability analysis."""
        return {}

    def load_weights(self, path: Path, model: nn.Module) -> nn.Module:
        return self.load_state(self.read_state(path), model, path)  # a corrupt file is a ValueError naming it

    def load_state(self, state: dict, model: nn.Module, path: Path | str = "the weights") -> nn.Module:
        """``model`` with the tensors of ``state`` (by name; ``path`` names them in errors)."""
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as error:  # shapes of another model
            last_line = str(error).strip().splitlines()[-1].strip()
            raise ValueError(f"{path} does not fit the model: {last_line}") from error
        tied = {n for n in missing if n not in state and _is_tied_alias(model, n)}
        if set(missing) - tied or unexpected:
            raise ValueError(
                f"{path} does not fit the model: missing {sorted(set(missing) - tied)}, unexpected {unexpected}"
            )
        return model


def _is_tied_alias(model: nn.Module, name: str) -> bool:
    all_params = dict(model.named_parameters(remove_duplicate=False))
    return name in all_params and name not in dict(model.named_parameters())


def start_model(trainer: Trainer, unit: Unit) -> nn.Module:
    """The ticket's starting model (as its kind says: W_0, the rewind weights W_j, a fresh
    initialization from ``unit.ticket_seed``, or the trained weights the mask was pruned from) with
    ``unit.mask`` applied."""
    kind = ticket_kind(unit.ticket)
    start = kind.start
    if unit.start_path is not None:  # a stability child: W_k, already the ticket's start weights
        model = trainer.load_weights(unit.start_path, trainer.build_model(unit.seed))
    elif start is Start.REINIT:
        model = trainer.build_model(unit.ticket_seed)
    else:
        path = {Start.INIT: unit.init_path, Start.REWIND: unit.rewind_path, Start.FINAL: unit.source_path}[start]
        model = trainer.load_weights(path, trainer.build_model(unit.seed))
    if unit.start_path is None:
        with torch.no_grad():
            kind.derive_weights(dict(model.named_parameters()), unit.mask, unit.ticket_seed)
    unit.mask.apply_(model)
    return model
