"""Whether a weight matrix runs faster as a CSR sparse matrix than dense, decided per tensor.

The answer depends on the matrix's shape, its density and the batch it multiplies, not on density
alone: on one core of the development machine torch's CSR matmul (MKL) beat dense 12x for a
33278x650 output layer at 1.2% density and one token, but a 2x128 policy head is 1.4x slower as
CSR at any density, and a 33278x650 layer at 20% density ranges from 0.8x to 2x with the batch.
So the ``auto`` policy times both kernels on the real matrix with a batch of the size the caller
expects, under the current thread count, and keeps the faster; matrices denser than
``PROBE_MAX_DENSITY`` stay dense without a probe (CSR never won there).
"""
from __future__ import annotations

import time
import warnings

import torch

POLICIES = ("auto", "sparse", "dense")
PROBE_MAX_DENSITY = 0.3
PROBE_MAX_COLUMNS = 256  # the probe's batch is capped: a big output layer times in milliseconds, not seconds
PROBE_REPEATS = 5


def to_csr(matrix: torch.Tensor) -> torch.Tensor:
    """``matrix`` as CSR with int32 indices (MKL's kernels run 1.1-1.6x faster than with int64)."""
    with warnings.catch_warnings():  # "sparse CSR tensor support is in beta state", once per process
        warnings.simplefilter("ignore", UserWarning)
        csr = matrix.detach().to_sparse_csr()
    return torch.sparse_csr_tensor(csr.crow_indices().int(), csr.col_indices().int(), csr.values(), csr.shape,
                                   check_invariants=False)  # they hold: torch built them


def best_kernel(matrix: torch.Tensor, batch: int, policy: str = "auto") -> torch.Tensor:
    """``matrix`` dense or as CSR, whichever multiplies a (columns, ``batch``) operand faster under ``policy``."""
    check_policy(policy)
    matrix = matrix.detach()
    if policy == "dense":
        return matrix
    csr = to_csr(matrix)
    if policy == "sparse":
        return csr
    if csr.values().numel() > PROBE_MAX_DENSITY * matrix.numel():
        return matrix
    operand = torch.randn(matrix.shape[1], max(1, min(batch, PROBE_MAX_COLUMNS)), dtype=matrix.dtype)
    return csr if _seconds(csr, operand) < _seconds(matrix, operand) else matrix


def check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown kernel policy {policy!r}; choose one of {', '.join(POLICIES)}")


def _seconds(matrix: torch.Tensor, operand: torch.Tensor) -> float:
    """Fastest of a few timed products (after one warm-up): the least disturbed by other load."""
    torch.mm(matrix, operand)
    best = float("inf")
    for _ in range(PROBE_REPEATS):
        start = time.perf_counter()
        torch.mm(matrix, operand)
        best = min(best, time.perf_counter() - start)
    return best


def is_sparse(matrix: torch.Tensor) -> bool:
    return matrix.layout == torch.sparse_csr
