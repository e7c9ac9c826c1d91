"""The IMP driver: a 2-level lottery over real fairseq-train/fairseq-generate runs, and its resume."""

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

import shared_mask as sm
import shared_mask.export as sx
from fairseq_lth.driver import imp
from fairseq_lth.driver.checkpoints import last_checkpoints, model_checkpoint, scored_checkpoint
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from shared_mask.export import cli

from .conftest import MODEL_ARGS

pytestmark = pytest.mark.duration(110)


def run(data, out, *workers):
    imp.main(
        [
            "--data",
            str(data),
            "--out",
            str(out),
            "--levels",
            "2",
            "--seeds",
            "0",
            "--tickets",
            "winning",
            "--rewind",
            "4it",
            "--average-last",
            "2",
            "--beam",
            "2",
            "--cpu",
            "--no-progress",
            *workers,
            "--",
            *MODEL_ARGS,
        ]
    )


@pytest.fixture(scope="module")
def lottery(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("imp") / "run"
    run(data, out)
    return out


def test_run_folder_has_every_unit_with_its_bleu(lottery):
    seed = lottery / "seed_0"
    assert json.loads((lottery / "config.json").read_text())["trainer"]["metric"] == "bleu"
    assert load_checkpoint(seed / "rewind.pt")["optimizer_history"][-1]["num_updates"] == 4
    units = [seed / "level_00" / "dense", seed / "level_01" / "winning", seed / "level_02" / "winning"]
    for unit in units:
        assert (unit / "final.pt").is_file() and not (unit / "checkpoints").exists()
        assert list((unit / "tb").rglob("events.out.tfevents.*"))
        assert json.loads((unit / "metrics.json").read_text())["metrics"]["bleu"] >= 0
        log = (unit / "train.log").read_text()  # other libraries' notices are kept out of the unit's log
        assert "tensorboardX" not in log and "Warning" not in log and "\r" not in log
    with open(lottery / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["level"], r["ticket"], r["metric"]) for r in rows] == [
        ("0", "dense", "bleu"),
        ("1", "winning", "bleu"),
        ("2", "winning", "bleu"),
    ]
    assert [round(float(r["density"]), 3) for r in rows] == [1.0, 0.8, 0.64]


def test_each_mask_comes_from_the_previous_winning_tickets_final_weights(lottery):
    seed = lottery / "seed_0"
    previous = sm.Mask.load(seed / "level_00" / "mask.safetensors")
    for level, source in ((1, "level_00/dense"), (2, "level_01/winning")):
        weights = load_checkpoint(seed / source / "final.pt")["model"]
        mask = sm.Mask.load(seed / f"level_{level:02d}" / "mask.safetensors")
        assert mask == sm.prune_global(weights, previous, 0.2)
        final = load_checkpoint(seed / f"level_{level:02d}" / "winning" / "final.pt")["model"]
        assert all(not final[name][~keep].any() for name, keep in mask.items())
        previous = mask


def test_rerun_skips_finished_units_and_redoes_an_interrupted_one(data, lottery):
    seed = lottery / "seed_0"
    done = {p: p.stat().st_mtime_ns for p in seed.glob("level_*/*/metrics.json")}
    masks = {p: p.read_bytes() for p in seed.glob("level_*/mask.safetensors")}
    interrupted = seed / "level_02" / "winning" / "metrics.json"
    interrupted.unlink()
    run(data, lottery)
    assert interrupted.is_file()
    assert all(p.stat().st_mtime_ns == t for p, t in done.items() if p != interrupted)
    assert all(p.read_bytes() == b for p, b in masks.items())


def test_two_ray_workers_give_the_in_process_masks(ray_cluster, data, lottery, tmp_path):
    out = tmp_path / "run"
    run(data, out, "--workers", "2")
    for level in (0, 1, 2):
        path = f"seed_0/level_{level:02d}/mask.safetensors"
        assert sm.Mask.load(out / path) == sm.Mask.load(lottery / path), path
    assert (out / "results.csv").read_text() == (lottery / "results.csv").read_text()


def test_random_tickets_get_the_level_mask_and_their_seed(builder, tmp_path):
    mask = sm.Mask.dense(builder.build_model(0), sm.prunable(builder.build_model(0), "all"))
    unit = sm.Unit(
        0,
        1,
        "random_mask",
        mask,
        tmp_path / "level_01" / "random_mask",
        tmp_path / "init.pt",
        tmp_path / "rewind.pt",
        tmp_path / "final.pt",
        ticket_seed=1234,
        mask_path=tmp_path / "level_01" / "mask.safetensors",
    )
    cmd = builder.train_command(unit)
    assert cmd[cmd.index("--lth-mask") + 1] == str(tmp_path / "level_01" / "mask.safetensors")
    assert cmd[cmd.index("--lth-ticket") + 1] == "random_mask"
    assert cmd[cmd.index("--lth-ticket-seed") + 1] == "1234"
    assert cmd[cmd.index("--continue-once") + 1] == str(tmp_path / "rewind.pt")


def test_averaging_takes_the_latest_update_and_epoch_checkpoints(dense, tmp_path):
    for name in ("checkpoint_1_2.pt", "checkpoint_1_6.pt", "checkpoint_2_8.pt"):
        shutil.copy(dense / name, tmp_path / name)
    shutil.copy(dense / "checkpoint_1_4.pt", tmp_path / "checkpoint1.pt")  # an epoch checkpoint at update 4
    assert [p.name for p in last_checkpoints(tmp_path, 3)] == [
        "checkpoint_2_8.pt",
        "checkpoint_1_6.pt",
        "checkpoint1.pt",
    ]


def test_the_scored_weights_are_the_average_of_the_last_checkpoints(dense, tmp_path):
    final = model_checkpoint(dense / "checkpoint_last.pt", tmp_path / "final.pt")
    scored = load_checkpoint(scored_checkpoint(dense, 2, final, tmp_path / "scored.pt"))["model"]
    last, before = (load_checkpoint(dense / name)["model"] for name in ("checkpoint_2_8.pt", "checkpoint_1_6.pt"))
    for name, tensor in scored.items():
        torch.testing.assert_close(tensor, torch.stack([last[name], before[name]]).mean(0), msg=name)
    alone = scored_checkpoint(dense, 1, final, tmp_path / "scored_1.pt")  # the last checkpoint alone: final.pt
    assert os.path.samefile(alone, final)


def test_lth_export_writes_the_final_or_the_scored_weights_and_says_which(lottery, tmp_path, capsys):
    unit = lottery / "seed_0" / "level_02" / "winning"
    kept = {
        "final": load_checkpoint(unit / "final.pt")["model"],
        "scored": load_checkpoint(unit / "scored.pt")["model"],
    }
    assert any(not torch.equal(kept["final"][n], kept["scored"][n]) for n in kept["final"])  # --average-last 2
    mask = sm.Mask.load(unit.parent / "mask.safetensors")
    assert all(not kept["scored"][name][~keep].any() for name, keep in mask.items())  # the ticket's zeros
    for which, weights in kept.items():
        out = tmp_path / f"{which}.safetensors"
        cli.main([str(unit), "--out", str(out), *(["--weights", which] if which == "scored" else [])])
        assert f"smaller than the unit's {which} weights" in capsys.readouterr().out
        recorded = sx.read(out).config["weights"]
        assert recorded["which"] == which and recorded["file"] == str((unit / f"{which}.pt").resolve())
        unpacked = load_checkpoint(sx.unpack(out, tmp_path / f"{which}.pt"))["model"]
        assert all(torch.equal(unpacked[name], tensor) for name, tensor in weights.items()), which
    assert "average of the unit's last 2 checkpoints, which its metric scored" in recorded["note"]
