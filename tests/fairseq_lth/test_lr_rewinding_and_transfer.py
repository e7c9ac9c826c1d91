"""Learning-rate rewinding and ticket transfer with real fairseq-train runs: an lr_rewind ticket replays
the schedule from the rewind point on the pruned trained weights, and a translation ticket transfers
to a pair with another vocabulary through fairseq-lth-imp."""

import json
import re
import shutil

import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.driver.ticket_start import lr_rewind_checkpoint
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint

from .conftest import MODEL_ARGS, REWIND, fairseq, train, write_corpus

pytestmark = pytest.mark.duration(75)

# The tiny model's schedule: inverse_sqrt, warming up linearly to lr 1e-3 over 10 updates.
PEAK_LR, WARMUP = 1e-3, 10
EMBEDDINGS = ["decoder.embed_tokens.weight", "decoder.output_projection.weight", "encoder.embed_tokens.weight"]


def learning_rates(log: str) -> dict[int, float]:
    """update number -> learning rate, from fairseq-train's per-update log lines."""
    return {int(u): float(lr) for u, lr in re.findall(r"num_updates=(\d+), lr=([\d.e-]+)", log)}


def test_lr_rewinding_replays_the_schedule_from_the_rewind_point_on_the_trained_weights(data, dense, mask, tmp_path):
    trained = load_checkpoint(dense / "checkpoint_last.pt")
    start = lr_rewind_checkpoint(dense / "rewind.pt", dense / "checkpoint_last.pt", tmp_path / "lr_rewind_start.pt")
    state = load_checkpoint(start)
    assert all(torch.equal(state["model"][n], t) for n, t in trained["model"].items())
    assert state["optimizer_history"][-1]["num_updates"] == REWIND and not state["last_optimizer_state"]["state"]

    log = train(
        data, tmp_path / "run", "--continue-once", start, "--lth-mask", mask, "--lth-ticket", "lr_rewind"
    ).stdout
    rates = learning_rates(log)
    assert min(rates) == REWIND + 1  # resumed at the rewind point, not at update 0
    assert rates[REWIND + 1] == pytest.approx((REWIND + 1) * PEAK_LR / WARMUP)  # the schedule's value there
    final = load_checkpoint(tmp_path / "run" / "checkpoint_last.pt")["model"]
    assert all(not final[name][~keep].any() for name, keep in sm.Mask.load(mask).items())


def test_the_driver_starts_lr_rewind_units_from_that_checkpoint(builder, dense, mask, tmp_path):
    unit_dir = tmp_path / "level_01" / "lr_rewind"
    unit = sm.Unit(
        0,
        1,
        "lr_rewind",
        sm.Mask.load(mask),
        unit_dir,
        tmp_path / "init.pt",
        dense / "rewind.pt",
        unit_dir / "final.pt",
        ticket_seed=1,
        source_path=dense / "checkpoint_last.pt",
        mask_path=mask,
    )
    cmd = builder.train_command(unit)
    assert cmd[cmd.index("--continue-once") + 1] == str(unit.files.lr_rewind_start)
    assert unit.files.lr_rewind_start == unit_dir / "lr_rewind_start.pt" and unit.files.lr_rewind_start.is_file()


def test_a_ticket_transfers_to_a_pair_with_another_vocabulary(dense, mask, tmp_path):
    source = tmp_path / "source"  # a run folder holding what a transfer reads: config, W_j, a level's mask
    (source / "seed_0" / "level_01").mkdir(parents=True)
    (source / "config.json").write_text('{"lottery": {}, "trainer": {}}')
    shutil.copy(dense / "rewind.pt", source / "seed_0" / "rewind.pt")
    shutil.copy(mask, source / "seed_0" / "level_01" / "mask.safetensors")
    raw = tmp_path / "raw"
    raw.mkdir()
    write_corpus(raw, seed=1, vocabulary=60)
    fairseq(
        "fairseq-preprocess",
        "--source-lang",
        "src",
        "--target-lang",
        "tgt",
        "--joined-dictionary",
        "--trainpref",
        raw / "train",
        "--validpref",
        raw / "valid",
        "--testpref",
        raw / "test",
        "--destdir",
        raw / "bin",
        "--workers",
        "1",
    )
    target = tmp_path / "target"
    imp.main(
        [
            "--data",
            str(raw / "bin"),
            "--out",
            str(target),
            "--seeds",
            "0",
            "--levels",
            "0",
            "--rewind",
            f"{REWIND}it",
            "--transfer-from",
            str(source / "seed_0" / "level_01"),
            "--average-last",
            "1",
            "--beam",
            "1",
            "--cpu",
            "--no-progress",
            "--",
            *MODEL_ARGS,
        ]
    )

    record = json.loads((target / "transfer.json").read_text())
    assert record["levels"] == [1] and sorted(record["own_initialization"]) == EMBEDDINGS
    assert record["dense"] == ["encoder.embed_tokens.weight"]  # the tied tables, one mask entry
    source_mask = sm.Mask.load(mask)
    fitted = sm.Mask.load(target / "seed_0" / "level_01" / "transfer_mask.safetensors")
    for name, keep in fitted.items():
        assert keep.all() if name in record["dense"] else keep.equal(source_mask[name]), name
    rewind = load_checkpoint(dense / "rewind.pt")["model"]
    final = load_checkpoint(target / "seed_0" / "level_01" / "transfer" / "final.pt")["model"]
    for name, keep in fitted.items():
        assert not final[name][~keep].any(), name
    assert final["encoder.layers.0.fc1.weight"].shape == rewind["encoder.layers.0.fc1.weight"].shape
    for ticket in ("transfer", "transfer_random_reinit", "transfer_random_mask"):
        unit = json.loads((target / "seed_0" / "level_01" / ticket / "metrics.json").read_text())
        assert unit["metrics"]["bleu"] >= 0
