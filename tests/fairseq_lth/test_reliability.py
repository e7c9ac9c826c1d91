"""The reliability probes of `fairseq-lth-imp` (issue 21), on one tiny real lottery (dense and one winning
level): swapped masks, a hand-edited config, a flipped byte in final.pt, a second driver, a corrupt or
unsafe transfer source, diverging training and the fixed learning rate, each one line with exit status 2."""

import logging
import shutil
import sys

import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.driver.checkpoints import usable_last_checkpoint
from fairseq_lth.driver.processes import Member, ProcessFailed, run_group
from fairseq_lth.driver.ticket_start import changed_checkpoint, lr_rewind_checkpoint
from fairseq_lth.plugin.checkpoint_compat import CHECKSUM_KEY, load_checkpoint
from shared_mask import tensor_file
from shared_mask.driver_lock import driver_lock
from shared_mask.export import cli as export_cli

from .conftest import MODEL_ARGS

pytestmark = pytest.mark.duration(55)


class Payload:
    """A pickle that runs code when loaded without the safe loader."""

    def __reduce__(self):
        return (print, ("this ran inside torch.load",))


def argv(data, out, *ours, train=MODEL_ARGS) -> list[str]:
    return [
        *["--data", str(data), "--out", str(out), "--seeds", "0", "--tickets", "winning", "--rewind", "4it"],
        *["--average-last", "1", "--beam", "1", "--cpu", "--no-progress", *ours, "--", *train],
    ]


def refused(capfd, command, args) -> str:
    """The one error line of ``command(args)`` run in-process (exit status 2)."""
    with pytest.raises(SystemExit) as exited:
        command(args)
    assert exited.value.code == 2
    err = capfd.readouterr().err.strip().splitlines()[-1]
    assert ": error: " in err and "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def base(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("fairseq_rel") / "base"
    imp.main(argv(data, out, "--levels", "1"))
    return out


@pytest.fixture
def copy(base, tmp_path):
    return lambda name="copy": shutil.copytree(base, tmp_path / name)


def test_masks_swapped_between_levels_are_refused(data, copy, capfd):
    run = copy()
    first, second = run / "seed_0" / "level_00" / "mask.safetensors", run / "seed_0" / "level_01" / "mask.safetensors"
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b), second.write_bytes(a)
    err = refused(capfd, imp.main, argv(data, run, "--levels", "2"))
    assert "holds the mask of seed 0 level 1" in err and "not of seed 0 level 0" in err
    assert not (run / "seed_0" / "level_02").exists()


def test_a_hand_edited_config_is_refused_by_the_rerun_and_the_export(data, copy, capfd, tmp_path):
    run = copy()
    config = run / "config.json"
    config.write_text(config.read_text().replace('"rate": 0.2', '"rate": 0.5'))
    assert "config.json was edited by hand" in refused(
        capfd, imp.main, argv(data, run, "--levels", "1", "--rate", "0.5")
    )
    unit = run / "seed_0" / "level_01" / "winning"
    assert "config.json was edited by hand" in refused(
        capfd, export_cli.main, [str(unit), "--out", str(tmp_path / "t")]
    )


def flip_a_weight_bit(checkpoint):
    """One bit of one weight of a fairseq checkpoint file: torch's own loader does not notice."""
    weight = load_checkpoint(checkpoint)["model"]["encoder.layers.0.fc1.weight"]
    data = bytearray(checkpoint.read_bytes())
    at = data.find(weight.numpy().tobytes()[:64])
    assert at > 0
    data[at + 3] ^= 0x01
    checkpoint.write_bytes(bytes(data))
    assert not torch.equal(load_checkpoint(checkpoint)["model"]["encoder.layers.0.fc1.weight"], weight)


def test_a_flipped_byte_in_final_pt_is_refused_by_the_export(copy, capfd, tmp_path):
    final = copy() / "seed_0" / "level_01" / "winning" / "final.pt"
    flip_a_weight_bit(final)
    err = refused(capfd, export_cli.main, [str(final.parent), "--out", str(tmp_path / "t")])
    assert "final.pt is corrupt: its weights do not match the checksum" in err


def test_the_rewind_checkpoint_carries_a_checksum_and_a_flipped_byte_stops_the_next_ticket(data, copy, capfd):
    run = copy()
    rewind = run / "seed_0" / "rewind.pt"
    state = load_checkpoint(rewind)  # captured by the dense fairseq-train at update 4
    assert state[CHECKSUM_KEY] == tensor_file.checksum(state["model"])
    flip_a_weight_bit(rewind)
    err = refused(capfd, imp.main, argv(data, run, "--levels", "2"))
    assert "unit seed 0 level 2 winning failed" in err and "rewind.pt is corrupt" in err
    assert not (run / "seed_0" / "level_02" / "winning" / "checkpoints").exists()  # no fairseq-train started
    # Kinds that start from a changed copy of it (reshuffle, lr_rewind, ...) refuse it too, before copying.
    trained = run / "seed_0" / "level_01" / "winning" / "final.pt"
    for make_start in (
        lambda out: changed_checkpoint(rewind, out, lambda weights: None),
        lambda out: lr_rewind_checkpoint(rewind, trained, out),
    ):
        with pytest.raises(ValueError, match="rewind.pt is corrupt"):
            make_start(run / "start.pt")
        assert not (run / "start.pt").exists()


def test_a_second_driver_is_refused_naming_the_first(data, copy, capfd):
    run = copy()
    with driver_lock(sm.RunFolder(run)):  # this process drives the folder
        err = refused(capfd, imp.main, argv(data, run, "--levels", "1"))
    assert "is in use by another driver (process" in err


@pytest.mark.parametrize("damage", ["truncated", "unsafe"])
def test_a_corrupt_or_unsafe_transfer_source_is_one_line_and_claims_nothing(data, copy, capfd, tmp_path, damage):
    source = copy("trs")
    rewind = source / "seed_0" / "rewind.pt"
    if damage == "truncated":
        rewind.write_bytes(rewind.read_bytes()[:1000])
    else:
        torch.save({"model": Payload()}, rewind)
    out = tmp_path / "tfc"
    err = refused(
        capfd, imp.main, argv(data, out, "--levels", "0", "--transfer-from", str(source / "seed_0" / "level_01"))
    )
    assert "--transfer-from" in err and "rewind.pt is not a loadable fairseq checkpoint" in err
    assert not out.exists()


def test_diverging_training_is_named_and_the_lower_learning_rate_is_accepted(data, tmp_path, capfd):
    out, short = tmp_path / "nan", [*MODEL_ARGS, "--max-update", "2"]
    err = refused(
        capfd, imp.main, argv(data, out, "--levels", "0", "--rewind", "0", train=[*MODEL_ARGS, "--lr", "1e38"])
    )
    assert "unit seed 0 level 0 dense failed" in err and "gradients are NaN/inf: training diverged" in err
    assert "StopIteration" not in err and "--lr" in err
    assert not (out / "seed_0" / "level_00" / "dense" / "metrics.json").exists()
    imp.main(argv(data, out, "--levels", "0", "--rewind", "0", train=short))  # the fix the error names, same folder
    assert (out / "seed_0" / "level_00" / "dense" / "metrics.json").is_file()


def test_fairseqs_nan_gradients_are_named_not_its_stop_iteration(tmp_path):
    """fairseq logs "gradients are Nan/Inf", then dies of a StopIteration in its NaN detector."""
    script = "print('FloatingPointError: gradients are Nan/Inf'); print('a NaN detector line\\n' * 60); next(iter([]))"
    with pytest.raises(ProcessFailed) as failed:
        run_group("fairseq-train", [Member([sys.executable, "-c", script], tmp_path / "train.log")])
    first = str(failed.value).splitlines()[0]
    assert "gradients are NaN/inf: training diverged" in first and "StopIteration" not in first


def test_a_checkpoint_that_does_not_load_is_deleted_with_a_log_line(tmp_path, caplog):
    (tmp_path / "checkpoint_last.pt").write_bytes(b"PK\x03\x04 truncated")
    with caplog.at_level(logging.WARNING):
        assert usable_last_checkpoint(tmp_path) is None
    assert "checkpoint_last.pt does not load" in caplog.text and "deleted" in caplog.text


def test_a_checkpoint_cut_short_by_a_kill_is_replaced_by_the_last_intact_one(base, tmp_path, caplog):
    """fairseq copies its checkpoint to checkpoint_last.pt in place: a kill can leave the first 64 KiB."""
    full = (base / "seed_0" / "rewind.pt").read_bytes()  # a full fairseq checkpoint, at update 4
    (tmp_path / "checkpoint_1_4.pt").write_bytes(full)
    (tmp_path / "checkpoint_last.pt").write_bytes(full[:65536])
    with caplog.at_level(logging.WARNING):
        last = usable_last_checkpoint(tmp_path)
    assert last.read_bytes() == full
    assert "checkpoint_last.pt does not load" in caplog.text and "replaced by checkpoint_1_4.pt" in caplog.text
