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
from collections.abc import Callable

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
    return torch.sparse_csr_tensor(
        csr.crow_indices().int(), csr.col_indices().int(), csr.values(), csr.shape, check_invariants=False
    )  # they hold: torch built them


def best_kernel(matrix: torch.Tensor, batch: int, policy: str = "auto") -> torch.Tensor:
    """``matrix`` dense or as CSR, whichever multiplies a (columns, ``batch``) operand faster under ``policy``."""
    check_policy(policy)
    matrix = matrix.detach()
    if policy == "dense" or (policy == "auto" and not worth_probing(matrix)):
        return matrix
    csr = to_csr(matrix)
    if policy == "sparse":
        return csr
    operand = torch.randn(matrix.shape[1], probe_batch(batch), dtype=matrix.dtype)
    return csr if sparse_is_faster(lambda: torch.mm(csr, operand), lambda: torch.mm(matrix, operand)) else matrix


def check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown kernel policy {policy!r}; choose one of {', '.join(POLICIES)}")


def worth_probing(matrix: torch.Tensor) -> bool:
    """Sparse enough that CSR may win (denser matrices stay dense without a probe)."""
    return int(torch.count_nonzero(matrix)) <= PROBE_MAX_DENSITY * matrix.numel()


def probe_batch(batch: int) -> int:
    return max(1, min(batch, PROBE_MAX_COLUMNS))


def sparse_is_faster(sparse: Callable[[], object], dense: Callable[[], object]) -> bool:
    """Whether ``sparse()`` runs faster than ``dense()``: the fastest of a few timed calls each, after a
    warm-up, alternating (the fastest is the least disturbed by other load)."""
    best = {sparse: float("inf"), dense: float("inf")}
    for run in best:
        run()
    for _ in range(PROBE_REPEATS):
        for run in best:
            start = time.perf_counter()
            run()
            best[run] = min(best[run], time.perf_counter() - start)
    return best[sparse] < best[dense]


def is_sparse(matrix: torch.Tensor) -> bool:
    return matrix.layout == torch.sparse_csr
