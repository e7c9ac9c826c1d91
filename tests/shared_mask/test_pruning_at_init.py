"""Pruning at initialization: SNIP and GraSP scores against a direct autograd computation on the same
batches (an actor-critic MLP, a tiny Transformer, a tiny LSTM), SynFlow's conservation law and exact
count, magnitude at init, random pruning, and the clear errors."""

import pytest
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel

import shared_mask as sm
from shared_mask.strategies.synflow import _positive_copy, synflow_scores
from tests.shared_mask.reference_selection import remove_lowest


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh())
        self.policy, self.value = nn.Linear(16, 2), nn.Linear(16, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.policy(h), self.value(h).squeeze(-1)

    def loss(self, x):
        logits, value = self(x)
        return -(torch.log_softmax(logits, -1)[:, 0] * (1 - value.detach())).mean() + (value - 1).pow(2).mean()


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 16)
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
        self.out = nn.Linear(16, 11)

    def forward(self, tokens):
        return self.out(self.layer(self.embed(tokens)))

    def loss(self, tokens):
        return nn.functional.cross_entropy(self(tokens[:, :-1]).flatten(0, 1), tokens[:, 1:].flatten())


class TinyLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.lstm, self.out = nn.Embedding(11, 8), nn.LSTM(8, 12, batch_first=True), nn.Linear(12, 11)

    def forward(self, tokens):
        return self.out(self.lstm(self.embed(tokens))[0])

    loss = TinyTransformer.loss


def batches(model):
    g = torch.Generator().manual_seed(5)
    if isinstance(model, ActorCritic):
        return [torch.randn(8, 4, generator=g) for _ in range(3)]
    return [torch.randint(11, (4, 6), generator=g) for _ in range(3)]


def context(model, count=None):
    data = batches(model)
    return sm.PruningContext(batch_losses=lambda m, n: (m.loss(x) for x in data[:n]), batches=count)


@pytest.fixture(params=[ActorCritic, TinyTransformer, TinyLSTM], scope="module")
def model(request):
    torch.manual_seed(0)
    return request.param()


def reference_scores(model, name, count):
    """SNIP |g * w| and GraSP's w * (H g) (the score pruned lowest) by torch.func, on the same batches."""
    data = batches(model)[:count]
    params = {n: p.detach() for n, p in model.named_parameters()}

    def f(p):
        return torch.stack([type(model).loss(_Bound(model, p), x) for x in data]).mean()

    g = torch.func.grad(f)(params)
    if name == "snip":
        return {n: (g[n] * params[n]).abs() for n in params}
    hg = torch.func.vjp(torch.func.grad(f), params)[1](g)[0]  # H is symmetric: g^T H = (H g)^T
    return {n: params[n] * hg[n] for n in params}


class _Bound:
    """``model`` called with the parameters ``params`` (torch.func.functional_call)."""

    def __init__(self, model, params):
        self.model, self.params = model, params

    def __call__(self, x):
        return functional_call(self.model, self.params, (x,))


@pytest.mark.parametrize("name", ["snip", "grasp"])
@pytest.mark.parametrize("count", [1, 2])
def test_snip_and_grasp_scores_equal_autograd_on_the_same_batches(model, name, count):
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    strategy = sm.PRUNING[name]
    scores = strategy.scores(model, mask.check(model), mask, context(model, count))
    with sdpa_kernel(SDPBackend.MATH):  # the fused kernels have no double backward
        expected = reference_scores(model, name, count)
    for n in mask.names():
        torch.testing.assert_close(scores[n], expected[n], rtol=1e-4, atol=1e-7, msg=n)
    pruned = strategy.prune_to_density(model, mask, 0.3, context(model, count))
    assert pruned == remove_lowest(scores, mask, mask.numel() - round(0.3 * mask.numel()))


def bias_free_mlp():
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Linear(5, 12, bias=False), nn.ReLU(), nn.Linear(12, 9, bias=False), nn.ReLU(), nn.Linear(9, 3, bias=False)
    )


def ones_context(inputs=5):
    return sm.PruningContext(ones_output=lambda m: m(torch.ones(1, inputs, dtype=next(m.parameters()).dtype)))


def test_synflow_scores_obey_the_conservation_law_in_float64():
    model = bias_free_mlp()
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    scores = synflow_scores(_positive_copy(model), mask, ones_context())
    sums = torch.stack([scores[n].sum() for n in mask.names()])
    assert scores[mask.names()[0]].dtype == torch.float64
    torch.testing.assert_close(sums, sums[:1].expand(3), rtol=1e-12, atol=0)
    # R through |w| and an all-ones input: every layer's scores add up to R itself
    positive = _positive_copy(model)
    torch.testing.assert_close(sums[0], positive(torch.ones(1, 5, dtype=torch.float64)).sum().detach())


def test_synflow_ends_at_exactly_the_target_count_and_leaves_the_model_unchanged():
    model = bias_free_mlp()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    pruned = sm.PRUNING["synflow"].prune_to_density(model, mask, 0.05, ones_context())
    assert pruned.alive() == round(0.05 * mask.numel())
    assert all(p.dtype == torch.float32 and torch.equal(p, before[n]) for n, p in model.named_parameters())


def test_synflow_treats_embeddings_and_layer_norms_as_positive_linear_maps():
    model = nn.Sequential(nn.Embedding(7, 4), nn.LayerNorm(4), nn.Linear(4, 3))
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    context = sm.PruningContext(ones_output=lambda m: m(torch.zeros(1, 2, dtype=torch.long)))
    scores = synflow_scores(_positive_copy(model), mask, context)
    # every embedding row and the norm's gains carry flow (the norm's zero biases score zero: |0| * dR/db)
    assert all(bool((scores[n] > 0).all()) for n in ("0.weight", "1.weight", "2.weight", "2.bias"))


def test_magnitude_init_is_global_magnitude_of_the_starting_weights():
    model = TinyTransformer()
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    assert sm.PRUNING["magnitude_init"].prune_to_density(model, mask, 0.2) == sm.prune_to_density(model, mask, 0.2)


def test_random_has_the_exact_count_and_is_reproducible_from_its_seed():
    model = TinyTransformer()
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    strategy = sm.PRUNING["random"]
    first = strategy.prune_to_density(model, mask, 0.3, sm.PruningContext(seed=0, level=2))
    assert first.alive() == round(0.3 * mask.numel())
    assert first == strategy.prune_to_density(model, mask, 0.3, sm.PruningContext(seed=0, level=2))
    assert first != strategy.prune_to_density(model, mask, 0.3, sm.PruningContext(seed=1, level=2))


@pytest.mark.parametrize("name", ["snip", "grasp"])
def test_a_data_dependent_strategy_without_batches_or_a_hook_is_a_clear_error(name):
    model = ActorCritic()
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    with pytest.raises(ValueError, match="at least one, not 0"):
        sm.PRUNING[name].prune_to_density(model, mask, 0.5, context(model, 0))
    with pytest.raises(ValueError, match="no batch_losses hook"):
        sm.PRUNING[name].prune_to_density(model, mask, 0.5, sm.PruningContext())
    with pytest.raises(ValueError, match="pruning batches must be at least 1"):
        sm.LotteryConfig(pruning=name, pruning_batches=0)


def test_an_unknown_strategy_lists_the_registered_ones():
    with pytest.raises(ValueError, match="snip.*synflow|synflow.*snip"):
        sm.LotteryConfig(pruning="snipp")
