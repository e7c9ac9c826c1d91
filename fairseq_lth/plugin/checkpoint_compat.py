"""Let torch >= 2.6 (``weights_only=True`` by default) load fairseq checkpoints.

fairseq pickles an ``argparse.Namespace`` (the legacy model arguments inside ``cfg``) and, with
``--eval-bleu`` and similar meters, numpy arrays and scalars. Importing the plugin allowlists
exactly those types for torch's weights-only unpickler, so fairseq's own loads (fairseq-train
resuming, fairseq-generate, fairseq-validate) and the plugin's work unchanged; anything else in a
checkpoint is still refused.

Under data parallelism fairseq-train loads a checkpoint on rank 0 and sends it to the other ranks
pickled (``fairseq.distributed.utils._broadcast_object_slow``), with its config as omegaconf objects
that the weights-only unpickler refuses: every rank but 0 would fail to resume. Those bytes come from
rank 0 of the same training, not from a file, so the plugin's version of that function unpickles them
in full; files are still read by the weights-only unpickler.
"""

from __future__ import annotations

import argparse
import io
import os
from typing import Any

import numpy as np
import torch
from fairseq.distributed import utils as distributed_utils

_core = getattr(np, "_core", None) or np.core  # numpy >= 2 renamed numpy.core to numpy._core


def _safe_globals() -> list:
    entries: list = [argparse.Namespace, np.ndarray, np.dtype]
    # Checkpoints written under numpy 1 name these numpy.core.*, under numpy 2 numpy._core.*.
    for fn in (_core.multiarray._reconstruct, _core.multiarray.scalar):
        entries += [(fn, f"{prefix}.multiarray.{fn.__name__}") for prefix in ("numpy.core", "numpy._core")]
    return entries


WEIGHTS_ONLY = hasattr(torch.serialization, "add_safe_globals")  # torch >= 2.4
if WEIGHTS_ONLY:
    torch.serialization.add_safe_globals(_safe_globals())


def load_checkpoint(path: str | os.PathLike, mmap: bool = False) -> dict:
    """A fairseq checkpoint as saved (no upgrading), on the CPU; ``mmap`` reads tensors lazily."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return torch.load(path, map_location="cpu", weights_only=WEIGHTS_ONLY, mmap=mmap)


def _broadcast_object_slow(obj: Any, src_rank: int, group: object, dist_device: torch.device) -> Any:
    """fairseq's function, receiving with ``weights_only=False`` (a peer rank's bytes, see above)."""
    if distributed_utils.get_rank(group) == src_rank:
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        data = torch.ByteTensor(buffer.getbuffer()).to(dist_device)
        distributed_utils.broadcast(torch.LongTensor([len(data)]).to(dist_device), src=src_rank, group=group)
        distributed_utils.broadcast(data, src=src_rank, group=group)
        return obj
    length = torch.LongTensor([0]).to(dist_device)
    distributed_utils.broadcast(length, src=src_rank, group=group)
    data = torch.ByteTensor(int(length.item())).to(dist_device)
    distributed_utils.broadcast(data, src=src_rank, group=group)
    return torch.load(io.BytesIO(data.cpu().numpy()), map_location="cpu", weights_only=False)


if WEIGHTS_ONLY:
    distributed_utils._broadcast_object_slow = _broadcast_object_slow
