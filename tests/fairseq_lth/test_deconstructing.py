"""Pruning at initialization and the deconstructing kinds on the tiny Transformer: the driver's batch
hook and all-ones output (in-process, fairseq's task API), and one fairseq-lth-imp lottery whose SNIP
masks come from W_0, whose supermask is scored with its start weights unchanged, whose finetune unit
trains its own budget at the schedule's final learning rate and whose reshuffle unit starts from the
kept initial values permuted."""

import copy
import json
import re

import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint

from .conftest import MAX_UPDATE, MODEL_ARGS, REWIND

PEAK_LR, WARMUP = 1e-3, 10  # the tiny model's inverse_sqrt warm-up: the rate of update u is (u - 1) * 1e-4
FINETUNE = 3


def test_the_batch_hook_and_the_ones_output_feed_snip_grasp_and_synflow(builder):
    model = builder.build_model(0)
    losses = builder.batch_losses(model, 2, seed=0)
    assert len(losses) == 2 and all(loss.requires_grad and loss.dim() == 0 for loss in losses)
    assert [x.item() for x in builder.batch_losses(model, 2, seed=0)] == [x.item() for x in losses]
    mask = sm.Mask.dense(model, sm.prunable(model, "all"))
    context = sm.PruningContext(
        batch_losses=lambda m, n: builder.batch_losses(m, n, seed=0), ones_output=builder.ones_output
    )
    synflow = copy.copy(sm.PRUNING["synflow"])
    synflow.rounds = 4  # the hooks are under test here; the 100 rounds are tested on small models
    for strategy in (sm.PRUNING["snip"], sm.PRUNING["grasp"], synflow):
        assert strategy.prune_to_density(model, mask, 0.3, context).alive() == round(0.3 * mask.numel())


@pytest.fixture(scope="module")
def lottery(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("deconstructing") / "run"
    # one-shot: pruning at init needs no winning chain, so three fairseq-train runs (dense, finetune, reshuffle)
    lottery = (
        f"--seeds 0 --levels 1 --schedule oneshot --rewind {REWIND}it --pruning snip --finetune-budget {FINETUNE}it"
    )
    scoring = "--average-last 1 --beam 1 --cpu --no-progress"
    args = ["--data", str(data), "--out", str(out), *lottery.split(), *scoring.split()]
    args += ["--tickets", "supermask", "finetune", "reshuffle", "--", *MODEL_ARGS]
    imp.main(args)
    return out, args


def level(out, *parts):
    return out.joinpath("seed_0", "level_01", *parts)


def test_the_supermask_is_scored_with_its_masked_start_weights(lottery):
    out, _ = lottery
    mask = sm.Mask.load(level(out, "mask.safetensors"))
    start = load_checkpoint(out / "seed_0" / "rewind.pt")["model"]
    final = load_checkpoint(level(out, "supermask", "final.pt"))["model"]
    mask.apply_(start)
    assert all(torch.equal(final[n], start[n]) for n in start)
    assert "bleu" in json.loads(level(out, "supermask", "metrics.json").read_text())["metrics"]


def test_finetune_trains_its_budget_at_the_schedules_final_rate(lottery):
    out, _ = lottery
    log = level(out, "finetune", "train.log").read_text()
    rates = [float(x) for x in re.findall(r"lth_lr=([\d.e-]+)", log)]
    assert rates[0] == pytest.approx((MAX_UPDATE - 1) * PEAK_LR / WARMUP) and len(set(rates)) == 1
    assert max(int(u) for u in re.findall(r"num_updates=(\d+)", log)) == FINETUNE


def test_reshuffle_starts_from_the_kept_initial_values_permuted(lottery):
    out, _ = lottery
    mask = sm.Mask.load(level(out, "mask.safetensors"))
    start = load_checkpoint(out / "seed_0" / "rewind.pt")["model"]
    shuffled = load_checkpoint(level(out, "reshuffle", "ticket_start.pt"))["model"]
    name = "encoder.layers.0.fc1.weight"
    keep = mask[name]
    assert torch.equal(shuffled[name][keep].sort().values, start[name][keep].sort().values)
    assert not torch.equal(shuffled[name][keep], start[name][keep])


def test_a_rerun_resumes_with_nothing_to_redo(lottery):
    out, args = lottery
    before = (out / "results.csv").read_text()
    imp.main(args)
    assert (out / "results.csv").read_text() == before
