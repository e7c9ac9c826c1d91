"""safetensors files written byte-for-byte deterministically, with a checksum of their contents.

safetensors' own writer orders the header's metadata as a hash map does, so the same tensors can
give different bytes from run to run. This writer sorts everything (the file format is a JSON
header and the raw tensor bytes; see https://github.com/huggingface/safetensors), so the same
content always gives the same file and users can compare runs by hash. The metadata records a
SHA-256 of the tensors (names, dtypes, shapes and bytes) that :func:`verify` checks on load;
safetensors' own reader reads the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .files import atomic_write

CHECKSUM_KEY = "sha256"
_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def _raw(tensor: torch.Tensor) -> bytes:
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def checksum(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name]
        digest.update(json.dumps([name, _DTYPES[tensor.dtype], list(tensor.shape)]).encode())
        digest.update(_raw(tensor))
    return digest.hexdigest()


def save(tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` (and string ``metadata`` plus the checksum) to ``path`` atomically."""
    header: dict = {"__metadata__": {**(metadata or {}), CHECKSUM_KEY: checksum(tensors)}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        tensor = tensors[name]
        if tensor.dtype not in _DTYPES:
            raise ValueError(f"cannot store {name!r} of dtype {tensor.dtype}")
        raw = _raw(tensor)
        header[name] = {
            "dtype": _DTYPES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as safetensors writes it

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for raw in blobs:
                f.write(raw)

    atomic_write(path, write)


def verify(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None, path: str | os.PathLike) -> None:
    """Check the tensors read from ``path`` against its recorded checksum (files from before checksums
    carry none and pass)."""
    recorded = (metadata or {}).get(CHECKSUM_KEY)
    if recorded is not None and recorded != checksum(tensors):
        raise ValueError(f"{path} is corrupt: its contents do not match the checksum recorded when it was written")


def load(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of a safetensors file, checked against its checksum; a missing,
    truncated or corrupt file is a ValueError naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    try:
        with safe_open(str(path), "pt") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"{path} is not a readable safetensors file (truncated or corrupt?): {error}") from error
    verify(tensors, metadata, path)
    return tensors, metadata
