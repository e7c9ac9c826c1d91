"""Export a finished unit to a sparse ticket file, and rebuild models or dense weights from one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import registry, ticket_file
from .unit import FinishedUnit

WEIGHTS = ("final", "scored")  # which of a unit's weights lth-export writes


@dataclass(frozen=True)
class Exported:
    """What :func:`export` wrote: the file, each tensor's layout, and its size next to the weights file it read."""

    path: Path
    layouts: dict[str, str]
    bytes: int
    dense_bytes: int
    weights: str = ""  # which weights were exported (the exporter's note)
    which: str = "final"  # one of WEIGHTS

    def __str__(self) -> str:
        counts = {layout: list(self.layouts.values()).count(layout) for layout in ("dense", "bitmask", "csr")}
        shown = ", ".join(f"{n} {layout}" for layout, n in counts.items() if n)
        return (
            f"{self.path}: {len(self.layouts)} tensors ({shown}), {self.bytes / 1e6:.3f} MB, "
            f"{self.dense_bytes / self.bytes:.1f}x smaller than the unit's {self.which} weights "
            f"({self.dense_bytes / 1e6:.3f} MB)" + (f"\nweights: {self.weights}" if self.weights else "")
        )


def export(unit_dir: str | os.PathLike, out: str | os.PathLike, weights: str = "final") -> Exported:
    """Write the ticket of the finished unit ``unit_dir`` (RUN/seed_<s>/level_<kk>/<ticket>) to ``out``:
    ``weights`` final (its weights at the end of training) or scored (those its metric was computed from,
    a fairseq unit's average of its last checkpoints)."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    unit = FinishedUnit.open(unit_dir)
    exporter = registry.for_run(unit.run_config, str(unit.dir))
    path = unit.final if weights == "final" else exporter.scored(unit)
    tensors, model = exporter.weights(unit, path)
    mask = unit.ticket_mask()
    tensors, tied = untie(tensors, prefer=mask.names())
    note = exporter.weights_note(unit, path)
    config = {"domain": exporter.name, "model": model, "tied": tied, "run": unit.run_config, "unit": unit.summary()}
    config["weights"] = {"which": weights, "file": str(path.resolve()), "note": note}
    layouts = ticket_file.write(out, tensors, mask, config)
    return Exported(Path(out), layouts, Path(out).stat().st_size, path.stat().st_size, note, weights)


def read(path: str | os.PathLike) -> ticket_file.SparseTicket:
    """The ticket in ``path``, tied names restored (aliases of one tensor)."""
    ticket = ticket_file.read(path)
    for alias, name in ticket.config.get("tied", {}).items():
        if name not in ticket.tensors:
            raise ValueError(f"{path} is not a valid sparse ticket file: {alias!r} is tied to missing {name!r}")
        ticket.tensors[alias] = ticket.tensors[name]
    return ticket


def load(path: str | os.PathLike, **options) -> nn.Module:
    """The inference model of an exported ticket, rebuilt by the domain that wrote it (options go to it)."""
    ticket = read(path)
    return registry.by_name(_domain(ticket, path)).load(ticket, **options)


def unpack(path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write an exported ticket's dense weights in its domain's format (a fairseq checkpoint, a safetensors
    state dict) at ``out``."""
    ticket = read(path)
    return registry.by_name(_domain(ticket, path)).unpack(ticket, Path(out))


def untie(tensors: Mapping[str, torch.Tensor], prefer=()) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Tensors stored once each, and alias -> stored name. A tied group is stored under its first name in
    ``prefer`` (the mask's names), else its first name."""
    preferred = set(prefer)
    tied, seen = {}, {}
    for name in sorted(tensors, key=lambda n: n not in preferred):  # stable: preferred names first
        tensor = tensors[name]
        key = (tensor.data_ptr(), tuple(tensor.shape), tuple(tensor.stride()), tensor.dtype)
        if tensor.numel() and key in seen:
            tied[name] = seen[key]
        else:
            seen[key] = name
    return {n: t for n, t in tensors.items() if n not in tied}, tied


def _domain(ticket: ticket_file.SparseTicket, path) -> str:
    if "domain" not in ticket.config:
        raise ValueError(f"{path} names no domain in its config: not written by lth-export")
    return ticket.config["domain"]
