"""The mask criteria of Zhou et al. 2019: each mask equals a stable sort of the criterion computed
directly from W_0 and W_T (with many ties), for the iterative and the one-shot schedule."""

import pytest
import torch

import shared_mask as sm
from tests.shared_mask.models import mlp
from tests.shared_mask.reference_selection import remove_lowest

CRITERIA = {
    "large_final": lambda wi, wf: wf.abs(),
    "small_final": lambda wi, wf: -wf.abs(),
    "large_init": lambda wi, wf: wi.abs(),
    "large_init_large_final": lambda wi, wf: wi.abs() * wf.abs(),
    "magnitude_increase": lambda wi, wf: wf.abs() - wi.abs(),
    "movement": lambda wi, wf: (wf - wi).abs(),
}


def tied(state, seed):
    """Weights on a coarse grid (many ties, equal magnitudes of opposite signs)."""
    g = torch.Generator().manual_seed(seed)
    return {n: (torch.randn(t.shape, generator=g) * 3).round() / 4 for n, t in state.items()}


@pytest.fixture(scope="module")
def weights():
    model = mlp(0, sizes=(6, 8, 5))
    initial, final = tied(model.state_dict(), 1), tied(model.state_dict(), 2)
    dense = sm.Mask.dense(model, sm.prunable(model, "all"))
    level1 = remove_lowest(
        {n: torch.rand(t.shape, generator=torch.Generator().manual_seed(3)) for n, t in initial.items()}, dense, 20
    )
    return initial, final, dense, level1


@pytest.mark.parametrize("name", CRITERIA)
def test_each_criterion_keeps_the_largest_scores_of_w0_and_wt_ties_included(name, weights):
    initial, final, dense, level1 = weights
    strategy = sm.PRUNING[name]
    context = sm.PruningContext(initial=initial)
    final_pruned = {n: t * level1[n] for n, t in final.items()}  # trained under the previous mask
    scores = {n: CRITERIA[name](initial[n], final_pruned[n]) for n in level1.names()}
    iterative = strategy.prune(final_pruned, level1, 0.3, context)
    assert iterative == remove_lowest(scores, level1, round(0.3 * level1.alive()))
    scores = {n: CRITERIA[name](initial[n], final[n]) for n in dense.names()}
    oneshot = strategy.prune_to_density(final, dense, 0.4, context)
    assert oneshot == remove_lowest(scores, dense, dense.numel() - round(0.4 * dense.numel()))
    assert oneshot.alive() == round(0.4 * dense.numel())


def test_large_final_is_global_magnitude(weights):
    _, final, dense, _ = weights
    assert sm.PRUNING["large_final"].prune(final, dense, 0.5) == sm.prune_global(final, dense, 0.5)


def test_a_criterion_without_the_initial_weights_is_a_clear_error(weights):
    _, final, dense, _ = weights
    with pytest.raises(ValueError, match="initial weights"):
        sm.PRUNING["movement"].prune(final, dense, 0.5)
