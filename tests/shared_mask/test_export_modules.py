"""Sparse inference modules compute what the dense masked modules compute."""

import pytest
import torch
from torch import nn

from shared_mask.export import SparseLinear, SparseLSTM, best_kernel, sparsify, to_csr


def prune_(module: nn.Module, density: float, seed: int = 0) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(torch.rand(p.shape, generator=generator) < density)
    return module


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 10), (2, 3, 10), (10,)])
def test_sparse_linear_matches_linear(bias, shape):
    linear = prune_(nn.Linear(10, 7, bias=bias), 0.3)
    x = torch.randn(shape)
    out = SparseLinear(to_csr(linear.weight), linear.bias)(x)
    assert out.shape == linear(x).shape
    torch.testing.assert_close(out, linear(x))


def test_sparse_linear_refuses_a_dense_weight():
    with pytest.raises(ValueError, match="needs a CSR weight"):
        SparseLinear(torch.randn(3, 4), None)


def test_sparsify_swaps_linear_layers_by_policy_and_keeps_outputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
    model = prune_(model, 0.2).eval()
    x = torch.randn(9, 6)
    expected = model(x)
    assert sparsify(model, 9, "dense") == {"0": "dense", "2": "dense", "4": "dense"}
    assert not any(isinstance(m, SparseLinear) for m in model.modules())
    assert sparsify(model, 9, "sparse") == {"0": "csr", "2": "csr", "4": "csr"}
    assert all(isinstance(model[i], SparseLinear) for i in (0, 2, 4))
    torch.testing.assert_close(model(x), expected)
    with pytest.raises(ValueError, match="unknown kernel policy 'fast'"):
        sparsify(model, 9, "fast")


def test_auto_policy_keeps_dense_matrices_dense_and_very_sparse_big_ones_sparse():
    dense = torch.randn(256, 256)
    assert best_kernel(dense, 64, "auto").layout == torch.strided  # above the probe's density: never sparse
    very_sparse = prune_(nn.Linear(650, 2600), 0.01).weight  # CSR is 10-20x faster here
    assert best_kernel(very_sparse, 64, "auto").layout == torch.sparse_csr


@pytest.mark.parametrize("policy", ["sparse", "dense", "auto"])
def test_sparse_lstm_matches_nn_lstm_with_and_without_state(policy):
    torch.manual_seed(0)
    lstm = prune_(nn.LSTM(10, 12, num_layers=2, batch_first=True), 0.3).eval()
    sparse = SparseLSTM.from_weights(lstm.state_dict(), layers=2, batch=3, policy=policy)
    x = torch.randn(3, 7, 10)
    state = (torch.randn(2, 3, 12), torch.randn(2, 3, 12))
    with torch.no_grad():
        for args in ((x,), (x, state)):
            (out, (h, c)), (ref, (ref_h, ref_c)) = sparse(*args), lstm(*args)
            torch.testing.assert_close(out, ref)
            torch.testing.assert_close(h, ref_h)
            torch.testing.assert_close(c, ref_c)


def test_sparse_lstm_refuses_what_it_does_not_compute():
    lstm = nn.LSTM(4, 5, bidirectional=True)
    with pytest.raises(ValueError, match="unidirectional LSTMs without projections"):
        SparseLSTM.from_weights(lstm.state_dict(), layers=1, batch=1)
