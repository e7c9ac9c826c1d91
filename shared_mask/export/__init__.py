"""Sparse export: a ticket as a small file, and inference modules that run faster on sparse weights.

    import shared_mask.export as sx
    sx.export("RUN/seed_0/level_13/winning", "ticket.safetensors")   # per-tensor dense / bitmask / CSR
    model = sx.load("ticket.safetensors")                            # the domain's inference model
    sx.unpack("ticket.safetensors", "final.pt")                      # back to the domain's dense weights

Domains plug in through the ``lth_nlp_rl.exporters`` entry points (:mod:`.registry`).
"""

from .api import Exported, export, load, read, unpack, untie
from .kernels import POLICIES, best_kernel, to_csr
from .linear import SparseLinear, sparsify
from .lstm import SparseLSTM
from .registry import GROUP, Exporter
from .ticket_file import SparseTicket, check_masked
from .unit import FinishedUnit

__all__ = [
    "Exported",
    "export",
    "load",
    "read",
    "unpack",
    "untie",
    "POLICIES",
    "best_kernel",
    "to_csr",
    "SparseLinear",
    "sparsify",
    "SparseLSTM",
    "GROUP",
    "Exporter",
    "SparseTicket",
    "check_masked",
    "FinishedUnit",
]
