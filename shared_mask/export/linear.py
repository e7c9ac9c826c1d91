"""``nn.Linear`` on a sparse weight, and swapping a model's Linear layers for it where that is faster."""
from __future__ import annotations

import torch
from torch import nn

from .kernels import best_kernel, check_policy, is_sparse


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
    """Replace, in place, each ``nn.Linear`` of ``model`` whose weight multiplies a batch of ``batch`` rows faster
    as CSR by a :class:`SparseLinear`; return module name -> "csr" or "dense" (see :func:`kernels.best_kernel`).

    Only submodules are replaced: wrap a bare ``nn.Linear`` in :class:`SparseLinear` yourself.
    """
    check_policy(policy)
    chosen = {}
    for name, module in list(model.named_modules()):
        if not name or not isinstance(module, nn.Linear):
            continue
        weight = best_kernel(module.weight, batch, policy)
        chosen[name] = "csr" if is_sparse(weight) else "dense"
        if is_sparse(weight):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, SparseLinear(weight, module.bias))
    return chosen
