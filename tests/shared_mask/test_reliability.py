"""Reliability of the lottery library itself (issue 21), in process and with the small MLP trainer: mask
identities, the config guard that protects finished results only, the driver lock and staged folders."""

import json
import os

import pytest
import torch

import shared_mask as sm
from shared_mask.driver_lock import driver_lock
from shared_mask.files import atomic_folder
from shared_mask.identity import mask_identity
from tests.shared_mask.test_lottery import config
from tests.shared_mask.test_lr_rewinding_and_transfer import FourClassTrainer


def test_a_mask_is_refused_for_another_run_seed_or_level_and_an_old_one_still_loads(tmp_path):
    mask = sm.Mask({"w": torch.tensor([True, False, True])})
    mask.save(tmp_path / "m.safetensors", mask_identity("abc", 0, 2))
    assert sm.Mask.load(tmp_path / "m.safetensors", identity=mask_identity("abc", 0, 2)) == mask
    for other in (mask_identity("abd", 0, 2), mask_identity("abc", 1, 2), mask_identity("abc", 0, 1)):
        with pytest.raises(ValueError, match=r"holds the mask of seed 0 level 2 of run abc, not of"):
            sm.Mask.load(tmp_path / "m.safetensors", identity=other)
    mask.save(tmp_path / "old.safetensors")  # as written before identities: no run, seed or level
    assert sm.Mask.load(tmp_path / "old.safetensors", identity=mask_identity("abc", 0, 2)) == mask


class FailsTransfers(FourClassTrainer):
    def train(self, unit):
        if sm.ticket_kind(unit.ticket).transferred:
            raise RuntimeError("simulated failure of a transferred unit")
        return super().train(unit)


def test_a_changed_transfer_source_is_accepted_while_no_transferred_unit_has_finished(tmp_path):
    source, run = tmp_path / "source", tmp_path / "run"
    sm.run_lottery(FourClassTrainer(), config(seeds=[0], levels=2, tickets=["winning"]), source, progress=False)
    settings = dict(seeds=[3], levels=1, tickets=["winning"])
    with pytest.raises(sm.UnitFailed, match="simulated failure"):
        sm.run_lottery(
            FailsTransfers(), config(**settings, transfer_from=str(source / "seed_0" / "level_01")), run, progress=False
        )
    assert (run / "seed_3" / "level_01" / "winning" / "metrics.json").is_file()  # the run's own units finished
    sm.run_lottery(
        FourClassTrainer(), config(**settings, transfer_from=str(source / "seed_0" / "level_02")), run, progress=False
    )
    assert json.loads((run / "transfer.json").read_text())["levels"] == [2]
    assert not (run / "seed_3" / "level_01" / "transfer_mask.safetensors").exists()  # the first source's, removed
    assert (run / "seed_3" / "level_02" / "transfer" / "metrics.json").is_file()
    with pytest.raises(ValueError, match="holds finished results of a different configuration"):
        sm.run_lottery(
            FourClassTrainer(),
            config(**settings, transfer_from=str(source / "seed_0" / "level_01")),
            run,
            progress=False,
        )


def test_one_driver_holds_a_folder_and_a_folder_made_only_for_the_lock_is_removed(tmp_path):
    run = sm.RunFolder(tmp_path / "run")
    with driver_lock(run):
        assert f"process {os.getpid()} on " in run.driver_lock.read_text()
        with pytest.raises(ValueError, match=rf"in use by another driver \(process {os.getpid()} on "):
            with driver_lock(run):
                pass
    assert not run.root.exists()  # nothing but the lock was written: no folder left behind
    with driver_lock(run):  # free again
        pass


def test_a_staged_folder_is_all_or_nothing(tmp_path):
    out = tmp_path / "report"
    with pytest.raises(OSError), atomic_folder(out) as staging:
        (staging / "summary.csv").write_text("half")
        raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []
    with atomic_folder(out) as staging:
        (staging / "summary.csv").write_text("whole")
    assert (out / "summary.csv").read_text() == "whole" and sorted(p.name for p in tmp_path.iterdir()) == ["report"]
