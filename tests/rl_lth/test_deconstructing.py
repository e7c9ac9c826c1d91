"""The deconstructing kinds and pruning at initialization on CartPole A2C: the supermask takes no
optimizer step, fine-tuning trains its own budget at the final learning rate, the batch-loss hook
rolls out the untrained policy, and a lottery with every kind resumes after a kill."""

import csv
import shutil

import pytest
import torch
from safetensors.torch import load_file

import shared_mask as sm
from rl_lth.algorithms.a2c import A2CConfig
from rl_lth.budget import Budget
from rl_lth.cli import main
from rl_lth.trainer import RLTrainer, Runtime
from tests.rl_lth.test_cli_errors import fails

pytestmark = pytest.mark.filterwarnings("ignore:.*precision lowered by casting")
TINY = ["--epochs", "2", "--batches-per-epoch", "10", "--last-episodes", "10", "--width", "16", "--no-progress"]
KINDS = [
    "winning",
    "supermask",
    "finetune",
    "reshuffle",
    "sign_constant",
    "sign_random",
    "random_mask_global",
    "random_mask_even",
]


def _trainer():
    return RLTrainer("CartPole-v0", "a2c", Budget(2, 10, 10), A2CConfig(width=16), Runtime(progress=False))


def _unit(trainer, tmp_path, ticket, **extra):
    model = trainer.build_model(0)
    start = tmp_path / "start.safetensors"
    trainer.save_weights(model, start)
    mask = sm.prune_global(model, sm.Mask.dense(model), 0.5)
    folder = tmp_path / ticket
    return sm.Unit(0, 1, ticket, mask, folder, start, start, folder / "final.safetensors", 5, **extra)


def test_the_supermask_is_scored_with_bit_identical_weights_and_no_optimizer(tmp_path, monkeypatch):
    trainer = _trainer()
    monkeypatch.setattr(trainer.algorithm, "make_optimizer", lambda model: pytest.fail("an optimizer was made"))
    unit = _unit(trainer, tmp_path, "supermask")
    metrics = trainer.train(unit)
    assert metrics["ticket_reward"] > 0
    start = sm.start_model(trainer, unit).state_dict()
    final = load_file(str(unit.final_path))
    assert all(torch.equal(final[n], start[n]) for n in start)


def test_finetune_trains_its_own_budget_at_the_final_learning_rate(tmp_path, monkeypatch):
    trainer = _trainer()
    trained = tmp_path / "trained.safetensors"
    trainer.save_weights(trainer.build_model(3), trained)
    make = trainer.algorithm.make_optimizer
    steps = []

    def recording(model):
        optimizer = make(model)
        optimizer.register_step_pre_hook(lambda opt, args, kwargs: steps.append(opt.param_groups[0]["lr"]))
        return optimizer

    monkeypatch.setattr(trainer.algorithm, "make_optimizer", recording)
    unit = _unit(trainer, tmp_path, "finetune", source_path=trained, budget=sm.parse_step("7it"))
    start = sm.start_model(trainer, unit).state_dict()
    assert all(torch.equal(start[n], load_file(str(trained))[n] * unit.mask[n]) for n in unit.mask.names())
    trainer.train(unit)
    assert steps == [A2CConfig().lr] * 7  # the constant rate is the schedule's final one; the budget's 7 batches


def test_the_batch_hook_rolls_out_the_policy_with_the_a2c_loss_reproducibly():
    trainer = _trainer()
    model = trainer.build_model(0)
    losses = list(trainer.batch_losses(model, 2, seed=0))
    assert len(losses) == 2 and all(loss.requires_grad and loss.dim() == 0 for loss in losses)
    again = list(trainer.batch_losses(model, 2, seed=0))
    assert [x.item() for x in losses] == [x.item() for x in again]
    assert len(trainer.ones_output(model.double())) == 2


def _run(out, *extra):
    main(["run", "--env", "CartPole-v0", "--out", str(out), "--levels", "1", "--seeds", "0", *TINY, *extra])


def _values(out):
    with open(out / "results.csv") as f:
        return {(r["level"], r["ticket"]): r["value"] for r in csv.DictReader(f)}


@pytest.mark.parametrize("pruning", ["snip", "large_init"])
def test_every_kind_runs_from_the_command_line_and_resumes_after_a_kill(tmp_path, monkeypatch, pruning):
    args = ["--pruning", pruning, "--tickets", *KINDS, "--finetune-budget", "5it", "--rewind", "0"]
    _run(tmp_path / "reference", *args)
    assert set(_values(tmp_path / "reference")) == {("0", "dense")} | {("1", kind) for kind in KINDS}
    train = RLTrainer.train

    def killed(self, unit):
        if unit.ticket == "sign_random":
            raise KeyboardInterrupt
        return train(self, unit)

    monkeypatch.setattr(RLTrainer, "train", killed)
    with pytest.raises(SystemExit) as killed_run:
        _run(tmp_path / "run", *args)
    assert killed_run.value.code == 130
    monkeypatch.setattr(RLTrainer, "train", train)
    _run(tmp_path / "run", *args)
    assert _values(tmp_path / "run") == _values(tmp_path / "reference")
    mask = "seed_0/level_01/mask.safetensors"
    assert (tmp_path / "run" / mask).read_bytes() == (tmp_path / "reference" / mask).read_bytes()
    shutil.rmtree(tmp_path / "run")


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--tickets", "winning", "finetune"], "the finetune ticket trains for --finetune-budget"),
        (["--pruning", "snip", "--pruning-batches", "0"], "pruning batches must be at least 1, got 0"),
        (["--pruning", "snipp"], "invalid choice: 'snipp' (choose from"),
    ],
)
def test_a_kind_or_strategy_that_cannot_apply_is_one_line_before_anything_is_written(tmp_path, capsys, flags, message):
    out = tmp_path / "run"
    assert message in fails(capsys, ["run", "--env", "CartPole-v0", "--out", str(out), *TINY, *flags])
    assert not out.exists()
