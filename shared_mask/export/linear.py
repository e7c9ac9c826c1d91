"""``nn.Linear`` on a sparse weight, and swapping a model's Linear layers for it where that is faster."""

from __future__ import annotations

import torch
from torch import nn

from .kernels import check_policy, is_sparse, probe_batch, sparse_is_faster, to_csr, worth_probing


class SparseLinear(nn.Module):
    """y = x W^T + b with W held in CSR: computed as (W x^T)^T, the only product torch's CSR kernels offer.

    The result is returned as a transposed view, so a following SparseLinear gets a contiguous x^T
    again without a copy (elementwise activations keep that memory layout).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        if not is_sparse(weight):
            raise ValueError("SparseLinear needs a CSR weight (see kernels.to_csr)")
        self.out_features, self.in_features = weight.shape
        self.register_buffer("weight", weight)
        self.register_buffer("bias", None if bias is None else bias.detach().reshape(-1, 1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, self.in_features).T
        y = torch.mm(self.weight, flat) if self.bias is None else torch.addmm(self.bias, self.weight, flat)
        return y.T.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        density = self.weight.values().numel() / (self.in_features * self.out_features)
        return f"in_features={self.in_features}, out_features={self.out_features}, density={density:.2%}"


@torch.no_grad()
def sparsify(model: nn.Module, batch: int, policy: str = "auto") -> dict[str, str]:
    """Replace, in place, each ``nn.Linear`` of ``model`` that runs faster as a :class:`SparseLinear` on ``batch``
    input rows; return module name -> "csr" or "dense". ``policy``: ``auto`` times both modules (Python
    overhead and input layout included: a small layer can lose what its kernel gains), ``sparse`` or
    ``dense`` force one. Only submodules are replaced: wrap a bare ``nn.Linear`` yourself.
    """
    check_policy(policy)
    chosen = {}
    for name, module in list(model.named_modules()):
        if not name or not isinstance(module, nn.Linear):
            continue
        sparse = None
        if policy == "sparse" or (policy == "auto" and worth_probing(module.weight)):
            sparse = SparseLinear(to_csr(module.weight), module.bias)
        if sparse is not None and policy == "auto":
            x = torch.randn(probe_batch(batch), module.in_features, dtype=module.weight.dtype)
            sparse = sparse if sparse_is_faster(lambda: sparse(x), lambda: module(x)) else None
        chosen[name] = "dense" if sparse is None else "csr"
        if sparse is not None:
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, sparse)
    return chosen
