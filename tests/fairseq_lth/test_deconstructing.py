"""Pruning at initialization and the deconstructing kinds on the tiny Transformer: the driver's batch
hook and all-ones output (in-process, fairseq's task API) and, over the shared dense run, a supermask
unit scored with its start weights unchanged, a finetune unit that trains its own budget at the
schedule's final learning rate and a reshuffle unit that starts from the kept initial values permuted.
(The lottery commands' plumbing of strategies and kinds is shared_mask's, tested on RL's CLI.)"""

import re

import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver.evaluate import EvalConfig
from fairseq_lth.driver.finetune import final_learning_rate
from fairseq_lth.driver.pruning_hooks import train_batches
from fairseq_lth.driver.trainer import FairseqTrainer
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint

from .conftest import MAX_UPDATE, MODEL_ARGS

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
    synflow = type(sm.PRUNING["synflow"])()
    synflow.rounds = 4  # the hooks are under test here; the 100 rounds are tested on small models
    for strategy in (sm.PRUNING["snip"], sm.PRUNING["grasp"], synflow):
        assert strategy.prune_to_density(model, mask, 0.3, context).alive() == round(0.3 * mask.numel())


def test_the_final_learning_rate_is_the_schedules_at_the_last_update(data, builder):
    model = builder.build_model(0)
    assert final_learning_rate(*builder._setup(), model) == pytest.approx((MAX_UPDATE - 1) * PEAK_LR / WARMUP)
    by_epochs = FairseqTrainer(str(data), [*MODEL_ARGS, "--max-update", "0", "--max-epoch", "2"], "all", EvalConfig())
    cfg, task = by_epochs._setup()
    last = 2 * len(train_batches(cfg, task, model, 1)) - 1  # inverse_sqrt after its warm-up of 10 updates
    assert last > WARMUP and final_learning_rate(cfg, task, model) == pytest.approx(PEAK_LR * (WARMUP / last) ** 0.5)


@pytest.fixture(scope="module")
def quick(data):
    """The tests' trainer, scoring with greedy search on the last checkpoint (untrained tickets translate long)."""
    return FairseqTrainer(str(data), MODEL_ARGS, "all", EvalConfig(cpu=True, beam=1, average_last=1))


def unit(builder, dense, mask, folder, ticket, **extra):
    """A level-1 unit of ``ticket`` over the shared dense run (rewind point at update 4) and its mask."""
    init = folder / "init.pt"
    if not init.exists():
        builder.save_weights(builder.build_model(0), init)
    return sm.Unit(
        0,
        1,
        ticket,
        None,
        folder / ticket,
        init,
        dense / "rewind.pt",
        folder / ticket / "final.pt",
        7,
        source_path=dense / "checkpoint_last.pt",
        mask_path=mask,
        **extra,
    )


def test_the_supermask_is_scored_with_its_masked_start_weights(quick, dense, mask, tmp_path):
    supermask = unit(quick, dense, mask, tmp_path, "supermask")
    assert "bleu" in quick.train(supermask)
    start = load_checkpoint(dense / "rewind.pt")["model"]
    sm.Mask.load(mask).apply_(start)
    final = load_checkpoint(supermask.final_path)["model"]
    assert all(torch.equal(final[n], start[n]) for n in start)


def test_finetune_trains_its_budget_at_the_schedules_final_rate(quick, dense, mask, tmp_path):
    finetune = unit(quick, dense, mask, tmp_path, "finetune", budget=sm.parse_step(f"{FINETUNE}it"))
    quick.train(finetune)
    trained = load_checkpoint(dense / "checkpoint_last.pt")["model"]
    start = load_checkpoint(finetune.files.ticket_start)
    assert all(torch.equal(start["model"][n], t) for n, t in trained.items())  # then masked by the plugin
    log = finetune.files.log.read_text()
    rates = [float(x) for x in re.findall(r"lth_lr=([\d.e-]+)", log)]
    assert rates[0] == pytest.approx((MAX_UPDATE - 1) * PEAK_LR / WARMUP) and len(set(rates)) == 1
    assert max(int(u) for u in re.findall(r"num_updates=(\d+)", log)) == FINETUNE


def test_reshuffle_starts_from_the_kept_initial_values_permuted(builder, dense, mask, tmp_path):
    reshuffle = unit(builder, dense, mask, tmp_path, "reshuffle")
    cmd = builder.train_command(reshuffle)
    assert cmd[cmd.index("--continue-once") + 1] == str(reshuffle.files.ticket_start)
    start = load_checkpoint(dense / "rewind.pt")["model"]
    shuffled = load_checkpoint(reshuffle.files.ticket_start)["model"]
    name, keep = "encoder.layers.0.fc1.weight", sm.Mask.load(mask)["encoder.layers.0.fc1.weight"]
    assert torch.equal(shuffled[name][keep].sort().values, start[name][keep].sort().values)
    assert not torch.equal(shuffled[name][keep], start[name][keep])
