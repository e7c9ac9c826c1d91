import math

import pytest
import torch

import shared_mask as sm
import shared_mask.selection.scan as scan_module
from tests.shared_mask.models import TiedLM, mlp


def reference_global(model, mask, k):
    """Stable sort of all surviving magnitudes in mask order; the first k are pruned."""
    params = dict(model.named_parameters())
    mags = torch.cat([params[n].detach().abs().reshape(-1).float() for n in mask.names()])
    alive = torch.cat([mask[n].reshape(-1) for n in mask.names()])
    mags[~alive] = float("inf")
    keep = alive.clone()
    keep[torch.sort(mags, stable=True).indices[:k]] = False
    return keep


def flat(mask):
    return torch.cat([mask[n].reshape(-1) for n in mask.names()])


def quantized_mlp(seed):
    """Weights on a coarse grid, so that many magnitudes tie at the threshold."""
    model = mlp(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.round(p * 8) / 8)
    return model


def crowded_mlp(seed):
    """Magnitudes in [1, 1.004) share their top 16 bits, with some exact duplicates: the selection
    inside one bucket (the low 16 bits) decides everything."""
    model = mlp(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_((1 + torch.rand_like(p) / 256) * torch.sign(torch.randn_like(p)))
            p.view(-1)[::5] = 1.001
    return model


@pytest.mark.parametrize("chunk", [7, 1 << 22])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weights", [quantized_mlp, crowded_mlp, mlp])
def test_prune_global_matches_stable_sort_reference_through_iterations(monkeypatch, chunk, seed, weights):
    monkeypatch.setattr(scan_module, "CHUNK", chunk)
    model = weights(seed)
    mask = sm.Mask.dense(model)
    for _ in range(4):
        alive = mask.alive()
        new = sm.prune_global(model, mask, 0.2)
        assert torch.equal(flat(new), reference_global(model, mask, math.floor(0.2 * alive + 0.5)))
        assert not (flat(new) & ~flat(mask)).any()  # only survivors are pruned
        mask = new
    assert mask.density() == pytest.approx(0.8**4, abs=2 / mask.numel() * 4)


def test_prune_global_pools_tensors_so_layers_get_different_sparsity():
    model = mlp()
    with torch.no_grad():
        model[0].weight.copy_(model[0].weight.sign() * 10)  # first layer far larger: global pruning spares it
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.5)
    assert mask["0.weight"].all() and mask["2.weight"].float().mean() < 0.5


def test_prune_layerwise_prunes_the_same_fraction_in_every_tensor():
    model = quantized_mlp(0)
    mask = sm.prune_layerwise(model, sm.Mask.dense(model), 0.25)
    params = dict(model.named_parameters())
    for name in mask.names():
        numel = params[name].numel()
        assert int(mask[name].sum()) == numel - math.floor(0.25 * numel + 0.5)
        single = sm.Mask({name: torch.ones(params[name].shape, dtype=torch.bool)})
        assert torch.equal(
            flat(sm.Mask({name: mask[name]})), reference_global(model, single, numel - int(mask[name].sum()))
        )


def test_prune_to_density_is_one_shot_global_pruning():
    model = quantized_mlp(1)
    dense = sm.Mask.dense(model)
    mask = sm.prune_to_density(model, dense, 0.8**5)
    assert mask.alive() == math.floor(0.8**5 * dense.numel() + 0.5)
    assert torch.equal(flat(mask), reference_global(model, dense, dense.numel() - mask.alive()))
    with pytest.raises(ValueError, match="already sparser"):
        sm.prune_to_density(model, mask, 0.9)


def test_pruning_a_state_dict_equals_pruning_the_model():
    model = mlp()
    mask = sm.Mask.dense(model)
    assert sm.prune_global(model.state_dict(), mask, 0.3) == sm.prune_global(model, mask, 0.3)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights_prune_like_their_float32_values(dtype):
    model = mlp().to(dtype)
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.4)
    assert torch.equal(flat(mask), reference_global(model, sm.Mask.dense(model), math.floor(0.4 * mask.numel() + 0.5)))


def test_tied_parameters_are_pruned_once_and_stay_tied():
    model = TiedLM()
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.5)
    mask.apply_(model)
    assert model.output_projection.weight is model.embed_tokens.weight
    assert (model.output_projection.weight == 0).float().mean() == (~mask["embed_tokens.weight"]).float().mean()
    assert mask.numel() == sum(p.numel() for p in model.parameters())  # counted once


@pytest.mark.parametrize("rate", [0, 1, -0.1, 1.5, float("nan"), "0.2"])
def test_invalid_rate_is_a_clear_error(rate):
    model = mlp()
    with pytest.raises(ValueError, match="pruning rate must be in"):
        sm.prune_global(model, sm.Mask.dense(model), rate)
    with pytest.raises(ValueError, match="pruning rate must be in"):
        sm.prune_layerwise(model, sm.Mask.dense(model), rate)


def test_nan_weights_are_a_clear_error():
    model = mlp()
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="'2.weight' holds inf or NaN"):
        sm.prune_global(model, sm.Mask.dense(model), 0.2)


def test_mask_for_another_model_is_rejected_before_pruning():
    with pytest.raises(KeyError, match="another model"):
        sm.prune_global(TiedLM(), sm.Mask.dense(mlp()), 0.2)
