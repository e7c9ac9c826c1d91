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

from shared_mask import tensor_file
from shared_mask.files import atomic_write

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


# torch's zip container is not checked on reading (a flipped byte changes a weight silently): the
# checkpoints the toolkit writes record a SHA-256 of their model's tensors, checked where they are read.
CHECKSUM_KEY = "lth_sha256"


def save_checked(state: dict, path: str | os.PathLike) -> None:
    """Write the checkpoint ``state`` atomically with the checksum of its model that :func:`load_checked` checks."""
    state = {**state, CHECKSUM_KEY: tensor_file.checksum(state["model"])}
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_checked(path: str | os.PathLike) -> dict:
    """:func:`load_checkpoint` whose failures are one ValueError naming ``path``: a truncated, damaged or
    refused file (the safe loader's refusal included), or a model that does not match its checksum."""
    try:
        state = load_checkpoint(path)
        model = state["model"]
    except FileNotFoundError:
        raise
    except Exception as error:  # torch.load raises many kinds on a damaged or unsafe file
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(
            f"{path} is not a loadable fairseq checkpoint (truncated, corrupt or unsafe): {first}"
        ) from error
    recorded = state.get(CHECKSUM_KEY)
    if recorded is not None and recorded != tensor_file.checksum(model):
        raise ValueError(f"{path} is corrupt: its weights do not match the checksum recorded when it was written")
    return state


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
