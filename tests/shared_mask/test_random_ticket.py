import pytest
import torch
from torch import nn

import shared_mask as sm
from tests.shared_mask.models import TiedLM, mlp


def test_random_mask_keeps_per_tensor_counts_at_new_positions():
    model = mlp()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.6)
    shuffled = sm.random_mask_like(mask, seed=3)
    assert shuffled.names() == mask.names()
    for name, keep in mask.items():
        assert int(shuffled[name].sum()) == int(keep.sum())
    assert shuffled.hamming(mask) > 0.2
    assert sm.random_mask_like(mask, seed=3) == shuffled and sm.random_mask_like(mask, seed=4) != shuffled


def test_reinit_is_fresh_deterministic_and_leaves_global_rng_alone():
    model = mlp()
    original = {n: p.detach().clone() for n, p in model.named_parameters()}
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    sm.reinit_(model, seed=7)
    assert torch.rand(1) == expected_next
    first = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert all(not torch.equal(first[n], original[n]) for n in first)
    sm.reinit_(model, seed=7)
    assert all(torch.equal(p, first[n]) for n, p in model.named_parameters())


def test_reinit_keeps_ties_and_uses_custom_init():
    model = TiedLM()
    sm.reinit_(model, seed=1)
    assert model.output_projection.weight is model.embed_tokens.weight
    sm.reinit_(model, seed=1, init_fn=lambda m: nn.init.constant_(m.hidden.weight, 0.5))
    assert (model.hidden.weight == 0.5).all()


def test_reinit_refuses_modules_it_cannot_reset():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.gain = nn.Parameter(torch.ones(3))

    with pytest.raises(ValueError, match="Scale has parameters but no reset_parameters"):
        sm.reinit_(nn.Sequential(nn.Linear(3, 3), Scale()), seed=0)
