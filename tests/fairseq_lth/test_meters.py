"""fairseq's meters in ticket runs: their own wall clock and epoch averages, not the dense run's."""

import re

import pytest
from fairseq.logging import metrics

from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from fairseq_lth.plugin.meters import start_meters

from .conftest import REWIND


def logged(log: str, tag: str) -> list[dict[str, float]]:
    """The numbers of fairseq's progress lines of ``tag`` (train_inner: every update; train: an epoch's)."""
    lines = re.findall(rf"\| {tag} \| epoch 001\s*[:|](.*)", log)
    return [
        {k: float(v) for k, v in re.findall(r"(\w+)[= ](-?[\d.]+(?:e-?\d+)?)", line) if k != "epoch"} for line in lines
    ]


def test_a_tickets_epoch_averages_cover_its_own_updates_only(tickets):
    for kind, save_dir in tickets.items():
        log = (save_dir / "train.log").read_text()
        updates, [epoch] = logged(log, "train_inner"), logged(log, "train")
        assert [u["num_updates"] for u in updates] == list(range(REWIND + 1, int(epoch["num_updates"]) + 1))
        tokens = sum(u["wpb"] for u in updates)
        assert epoch["wpb"] == pytest.approx(tokens / len(updates), abs=0.1), kind
        loss = sum(u["loss"] * u["wpb"] for u in updates) / tokens  # fairseq weighs the loss by tokens
        assert epoch["loss"] == pytest.approx(loss, abs=2e-3), kind
        walls = [u["wall"] for u in updates]
        assert walls == sorted(walls) and epoch["wall"] >= epoch["train_wall"], kind


@pytest.fixture
def restored(dense):
    """fairseq's meters as a run resumed from the rewind checkpoint restores them (Trainer.load_checkpoint)."""
    metrics.reset()
    with metrics.aggregate("train"):  # the dense run was inside its first epoch
        metrics.log_start_time("wall", priority=790, round=0)  # what fairseq's Trainer starts when built
        metrics.load_state_dict(load_checkpoint(dense / "rewind.pt")["extra_state"]["metrics"])
        yield
    metrics.reset()


def test_fairseq_restores_a_stopped_wall_clock_and_the_dense_runs_averages(restored):
    assert metrics.get_meter("default", "wall").elapsed_time == 0  # every line would log wall=0
    assert metrics.get_meter("train", "wpb").count == REWIND


def test_a_resumed_run_keeps_its_averages_with_the_wall_clock_running(restored):
    start_meters(fresh=False)
    assert metrics.get_meter("default", "wall").elapsed_time > 0
    assert metrics.get_meter("train", "wpb").count == REWIND


def test_a_ticket_starts_its_meters_afresh(restored):
    start_meters(fresh=True)
    assert metrics.get_meter("default", "wall").elapsed_time > 0
    assert metrics.get_meter("train", "wpb").count == 0 and metrics.get_meter("train", "loss").count == 0
