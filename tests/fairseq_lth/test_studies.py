"""The studies with fairseq, on one tiny translation run: early-bird draws inside the dense fairseq-train
(every 2 updates) and the early_bird ticket; the stability analysis of the dense network at k = 4 (W_k
captured by the dense run, two children with other --seed values, the line scored by fairseq-validate);
bad study settings refused before anything is written."""

import csv
import json

import numpy as np
import pytest
import torch

import shared_mask as sm
from fairseq_lth.driver import imp
from fairseq_lth.driver.evaluate import EvalConfig
from fairseq_lth.driver.trainer import FairseqTrainer
from fairseq_lth.plugin.checkpoint_compat import load_checkpoint
from tests.fairseq_lth.conftest import MODEL_ARGS, data  # noqa: F401 (the tiny translation data fixture)

DRIVER = ["--levels", "1", "--seeds", "0", "--rewind", "2it", "--tickets", "early_bird", "--schedule", "oneshot"]
DRIVER += ["--stability-levels", "0", "--stability-grid", "3", "--average-last", "1", "--beam", "1", "--cpu"]
DRIVER += ["--no-progress"]
EARLY_BIRD = ["--early-bird-every", "2it", "--early-bird-window", "2", "--early-bird-threshold", "0.5"]


@pytest.fixture(scope="module")
def studies_run(data, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("studies") / "run"
    imp.main(
        ["--data", str(data), "--out", str(out), *DRIVER, *EARLY_BIRD, "--stability-points", "4it", "--", *MODEL_ARGS]
    )
    return out


def test_the_dense_run_draws_every_two_updates_and_the_ticket_trains_under_the_chosen_draw(studies_run):
    run = sm.RunFolder(studies_run, ".pt")
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


def _child(out, child):
    return out / "seed_0" / "level_00" / "stability" / "k_4it" / f"child_{child}" / "final.pt"


def test_children_start_from_the_dense_checkpoint_at_k_and_the_line_ends_are_their_own_scores(studies_run, data):  # noqa: F811
    start = load_checkpoint(studies_run / "seed_0" / "stability_start_4it.pt")
    assert start["optimizer_history"][-1]["num_updates"] == 4  # captured by the dense fairseq-train at update 4
    first, second = (load_checkpoint(_child(studies_run, c)) for c in (1, 2))
    assert all(c["optimizer_history"][-1]["num_updates"] == 8 for c in (first, second))  # trained from 4 to the end
    assert any(not torch.equal(first["model"][n], second["model"][n]) for n in first["model"])  # other --seed
    with open(studies_run / "stability.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["a"]) for r in rows] == [0.0, 0.5, 1.0] and {r["metric"] for r in rows} == {"valid_loss"}
    trainer = FairseqTrainer(str(data), MODEL_ARGS, "all", EvalConfig(cpu=True))
    for child, row in ((1, rows[0]), (2, rows[-1])):
        model = trainer.load_weights(_child(studies_run, child), trainer.build_model(0))
        assert trainer.evaluate(model, 0) == pytest.approx(float(row["value"]), abs=1e-3)  # fairseq prints 3 decimals
    (line,) = sm.stability.read_lines(sm.RunFolder(studies_run, ".pt"))
    values = line.values
    assert line.instability == pytest.approx(max(values) - (values[0] + values[-1]) / 2)


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
