"""Domain exporters, found through the ``lth_nlp_rl.exporters`` entry-point group.

shared_mask knows no domain: rl_lth and fairseq_lth each declare an exporter in setup.py, and the
run folder's config.json says which one handles a unit (the first whose :meth:`Exporter.handles`
accepts it); an exported file names its exporter in its config.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib.metadata import entry_points
from pathlib import Path

import torch
from torch import nn

from .ticket_file import SparseTicket
from .unit import FinishedUnit

GROUP = "lth_nlp_rl.exporters"


class Exporter(ABC):
    """What a domain provides to export its tickets and rebuild models from the exported file."""

    name: str  # the entry point's name, stored in exported files

    @abstractmethod
    def handles(self, run_config: dict) -> bool:
        """Whether units of the run with this config.json are this domain's."""

    @abstractmethod
    def weights(self, unit: FinishedUnit, path: Path) -> tuple[dict[str, torch.Tensor], dict]:
        """The tensors of the unit's weights file ``path`` by state-dict name, and the model config :meth:`load`
        needs."""

    def scored(self, unit: FinishedUnit) -> Path:
        """The weights file the unit's metric was computed from (by default its final weights)."""
        return unit.final

    def weights_note(self, unit: FinishedUnit, path: Path) -> str:
        """What the exported weights ``path`` are, next to what the unit's metric was computed from."""
        return f"{path.name}: the unit's weights at the end of training, which its metric scored"

    @abstractmethod
    def load(self, ticket: SparseTicket, **options) -> nn.Module:
        """An inference model (eval mode) from an exported ticket."""

    @abstractmethod
    def unpack(self, ticket: SparseTicket, out: Path) -> Path:
        """Write the ticket's dense weights in the domain's own format (what the unit's final.* holds)."""


def _entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def by_name(name: str) -> Exporter:
    """The exporter ``name``; ValueError if no installed package declares it."""
    found = _entry_points()
    if name not in found:
        raise ValueError(
            f"no exporter named {name!r} is installed (installed: {', '.join(found) or 'none'}; "
            "pip install -e . declares them)"
        )
    return found[name].load()


def for_run(run_config: dict, where: str) -> Exporter:
    """The exporter that handles a run of ``run_config``; ValueError naming ``where`` if none does."""
    failed = []
    for name, point in _entry_points().items():
        try:
            exporter = point.load()
        except ImportError as e:
            failed.append(f"{name} ({e})")
            continue
        if exporter.handles(run_config):
            return exporter
    unavailable = f"; could not import: {', '.join(failed)}" if failed else ""
    raise ValueError(f"{where}: no installed exporter handles this run's config.json{unavailable}")
