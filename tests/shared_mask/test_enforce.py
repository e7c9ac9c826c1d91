import pytest
import torch

import shared_mask as sm
from tests.shared_mask.models import TiedLM, mlp

OPTIMIZERS = {
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda ps: torch.optim.Adam(ps, lr=1e-2, eps=1e-3),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=1e-3, alpha=0.99, eps=1e-8, momentum=0.5),
}


def train_steps(model, optimizer, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = torch.randn(16, 10, generator=g), torch.randint(0, 3, (16,), generator=g)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def assert_pruned_are_zero(model, mask):
    params = dict(model.named_parameters())
    for name, keep in mask.items():
        assert (params[name][~keep] == 0.0).all(), name


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_pruned_entries_stay_exactly_zero_and_so_do_their_moments(make_optimizer):
    model = mlp()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.7)
    optimizer = make_optimizer(model.parameters())
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    sm.enforce(model, mask, optimizer)
    train_steps(model, optimizer, 30)
    assert_pruned_are_zero(model, mask)
    params = dict(model.named_parameters())
    for name, keep in mask.items():
        assert not keep.any() or not torch.equal(params[name][keep], before[name][keep])  # survivors train
        for buffer in optimizer.state[params[name]].values():
            if buffer.shape == keep.shape:
                assert (buffer[~keep] == 0).all()


def test_loaded_optimizer_state_is_cleaned_at_pruned_entries():
    model = mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train_steps(model, optimizer, 3)  # dense moments everywhere
    saved = optimizer.state_dict()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.5)
    sm.enforce(model, mask, optimizer)
    train_steps(model, optimizer, 1)
    optimizer.load_state_dict(saved)  # e.g. resuming from a rewind checkpoint
    train_steps(model, optimizer, 2)
    assert_pruned_are_zero(model, mask)
    for name, p in model.named_parameters():
        assert (optimizer.state[p]["exp_avg"][~mask[name]] == 0).all()


def test_grads_are_masked_before_the_step_whoever_set_them():
    model = mlp()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    guard = sm.enforce(model, mask, optimizer)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    guard.mask_grads_()
    for name, p in model.named_parameters():
        assert (p.grad[~mask[name]] == 0).all() and (p.grad[mask[name]] == 1).all()


def test_without_optimizer_gradients_are_masked_as_they_accumulate():
    model = mlp()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.5)
    sm.enforce(model, mask)
    model(torch.randn(4, 10)).sum().backward()
    for name, p in model.named_parameters():
        assert (p.grad[~mask[name]] == 0).all()


def test_remove_stops_enforcing():
    model = mlp()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    sm.enforce(model, mask, optimizer).remove()
    train_steps(model, optimizer, 1)
    assert (model[0].weight[~mask["0.weight"]] != 0).any()


def test_tied_weights_stay_tied_and_sparse_through_training():
    model = TiedLM()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.6)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    sm.enforce(model, mask, optimizer)
    for _ in range(10):
        optimizer.zero_grad()
        model(torch.randint(0, 40, (8,))).logsumexp(-1).sum().backward()
        optimizer.step()
    assert model.output_projection.weight is model.embed_tokens.weight
    assert_pruned_are_zero(model, mask)
