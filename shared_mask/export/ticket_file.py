"""The sparse ticket file: a safetensors container of per-tensor layouts, the mask and a config.

    <name>/values, <name>/bits | <name>/crow, <name>/col     the arrays of each tensor's layout
    metadata: format, tensors ({name: {layout, shape, dtype}}), masked (names, mask order), config (JSON)

The config says which domain wrote the file and what it needs to rebuild its model (see
:mod:`shared_mask.export.registry`). Writes are atomic; a file that does not decode exactly to its
declared shapes is refused as corrupt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .. import tensor_file
from ..mask import Mask
from . import layouts

FORMAT = "shared_mask.sparse_ticket.v1"


@dataclass
class SparseTicket:
    """A ticket read back: dense tensors (pruned entries zero), its mask, its config and the layouts used."""

    tensors: dict[str, torch.Tensor]
    mask: Mask | None
    config: dict
    layouts: dict[str, str]


def write(
    path: str | os.PathLike, tensors: Mapping[str, torch.Tensor], mask: Mask | None, config: dict
) -> dict[str, str]:
    """Write ``tensors`` (every pruned entry of ``mask`` must be zero) and ``config``; return name -> layout."""
    path = Path(path)
    check_masked(tensors, mask, str(path))
    try:
        config_text = json.dumps(config)
    except TypeError as e:
        raise ValueError(f"the config of {path} is not JSON-serializable: {e}") from None
    arrays, declared = {}, {}
    for name, tensor in tensors.items():
        keep = mask[name] if mask is not None and name in mask else None
        layout = layouts.choose(tensor, keep)
        for part, array in layouts.encode(layout, tensor, keep).items():
            arrays[f"{name}/{part}"] = array
        declared[name] = {
            "layout": layout,
            "shape": list(tensor.shape),
            "dtype": str(tensor.dtype).removeprefix("torch."),
        }
    metadata = {
        "format": FORMAT,
        "tensors": json.dumps(declared),
        "config": config_text,
        "masked": json.dumps(mask.names() if mask is not None else []),
    }
    tensor_file.save(arrays, path, metadata)  # byte-deterministic, with a checksum checked by read()
    return {name: d["layout"] for name, d in declared.items()}


def check_masked(tensors: Mapping[str, torch.Tensor], mask: Mask | None, where: str) -> None:
    """ValueError unless ``mask`` covers tensors of ``tensors`` with their shapes and zeros at its pruned entries."""
    if mask is None:
        return
    missing = [n for n in mask.names() if n not in tensors]
    if missing:
        raise ValueError(
            f"{where}: the mask names parameters the model does not have ({', '.join(missing[:5])}): "
            "a mask for another model"
        )
    for name, keep in mask.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != tuple(keep.shape):
            raise ValueError(
                f"{where}: the mask of {name!r} has shape {list(keep.shape)}, the weight "
                f"{list(tensor.shape)}: a mask for another model"
            )
        stray = int(torch.count_nonzero(tensor.detach().cpu()[~keep]))
        if stray:
            raise ValueError(
                f"{where}: {name!r} has {stray} nonzero weights where the mask prunes: the mask is not this model's"
            )


def read(path: str | os.PathLike) -> SparseTicket:
    """Read a sparse ticket file; ValueError naming ``path`` if it is missing, corrupt or another format."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such sparse ticket file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            if metadata.get("format") != FORMAT:
                raise ValueError("not a sparse ticket file")
            declared, masked = json.loads(metadata["tensors"]), json.loads(metadata["masked"])
            config = json.loads(metadata["config"])
            stored = {key: f.get_tensor(key) for key in f.keys()}
        tensor_file.verify(stored, metadata, path)
        parts = {name: {} for name in declared}
        for key, array in stored.items():
            name, part = key.rsplit("/", 1)
            parts[name][part] = array
        tensors, keeps = {}, {}
        for name, d in declared.items():
            tensor, keep = layouts.decode(d["layout"], parts[name], tuple(d["shape"]))
            if str(tensor.dtype).removeprefix("torch.") != d["dtype"]:
                raise ValueError(f"{name!r} is stored as {tensor.dtype}, declared {d['dtype']}")
            tensors[name], keeps[name] = tensor, keep
        mask = Mask({n: keeps[n] for n in masked}) if masked else None
    except (ValueError, KeyError, TypeError, OSError, SafetensorError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a valid sparse ticket file (corrupt or another format): {e}") from e
    return SparseTicket(tensors, mask, config, {n: d["layout"] for n, d in declared.items()})
