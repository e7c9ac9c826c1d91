"""Let torch >= 2.6 (``weights_only=True`` by default) load fairseq checkpoints.

fairseq pickles an ``argparse.Namespace`` (the legacy model arguments inside ``cfg``) and, with
``--eval-bleu`` and similar meters, numpy arrays and scalars. Importing the plugin allowlists
exactly those types for torch's weights-only unpickler, so fairseq's own loads (fairseq-train
resuming, fairseq-generate, fairseq-validate) and the plugin's work unchanged; anything else in a
checkpoint is still refused.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import torch

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
