"""The studies with fairseq, on one tiny translation run: early-bird draws inside the dense fairseq-train
(every 2 updates) and the early_bird ticket; the stability analysis at k = 4 (W_k captured by the dense run)
of the dense network and of the level-1 ticket, both children with the same noise (--stability-noise 3 3),
the lines scored by fairseq-validate; bad study settings refused before anything is written.

The run's driver is killed twice with SIGKILL, its whole process group at once: while the ticket's first
child trains and while the ticket's line is evaluated; rerun to the end, it must show what an uninterrupted
run shows: identical children (the killed one resumed, the other not), flat lines (instability exactly 0)
whose values are the children's own scores, the ticket's zeros on every network of its line."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.driver.evaluate import EvalConfig
from fairseq_lth.driver.trainer import FairseqTrainer
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from tests.fairseq_lth.conftest import MODEL_ARGS, data  # noqa: F401 (the tiny translation data fixture)

pytestmark = pytest.mark.duration(150)

REPOSITORY = Path(__file__).resolve().parents[2]
DRIVER = ["--levels", "1", "--seeds", "0", "--rewind", "2it", "--tickets", "early_bird", "--schedule", "oneshot"]
DRIVER += ["--stability-levels", "0", "1", "--stability-noise", "3", "3", "--stability-grid", "3"]
DRIVER += ["--average-last", "1", "--beam", "1", "--cpu", "--no-progress"]
EARLY_BIRD = ["--early-bird-every", "2it", "--early-bird-window", "2", "--early-bird-threshold", "0.5"]
LEVELS, GRID = (0, 1), [0.0, 0.5, 1.0]


def _point(out, level: int = 1) -> Path:
    return out / "seed_0" / f"level_{level:02d}" / "stability" / "k_4it"


def _child(out, child, level: int = 0) -> Path:
    return _point(out, level) / f"child_{child}" / "final.pt"


def group_members(group: int) -> list[int]:
    """The live (not zombie) processes of the process group ``group``."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                state, _, process_group = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:3]
                if int(process_group) == group and state != "Z":
                    members.append(int(entry.name))
        except OSError:  # gone meanwhile
            pass
    return members


def kill_group_when(argv: list[str], out: Path, written) -> None:
    """Start fairseq-lth-imp in a process group of its own and SIGKILL the whole group (the driver and the
    fairseq programs it started) as soon as ``written(out)``; then no member may be left."""
    path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    with open(out.parent / "driver.log", "a") as log:
        driver = subprocess.Popen(
            [sys.executable, "-m", "fairseq_lth.driver.imp", *argv],
            stdout=log,
            stderr=log,
            env={**os.environ, "PYTHONPATH": path},
            start_new_session=True,
        )
    try:
        while not written(out):
            assert driver.poll() is None, f"the driver ended first; see {out.parent / 'driver.log'}"
            time.sleep(0.01)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    deadline = time.monotonic() + 10
    while group_members(driver.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not group_members(driver.pid), "a process of the killed driver's group survived"


def last_checkpoint_copied(save_dir: Path, update: int) -> bool:
    """Whether fairseq has saved checkpoint_E_``update``.pt and finished copying it to checkpoint_last.pt
    (the copy truncates the old file on opening, so it is done once it is as new and as long)."""
    saved, last = next(save_dir.glob(f"checkpoint_*_{update}.pt"), None), save_dir / "checkpoint_last.pt"
    try:
        saved_stat, last_stat = saved.stat(), last.stat()
    except (AttributeError, OSError):  # not saved yet, or gone meanwhile
        return False
    return last_stat.st_mtime_ns >= saved_stat.st_mtime_ns and last_stat.st_size == saved_stat.st_size


@pytest.fixture(scope="module")
def studies_run(data, tmp_path_factory):  # noqa: F811
    """The run folder, killed while the ticket's child_1 trains (once its checkpoint of update 6 is its
    checkpoint_last.pt) and while the ticket's line is evaluated, then rerun in this process to the end; and
    what each kill left."""
    out = tmp_path_factory.mktemp("studies") / "run"
    argv = ["--data", str(data), "--out", str(out), *DRIVER, *EARLY_BIRD, "--stability-points", "4it"]
    argv += ["--", *MODEL_ARGS]
    kill_group_when(argv, out, lambda out: last_checkpoint_copied(_point(out) / "child_1" / "checkpoints", 6))
    left = {"child_1 trained": _child(out, 1, level=1).exists()}
    kill_group_when(argv, out, lambda out: (_point(out) / "line.json").exists())
    left["line"] = json.loads((_point(out) / "line.json").read_text())
    imp.main(argv)
    return out, left


def test_the_dense_run_draws_every_two_updates_and_the_ticket_trains_under_the_chosen_draw(studies_run):
    run = sm.RunFolder(studies_run[0], ".pt")
    record = json.loads(run.early_bird_record(0, 1).read_text())
    assert record["steps"] == [2, 4, 6, 8] and record["epochs"] == [None] * 4
    draws = sorted(run.early_bird_draws(0, 1).glob("*.safetensors"))
    first, second = (sm.Mask.load(path) for path in draws[:2])
    differ = sum(int(np.count_nonzero(first[n].numpy() != second[n].numpy())) for n in first.names())
    assert record["distances"][0] == differ / first.numel()  # recomputed by hand from the stored masks
    assert record["converged"] and record["step"] == 6  # window 2 below 0.5: draws 1 and 2 -> the third draw
    mask = sm.Mask.load(run.early_bird_mask(0, 1))
    assert mask == sm.Mask.load(draws[2]) and mask.density() == pytest.approx(0.8, abs=1e-3)
    final = load_checkpoint(run.final((0, 1, "early_bird")))["model"]
    for name, keep in mask.items():
        assert not final[name][~keep].any(), name
    metrics = json.loads(run.unit((0, 1, "early_bird")).metrics.read_text())
    assert metrics["metrics"]["bleu"] >= 0


def test_the_kills_fell_while_the_child_trained_and_while_its_line_was_evaluated(studies_run):
    out, left = studies_run
    assert not left["child_1 trained"]
    log = (_point(out) / "child_1" / "train.log").read_text()
    assert "checkpoint_last.pt (epoch 1 @ 6 updates)" in log  # the rerun resumed it from its checkpoint
    assert not left["line"]["complete"] and 0 < len(left["line"]["values"]) < len(GRID)


def test_children_start_from_the_dense_checkpoint_at_k_with_other_noise_than_the_dense_run(studies_run):
    out, _ = studies_run
    start = load_checkpoint(out / "seed_0" / "stability_start_4it.pt")
    assert start["optimizer_history"][-1]["num_updates"] == 4  # captured by the dense fairseq-train at update 4
    dense = load_checkpoint(out / "seed_0" / "level_00" / "dense" / "final.pt")["model"]
    for level in LEVELS:
        for child in (1, 2):
            trained = load_checkpoint(_child(out, child, level))
            assert trained["optimizer_history"][-1]["num_updates"] == 8  # trained from 4 to the end
            if level == 0:  # W_4 trained on with another --seed than the dense run's
                assert any(not torch.equal(trained["model"][n], dense[n]) for n in dense)
        assert not (_point(out, level) / "child_1" / "checkpoints").exists()  # only final.pt stays


@pytest.mark.parametrize("level", LEVELS)
def test_children_with_equal_noise_are_bit_identical_and_their_line_is_flat(studies_run, level):
    out, _ = studies_run
    first, second = (load_checkpoint(_child(out, child, level))["model"] for child in (1, 2))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first), "the children differ"
    line = {line.level: line for line in sm.stability.read_lines(sm.RunFolder(out, ".pt"))}[level]
    assert line.k == "4it" and line.alphas == GRID
    assert line.instability == 0 and len(set(line.values)) == 1, line.values


def test_every_network_on_the_ticket_line_has_exactly_the_mask_zeros(studies_run):
    out, _ = studies_run
    mask = sm.Mask.load(out / "seed_0" / "level_01" / "mask.safetensors")
    assert mask.density() == pytest.approx(0.8, abs=1e-3)
    first, second = (load_checkpoint(_child(out, child, level=1))["model"] for child in (1, 2))
    for a in GRID:
        for name, keep in mask.items():
            network = (1 - a) * first[name] + a * second[name]  # w(a), rebuilt by hand
            assert torch.equal(network != 0, keep), (a, name)


def test_the_stability_table_holds_the_children_own_scores(studies_run, data):  # noqa: F811
    """stability.csv after both kills: per level, the validation loss fairseq-validate gives the (uninterrupted)
    child_2 at every a, as an uninterrupted run writes it (identical children: the line is that network)."""
    out, _ = studies_run
    trainer = FairseqTrainer(str(data), MODEL_ARGS, "all", EvalConfig(cpu=True))
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(("seed", "level", "fraction_pruned", "k", "a", "metric", "value"))
    for level in LEVELS:
        mask = sm.Mask.load(out / "seed_0" / f"level_{level:02d}" / "mask.safetensors")
        pruned = 1 - sum(int(keep.sum()) for _, keep in mask.items()) / mask.numel()
        value = trainer.evaluate(trainer.load_weights(_child(out, 2, level), trainer.build_model(0)), 0)
        writer.writerows((0, level, pruned, "4it", a, "valid_loss", value) for a in GRID)
    assert (out / "stability.csv").read_text() == expected.getvalue()


def test_bad_study_settings_are_refused_before_anything_is_written(data, tmp_path, capsys):  # noqa: F811
    for extra, message in (
        (["--early-bird-every", "1ep"], "fairseq draws early-bird masks every N updates"),
        ([*EARLY_BIRD, "--stability-points", "3it"], "--stability-points 3it: the rewind point is update 3, but "),
        ([*EARLY_BIRD, "--stability-points", "8it"], "--stability-points 8it is not before the end of training"),
    ):
        out = tmp_path / "bad"
        with pytest.raises(SystemExit) as exit_info:
            imp.main(["--data", str(data), "--out", str(out), *DRIVER, *extra, "--", *MODEL_ARGS])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1 and message in err, err
        assert not out.exists()
