"""The binary mask over a model's prunable parameters, and its bit-packed file format."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from . import tensor_file
from .identity import check_mask_identity
from .scope import prunable

FORMAT = "shared_mask.bitpacked.v1"

ModelOrState = nn.Module | Mapping[str, torch.Tensor]


def parameters_of(model: ModelOrState) -> dict[str, torch.Tensor]:
    """Name -> tensor for a module (its parameters) or a state dict (as is)."""
    if isinstance(model, nn.Module):
        return dict(model.named_parameters())
    return dict(model)


class DensityRow(NamedTuple):
    name: str
    numel: int
    alive: int
    density: float


class DensityReport(list):
    """Per-tensor density rows; prints as a table with a total line."""

    def __str__(self) -> str:
        width = max([len(r.name) for r in self] + [5])
        lines = [f"{'parameter':<{width}}  {'numel':>12}  {'alive':>12}  density"]
        lines += [f"{r.name:<{width}}  {r.numel:>12,}  {r.alive:>12,}  {r.density:7.2%}" for r in self]
        numel, alive = sum(r.numel for r in self), sum(r.alive for r in self)
        lines.append(f"{'total':<{width}}  {numel:>12,}  {alive:>12,}  {alive / numel:7.2%}")
        return "\n".join(lines)


class Mask:
    """One bool tensor per prunable parameter (True = kept), in a fixed name order.

    Masks are ``torch.bool`` tensors (1 byte per entry) on the device they were made on: the weights'
    device for masks pruned from a model (:meth:`to` moves them with it), the CPU for masks read from
    a file. On disk they are bit-packed (1 bit per entry), the same file whatever the device. They
    never hold weights.
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor]):
        self._tensors: dict[str, torch.Tensor] = {}
        for name, t in tensors.items():
            if t.dtype != torch.bool:
                raise ValueError(f"mask for {name!r} must be a bool tensor, got {t.dtype}")
            self._tensors[name] = t.detach()
        if not self._tensors:
            raise ValueError("a mask must cover at least one parameter")

    def to(self, device: torch.device | str) -> Mask:
        """This mask on ``device`` (itself when it is there already)."""
        device = torch.device(device)
        if all(t.device == device for t in self._tensors.values()):
            return self
        return Mask({n: t.to(device) for n, t in self.items()})

    def to_model(self, model: ModelOrState) -> Mask:
        """This mask with each tensor on its parameter's device (checked against ``model``)."""
        params = self.check(model)
        if all(t.device == params[n].device for n, t in self.items()):
            return self
        return Mask({n: t.to(params[n].device) for n, t in self.items()})

    @classmethod
    def dense(cls, model: ModelOrState, names: list[str] | None = None) -> Mask:
        """All-ones mask over ``names`` (default: every parameter, ``prunable(model, "all")``)."""
        params = parameters_of(model)
        if names is None:
            names = prunable(model) if isinstance(model, nn.Module) else list(params)
        missing = [n for n in names if n not in params]
        if missing:
            raise KeyError(f"parameters not in the model: {', '.join(missing)}")
        return cls({n: torch.ones(params[n].shape, dtype=torch.bool, device=params[n].device) for n in names})

    # -- access ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._tensors)

    def items(self) -> Iterator[tuple[str, torch.Tensor]]:
        return iter(self._tensors.items())

    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self._tensors[name]
        except KeyError:
            raise KeyError(f"the mask has no parameter {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._tensors

    def __len__(self) -> int:
        return len(self._tensors)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Mask)
            and self.names() == other.names()
            and all(t.shape == other[n].shape and torch.equal(t, other[n].to(t.device)) for n, t in self.items())
        )

    # -- statistics -----------------------------------------------------------------------------
    def numel(self) -> int:
        return sum(t.numel() for t in self._tensors.values())

    def alive(self) -> int:
        return sum(int(torch.count_nonzero(t)) for t in self._tensors.values())

    def density(self) -> float:
        return self.alive() / self.numel()

    def report(self) -> DensityReport:
        rows = DensityReport()
        for name, t in self.items():
            alive = int(torch.count_nonzero(t))
            rows.append(DensityRow(name, t.numel(), alive, alive / t.numel()))
        return rows

    def hamming(self, other: Mask) -> float:
        """Fraction of positions where the two masks differ (the early-bird distance)."""
        self._check_same_layout(other)
        differ = sum(int(torch.count_nonzero(t ^ other[n].to(t.device))) for n, t in self.items())
        return differ / self.numel()

    # -- use with a model -----------------------------------------------------------------------
    def check(self, model: ModelOrState) -> dict[str, torch.Tensor]:
        """Raise a clear error unless every masked name exists in ``model`` with the same shape."""
        params = parameters_of(model)
        missing = [n for n in self._tensors if n not in params]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise KeyError(f"mask parameters not found in the model (a mask for another model?): {shown}")
        for name, t in self.items():
            if tuple(params[name].shape) != tuple(t.shape):
                raise ValueError(
                    f"mask for {name!r} has shape {tuple(t.shape)} but the model's parameter has shape "
                    f"{tuple(params[name].shape)} (a mask for another model?)"
                )
        return params

    @torch.no_grad()
    def apply_(self, model: ModelOrState) -> ModelOrState:
        """Zero the pruned entries of ``model`` in place."""
        params = self.check(model)
        for name, keep in self.items():
            p = params[name]
            p.masked_fill_(~keep.to(p.device), 0)
        return model

    # -- files ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, identity: dict[str, str] | None = None) -> None:
        """Write the mask bit-packed in a safetensors container, atomically, byte-deterministically,
        with a checksum that :meth:`load` verifies and ``identity`` (the run, seed and level it belongs
        to, :func:`shared_mask.identity.mask_identity`) that :meth:`load` checks when asked."""
        packed = {n: torch.from_numpy(np.packbits(t.cpu().numpy().reshape(-1))) for n, t in self.items()}
        metadata = {
            "format": FORMAT,
            "names": json.dumps(self.names()),
            "shapes": json.dumps({n: list(t.shape) for n, t in self.items()}),
            **(identity or {}),
        }
        tensor_file.save(packed, path, metadata)

    @classmethod
    def load(
        cls, path: str | os.PathLike, model: ModelOrState | None = None, identity: dict[str, str] | None = None
    ) -> Mask:
        """Read a mask file (its checksum verified) onto the CPU; with ``model``, check its names and
        shapes against the model and put each tensor on its parameter's device; with ``identity``, refuse
        a file that records another run, seed or level."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"mask file not found: {path}")
        try:
            packed, metadata = tensor_file.load(path)
            if metadata.get("format") != FORMAT:
                raise ValueError("not a shared_mask mask file")
            names, shapes = json.loads(metadata["names"]), json.loads(metadata["shapes"])
            tensors = {}
            for name in names:
                numel = int(np.prod(shapes[name], dtype=np.int64))
                if packed[name].numel() != (numel + 7) // 8:
                    raise ValueError(f"{name!r} holds {packed[name].numel()} bytes, expected {(numel + 7) // 8}")
                bits = np.unpackbits(packed[name].numpy(), count=numel)
                tensors[name] = torch.from_numpy(bits.view(np.bool_)).reshape(shapes[name])
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path} is not a valid mask file (corrupt or another format): {e}") from e
        check_mask_identity(metadata, identity, path)
        mask = cls(tensors)
        return mask if model is None else mask.to_model(model)

    def _check_same_layout(self, other: Mask) -> None:
        if self.names() != other.names():
            raise ValueError("the two masks cover different parameters")
        for name, t in self.items():
            if t.shape != other[name].shape:
                raise ValueError(
                    f"the masks disagree on the shape of {name!r}: {tuple(t.shape)} vs {tuple(other[name].shape)}"
                )
