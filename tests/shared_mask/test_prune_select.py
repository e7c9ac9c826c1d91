"""select_lowest against a stable sort of all surviving scores, on the device-agnostic path."""

import math

import pytest
import torch

import shared_mask as sm
import shared_mask.selection.bracket as bracket_module
import shared_mask.selection.scan as scan_module
from tests.shared_mask.models import TiedLM, mlp

SHAPES = {"a": (7, 5), "b": (40,), "c": (3, 4, 6)}


def reference(scores, mask, k):
    """Flat keep-mask (mask order) without the k lowest surviving scores, by a stable sort."""
    values = torch.cat([scores[n].detach().reshape(-1).double().cpu() for n in mask.names()])
    alive = torch.cat([mask[n].reshape(-1) for n in mask.names()])
    values[~alive] = math.inf
    keep = alive.clone()
    keep[torch.sort(values, stable=True).indices[:k]] = False
    return keep


def flat(mask):
    return torch.cat([mask[n].reshape(-1) for n in mask.names()])


def random_case(seed, dtype=torch.float32, grid=None):
    """Signed scores (on a coarse grid when ``grid``, so that many tie, -0.0 and 0.0 included) and a
    mask that has already lost about a third of its entries."""
    g = torch.Generator().manual_seed(seed)
    scores = {n: torch.randn(s, generator=g) for n, s in SHAPES.items()}
    if grid:
        scores = {n: torch.round(v * grid) / grid for n, v in scores.items()}
        scores["b"][:6] = torch.tensor([0.0, -0.0, 0.0, -0.0, -0.0, 0.0])
    mask = sm.Mask({n: torch.rand(s, generator=g) > 0.3 for n, s in SHAPES.items()})
    return {n: v.to(dtype) for n, v in scores.items()}, mask


def wrong_bracket(kind):
    """A sample bracket that misses the threshold (below or above it) or holds every survivor."""
    brackets = {"below": (-1e9, -1e8), "above": (1e8, 1e9), "everything": (-math.inf, math.inf)}
    return lambda scan, k: brackets[kind]


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request):
    """torch's CPU threads: with two, the chunks of a tensor are spread over two worker threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


@pytest.mark.parametrize("grid", [None, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pooled_selection_matches_stable_sort_on_signed_scores(monkeypatch, threads, grid, seed):
    monkeypatch.setattr(scan_module, "CHUNK", 8)
    scores, mask = random_case(seed, grid=grid)
    for k in [1, 17, mask.alive() // 2, mask.alive() - 1, mask.alive()]:
        new = sm.select_lowest(scores, mask, k)
        assert new.names() == mask.names()
        assert torch.equal(flat(new), reference(scores, mask, k)), k


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_half_and_double_precision_scores_are_exact(dtype):
    scores, mask = random_case(3, dtype=dtype, grid=8 if dtype != torch.float64 else None)
    if dtype == torch.float64:  # differences below float32 resolution must still order the entries
        scores = {n: 1 + v * 1e-12 for n, v in scores.items()}
    k = mask.alive() // 3
    assert torch.equal(flat(sm.select_lowest(scores, mask, k)), reference(scores, mask, k))


def test_per_tensor_counts_select_inside_each_tensor():
    scores, mask = random_case(4, grid=4)
    counts = [3, 0, int(mask["c"].sum())]
    new = sm.select_lowest(scores, mask, counts)
    for name, k in zip(mask.names(), counts):
        single = sm.Mask({name: mask[name]})
        assert torch.equal(new[name].reshape(-1), reference({name: scores[name]}, single, k)), name


@pytest.mark.parametrize("kind", ["below", "above", "everything"])
@pytest.mark.parametrize("grid", [None, 1])
def test_fallbacks_when_the_sample_misleads_stay_exact(monkeypatch, threads, kind, grid):
    """A missed or over-full bracket (bracket cap 4) is narrowed by key histograms, down to a
    single tied value when ``grid`` makes hundreds of scores equal."""
    monkeypatch.setattr(bracket_module, "_sample_bracket", wrong_bracket(kind))
    monkeypatch.setattr(bracket_module, "_MIN_CAP", 4)
    monkeypatch.setattr(bracket_module, "_BINS", 4)
    monkeypatch.setattr(scan_module, "CHUNK", 7)
    scores, mask = random_case(5, grid=grid)
    for k in [1, mask.alive() // 3, mask.alive()]:
        assert torch.equal(flat(sm.select_lowest(scores, mask, k)), reference(scores, mask, k)), k


@pytest.mark.parametrize("chunk", [7, 1 << 19])
def test_magnitude_pruning_is_selection_of_absolute_values(monkeypatch, threads, chunk):
    monkeypatch.setattr(scan_module, "CHUNK", chunk)
    model = mlp(2)
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.3)
    scores = {n: p.detach().abs() for n, p in model.named_parameters()}
    k = round(0.25 * mask.alive())
    assert sm.select_lowest(scores, mask, k) == sm.prune_global(model, mask, 0.25)
    assert torch.equal(flat(sm.select_lowest(scores, mask, k)), reference(scores, mask, k))


def test_tied_parameters_are_one_entry_selected_once():
    model = TiedLM()
    mask = sm.Mask.dense(model)
    scores = {n: p.detach() for n, p in model.named_parameters()}  # the tied weight appears once
    k = mask.numel() // 2
    new = sm.select_lowest(scores, mask, k)
    assert new.numel() - new.alive() == k
    assert torch.equal(flat(new), reference(scores, mask, k))


def test_lazy_scores_are_read_one_tensor_at_a_time():
    scores, mask = random_case(6)
    reads = []

    class Lazy(dict):
        def __getitem__(self, name):
            reads.append(name)
            return super().__getitem__(name).clone()

    k = mask.alive() // 4
    assert torch.equal(flat(sm.select_lowest(Lazy(scores), mask, k)), reference(scores, mask, k))
    assert set(reads) == set(mask.names()) and len(reads) <= 3 * len(mask.names())


def test_nan_or_inf_where_the_mask_keeps_entries_is_an_error_naming_the_tensor():
    scores, mask = random_case(7)
    dead = (~mask["c"]).nonzero()[0].tolist()
    scores["c"][tuple(dead)] = math.nan  # ignored: that entry is already pruned
    sm.select_lowest(scores, mask, 5)
    alive = mask["b"].nonzero()[0].tolist()
    for bad in [math.inf, -math.inf, math.nan]:
        scores["b"][tuple(alive)] = bad
        with pytest.raises(ValueError, match="'b' holds inf or NaN"):
            sm.select_lowest(scores, mask, 5)


def test_bad_arguments_are_errors_naming_what_is_wrong():
    scores, mask = random_case(8)
    with pytest.raises(ValueError, match="no scores for 'c'"):
        sm.select_lowest({n: scores[n] for n in "ab"}, mask, 3)
    with pytest.raises(ValueError, match="'b' have shape \\(4, 10\\)"):
        sm.select_lowest({**scores, "b": scores["b"].reshape(4, 10)}, mask, 3)
    with pytest.raises(ValueError, match="'a' must be a floating-point tensor"):
        sm.select_lowest({**scores, "a": scores["a"].long()}, mask, 3)
    with pytest.raises(ValueError, match="cannot remove"):
        sm.select_lowest(scores, mask, mask.alive() + 1)
    with pytest.raises(ValueError, match="cannot remove -1 entries of 'a'"):
        sm.select_lowest(scores, mask, [-1, 0, 0])
    with pytest.raises(ValueError, match="2 counts for a mask of 3 tensors"):
        sm.select_lowest(scores, mask, [1, 2])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_selection_is_bit_identical_to_cpu():
    scores, mask = random_case(9, grid=4)
    k = mask.alive() // 3
    on_gpu = sm.select_lowest({n: v.cuda() for n, v in scores.items()}, mask, k)
    assert on_gpu == sm.select_lowest(scores, mask, k)
    model = mlp(3).cuda().half()
    assert sm.prune_global(model, sm.Mask.dense(model), 0.3) == sm.prune_global(model.cpu(), sm.Mask.dense(model), 0.3)


def test_selection_runs_on_one_cpu_thread_and_restores_the_count():
    scores, mask = random_case(10)
    seen = []

    class Watch(dict):
        def __getitem__(self, name):
            seen.append(torch.get_num_threads())
            return super().__getitem__(name)

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        sm.select_lowest(Watch(scores), mask, 4)
        assert set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
