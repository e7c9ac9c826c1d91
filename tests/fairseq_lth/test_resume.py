"""A fairseq lottery killed with SIGKILL at any moment and rerun ends exactly as an uninterrupted run:
same final weights, rewind point, masks and scores; no fairseq program outlives the killed driver."""

import json
import subprocess
import time
from pathlib import Path

import pytest
import torch

from fairseq_lth.driver import imp
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint

from .conftest import BIN, MODEL_ARGS

pytestmark = pytest.mark.duration(120)

MAX_UPDATE = 12  # about 7 updates per epoch: checkpoints at 2, 4, 6 in epoch 1 and 8, 10, 12 in epoch 2
UNITS = ("level_00/dense", "level_01/winning")


def command(data, out) -> list[str]:
    return [
        "--data",
        str(data),
        "--out",
        str(out),
        "--levels",
        "1",
        "--seeds",
        "0",
        "--tickets",
        "winning",
        "--rewind",
        "4it",
        "--average-last",
        "2",
        "--beam",
        "1",
        "--cpu",
        "--no-progress",
        "--",
        *MODEL_ARGS,
        "--max-update",
        str(MAX_UPDATE),
    ]


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    imp.main(command(data, out))
    return out


def processes_naming(path: Path) -> list[int]:
    """Live processes whose command line names ``path`` (a driver's fairseq programs name its run folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(path).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile
            pass
    return found


def kill_when(data, out, *files: str) -> None:
    """For each of ``files`` in turn: start the driver and SIGKILL it as soon as that file is written in
    ``out`` (appears, or is replaced); then no process it started may survive."""
    for name in files:
        before = _identity(out / name)
        with open(out.parent / "driver.log", "a") as log:
            driver = subprocess.Popen([str(BIN / "fairseq-lth-imp"), *command(data, out)], stdout=log, stderr=log)
        while _identity(out / name) in (None, before):
            assert driver.poll() is None, f"the driver ended before {name} was written; see {out.parent / 'driver.log'}"
            time.sleep(0.02)
        driver.kill()
        driver.wait()
        deadline = time.monotonic() + 20  # a fairseq program's data-loading workers notice within 5 s
        while processes_naming(out) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_naming(out), f"a child of the driver killed at {name} survived"


def _identity(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def assert_same_run(out: Path, reference: Path) -> None:
    seed, expected = out / "seed_0", reference / "seed_0"
    for path in ["rewind.pt"] + [f"{unit}/{weights}.pt" for unit in UNITS for weights in ("final", "scored")]:
        weights, reference_weights = load_checkpoint(seed / path)["model"], load_checkpoint(expected / path)["model"]
        assert weights.keys() == reference_weights.keys()
        assert all(torch.equal(weights[k], reference_weights[k]) for k in weights), f"{path} differs"
    for level in ("level_00", "level_01"):
        mask = f"{level}/mask.safetensors"
        assert (seed / mask).read_bytes() == (expected / mask).read_bytes(), mask
    for unit in UNITS:
        metrics = json.loads((seed / unit / "metrics.json").read_text())["metrics"]
        assert metrics == json.loads((expected / unit / "metrics.json").read_text())["metrics"], unit
        assert not (seed / unit / "checkpoints").exists()
    assert (out / "results.csv").read_text() == (reference / "results.csv").read_text()


def test_killed_at_any_moment_resumes_exactly_never_trains_twice_and_leaves_no_child(data, uninterrupted, tmp_path):
    out = tmp_path / "run"
    kill_when(
        data,
        out,
        "seed_0/level_00/dense/checkpoints/checkpoint_1_2.pt",  # before the rewind point is captured
        "seed_0/level_00/dense/checkpoints/checkpoint_2_10.pt",  # in the second epoch
        "seed_0/level_00/dense/final.pt",  # between training and scoring
        "seed_0/level_00/dense/scored.pt",  # while scoring (the averaged checkpoints are written first)
        "seed_0/level_01/winning/checkpoints/checkpoint_1_6.pt",  # a ticket
        "seed_0/level_01/winning/final.pt",
    )
    winning = out / "seed_0/level_01/winning"
    assert (winning / "checkpoints").is_dir() and not (winning / "metrics.json").exists()
    # As if killed after fairseq-train ended and before final.pt was written: fairseq-train resumed at
    # --max-update would make one more update.
    (winning / "final.pt").unlink()
    imp.main(command(data, out))
    assert_same_run(out, uninterrupted)
    log = (out / "seed_0/level_00/dense/train.log").read_text()
    assert "@ 10 updates" in log or "@ 8 updates" in log  # it really resumed in epoch 2
    for unit in UNITS:
        assert (out / "seed_0" / unit / "train.log").read_text().count("done training") == 1, unit
