"""Data-parallel fairseq units on the CPU: fairseq-lth-imp runs two fairseq-train ranks over gloo per unit.

Every rank keeps the same mask (random_mask positions included) and exactly zero pruned entries in its
weights and optimizer state after every update; a killed rank stops the unit, leaves no process behind,
and the rerun resumes to the same masks and scores as an uninterrupted run."""

import json
import subprocess
import time
from pathlib import Path

import pytest
import torch
from fairseq import optim

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from fairseq_lth.plugin.masking import MaskEnforcer
from fairseq_lth.plugin.verify import MaskVerifier, record_path
from shared_mask import tensor_file

from .conftest import BIN, MAX_UPDATE, MODEL_ARGS, REWIND, optimizer_moments
from .test_masking import fairseq_cfg
from .test_resume import processes_naming

pytestmark = pytest.mark.duration(115)

TWO_RANKS = ["--distributed-world-size", "2"]


def test_the_verifier_names_a_pruned_entry_that_came_back(data, builder, tmp_path):
    model = builder.build_model(0)
    mask = sm.prune_global(model, sm.Mask.dense(model, sm.prunable(model, "all")), 0.5)
    enforcer = MaskEnforcer(model, mask)
    enforcer.bind(optim.build_optimizer(fairseq_cfg(data).optimizer, list(model.parameters())))
    verifier = MaskVerifier(str(tmp_path), model, mask)
    verifier.after_update(enforcer, 1)
    name = mask.names()[0]
    with torch.no_grad():
        dict(model.named_parameters())[name][~mask[name]] = 1.0
    with pytest.raises(RuntimeError, match=r"rank 0, update 2: pruned entries are not zero: \d+ in the weights"):
        verifier.after_update(enforcer, 2)
    assert json.loads(record_path(str(tmp_path), 0).read_text())["updates_checked"] == 1


def lottery(data, out, *options) -> list[str]:
    return [
        "--data",
        str(data),
        "--out",
        str(out),
        "--levels",
        "1",
        "--seeds",
        "0",
        "--schedule",
        "oneshot",
        "--tickets",
        "random_mask",
        "--rewind",
        f"{REWIND}it",
        "--average-last",
        "1",
        "--beam",
        "1",
        "--cpu",
        "--no-progress",
        "--verify-masks",
        *options,
        "--",
        *MODEL_ARGS,
        *TWO_RANKS,
    ]


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("two_ranks") / "run"
    imp.main(lottery(data, out, "--keep-checkpoints"))
    return out


def test_a_two_rank_lottery_writes_each_unit_once_and_every_rank_checked_it(uninterrupted, builder):
    seed = uninterrupted / "seed_0"
    assert load_checkpoint(seed / "rewind.pt")["optimizer_history"][-1]["num_updates"] == REWIND  # by rank 0
    assert not list(uninterrupted.rglob(".*.tmp*"))
    for unit, updates in (("level_00/dense", MAX_UPDATE), ("level_01/random_mask", MAX_UPDATE - REWIND)):
        folder = seed / unit
        records = [json.loads(record_path(str(folder / "checkpoints"), r).read_text()) for r in range(2)]
        for rank, record in enumerate(records):
            assert (record["rank"], record["world_size"], record["updates_checked"]) == (rank, 2, updates)
            assert record["last_update"] == MAX_UPDATE and set(record["stray"].values()) <= {0}
        assert records[0]["weights_sha256"] == records[1]["weights_sha256"]
        assert (folder / "train.log").is_file() and (folder / "train.rank1.log").is_file()
        builder.load_weights(folder / "final.pt", builder.build_model(0))  # written once, by the driver
    # Every rank trained under the positions the driver's random_mask kind draws from the level's mask.
    ticket = sm.random_mask_like(
        sm.Mask.load(seed / "level_01" / "mask.safetensors"), sm.TICKETS["random_mask"].ticket_seed(0, 1)
    )
    assert records[0]["mask_sha256"] == records[1]["mask_sha256"] == tensor_file.checksum(dict(ticket.items()))
    state = load_checkpoint(seed / "level_01" / "random_mask" / "checkpoints" / "checkpoint_last.pt")
    for name, keep in ticket.items():
        assert not state["model"][name][~keep].any(), name
        assert all(not moment[~keep].any() for moment in optimizer_moments(state, builder)[name]), name


def test_a_killed_rank_stops_the_unit_and_the_rerun_resumes_to_the_same_results(data, uninterrupted, tmp_path):
    out = tmp_path / "run"
    with open(tmp_path / "driver.log", "w") as log:
        driver = subprocess.Popen(
            [str(BIN / "fairseq-lth-imp"), *lottery(data, out)], stdout=log, stderr=subprocess.STDOUT
        )
    checkpoint = out / "seed_0" / "level_00" / "dense" / "checkpoints" / "checkpoint_last.pt"
    while not checkpoint.exists():  # the dense unit is training on both ranks
        assert driver.poll() is None, (tmp_path / "driver.log").read_text()
        time.sleep(0.05)
    rank_1 = [
        pid
        for pid in processes_naming(out)
        if b"--distributed-rank\x001" in Path(f"/proc/{pid}/cmdline").read_bytes()
        and b"fairseq" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert rank_1
    subprocess.run(["kill", "-9", *map(str, rank_1)], check=True)
    assert driver.wait(timeout=120) == 2
    message = (tmp_path / "driver.log").read_text().strip().splitlines()
    assert "fairseq-train (rank 1) was killed by signal 9" in message[-1] and "Traceback" not in "".join(message)
    deadline = time.monotonic() + 20
    while processes_naming(out) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_naming(out), "a rank outlived the failed unit"
    assert subprocess.run([str(BIN / "fairseq-lth-imp"), *lottery(data, out)], capture_output=True).returncode == 0
    for level in (0, 1):
        path = f"seed_0/level_{level:02d}/mask.safetensors"
        assert sm.Mask.load(out / path) == sm.Mask.load(uninterrupted / path), path
    assert (out / "results.csv").read_text() == (uninterrupted / "results.csv").read_text()
